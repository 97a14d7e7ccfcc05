/**
 * Responses the proxy generates itself (denials, upstream failures, overload, bad requests): the one place they
 * are shaped, for HTTP/1 (`ServerResponse`), HTTP/2 (`ServerHttp2Stream`), and raw HTTP/1 text written on a
 * socket that has no response object (a request node's parser refused, a refused Upgrade/CONNECT). Every such
 * response carries `loom-proxy-error: <inbound|outbound>`; denials also `loom-denied-reason`; overload
 * `retry-after`. Bodies are one line of text ending in a newline.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
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

/** Header values carry printable ASCII only (no control characters); reasons come from policy names, but be safe. */
export function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, ' ').slice(0, 1024);
}

function headersFor(side: ProxySide, r: ProxyResponse, bodyLength: number): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': bodyLength,
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
  const headers = headersFor(side, r, body.length);
  if (r.close === true) headers.connection = 'close';
  res.writeHead(r.status, headers);
  res.end(body);
  return true;
}

/** Sends `r` on an HTTP/2 stream that has not responded; false when it already did or is closed. */
export function respondH2(stream: ServerHttp2Stream, side: ProxySide, r: ProxyResponse): boolean {
  if (stream.headersSent || stream.destroyed || stream.closed) return false;
  const body = Buffer.from(`${r.message}\n`);
  stream.respond({ ':status': r.status, ...headersFor(side, r, body.length) });
  stream.end(body);
  return true;
}

/** A complete HTTP/1.1 response as text, always closing the connection (`connection: close`), for sockets without a ServerResponse. */
export function rawResponse(side: ProxySide, r: ProxyResponse): string {
  const body = `${r.message}\n`;
  let head = `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? 'Error'}\r\n`;
  const headers = headersFor(side, r, Buffer.byteLength(body));
  for (const name in headers) head += `${name}: ${headers[name]!}\r\n`;
  return `${head}connection: close\r\n\r\n${body}`;
}

function codeOf(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : '';
}

/**
 * The response to an HTTP/1 request node's parser refused (the `clientError` codes), or null when the client
 * is gone and nothing should be written (reset, broken pipe).
 */
export function clientErrorResponse(err: Error): ProxyResponse | null {
  switch (codeOf(err)) {
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ERR_STREAM_DESTROYED':
      return null;
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, message: 'request header fields too large' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, message: 'chunk extensions too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, message: 'the request head did not arrive in time' };
    default: {
      const reason = ((err as { reason?: unknown }).reason as string | undefined) ?? err.message;
      return { status: 400, message: `malformed HTTP request: ${reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)}` };
    }
  }
}

/**
 * Answers a request node's HTTP/1 parser refused (`clientError`) on its own connection, then closes that
 * connection (nothing else is affected). The response is written only while the client is there and no other
 * response is under way on the connection (`busy`). Returns the response decided (null: the client is gone),
 * for the caller to log and count.
 */
export function refuseMalformed(socket: Socket, side: ProxySide, err: Error, busy: boolean): ProxyResponse | null {
  const response = clientErrorResponse(err);
  if (response !== null && !busy && socket.writable) socket.write(rawResponse(side, response));
  socket.destroySoon();
  return response;
}
