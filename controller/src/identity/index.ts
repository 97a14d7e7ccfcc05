/**
 * @loom/controller/identity — the controller side of workload identity (DESIGN §4): the
 * `loom.identity.v1.Identity/Certify` service, ServiceAccount token validation through TokenReview, rate
 * limits, the TLS gRPC server, and the controller's own serving certificate.
 */
export {
  createIdentityService,
  DEFAULT_IDENTITY_RATE_LIMIT,
  DEFAULT_TOKEN_RATE_LIMIT,
  DEFAULT_PEER_RATE_LIMIT,
  DEFAULT_MAX_REQUEST_BYTES,
  LOG_SUMMARY_INTERVAL_MS,
  RETRY_PUSHBACK_KEY,
  type IdentityServiceOptions,
} from './service.js';
export { startIdentityServer, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_CLOSE_GRACE_MS, type IdentityServer, type IdentityServerOptions } from './server.js';
export {
  issueServingCertificate,
  servingDnsNames,
  CONTROLLER_NAMESPACE,
  CONTROLLER_SERVICE,
  CONTROLLER_SERVICE_ACCOUNT,
  DEFAULT_CLUSTER_DOMAIN,
  type ServingCertificate,
  type ServingCertificateOptions,
} from './serving.js';
export {
  TokenReviewValidator,
  interpretReview,
  LOOM_TOKEN_AUDIENCE,
  DEFAULT_REVIEW_CACHE_TTL_MS,
  DEFAULT_REVIEW_CACHE_ENTRIES,
  DEFAULT_REVIEW_TIMEOUT_MS,
  DEFAULT_REFUSAL_CACHE_TTL_MS,
  DEFAULT_REFUSAL_CACHE_ENTRIES,
  DEFAULT_REVIEW_BUDGET,
  DEFAULT_MAX_REVIEWS_IN_FLIGHT,
  REVIEW_SLOT_RETRY_MS,
  POD_NAME_EXTRA,
  POD_UID_EXTRA,
  type TokenReviewValidatorOptions,
} from './token-review.js';
export { parseServiceAccountUsername, tokenHash, jwtExpiry, type ServiceAccountRef, type TokenResult, type TokenValidator } from './token.js';
export { RateLimiter, take, refill, isFull, checkBucketConfig, DEFAULT_MAX_KEYS, type Bucket, type BucketConfig, type RateLimiterOptions, type TakeResult } from './rate-limit.js';
export { CERTIFY_RESULTS, REVIEW_RESULTS, CERTIFY_TOTAL_METRIC, CERTIFY_DURATION_METRIC, TOKEN_REVIEWS_METRIC, TOKEN_REVIEW_CACHE_HITS_METRIC, TOKEN_REVIEWS_THROTTLED_METRIC, type CertifyResult, type ReviewResult } from './metrics.js';
export { ServingCertificateRenewer, SERVING_RETRY_MS, type ServingRenewerOptions, type Timers } from './serving-renewal.js';
