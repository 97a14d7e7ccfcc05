/**
 * What the identity service needs from a ServiceAccount token: whose it is, or why it is refused. The
 * {@link TokenValidator} interface keeps the service independent of how tokens are checked (TokenReview
 * against the API server in production, `loom dev`'s own API server locally).
 */
import { createHash } from 'node:crypto';
import { isDns1123Label, isDns1123Subdomain } from '@loom/shared/k8s';

/** The ServiceAccount a token proves. */
export interface ServiceAccountRef {
  readonly namespace: string;
  readonly serviceAccount: string;
}

export type TokenResult =
  | {
      readonly ok: true;
      readonly identity: ServiceAccountRef;
      /** The pod the token is bound to, when the token is pod-bound (projected tokens are). */
      readonly podName?: string;
      readonly podUid?: string;
    }
  | {
      readonly ok: false;
      /** `unauthenticated`: the token is refused; `unavailable`: it could not be checked now (retry). */
      readonly code: 'unauthenticated' | 'unavailable';
      /** One line, safe to return to the caller. */
      readonly reason: string;
      /**
       * Set when the token was not checked at all because the validator is shedding load (its budget for
       * checks is spent): when to try again. Such refusals come in floods; callers log them in summary.
       */
      readonly retryAfterMs?: number;
    };

export interface TokenValidator {
  validate(token: string): Promise<TokenResult>;
}

/** Cache and rate-limit key of a token: its SHA-256, so tokens themselves are never kept as keys. */
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

const SA_PREFIX = 'system:serviceaccount:';

/** `system:serviceaccount:<ns>:<sa>` → {namespace, serviceAccount}; null for any other user name. */
export function parseServiceAccountUsername(username: string): ServiceAccountRef | null {
  if (!username.startsWith(SA_PREFIX)) return null;
  const parts = username.slice(SA_PREFIX.length).split(':');
  const [namespace, serviceAccount] = parts;
  if (parts.length !== 2 || namespace === undefined || serviceAccount === undefined) return null;
  // Namespaces are RFC 1123 labels, ServiceAccount names RFC 1123 subdomains.
  if (!isDns1123Label(namespace) || !isDns1123Subdomain(serviceAccount)) return null;
  return { namespace, serviceAccount };
}

/**
 * The `exp` claim of a JWT, in epoch milliseconds, read without verifying the signature: only ever used to
 * shorten how long a review the API server accepted is cached. undefined when the token is not a JWT or
 * carries no numeric `exp`.
 */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (typeof claims !== 'object' || claims === null) return undefined;
    const exp = (claims as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
