// Original file: proto/loom/identity/v1/identity.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CertifyRequest as _loom_identity_v1_CertifyRequest, CertifyRequest__Output as _loom_identity_v1_CertifyRequest__Output } from '../../../loom/identity/v1/CertifyRequest.js';
import type { CertifyResponse as _loom_identity_v1_CertifyResponse, CertifyResponse__Output as _loom_identity_v1_CertifyResponse__Output } from '../../../loom/identity/v1/CertifyResponse.js';

/**
 * Certificate issuance. Served by the controller on port 15010 next to `loom.policy.v1.Policy`,
 * over TLS; the first request of a proxy necessarily comes without a client certificate, renewals
 * may use mutual TLS, but authentication always rests on the ServiceAccount token below.
 */
export interface IdentityClient extends grpc.Client {
  /**
   * Signs the proxy's CSR for the identity its ServiceAccount token proves.
   * 
   * The proxy generates its own key (ECDSA P-256) and sends only a CSR: private keys never leave
   * the pod. The controller validates `token` with a TokenReview (audience `loom`), derives
   * `spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>` from the reviewed user, checks
   * that the CSR asks for exactly that identity (one URI SAN, nothing else) and signs a leaf valid
   * for 24 h.
   * 
   * Errors:
   * - INVALID_ARGUMENT: the CSR is not one PEM PKCS#10 request, its signature does not verify, or
   * its key type is not accepted; `token` is empty.
   * - UNAUTHENTICATED: the token is rejected by the TokenReview (expired, wrong audience, unknown).
   * - PERMISSION_DENIED: the CSR asks for an identity other than the token's.
   * - RESOURCE_EXHAUSTED: rate limited (per caller address, per token, per identity), or the request
   * is larger than 64 KiB; the `grpc-retry-pushback-ms` trailer says when to retry.
   * - UNAVAILABLE: the CA or the TokenReview API is not reachable now, or the controller's TokenReview
   * budget is spent; retry with backoff (honouring `grpc-retry-pushback-ms` when present).
   * 
   * Renewal: the proxy calls Certify again with a new key and CSR at `renew_after` (about 2/3 of the
   * leaf's life, with jitter applied by the proxy), retries failures with backoff, and reports a
   * certificate close to `not_after` in `/ready` and metrics.
   */
  Certify(argument: _loom_identity_v1_CertifyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_loom_identity_v1_CertifyResponse__Output>): grpc.ClientUnaryCall;
  Certify(argument: _loom_identity_v1_CertifyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_loom_identity_v1_CertifyResponse__Output>): grpc.ClientUnaryCall;
  Certify(argument: _loom_identity_v1_CertifyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_loom_identity_v1_CertifyResponse__Output>): grpc.ClientUnaryCall;
  Certify(argument: _loom_identity_v1_CertifyRequest, callback: grpc.requestCallback<_loom_identity_v1_CertifyResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Signs the proxy's CSR for the identity its ServiceAccount token proves.
   * 
   * The proxy generates its own key (ECDSA P-256) and sends only a CSR: private keys never leave
   * the pod. The controller validates `token` with a TokenReview (audience `loom`), derives
   * `spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>` from the reviewed user, checks
   * that the CSR asks for exactly that identity (one URI SAN, nothing else) and signs a leaf valid
   * for 24 h.
   * 
   * Errors:
   * - INVALID_ARGUMENT: the CSR is not one PEM PKCS#10 request, its signature does not verify, or
   * its key type is not accepted; `token` is empty.
   * - UNAUTHENTICATED: the token is rejected by the TokenReview (expired, wrong audience, unknown).
   * - PERMISSION_DENIED: the CSR asks for an identity other than the token's.
   * - RESOURCE_EXHAUSTED: rate limited (per caller address, per token, per identity), or the request
   * is larger than 64 KiB; the `grpc-retry-pushback-ms` trailer says when to retry.
   * - UNAVAILABLE: the CA or the TokenReview API is not reachable now, or the controller's TokenReview
   * budget is spent; retry with backoff (honouring `grpc-retry-pushback-ms` when present).
   * 
   * Renewal: the proxy calls Certify again with a new key and CSR at `renew_after` (about 2/3 of the
   * leaf's life, with jitter applied by the proxy), retries failures with backoff, and reports a
   * certificate close to `not_after` in `/ready` and metrics.
   */
  certify(argument: _loom_identity_v1_CertifyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_loom_identity_v1_CertifyResponse__Output>): grpc.ClientUnaryCall;
  certify(argument: _loom_identity_v1_CertifyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_loom_identity_v1_CertifyResponse__Output>): grpc.ClientUnaryCall;
  certify(argument: _loom_identity_v1_CertifyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_loom_identity_v1_CertifyResponse__Output>): grpc.ClientUnaryCall;
  certify(argument: _loom_identity_v1_CertifyRequest, callback: grpc.requestCallback<_loom_identity_v1_CertifyResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * Certificate issuance. Served by the controller on port 15010 next to `loom.policy.v1.Policy`,
 * over TLS; the first request of a proxy necessarily comes without a client certificate, renewals
 * may use mutual TLS, but authentication always rests on the ServiceAccount token below.
 */
export interface IdentityHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Signs the proxy's CSR for the identity its ServiceAccount token proves.
   * 
   * The proxy generates its own key (ECDSA P-256) and sends only a CSR: private keys never leave
   * the pod. The controller validates `token` with a TokenReview (audience `loom`), derives
   * `spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>` from the reviewed user, checks
   * that the CSR asks for exactly that identity (one URI SAN, nothing else) and signs a leaf valid
   * for 24 h.
   * 
   * Errors:
   * - INVALID_ARGUMENT: the CSR is not one PEM PKCS#10 request, its signature does not verify, or
   * its key type is not accepted; `token` is empty.
   * - UNAUTHENTICATED: the token is rejected by the TokenReview (expired, wrong audience, unknown).
   * - PERMISSION_DENIED: the CSR asks for an identity other than the token's.
   * - RESOURCE_EXHAUSTED: rate limited (per caller address, per token, per identity), or the request
   * is larger than 64 KiB; the `grpc-retry-pushback-ms` trailer says when to retry.
   * - UNAVAILABLE: the CA or the TokenReview API is not reachable now, or the controller's TokenReview
   * budget is spent; retry with backoff (honouring `grpc-retry-pushback-ms` when present).
   * 
   * Renewal: the proxy calls Certify again with a new key and CSR at `renew_after` (about 2/3 of the
   * leaf's life, with jitter applied by the proxy), retries failures with backoff, and reports a
   * certificate close to `not_after` in `/ready` and metrics.
   */
  Certify: grpc.handleUnaryCall<_loom_identity_v1_CertifyRequest__Output, _loom_identity_v1_CertifyResponse>;
  
}

export interface IdentityDefinition extends grpc.ServiceDefinition {
  Certify: MethodDefinition<_loom_identity_v1_CertifyRequest, _loom_identity_v1_CertifyResponse, _loom_identity_v1_CertifyRequest__Output, _loom_identity_v1_CertifyResponse__Output>
}
