/**
 * Why an HTTP/1.1 request through an {@link H1Pool} failed: one error class with a stable `code` per failure,
 * and a one-line message naming the server's address (`host:port`, IPv6 in brackets). Callers decide what the
 * client gets from the code alone (`upstreamFailure` inbound, `H1Call` outbound):
 *
 * | code                    | what happened                                                  | request sent? |
 * |-------------------------|----------------------------------------------------------------|---------------|
 * | LOOM_H1_CONNECT_TIMEOUT | connecting took longer than the connect timeout                | no            |
 * | LOOM_H1_CONNECT_FAILED  | connecting failed (refused, unreachable...)                    | no            |
 * | LOOM_H1_SOCKET          | the connection was lost (reset, closed) before the response end | maybe         |
 * | LOOM_H1_PARSE           | the server sent a malformed response                            | yes           |
 * | LOOM_H1_QUEUE_FULL      | every connection busy and too many requests waiting: refused     | no            |
 * | LOOM_H1_CLOSED          | the pool is closed or was destroyed                             | maybe         |
 * | LOOM_H1_ABORTED         | the request body failed (the client went away)                  | maybe         |
 * | LOOM_H1_INVALID_REQUEST | the request cannot be written as HTTP/1.1 (bad method, header)  | no            |
 */

export const H1_CONNECT_TIMEOUT = 'LOOM_H1_CONNECT_TIMEOUT';
export const H1_CONNECT_FAILED = 'LOOM_H1_CONNECT_FAILED';
export const H1_SOCKET = 'LOOM_H1_SOCKET';
export const H1_PARSE = 'LOOM_H1_PARSE';
export const H1_QUEUE_FULL = 'LOOM_H1_QUEUE_FULL';
export const H1_CLOSED = 'LOOM_H1_CLOSED';
export const H1_ABORTED = 'LOOM_H1_ABORTED';
export const H1_INVALID_REQUEST = 'LOOM_H1_INVALID_REQUEST';

export type H1ErrorCode =
  | typeof H1_CONNECT_TIMEOUT
  | typeof H1_CONNECT_FAILED
  | typeof H1_SOCKET
  | typeof H1_PARSE
  | typeof H1_QUEUE_FULL
  | typeof H1_CLOSED
  | typeof H1_ABORTED
  | typeof H1_INVALID_REQUEST;

export class H1ClientError extends Error {
  override readonly name = 'H1ClientError';
  readonly code: H1ErrorCode;
  /** `host:port` of the server. */
  readonly address: string;

  constructor(code: H1ErrorCode, address: string, message: string, cause?: Error) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.address = address;
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : '';
}

/** Connecting failed or timed out: nothing was sent, and the server (or the way to it) is at fault. */
export function isConnectFailure(err: unknown): boolean {
  const code = codeOf(err);
  return code === H1_CONNECT_FAILED || code === H1_CONNECT_TIMEOUT;
}

export function connectTimeout(address: string, ms: number): H1ClientError {
  return new H1ClientError(H1_CONNECT_TIMEOUT, address, `connection to ${address} timed out after ${ms} ms`);
}

/** Node's own message when it names the address already (`connect ECONNREFUSED 127.0.0.1:8080`). */
export function connectFailed(address: string, cause: Error | null): H1ClientError {
  if (cause === null) return new H1ClientError(H1_CONNECT_FAILED, address, `connection to ${address} closed while connecting`);
  const message = cause.message.includes(address) ? cause.message : `connection to ${address} failed: ${cause.message}`;
  return new H1ClientError(H1_CONNECT_FAILED, address, message, cause);
}

/** The connection was lost while a request was on it; `responded`: the response had started. */
export function socketLost(address: string, cause: Error | null, responded: boolean): H1ClientError {
  const when = responded ? 'before the response ended' : 'before a response';
  const why = cause === null ? 'closed' : `lost (${cause.message})`;
  return new H1ClientError(H1_SOCKET, address, `the connection to ${address} ${why} ${when}`, cause ?? undefined);
}

export function malformedResponse(address: string, reason: string): H1ClientError {
  return new H1ClientError(H1_PARSE, address, `malformed response from ${address}: ${reason}`);
}

export function queueFull(address: string, connections: number, queued: number): H1ClientError {
  return new H1ClientError(H1_QUEUE_FULL, address, `too many requests to ${address}: ${connections} connections busy and ${queued} requests waiting`);
}

export function poolClosed(address: string, destroyed: boolean): H1ClientError {
  return new H1ClientError(H1_CLOSED, address, `the connections to ${address} are ${destroyed ? 'destroyed' : 'closing'}`);
}

export function bodyFailed(address: string, cause: Error): H1ClientError {
  return new H1ClientError(H1_ABORTED, address, `the request body to ${address} failed: ${cause.message}`, cause);
}

export function invalidRequest(address: string, reason: string): H1ClientError {
  return new H1ClientError(H1_INVALID_REQUEST, address, `cannot send the request to ${address}: ${reason}`);
}
