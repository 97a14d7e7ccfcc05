/**
 * Why a certificate request failed, classified for logging and status. Every kind is retried with backoff
 * (a proxy never gives up on its identity); the kind decides how loudly the failure is reported. Pure.
 */
import { status } from '@grpc/grpc-js';
import { CertifyCallError } from './certify.js';
import { CredentialsError } from './credentials.js';

/**
 * - `unavailable`: the controller could not answer now (UNAVAILABLE, RESOURCE_EXHAUSTED from its rate
 *   limit, DEADLINE_EXCEEDED, ABORTED, CANCELLED); expected during controller restarts, logged as a warning.
 * - `refused`: the controller answered with a refusal (PERMISSION_DENIED, UNAUTHENTICATED,
 *   INVALID_ARGUMENT, or any other status): a misconfiguration or a stale token, logged as an error.
 *   Retrying still makes sense: kubelet re-projects the token, operators fix bindings.
 * - `invalid-response`: the controller returned credentials the proxy will not use (wrong identity, wrong
 *   key, chain not anchored in the bundle, expired).
 * - `token`: the projected token file cannot be read or is empty.
 * - `internal`: anything else (a bug); logged as an error.
 */
export type FailureKind = 'unavailable' | 'refused' | 'invalid-response' | 'token' | 'internal';

export interface CertifyFailure {
  readonly kind: FailureKind;
  /** The gRPC status name for `unavailable` / `refused` (`PERMISSION_DENIED`...). */
  readonly code?: string;
  /** One line: what went wrong. */
  readonly reason: string;
  /** How long the controller asked us to wait before retrying (its `grpc-retry-pushback-ms` trailer), ms. */
  readonly retryPushbackMs?: number;
}

/** The projected ServiceAccount token could not be used. */
export class TokenError extends Error {
  override readonly name = 'TokenError';
}

const TRANSIENT: ReadonlySet<status> = new Set([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.DEADLINE_EXCEEDED, status.ABORTED, status.CANCELLED]);

export function classifyFailure(error: unknown): CertifyFailure {
  if (error instanceof CertifyCallError) {
    return {
      kind: TRANSIENT.has(error.code) ? 'unavailable' : 'refused',
      code: status[error.code] ?? String(error.code),
      reason: error.message,
      ...(error.retryPushbackMs === undefined ? {} : { retryPushbackMs: error.retryPushbackMs }),
    };
  }
  if (error instanceof CredentialsError) return { kind: 'invalid-response', reason: `response refused: ${error.message}` };
  if (error instanceof TokenError) return { kind: 'token', reason: error.message };
  return { kind: 'internal', reason: error instanceof Error ? error.message : String(error) };
}
