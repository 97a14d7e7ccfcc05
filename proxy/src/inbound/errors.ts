/**
 * What the client gets when the application cannot be reached or fails a request, decided from the error alone
 * (pure): 504 for timeouts, 502 otherwise.
 */
import type { ProxyResponse } from '../http/respond.js';
import { CONNECT_TIMEOUT } from '../transport/connect.js';

const TIMEOUTS = new Set([CONNECT_TIMEOUT, 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function codeOf(err: Error | null | undefined): string {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : '';
}

/** The response for a request the application did not answer: 504 for timeouts, 502 otherwise. */
export function upstreamFailure(err: Error | null | undefined, port: number): ProxyResponse {
  const detail = err?.message ?? 'the connection closed';
  if (TIMEOUTS.has(codeOf(err))) return { status: 504, message: `the application on port ${port} timed out: ${detail}` };
  return { status: 502, message: `the application on port ${port} failed: ${detail}` };
}
