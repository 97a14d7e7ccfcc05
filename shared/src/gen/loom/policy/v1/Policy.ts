// Original file: proto/loom/policy/v1/policy.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ControllerMessage as _loom_policy_v1_ControllerMessage, ControllerMessage__Output as _loom_policy_v1_ControllerMessage__Output } from '../../../loom/policy/v1/ControllerMessage.js';
import type { ProxyMessage as _loom_policy_v1_ProxyMessage, ProxyMessage__Output as _loom_policy_v1_ProxyMessage__Output } from '../../../loom/policy/v1/ProxyMessage.js';

/**
 * Policy distribution. Served by the controller on port 15010 (TLS; mutual TLS once the proxy holds a
 * certificate from `loom.identity.v1.Identity/Certify`).
 */
export interface PolicyClient extends grpc.Client {
  /**
   * One long-lived stream per proxy.
   * 
   * Proxy -> controller:
   * 1. `hello`, exactly once, as the first message. It names the pod only; the proxy's identity (its
   * SPIFFE ID, hence namespace and ServiceAccount) is taken from the client certificate of the
   * connection, never from the message. The controller refuses with PERMISSION_DENIED a Hello
   * whose namespace differs from the certificate's, or whose pod does not run under the
   * certificate's ServiceAccount; with UNAUTHENTICATED a connection without a client certificate;
   * with INVALID_ARGUMENT a stream whose first message is not a Hello, or a second Hello.
   * 2. Then, for every ControllerMessage received, exactly one `ack` (applied) or `nack` (rejected),
   * carrying the version of that policy.
   * 
   * Controller -> proxy:
   * - A ControllerMessage with the full policy for this proxy as soon as it can compute one (it may
   * wait until the pod appears in its caches), then again whenever that policy changes, i.e. when
   * its `version` differs from the last one sent on this stream. Every message is a complete
   * snapshot that replaces the previous one; there are no deltas, so a controller with a slow
   * reader may skip intermediate versions and send only the newest (conflation).
   * 
   * Ack / Nack:
   * - A proxy applies a policy atomically or not at all. `ack` means the proxy now enforces exactly
   * that version. `nack` means it rejected it (the decoder or the proxy's own checks failed) and
   * keeps enforcing the previous good policy; `reason` says why, naming the offending field. The
   * controller records the last acked version per proxy (that is what `loom status` and the SMI
   * `Programmed` condition report) and logs and counts Nacks; it does not resend the same version.
   * - An ack or nack for a version other than the last one sent is stale and only recorded.
   * 
   * Stream end and reconnection:
   * - The controller ends streams with UNAVAILABLE when it shuts down or drains (and connections
   * are recycled by max connection age). The proxy then reconnects with jittered exponential
   * backoff and sends a fresh Hello; the first policy on the new stream may equal the one it has.
   * - While disconnected a proxy keeps serving with its last good policy. A proxy that has never
   * received a good policy (e.g. just restarted) is not ready.
   */
  Stream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_loom_policy_v1_ProxyMessage, _loom_policy_v1_ControllerMessage__Output>;
  Stream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_loom_policy_v1_ProxyMessage, _loom_policy_v1_ControllerMessage__Output>;
  /**
   * One long-lived stream per proxy.
   * 
   * Proxy -> controller:
   * 1. `hello`, exactly once, as the first message. It names the pod only; the proxy's identity (its
   * SPIFFE ID, hence namespace and ServiceAccount) is taken from the client certificate of the
   * connection, never from the message. The controller refuses with PERMISSION_DENIED a Hello
   * whose namespace differs from the certificate's, or whose pod does not run under the
   * certificate's ServiceAccount; with UNAUTHENTICATED a connection without a client certificate;
   * with INVALID_ARGUMENT a stream whose first message is not a Hello, or a second Hello.
   * 2. Then, for every ControllerMessage received, exactly one `ack` (applied) or `nack` (rejected),
   * carrying the version of that policy.
   * 
   * Controller -> proxy:
   * - A ControllerMessage with the full policy for this proxy as soon as it can compute one (it may
   * wait until the pod appears in its caches), then again whenever that policy changes, i.e. when
   * its `version` differs from the last one sent on this stream. Every message is a complete
   * snapshot that replaces the previous one; there are no deltas, so a controller with a slow
   * reader may skip intermediate versions and send only the newest (conflation).
   * 
   * Ack / Nack:
   * - A proxy applies a policy atomically or not at all. `ack` means the proxy now enforces exactly
   * that version. `nack` means it rejected it (the decoder or the proxy's own checks failed) and
   * keeps enforcing the previous good policy; `reason` says why, naming the offending field. The
   * controller records the last acked version per proxy (that is what `loom status` and the SMI
   * `Programmed` condition report) and logs and counts Nacks; it does not resend the same version.
   * - An ack or nack for a version other than the last one sent is stale and only recorded.
   * 
   * Stream end and reconnection:
   * - The controller ends streams with UNAVAILABLE when it shuts down or drains (and connections
   * are recycled by max connection age). The proxy then reconnects with jittered exponential
   * backoff and sends a fresh Hello; the first policy on the new stream may equal the one it has.
   * - While disconnected a proxy keeps serving with its last good policy. A proxy that has never
   * received a good policy (e.g. just restarted) is not ready.
   */
  stream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_loom_policy_v1_ProxyMessage, _loom_policy_v1_ControllerMessage__Output>;
  stream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_loom_policy_v1_ProxyMessage, _loom_policy_v1_ControllerMessage__Output>;
  
}

/**
 * Policy distribution. Served by the controller on port 15010 (TLS; mutual TLS once the proxy holds a
 * certificate from `loom.identity.v1.Identity/Certify`).
 */
export interface PolicyHandlers extends grpc.UntypedServiceImplementation {
  /**
   * One long-lived stream per proxy.
   * 
   * Proxy -> controller:
   * 1. `hello`, exactly once, as the first message. It names the pod only; the proxy's identity (its
   * SPIFFE ID, hence namespace and ServiceAccount) is taken from the client certificate of the
   * connection, never from the message. The controller refuses with PERMISSION_DENIED a Hello
   * whose namespace differs from the certificate's, or whose pod does not run under the
   * certificate's ServiceAccount; with UNAUTHENTICATED a connection without a client certificate;
   * with INVALID_ARGUMENT a stream whose first message is not a Hello, or a second Hello.
   * 2. Then, for every ControllerMessage received, exactly one `ack` (applied) or `nack` (rejected),
   * carrying the version of that policy.
   * 
   * Controller -> proxy:
   * - A ControllerMessage with the full policy for this proxy as soon as it can compute one (it may
   * wait until the pod appears in its caches), then again whenever that policy changes, i.e. when
   * its `version` differs from the last one sent on this stream. Every message is a complete
   * snapshot that replaces the previous one; there are no deltas, so a controller with a slow
   * reader may skip intermediate versions and send only the newest (conflation).
   * 
   * Ack / Nack:
   * - A proxy applies a policy atomically or not at all. `ack` means the proxy now enforces exactly
   * that version. `nack` means it rejected it (the decoder or the proxy's own checks failed) and
   * keeps enforcing the previous good policy; `reason` says why, naming the offending field. The
   * controller records the last acked version per proxy (that is what `loom status` and the SMI
   * `Programmed` condition report) and logs and counts Nacks; it does not resend the same version.
   * - An ack or nack for a version other than the last one sent is stale and only recorded.
   * 
   * Stream end and reconnection:
   * - The controller ends streams with UNAVAILABLE when it shuts down or drains (and connections
   * are recycled by max connection age). The proxy then reconnects with jittered exponential
   * backoff and sends a fresh Hello; the first policy on the new stream may equal the one it has.
   * - While disconnected a proxy keeps serving with its last good policy. A proxy that has never
   * received a good policy (e.g. just restarted) is not ready.
   */
  Stream: grpc.handleBidiStreamingCall<_loom_policy_v1_ProxyMessage__Output, _loom_policy_v1_ControllerMessage>;
  
}

export interface PolicyDefinition extends grpc.ServiceDefinition {
  Stream: MethodDefinition<_loom_policy_v1_ProxyMessage, _loom_policy_v1_ControllerMessage, _loom_policy_v1_ProxyMessage__Output, _loom_policy_v1_ControllerMessage__Output>
}
