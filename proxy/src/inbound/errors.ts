/**
 * Failures that become responses, decided from error codes alone (pure): what the client gets when the
 * application cannot be reached, and when the client's own HTTP/1 request is malformed.
 */
import { STATUS_CODES } from 'node:http';
import { PROXY_ERROR_HEADER } from '../wire.js';

export interface FailureResponse {
  readonly status: number;
  readonly message: string;
}

/** Set on the error when connecting to the application did not finish in time (h2c and TCP connects). */
export const CONNECT_TIMEOUT = 'ERR_LOOM_CONNECT_TIMEOUT';

const TIMEOUTS = new Set([CONNECT_TIMEOUT, 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function codeOf(err: Error | null | undefined): string {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : '';
}

/** The response for a request the application did not answer: 504 for timeouts, 502 otherwise. */
export function upstreamFailure(err: Error | null | undefined, port: number): FailureResponse {
  const detail = err?.message ?? 'the connection closed';
  if (TIMEOUTS.has(codeOf(err))) return { status: 504, message: `the application on port ${port} timed out: ${detail}` };
  return { status: 502, message: `the application on port ${port} failed: ${detail}` };
}

/**
 * The response to an HTTP/1 request node's parser refused (the `clientError` codes), or null when the client
 * is gone and nothing should be written (reset, broken pipe).
 */
export function clientErrorResponse(err: Error): FailureResponse | null {
  const code = codeOf(err);
  switch (code) {
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
 * A complete HTTP/1.1 response written straight to a socket, for the cases without a ServerResponse (a request
 * the parser refused, a refused Upgrade/CONNECT): the same shape as `http/respond.ts`, and `connection: close`.
 */
export function rawResponse(r: FailureResponse, extra: Readonly<Record<string, string>> = {}): string {
  const body = `${r.message}\n`;
  let head = `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${PROXY_ERROR_HEADER}: inbound\r\nconnection: close\r\n`;
  for (const [name, value] of Object.entries(extra)) head += `${name}: ${value.replace(/[^\x20-\x7e]/g, ' ')}\r\n`;
  return `${head}\r\n${body}`;
}
