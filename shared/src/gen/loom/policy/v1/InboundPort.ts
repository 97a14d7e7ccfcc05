// Original file: proto/loom/policy/v1/policy.proto

import type { AppProtocol as _loom_policy_v1_AppProtocol, AppProtocol__Output as _loom_policy_v1_AppProtocol__Output } from '../../../loom/policy/v1/AppProtocol.js';

/**
 * A pod port with a declared protocol.
 */
export interface InboundPort {
  /**
   * Pod (target) port, 1-65535.
   */
  'port'?: (number);
  /**
   * Required (not UNSPECIFIED).
   */
  'protocol'?: (_loom_policy_v1_AppProtocol);
}

/**
 * A pod port with a declared protocol.
 */
export interface InboundPort__Output {
  /**
   * Pod (target) port, 1-65535.
   */
  'port': (number);
  /**
   * Required (not UNSPECIFIED).
   */
  'protocol': (_loom_policy_v1_AppProtocol__Output);
}
