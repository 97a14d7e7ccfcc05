/**
 * Responses the proxy generates itself (denials, upstream failures, overload, bad requests): the one place they
 * are shaped, for HTTP/1 (`ServerResponse`) and HTTP/2 (`ServerHttp2Stream`) alike. Every such response carries
 * `loom-proxy-error: <inbound|outbound>`; denials also `loom-denied-reason`; overload `retry-after`. Bodies are
 * one line of text ending in a newline.
 */
import type { ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import { DENIED_REASON_HEADER, PROXY_ERROR_HEADER } from '../wire.js';

export type ProxySide = 'inbound' | 'outbound';

export interface ProxyResponse {
  readonly status: number;
  /** One sentence; the body is this plus a newline. */
  readonly message: string;
  /** Also sent as `loom-denied-reason` (403 only). */
  readonly deniedReason?: string;
  /** Seconds, for 503 overload. */
  readonly retryAfterSeconds?: number;
  /** Close the HTTP/1 connection after this response. */
  readonly close?: boolean;
}

/** Header values may not carry control characters; reasons come from policy names, but be safe. */
export function headerSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 1024);
}

function headersFor(side: ProxySide, r: ProxyResponse, body: Buffer): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': body.length,
    [PROXY_ERROR_HEADER]: side,
  };
  if (r.deniedReason !== undefined) headers[DENIED_REASON_HEADER] = headerSafe(r.deniedReason);
  if (r.retryAfterSeconds !== undefined) headers['retry-after'] = r.retryAfterSeconds;
  return headers;
}

/** Sends `r` on an HTTP/1 response that has not started; does nothing if headers were already sent (the caller destroys). */
export function respondH1(res: ServerResponse, side: ProxySide, r: ProxyResponse): boolean {
  if (res.headersSent || res.destroyed) return false;
  const body = Buffer.from(`${r.message}\n`);
  const headers = headersFor(side, r, body);
  if (r.close === true) headers.connection = 'close';
  res.writeHead(r.status, headers);
  res.end(body);
  return true;
}

/** Sends `r` on an HTTP/2 stream that has not responded; false when it already did or is closed. */
export function respondH2(stream: ServerHttp2Stream, side: ProxySide, r: ProxyResponse): boolean {
  if (stream.headersSent || stream.destroyed || stream.closed) return false;
  const body = Buffer.from(`${r.message}\n`);
  stream.respond({ ':status': r.status, ...headersFor(side, r, body) });
  stream.end(body);
  return true;
}
