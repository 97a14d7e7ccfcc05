/**
 * Metric families of the controller's identity service, registered in the registry the caller passes (never
 * prom-client's global one; nowhere when omitted). Labels take values from the fixed sets below only.
 *
 * | family | type | labels | meaning |
 * |---|---|---|---|
 * | `loom_identity_certify_total` | counter | `result` | Certify calls answered, by outcome ({@link CERTIFY_RESULTS}) |
 * | `loom_identity_certify_duration_seconds` | histogram | `result` | time to answer a Certify call |
 * | `loom_identity_token_reviews_total` | counter | `result` | TokenReview calls made to the API server ({@link REVIEW_RESULTS}) |
 * | `loom_identity_token_review_cache_hits_total` | counter | `result` (`authenticated`, `rejected`) | validations answered from the review caches |
 * | `loom_identity_token_reviews_throttled_total` | counter | | validations refused unasked because the TokenReview budget was spent |
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export const CERTIFY_TOTAL_METRIC = 'loom_identity_certify_total';
export const CERTIFY_DURATION_METRIC = 'loom_identity_certify_duration_seconds';
export const TOKEN_REVIEWS_METRIC = 'loom_identity_token_reviews_total';
export const TOKEN_REVIEW_CACHE_HITS_METRIC = 'loom_identity_token_review_cache_hits_total';
export const TOKEN_REVIEWS_THROTTLED_METRIC = 'loom_identity_token_reviews_throttled_total';

/** `issued`, or the gRPC status of the refusal in snake case. */
export const CERTIFY_RESULTS = ['issued', 'invalid_argument', 'unauthenticated', 'permission_denied', 'resource_exhausted', 'unavailable'] as const;
export type CertifyResult = (typeof CERTIFY_RESULTS)[number];

/** `authenticated`: accepted; `rejected`: the API server refused the token; `error`: no usable answer. */
export const REVIEW_RESULTS = ['authenticated', 'rejected', 'error'] as const;
export type ReviewResult = (typeof REVIEW_RESULTS)[number];

export interface CertifyMetrics {
  record(result: CertifyResult, seconds: number): void;
}

export function certifyMetrics(registry?: Registry): CertifyMetrics {
  const registers = registry === undefined ? [] : [registry];
  const total = new Counter<'result'>({
    name: CERTIFY_TOTAL_METRIC,
    help: 'Certify calls answered by the identity service, by result (issued or the refusal status).',
    labelNames: ['result'],
    registers,
  });
  const duration = new Histogram<'result'>({
    name: CERTIFY_DURATION_METRIC,
    help: 'Time to answer a Certify call (token review, rate limits, signing), in seconds.',
    labelNames: ['result'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  // Every series exists from the start, so rate() and absence alerts work before the first refusal.
  for (const result of CERTIFY_RESULTS) total.inc({ result }, 0);
  return {
    record(result, seconds) {
      total.inc({ result });
      duration.observe({ result }, seconds);
    },
  };
}

/** The answers a review cache holds. */
export type CachedResult = Exclude<ReviewResult, 'error'>;

export interface ReviewMetrics {
  review(result: ReviewResult): void;
  cacheHit(result: CachedResult): void;
  throttled(): void;
}

export function reviewMetrics(registry?: Registry): ReviewMetrics {
  const registers = registry === undefined ? [] : [registry];
  const reviews = new Counter<'result'>({
    name: TOKEN_REVIEWS_METRIC,
    help: 'TokenReview requests sent to the Kubernetes API server, by result.',
    labelNames: ['result'],
    registers,
  });
  const hits = new Counter<'result'>({
    name: TOKEN_REVIEW_CACHE_HITS_METRIC,
    help: 'Token validations answered from the caches of recent reviews, by the cached result.',
    labelNames: ['result'],
    registers,
  });
  const throttled = new Counter({
    name: TOKEN_REVIEWS_THROTTLED_METRIC,
    help: 'Token validations refused without a TokenReview because the review budget (rate or in-flight cap) was spent.',
    registers,
  });
  for (const result of REVIEW_RESULTS) reviews.inc({ result }, 0);
  for (const result of ['authenticated', 'rejected'] as const) hits.inc({ result }, 0);
  return {
    review: (result) => reviews.inc({ result }),
    cacheHit: (result) => hits.inc({ result }),
    throttled: () => throttled.inc(),
  };
}
