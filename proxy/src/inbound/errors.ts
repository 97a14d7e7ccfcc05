/**
 * What the client gets when the application cannot be reached or fails a request, decided from the error alone
 * (pure): 504 for timeouts, 503 (with `retry-after`) when the proxy's connections to the application are all
 * busy and too many requests already wait, 502 otherwise.
 */
import { H1_CONNECT_TIMEOUT, H1_QUEUE_FULL } from '../http/h1-client/index.js';
import type { ProxyResponse } from '../http/respond.js';
import { CONNECT_TIMEOUT } from '../transport/connect.js';

const TIMEOUTS = new Set([H1_CONNECT_TIMEOUT, CONNECT_TIMEOUT, 'ETIMEDOUT']);

/** Seconds a client is asked to wait before retrying a request refused because too many were waiting. */
const BUSY_RETRY_AFTER_SECONDS = 1;

function codeOf(err: Error | null | undefined): string {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : '';
}

/** The response for a request the application did not answer: 504 for timeouts, 503 when refused as too many, 502 otherwise. */
export function upstreamFailure(err: Error | null | undefined, port: number): ProxyResponse {
  const detail = err?.message ?? 'the connection closed';
  const code = codeOf(err);
  if (TIMEOUTS.has(code)) return { status: 504, message: `the application on port ${port} timed out: ${detail}` };
  if (code === H1_QUEUE_FULL) return { status: 503, message: `the application on port ${port} is busy: ${detail}`, retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS };
  return { status: 502, message: `the application on port ${port} failed: ${detail}` };
}
