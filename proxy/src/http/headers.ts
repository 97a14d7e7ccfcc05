/**
 * Header conversion between HTTP/1.1 and HTTP/2 (RFC 9113 §8.2), used where a proxy carries an application's
 * HTTP/1 request over `loom.h2` and where the other proxy turns it back into HTTP/1.1 for its application.
 * Pure functions over node's raw header arrays (`[name, value, name, value, ...]`), which keep order and
 * duplicates.
 */
import type { OutgoingHttpHeaders, IncomingHttpHeaders } from 'node:http';
import { ORIG_PROTO_HEADER } from '../wire.js';

/** Connection-specific headers that must not be forwarded (RFC 9110 §7.6.1; RFC 9113 §8.2.2). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

/** Names listed in a `Connection` header (also hop-by-hop). Lower-case. */
function connectionTokens(raw: readonly string[]): Set<string> | null {
  let tokens: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).length === 10 && (raw[i] as string).toLowerCase() === 'connection') {
      for (const t of (raw[i + 1] as string).split(',')) {
        const name = t.trim().toLowerCase();
        if (name !== '' && name !== 'close' && name !== 'keep-alive') (tokens ??= new Set()).add(name);
      }
    }
  }
  return tokens;
}

/**
 * An HTTP/1 request's headers as HTTP/2 request headers: pseudo-headers from the request line and Host,
 * hop-by-hop headers dropped (`te: trailers` kept), the original HTTP version recorded in `loom-orig-proto`.
 */
export function h1RequestToH2(method: string, url: string, httpVersion: string, rawHeaders: readonly string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': method, ':scheme': 'http', ':path': url, [ORIG_PROTO_HEADER]: `HTTP/${httpVersion}` };
  const extra = connectionTokens(rawHeaders);
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (name === 'host') {
      out[':authority'] = value;
      continue;
    }
    if (name === 'te') {
      if (value.toLowerCase().includes('trailers')) out.te = 'trailers';
      continue;
    }
    if (HOP_BY_HOP.has(name) || name === ORIG_PROTO_HEADER || (extra !== null && extra.has(name))) continue;
    appendHeader(out, name, value);
  }
  return out;
}

/** HTTP/2 request headers as an HTTP/1.1 header list for the application: `:authority` → Host, pseudo-headers and `loom-orig-proto` dropped. */
export function h2RequestToH1(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  const authority = headers[':authority'];
  if (typeof authority === 'string') out.push('host', authority);
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ':' */ || name === ORIG_PROTO_HEADER || name === 'host' || HOP_BY_HOP.has(name)) continue;
    pushValues(out, name, headers[name]);
  }
  return out;
}

/** HTTP/2 request headers forwarded as HTTP/2 to the application (gRPC): `loom-orig-proto` and connection headers dropped. */
export function h2RequestToH2(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (name === ORIG_PROTO_HEADER || (HOP_BY_HOP.has(name) && name !== 'te') || name === 'host') continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  if (out[':authority'] === undefined && typeof headers.host === 'string') out[':authority'] = headers.host;
  return out;
}

/** An HTTP/1 response's raw headers as HTTP/2 response headers (status set by the caller). */
export function h1ResponseToH2(statusCode: number, rawHeaders: readonly string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':status': statusCode };
  const extra = connectionTokens(rawHeaders);
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(name) || (extra !== null && extra.has(name))) continue;
    appendHeader(out, name, rawHeaders[i + 1] as string);
  }
  return out;
}

/** HTTP/2 response headers as an HTTP/1.1 header list (pseudo-headers dropped). */
export function h2ResponseToH1(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 || HOP_BY_HOP.has(name)) continue;
    pushValues(out, name, headers[name]);
  }
  return out;
}

function appendHeader(out: OutgoingHttpHeaders, name: string, value: string): void {
  const prev = out[name];
  if (prev === undefined) out[name] = value;
  else if (Array.isArray(prev)) prev.push(value);
  else out[name] = name === 'cookie' ? `${String(prev)}; ${value}` : [String(prev), value];
}

function pushValues(out: string[], name: string, value: string | string[] | undefined): void {
  if (value === undefined) return;
  if (Array.isArray(value)) for (const v of value) out.push(name, v);
  else out.push(name, value);
}
