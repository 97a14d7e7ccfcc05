// Original file: proto/loom/policy/v1/policy.proto

import type { ProxyPolicy as _loom_policy_v1_ProxyPolicy, ProxyPolicy__Output as _loom_policy_v1_ProxyPolicy__Output } from '../../../loom/policy/v1/ProxyPolicy.js';

/**
 * What the controller sends on the stream: always a complete policy.
 */
export interface ControllerMessage {
  /**
   * The full policy for this proxy. Required.
   */
  'policy'?: (_loom_policy_v1_ProxyPolicy | null);
}

/**
 * What the controller sends on the stream: always a complete policy.
 */
export interface ControllerMessage__Output {
  /**
   * The full policy for this proxy. Required.
   */
  'policy': (_loom_policy_v1_ProxyPolicy__Output | null);
}
