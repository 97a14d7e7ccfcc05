/**
 * {@link TokenValidator} on the Kubernetes TokenReview API (authentication.k8s.io/v1), with audience checking:
 * the review asks for audience `loom`, and an accepted review must say in `status.audiences` that it checked
 * it (the API documents that clients setting `spec.audiences` must verify this, since a server that is not
 * audience-aware would accept any token of the user).
 *
 * Answers are cached under the token's SHA-256 (acceptances 30 s, never past the token's own `exp`; refusals
 * 10 s, in a cache of their own), and concurrent reviews of one token share one request, so a pod calling
 * Certify in a loop does not turn into a loop of TokenReviews. Whatever the tokens, the reviews sent draw on
 * a global budget (a token bucket and a cap on reviews in flight), so a flood of distinct garbage tokens cannot
 * turn into a flood of TokenReviews either. The API server being unreachable, slow (timeout) or answering
 * 5xx/401/403 is `unavailable`: the caller retries; it is not the token's fault.
 */
import { ApiException, AuthenticationV1Api, Observable, type KubeConfig, type ObservableMiddleware, type V1TokenReviewStatus } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { reviewMetrics, type ReviewMetrics } from './metrics.js';
import { checkBucketConfig, retrySeconds, take, type Bucket, type BucketConfig } from './rate-limit.js';
import { jwtExpiry, parseServiceAccountUsername, tokenHash, type TokenResult, type TokenValidator } from './token.js';
import { TtlCache } from './ttl-cache.js';

/** The audience of the projected tokens proxies present (DESIGN §4). */
export const LOOM_TOKEN_AUDIENCE = 'loom';
export const DEFAULT_REVIEW_CACHE_TTL_MS = 30_000;
export const DEFAULT_REVIEW_CACHE_ENTRIES = 10_000;
export const DEFAULT_REVIEW_TIMEOUT_MS = 10_000;
/**
 * Refusals are kept for less time than acceptances: long enough that a client looping with one bad token costs
 * the API server one review per TTL, short enough that a token refused by a passing API server hiccup (e.g.
 * during an issuer key rollout) works again soon.
 */
export const DEFAULT_REFUSAL_CACHE_TTL_MS = 10_000;
export const DEFAULT_REFUSAL_CACHE_ENTRIES = 10_000;
/**
 * All TokenReviews the controller may send, whatever the tokens: a flood of distinct garbage tokens costs the
 * API server at most this. 200 at once covers a rollout surge of new pods (each pod's token is reviewed once,
 * then cached); 50/s sustained is 3 000 new pods a minute, and a refused proxy retries after the pushback.
 */
export const DEFAULT_REVIEW_BUDGET: BucketConfig = Object.freeze({ burst: 200, perSecond: 50 });
/** Reviews waiting on the API server at once; more are refused rather than queued behind a slow API server. */
export const DEFAULT_MAX_REVIEWS_IN_FLIGHT = 32;
/** Retry pushback when every review slot is taken (a review normally takes milliseconds). */
export const REVIEW_SLOT_RETRY_MS = 1_000;

/** `status.user.extra` keys the API server sets for pod-bound ServiceAccount tokens. */
export const POD_NAME_EXTRA = 'authentication.kubernetes.io/pod-name';
export const POD_UID_EXTRA = 'authentication.kubernetes.io/pod-uid';

export interface TokenReviewValidatorOptions {
  /** Where the API server is and how the controller authenticates to it (needs `create tokenreviews`). */
  readonly kubeConfig: KubeConfig;
  /** `spec.audiences` of each review; an accepted review must confirm one of them. Default `['loom']`. */
  readonly audiences?: readonly string[];
  /** How long a successful review is reused; 0 disables the cache. */
  readonly cacheTtlMs?: number;
  readonly cacheMaxEntries?: number;
  /** How long a refusal (`unauthenticated`) is reused; 0 disables it. Unavailability is never cached. */
  readonly refusalCacheTtlMs?: number;
  /** A separate bound, so a flood of refused tokens cannot evict acceptances. */
  readonly refusalCacheMaxEntries?: number;
  /** Global token bucket over the TokenReviews sent; default {@link DEFAULT_REVIEW_BUDGET}. */
  readonly reviewBudget?: BucketConfig;
  /** Default {@link DEFAULT_MAX_REVIEWS_IN_FLIGHT}. */
  readonly maxReviewsInFlight?: number;
  /** A review not answered within this is `unavailable`. */
  readonly timeoutMs?: number;
  /** Epoch milliseconds, for the caches and the budget; injectable for tests. */
  readonly now?: () => number;
  readonly registry?: Registry;
}

/**
 * Validates tokens with TokenReview. What reaches the API server is bounded: answers are cached (acceptances
 * for {@link DEFAULT_REVIEW_CACHE_TTL_MS}, refusals for {@link DEFAULT_REFUSAL_CACHE_TTL_MS}, each never past
 * the token's `exp`), concurrent validations of one token share one review, and the reviews actually sent
 * draw on a global budget: a token bucket plus a cap on reviews in flight. A validation over budget is
 * `unavailable` with `retryAfterMs`, without a review.
 */
export class TokenReviewValidator implements TokenValidator {
  readonly audiences: readonly string[];
  readonly #api: AuthenticationV1Api;
  readonly #ttlMs: number;
  readonly #refusalTtlMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #cache: TtlCache<TokenResult>;
  readonly #refusals: TtlCache<TokenResult>;
  readonly #inFlight = new Map<string, Promise<TokenResult>>();
  readonly #budget: BucketConfig;
  #bucket: Bucket | undefined;
  readonly #maxInFlight: number;
  readonly #metrics: ReviewMetrics;

  constructor(options: TokenReviewValidatorOptions) {
    this.audiences = Object.freeze([...(options.audiences ?? [LOOM_TOKEN_AUDIENCE])]);
    if (this.audiences.length === 0 || this.audiences.some((audience) => audience === '')) throw new RangeError('TokenReview audiences must be non-empty strings');
    this.#ttlMs = options.cacheTtlMs ?? DEFAULT_REVIEW_CACHE_TTL_MS;
    this.#refusalTtlMs = options.refusalCacheTtlMs ?? DEFAULT_REFUSAL_CACHE_TTL_MS;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_REVIEW_TIMEOUT_MS;
    if (!(this.#ttlMs >= 0)) throw new RangeError(`TokenReview cache TTL must be >= 0 ms, got ${String(options.cacheTtlMs)}`);
    if (!(this.#refusalTtlMs >= 0)) throw new RangeError(`TokenReview refusal cache TTL must be >= 0 ms, got ${String(options.refusalCacheTtlMs)}`);
    if (!(this.#timeoutMs > 0)) throw new RangeError(`TokenReview timeout must be > 0 ms, got ${String(options.timeoutMs)}`);
    this.#budget = options.reviewBudget ?? DEFAULT_REVIEW_BUDGET;
    checkBucketConfig(this.#budget, 'TokenReview budget');
    this.#maxInFlight = options.maxReviewsInFlight ?? DEFAULT_MAX_REVIEWS_IN_FLIGHT;
    if (!(Number.isInteger(this.#maxInFlight) && this.#maxInFlight >= 1)) throw new RangeError(`TokenReview maxReviewsInFlight must be an integer >= 1, got ${String(options.maxReviewsInFlight)}`);
    this.#now = options.now ?? Date.now;
    this.#cache = new TtlCache({ maxEntries: options.cacheMaxEntries ?? DEFAULT_REVIEW_CACHE_ENTRIES, now: this.#now });
    this.#refusals = new TtlCache({ maxEntries: options.refusalCacheMaxEntries ?? DEFAULT_REFUSAL_CACHE_ENTRIES, now: this.#now });
    this.#api = options.kubeConfig.makeApiClient(AuthenticationV1Api);
    this.#metrics = reviewMetrics(options.registry);
  }

  validate(token: string): Promise<TokenResult> {
    if (token === '') return Promise.resolve({ ok: false, code: 'unauthenticated', reason: 'token is empty' });
    const key = tokenHash(token);
    const cached = this.#cache.get(key) ?? this.#refusals.get(key);
    if (cached !== undefined) {
      this.#metrics.cacheHit(cached.ok ? 'authenticated' : 'rejected');
      return Promise.resolve(cached);
    }
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending;
    const retryAfterMs = this.#spend();
    if (retryAfterMs !== undefined) {
      this.#metrics.throttled();
      return Promise.resolve({ ok: false, code: 'unavailable', reason: `token review capacity exhausted, retry in ${retrySeconds(retryAfterMs)}`, retryAfterMs });
    }
    const review = this.#review(token).then((result) => {
      this.#inFlight.delete(key);
      // An acceptance never outlives the token; a refusal (of an expired token, say) may.
      if (result.ok && this.#ttlMs > 0) this.#cache.set(key, result, Math.min(this.#now() + this.#ttlMs, jwtExpiry(token) ?? Infinity));
      if (!result.ok && result.code === 'unauthenticated' && this.#refusalTtlMs > 0) this.#refusals.set(key, result, this.#now() + this.#refusalTtlMs);
      return result;
    });
    this.#inFlight.set(key, review);
    return review;
  }

  /** Takes a review from the budget; undefined when granted, else milliseconds until one may be. */
  #spend(): number | undefined {
    if (this.#inFlight.size >= this.#maxInFlight) return REVIEW_SLOT_RETRY_MS;
    const taken = take(this.#bucket, this.#budget, this.#now());
    this.#bucket = taken.bucket;
    return taken.ok ? undefined : taken.retryAfterMs;
  }

  /** One TokenReview; never rejects. */
  async #review(token: string): Promise<TokenResult> {
    let status: V1TokenReviewStatus | undefined;
    try {
      const review = await this.#api.createTokenReview(
        { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [...this.audiences] } } },
        { middleware: [timeoutMiddleware(this.#timeoutMs)], middlewareMergeStrategy: 'append' },
      );
      status = review.status;
    } catch (error) {
      this.#metrics.review('error');
      return { ok: false, code: 'unavailable', reason: unavailableReason(error, this.#timeoutMs) };
    }
    const result = interpretReview(status, this.audiences);
    this.#metrics.review(result.ok ? 'authenticated' : 'rejected');
    return result;
  }
}

/** Aborts the request after `ms` (the generated client has no timeout of its own). */
function timeoutMiddleware(ms: number): ObservableMiddleware {
  return {
    pre(context) {
      context.setSignal(AbortSignal.timeout(ms));
      return new Observable(Promise.resolve(context));
    },
    post: (context) => new Observable(Promise.resolve(context)),
  };
}

/**
 * What a TokenReview `status` means for Certify. Pure. A review is accepted only when it is authenticated,
 * confirms one of `audiences`, and names a ServiceAccount.
 */
export function interpretReview(status: V1TokenReviewStatus | undefined, audiences: readonly string[]): TokenResult {
  // `authenticated` is omitted (omitempty) when false.
  if (status?.authenticated !== true) {
    const error = status?.error?.trim();
    return { ok: false, code: 'unauthenticated', reason: `token refused by TokenReview: ${error === undefined || error === '' ? 'not authenticated' : error}` };
  }
  const confirmed = status.audiences ?? [];
  if (!confirmed.some((audience) => audiences.includes(audience))) {
    return {
      ok: false,
      code: 'unauthenticated',
      reason: `TokenReview did not confirm the token's audience ${audiences.map((a) => `"${a}"`).join(' or ')} (status.audiences: ${confirmed.length === 0 ? 'none' : confirmed.join(', ')}); the reviewing server is not audience-aware`,
    };
  }
  const username = status.user?.username ?? '';
  const identity = parseServiceAccountUsername(username);
  if (identity === null) {
    return { ok: false, code: 'unauthenticated', reason: `token is for user "${username}", not a ServiceAccount (system:serviceaccount:<namespace>:<name>)` };
  }
  const extra = status.user?.extra ?? {};
  const podName = extra[POD_NAME_EXTRA]?.[0];
  const podUid = extra[POD_UID_EXTRA]?.[0];
  return { ok: true, identity, ...(podName === undefined ? {} : { podName }), ...(podUid === undefined ? {} : { podUid }) };
}

/** One line saying why no review could be had. */
export function unavailableReason(error: unknown, timeoutMs: number): string {
  if (error instanceof ApiException) {
    const code = (error as ApiException<unknown>).code;
    const message = statusMessage((error as ApiException<unknown>).body);
    if (code === 401) return `the API server refused the controller's own credentials for TokenReview (401 Unauthorized)`;
    if (code === 403) return `the controller may not create TokenReviews (403 Forbidden${message === undefined ? '' : `: ${message}`}); grant it create on tokenreviews.authentication.k8s.io`;
    return `TokenReview failed with HTTP ${code}${message === undefined ? '' : `: ${message}`}`;
  }
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return `the API server did not answer the TokenReview within ${timeoutMs} ms`;
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `TokenReview API unreachable: ${error.message}${cause}`;
  }
  return `TokenReview API unreachable: ${String(error)}`;
}

/** `message` of a metav1.Status body, when there is one. */
function statusMessage(body: unknown): string | undefined {
  if (typeof body === 'string') {
    // The generated client hands over the raw text of error bodies.
    try {
      return statusMessage(JSON.parse(body)) ?? (body.trim() === '' ? undefined : body.trim().slice(0, 200));
    } catch {
      return body.trim() === '' ? undefined : body.trim().slice(0, 200);
    }
  }
  if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  return undefined;
}

