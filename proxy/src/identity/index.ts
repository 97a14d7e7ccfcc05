/** Workload identity of the proxy: obtaining, holding and renewing its mesh certificate (DESIGN §4). */
export {
  IdentityClient,
  IdentityClosedError,
  IdentityConfigError,
  readToken,
  DEFAULT_CERTIFY_BACKOFF,
  DEFAULT_CERTIFY_TIMEOUT_MS,
  NOT_READY_REMAINING_LIFE,
  notReadyAt,
  retryDelayMs,
  type IdentityClientOptions,
  type IdentityEvent,
  type IdentityListener,
  type IdentityState,
  type IdentityStatus,
} from './client.js';
export { CredentialHolder, type CredentialChange, type CredentialChangeReason, type CredentialHolderOptions, type CredentialListener } from './holder.js';
export {
  acceptCertifyResponse,
  chainProblem,
  credentialsFromPem,
  parseTrustBundle,
  CredentialsError,
  MAX_NOT_BEFORE_SKEW_MS,
  type CertifyExpectation,
  type CertifyResponseFields,
  type TrustBundle,
  type WorkloadCredentials,
} from './credentials.js';
export { checkPeerIdentity, peerSpiffeId, secureContextOptions, serverContextOptions, MESH_TLS_MIN_VERSION, type PeerCheck } from './tls.js';
export { Alarm, systemClock, MAX_TIMER_MS, type Clock, type TimerHandle } from './clock.js';
export { classifyFailure, TokenError, type CertifyFailure, type FailureKind } from './failure.js';
export { certify, CertifyCallError, retryPushbackMs, RETRY_PUSHBACK_KEY, type CertifyTarget, type PendingCertify } from './certify.js';
export { identityMetrics, CERTIFICATE_EXPIRY_METRIC, CERTIFICATE_RENEWALS_METRIC, CERTIFICATE_RENEWAL_FAILURES_METRIC, type AttemptResult, type IdentityMetrics } from './metrics.js';
