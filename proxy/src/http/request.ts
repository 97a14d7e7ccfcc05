/**
 * What policy sees of an HTTP request (inbound authorization, outbound split `matches`), and the request target
 * the inbound proxy forwards to its application.
 *
 * The path forwarded is the one that was authorized: `normalizePath` (shared/policy) of the received path,
 * with the query string kept as received. Routes are matched against the normalized path (dot segments
 * removed, escaped unreserved characters decoded); forwarding the raw path would let an application that
 * resolves paths differently serve a resource the policy never judged (`/public/%2e%2e/admin`). Targets
 * that are already normal are forwarded as they are, without allocating.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { normalizePath, type HttpRequestView } from '@loom/shared/policy';

/** The request target to send to the application for `raw` (origin-form `/p?q`, absolute-form, `*`, or CONNECT's authority). */
export function forwardPath(raw: string): string {
  if (raw.length === 0 || raw === '*') return raw;
  const normalized = normalizePath(raw);
  const q = raw.indexOf('?');
  if (q === -1) return normalized;
  if (normalized.length === q && raw.startsWith(normalized)) return raw;
  return normalized + raw.slice(q);
}

function joinValues(name: string, value: string | string[] | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return value.join(name === 'cookie' ? '; ' : ', ');
}

/** An HTTP/2 request as authorization sees it (`:path` as received; CONNECT has none: its `:authority`). */
export function h2RequestView(headers: IncomingHttpHeaders): HttpRequestView {
  return {
    method: (headers[':method'] as string | undefined) ?? '',
    path: (headers[':path'] as string | undefined) ?? (headers[':authority'] as string | undefined) ?? '',
    headers: (name) => joinValues(name, headers[name]),
  };
}

/** An HTTP/1 request as authorization sees it. Node builds `req.headers` lazily: only rules with headers pay for it. */
export function h1RequestView(req: IncomingMessage): HttpRequestView {
  return {
    method: req.method ?? '',
    path: req.url ?? '',
    headers: (name) => joinValues(name, req.headers[name]),
  };
}
