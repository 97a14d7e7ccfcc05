/**
 * `loom.identity.v1.Identity/Certify` (identity.proto): a proxy sends a CSR and its ServiceAccount token; the
 * controller validates the token, checks that the CSR asks for exactly the token's identity, and signs.
 *
 * Order of checks, each refusal with its own status (the proto lists them):
 *   1. request shape: empty `token` or `csr`                       → INVALID_ARGUMENT
 *   2. rate limit per token (before the TokenReview)               → RESOURCE_EXHAUSTED
 *   3. token validation                                            → UNAUTHENTICATED / UNAVAILABLE
 *   4. rate limit per identity (ns/sa)                             → RESOURCE_EXHAUSTED
 *   5. CSR checks and signing (CertificateAuthority.signWorkloadCsr) → INVALID_ARGUMENT / PERMISSION_DENIED,
 *      UNAVAILABLE when the CA cannot sign (issuer too close to expiry)
 * Every answer is counted (`loom_identity_certify_total{result}`); every refusal is logged exactly once, here,
 * as `event: certify.refused`. Nothing is signed before step 5 passes.
 */
import { Metadata, status as grpcStatus, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { CsrRefused, type CertificateAuthority, type IssuedCertificate } from '@loom/ca';
import { spiffeId, type WorkloadIdentity } from '@loom/shared/identity';
import type { CertifyRequest__Output, CertifyResponse, IdentityHandlers } from '@loom/shared/proto';
import { silentLogger, type Logger } from '@loom/shared/runtime';
import type { Registry } from 'prom-client';
import { certifyMetrics, type CertifyResult } from './metrics.js';
import { checkBucketConfig, RateLimiter, type BucketConfig } from './rate-limit.js';
import { tokenHash, type TokenResult, type TokenValidator } from './token.js';

/**
 * Per identity (ns/sa), checked after the token is validated. Sized for a Deployment of many replicas sharing
 * one ServiceAccount: a steady proxy certifies once at start and then every ~16 h (2/3 of 24 h), so only
 * starts come in bursts. 100 at once absorbs a rollout surge of 100 pods; 10/s then serves 600 more per
 * minute, and refused proxies retry with backoff. One identity can thus never take more than 10 signatures/s
 * of the CA's thousands.
 */
export const DEFAULT_IDENTITY_RATE_LIMIT: BucketConfig = Object.freeze({ burst: 100, perSecond: 10 });
/**
 * Per token (one pod: projected tokens are per pod), checked before the TokenReview, to protect the API
 * server from one pod retrying in a tight loop with a token that fails validation (refusals are not cached).
 * A well-behaved proxy makes one call per renewal plus retries with exponential backoff, which stay far
 * below 10 at once and one per 5 s.
 */
export const DEFAULT_TOKEN_RATE_LIMIT: BucketConfig = Object.freeze({ burst: 10, perSecond: 0.2 });

export interface IdentityServiceOptions {
  readonly authority: CertificateAuthority;
  readonly tokens: TokenValidator;
  /** Must be the authority's trust domain. */
  readonly trustDomain: string;
  readonly logger?: Logger;
  readonly registry?: Registry;
  /** Per identity (ns/sa); default {@link DEFAULT_IDENTITY_RATE_LIMIT}. */
  readonly rateLimit?: BucketConfig;
  /** Per token hash, before validation; default {@link DEFAULT_TOKEN_RATE_LIMIT}. */
  readonly tokenRateLimit?: BucketConfig;
  /** Most keys each rate limiter tracks (memory bound). */
  readonly rateLimitMaxKeys?: number;
  /** Epoch milliseconds (rate limiting); injectable for tests. */
  readonly now?: () => number;
}

/** Trailing metadata key telling a refused client when to retry (the gRPC retry pushback convention). */
export const RETRY_PUSHBACK_KEY = 'grpc-retry-pushback-ms';

interface Refusal {
  readonly ok: false;
  readonly result: Exclude<CertifyResult, 'issued'>;
  readonly message: string;
  readonly identity?: string;
  /** What the CSR asked for, when it was readable and differs. */
  readonly requested?: string;
  readonly pod?: string;
  readonly retryAfterMs?: number;
  readonly err?: unknown;
}

interface Issued {
  readonly ok: true;
  readonly issued: IssuedCertificate;
  readonly identity: string;
  readonly pod?: string;
}

const STATUS: Readonly<Record<Refusal['result'], grpcStatus>> = {
  invalid_argument: grpcStatus.INVALID_ARGUMENT,
  unauthenticated: grpcStatus.UNAUTHENTICATED,
  permission_denied: grpcStatus.PERMISSION_DENIED,
  resource_exhausted: grpcStatus.RESOURCE_EXHAUSTED,
  unavailable: grpcStatus.UNAVAILABLE,
};

export function createIdentityService(options: IdentityServiceOptions): IdentityHandlers {
  const { authority, tokens, trustDomain } = options;
  if (authority.trustDomain !== trustDomain) {
    throw new RangeError(`identity service trust domain "${trustDomain}" differs from the CA's "${authority.trustDomain}"`);
  }
  const identityLimit = options.rateLimit ?? DEFAULT_IDENTITY_RATE_LIMIT;
  const tokenLimit = options.tokenRateLimit ?? DEFAULT_TOKEN_RATE_LIMIT;
  checkBucketConfig(identityLimit, 'identity rate limit');
  checkBucketConfig(tokenLimit, 'token rate limit');
  const clock = { ...(options.now === undefined ? {} : { now: options.now }), ...(options.rateLimitMaxKeys === undefined ? {} : { maxKeys: options.rateLimitMaxKeys }) };
  const perIdentity = new RateLimiter({ ...identityLimit, ...clock });
  const perToken = new RateLimiter({ ...tokenLimit, ...clock });
  const log = (options.logger ?? silentLogger()).child({ component: 'identity' });
  const metrics = certifyMetrics(options.registry);

  const refuse = (result: Refusal['result'], message: string, extra: Omit<Refusal, 'ok' | 'result' | 'message'> = {}): Refusal => ({ ok: false, result, message, ...extra });

  async function certify(request: CertifyRequest__Output): Promise<Issued | Refusal> {
    if (request.token === '') return refuse('invalid_argument', 'token is empty: send the pod\'s projected ServiceAccount token (audience "loom")');
    if (request.csr === '') return refuse('invalid_argument', 'csr is empty: send a PEM PKCS#10 certificate signing request');

    const byToken = perToken.take(tokenHash(request.token));
    if (!byToken.ok) {
      return refuse('resource_exhausted', `too many Certify calls with this token (${describeLimit(tokenLimit)}); retry in ${seconds(byToken.retryAfterMs)}`, {
        retryAfterMs: byToken.retryAfterMs,
      });
    }

    let validated: TokenResult;
    try {
      validated = await tokens.validate(request.token);
    } catch (error) {
      return refuse('unavailable', 'the token could not be validated now; retry with backoff', { err: error });
    }
    if (!validated.ok) return refuse(validated.code, validated.reason);

    const caller: WorkloadIdentity = { trustDomain, ...validated.identity };
    const identity = spiffeId(trustDomain, caller.namespace, caller.serviceAccount);
    const pod = validated.podName === undefined ? undefined : `${caller.namespace}/${validated.podName}`;
    const about = { identity, ...(pod === undefined ? {} : { pod }) };

    const byIdentity = perIdentity.take(`${caller.namespace}/${caller.serviceAccount}`);
    if (!byIdentity.ok) {
      return refuse(
        'resource_exhausted',
        `too many Certify calls for ns/${caller.namespace} sa/${caller.serviceAccount} (${describeLimit(identityLimit)}); retry in ${seconds(byIdentity.retryAfterMs)}`,
        { ...about, retryAfterMs: byIdentity.retryAfterMs },
      );
    }

    try {
      return { ok: true, issued: authority.signWorkloadCsr(request.csr, caller), ...about };
    } catch (error) {
      if (error instanceof CsrRefused) {
        return refuse(error.code === 'permission-denied' ? 'permission_denied' : 'invalid_argument', error.message, {
          ...about,
          ...(error.requested === undefined ? {} : { requested: error.requested }),
        });
      }
      const reason = error instanceof Error ? error.message : String(error);
      return refuse('unavailable', `the CA cannot sign now: ${reason}`, { ...about, err: error });
    }
  }

  return {
    Certify(call: ServerUnaryCall<CertifyRequest__Output, CertifyResponse>, callback: sendUnaryData<CertifyResponse>): void {
      const started = process.hrtime.bigint();
      const peer = call.getPeer();
      const done = (outcome: Issued | Refusal): void => {
        const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
        if (outcome.ok) {
          metrics.record('issued', elapsed);
          log.debug(
            { event: 'certify.issued', identity: outcome.identity, peer, ...(outcome.pod === undefined ? {} : { pod: outcome.pod }), serial: outcome.issued.serial, notAfter: outcome.issued.notAfter.toISOString() },
            'certificate issued',
          );
          callback(null, {
            certificateChain: [...outcome.issued.chain],
            trustBundle: [...outcome.issued.trustBundle],
            notAfter: Math.floor(outcome.issued.notAfter.getTime() / 1000),
            renewAfter: Math.floor(outcome.issued.renewAfter.getTime() / 1000),
          });
          return;
        }
        metrics.record(outcome.result, elapsed);
        const fields = {
          event: 'certify.refused',
          code: outcome.result.toUpperCase(),
          reason: outcome.message,
          peer,
          ...(outcome.identity === undefined ? {} : { identity: outcome.identity }),
          ...(outcome.requested === undefined ? {} : { requested: outcome.requested }),
          ...(outcome.pod === undefined ? {} : { pod: outcome.pod }),
          ...(outcome.err === undefined ? {} : { err: outcome.err }),
        };
        // Unavailability is the operator's problem (API server, CA); the others are the caller's.
        if (outcome.result === 'unavailable') log.warn(fields, 'certify refused');
        else log.info(fields, 'certify refused');
        const metadata = new Metadata();
        if (outcome.retryAfterMs !== undefined) metadata.set(RETRY_PUSHBACK_KEY, String(outcome.retryAfterMs));
        callback({ code: STATUS[outcome.result], details: outcome.message, metadata }, null);
      };
      void certify(call.request)
        .then(done, (error: unknown) => done(refuse('unavailable', 'internal error while certifying; retry with backoff', { err: error })))
        .catch((error: unknown) => log.error({ event: 'certify.failed', peer, err: error }, 'answering Certify failed'));
    },
  };
}

const describeLimit = (limit: BucketConfig): string => `burst ${limit.burst}, ${limit.perSecond}/s`;
/** Rounded up to a tenth of a second, so "retry in" never names a moment that is still too early. */
const seconds = (ms: number): string => `${(Math.ceil(ms / 100) / 10).toFixed(1)} s`;
