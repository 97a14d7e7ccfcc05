/**
 * `loom.identity.v1.Identity/Certify` (identity.proto): a proxy sends a CSR and its ServiceAccount token; the
 * controller validates the token, checks that the CSR asks for exactly the token's identity, and signs.
 *
 * Order of checks, each refusal with its own status (the proto lists them); everything before step 6 is cheap
 * and local, so a request that fails it never costs a TokenReview:
 *   1. rate limit per peer address on calls not (yet) authenticated      → RESOURCE_EXHAUSTED
 *   2. request size: csr + token above `maxRequestBytes`                  → RESOURCE_EXHAUSTED
 *   3. request shape: empty `token` or `csr`                              → INVALID_ARGUMENT
 *   4. the CSR parses and its self-signature verifies                     → INVALID_ARGUMENT
 *   5. rate limit per token                                               → RESOURCE_EXHAUSTED
 *   6. token validation (TokenReview, with its caches and global budget)  → UNAUTHENTICATED / UNAVAILABLE
 *   7. rate limit per identity (ns/sa)                                    → RESOURCE_EXHAUSTED
 *   8. CSR contents and signing (CertificateAuthority.signWorkloadCsr)    → INVALID_ARGUMENT / PERMISSION_DENIED,
 *      UNAVAILABLE when the CA cannot sign (issuer too close to expiry)
 * Every answer is counted (`loom_identity_certify_total{result}`). Every refusal is logged once, here, as
 * `event: certify.refused` — except load shedding (step 1, and step 6 when the review budget is spent), which
 * comes in floods: those are logged once per {@link LOG_SUMMARY_INTERVAL_MS} per kind with a `suppressed`
 * count. Nothing is signed before step 8 passes.
 */
import { Metadata, status as grpcStatus, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { CsrRefused, type CertificateAuthority, type IssuedCertificate } from '@loom/ca';
import { CsrError, parseCsr, spiffeId, type WorkloadIdentity } from '@loom/shared/identity';
import type { CertifyRequest__Output, CertifyResponse, IdentityHandlers } from '@loom/shared/proto';
import { silentLogger, type Logger } from '@loom/shared/runtime';
import type { Registry } from 'prom-client';
import { LogThrottle } from './log-throttle.js';
import { certifyMetrics, type CertifyResult } from './metrics.js';
import { peerAddress } from './peer.js';
import { checkBucketConfig, RateLimiter, retrySeconds, type BucketConfig } from './rate-limit.js';
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
 * Per token (one pod: projected tokens are per pod), checked before the TokenReview, against one pod retrying
 * in a tight loop. A well-behaved proxy makes one call per renewal plus retries with exponential backoff,
 * which stay far below 10 at once and one per 5 s.
 */
export const DEFAULT_TOKEN_RATE_LIMIT: BucketConfig = Object.freeze({ burst: 10, perSecond: 0.2 });
/**
 * Per peer address, checked first: every call takes a token and a call whose token authenticates gives it
 * back, so this limits only what a peer sends *without* proving an identity (malformed requests, bad
 * tokens, calls in flight). A pod is one address and makes one call per ~16 h; 50 leaves room for many pods
 * behind one address (host network, SNAT) starting at once; a peer sending only garbage is then held to one
 * call per second — one TokenReview per second at most, whatever tokens it invents.
 */
export const DEFAULT_PEER_RATE_LIMIT: BucketConfig = Object.freeze({ burst: 50, perSecond: 1 });
/**
 * csr + token, in bytes. A CSR is well under 1 KiB and a projected token under 2 KiB; 64 KiB leaves room
 * without inviting abuse. The gRPC server's own message limit sits above this (see DEFAULT_MAX_MESSAGE_BYTES),
 * so requests up to it get here and are counted and logged.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024;
/** Load-shedding refusals are logged at most once per this, per kind. */
export const LOG_SUMMARY_INTERVAL_MS = 10_000;

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
  /** Per peer address, on calls not authenticated; default {@link DEFAULT_PEER_RATE_LIMIT}. */
  readonly peerRateLimit?: BucketConfig;
  /** Largest csr + token accepted, in bytes; default {@link DEFAULT_MAX_REQUEST_BYTES}. */
  readonly maxRequestBytes?: number;
  /** Most keys each rate limiter tracks (memory bound). */
  readonly rateLimitMaxKeys?: number;
  /** Epoch milliseconds (rate limiting, log summaries); injectable for tests. */
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
  /** Load shedding, logged in summary: which kind. */
  readonly shed?: 'peer' | 'review_capacity';
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
  const peerLimit = options.peerRateLimit ?? DEFAULT_PEER_RATE_LIMIT;
  checkBucketConfig(identityLimit, 'identity rate limit');
  checkBucketConfig(tokenLimit, 'token rate limit');
  checkBucketConfig(peerLimit, 'peer rate limit');
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  if (!(Number.isInteger(maxRequestBytes) && maxRequestBytes > 0)) throw new RangeError(`maxRequestBytes must be a positive integer, got ${String(options.maxRequestBytes)}`);
  const now = options.now === undefined ? {} : { now: options.now };
  const clock = { ...now, ...(options.rateLimitMaxKeys === undefined ? {} : { maxKeys: options.rateLimitMaxKeys }) };
  const perIdentity = new RateLimiter({ ...identityLimit, ...clock });
  const perToken = new RateLimiter({ ...tokenLimit, ...clock });
  const perPeer = new RateLimiter({ ...peerLimit, ...clock });
  const summaries = new LogThrottle({ intervalMs: LOG_SUMMARY_INTERVAL_MS, ...now });
  const log = (options.logger ?? silentLogger()).child({ component: 'identity' });
  const metrics = certifyMetrics(options.registry);

  const refuse = (result: Refusal['result'], message: string, extra: Omit<Refusal, 'ok' | 'result' | 'message'> = {}): Refusal => ({ ok: false, result, message, ...extra });

  async function certify(request: CertifyRequest__Output, address: string): Promise<Issued | Refusal> {
    const byPeer = perPeer.take(address);
    if (!byPeer.ok) {
      return refuse('resource_exhausted', `too many unauthenticated Certify calls from ${address} (${describeLimit(peerLimit)}); retry in ${retrySeconds(byPeer.retryAfterMs)}`, {
        retryAfterMs: byPeer.retryAfterMs,
        shed: 'peer',
      });
    }

    const size = Buffer.byteLength(request.csr) + Buffer.byteLength(request.token);
    if (size > maxRequestBytes) return refuse('resource_exhausted', `request too large: csr and token are ${size} bytes together, the limit is ${maxRequestBytes}`);
    if (request.token === '') return refuse('invalid_argument', 'token is empty: send the pod\'s projected ServiceAccount token (audience "loom")');
    if (request.csr === '') return refuse('invalid_argument', 'csr is empty: send a PEM PKCS#10 certificate signing request');
    // Only syntax and self-signature here (cheap, and the same parse the CA repeats); what the CSR asks for is
    // checked against the caller's identity by the CA, after the token proved it.
    try {
      parseCsr(request.csr);
    } catch (error) {
      if (error instanceof CsrError) return refuse('invalid_argument', error.message);
      throw error;
    }

    const byToken = perToken.take(tokenHash(request.token));
    if (!byToken.ok) {
      return refuse('resource_exhausted', `too many Certify calls with this token (${describeLimit(tokenLimit)}); retry in ${retrySeconds(byToken.retryAfterMs)}`, {
        retryAfterMs: byToken.retryAfterMs,
      });
    }

    let validated: TokenResult;
    try {
      validated = await tokens.validate(request.token);
    } catch (error) {
      return refuse('unavailable', 'the token could not be validated now; retry with backoff', { err: error });
    }
    if (!validated.ok) {
      return refuse(validated.code, validated.reason, validated.retryAfterMs === undefined ? {} : { retryAfterMs: validated.retryAfterMs, shed: 'review_capacity' });
    }
    // An authenticated caller is accountable (per identity, below): its call does not count against its address.
    perPeer.refund(address);

    const caller: WorkloadIdentity = { trustDomain, ...validated.identity };
    const identity = spiffeId(trustDomain, caller.namespace, caller.serviceAccount);
    const pod = validated.podName === undefined ? undefined : `${caller.namespace}/${validated.podName}`;
    const about = { identity, ...(pod === undefined ? {} : { pod }) };

    const byIdentity = perIdentity.take(`${caller.namespace}/${caller.serviceAccount}`);
    if (!byIdentity.ok) {
      return refuse(
        'resource_exhausted',
        `too many Certify calls for ns/${caller.namespace} sa/${caller.serviceAccount} (${describeLimit(identityLimit)}); retry in ${retrySeconds(byIdentity.retryAfterMs)}`,
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

  /** One `certify.refused` line; `suppressed` (shed refusals only) counts those of its kind not logged before it. */
  function logRefusal(outcome: Refusal, peer: string, suppressed: number | undefined): void {
    const fields = {
      event: 'certify.refused',
      code: outcome.result.toUpperCase(),
      reason: outcome.message,
      peer,
      ...(outcome.identity === undefined ? {} : { identity: outcome.identity }),
      ...(outcome.requested === undefined ? {} : { requested: outcome.requested }),
      ...(outcome.pod === undefined ? {} : { pod: outcome.pod }),
      ...(outcome.err === undefined ? {} : { err: outcome.err }),
      ...(suppressed === undefined ? {} : { suppressed }),
    };
    // Unavailability is the operator's problem (API server, CA, review capacity); the others are the caller's.
    if (outcome.result === 'unavailable') log.warn(fields, 'certify refused');
    else log.info(fields, 'certify refused');
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
        const admission = outcome.shed === undefined ? undefined : summaries.admit(outcome.shed);
        if (admission?.log !== false) {
          logRefusal(outcome, peer, admission?.suppressed);
        }
        const metadata = new Metadata();
        if (outcome.retryAfterMs !== undefined) metadata.set(RETRY_PUSHBACK_KEY, String(outcome.retryAfterMs));
        callback({ code: STATUS[outcome.result], details: outcome.message, metadata }, null);
      };
      void certify(call.request, peerAddress(peer))
        .then(done, (error: unknown) => done(refuse('unavailable', 'internal error while certifying; retry with backoff', { err: error })))
        .catch((error: unknown) => log.error({ event: 'certify.failed', peer, err: error }, 'answering Certify failed'));
    },
  };
}

const describeLimit = (limit: BucketConfig): string => `burst ${limit.burst}, ${limit.perSecond}/s`;
