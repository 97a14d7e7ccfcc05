// Original file: proto/loom/policy/v1/policy.proto

import type { NamespacedName as _loom_policy_v1_NamespacedName, NamespacedName__Output as _loom_policy_v1_NamespacedName__Output } from '../../../loom/policy/v1/NamespacedName.js';
import type { OutboundPort as _loom_policy_v1_OutboundPort, OutboundPort__Output as _loom_policy_v1_OutboundPort__Output } from '../../../loom/policy/v1/OutboundPort.js';

/**
 * A service this proxy may reach (model.ts `OutboundService`).
 */
export interface OutboundService {
  /**
   * The Service. Required.
   */
  'service'?: (_loom_policy_v1_NamespacedName | null);
  /**
   * Cluster IPs; empty for headless services.
   */
  'vips'?: (string)[];
  /**
   * Headless: clients dial endpoint addresses directly.
   */
  'headless'?: (boolean);
  /**
   * Service ports, sorted by port.
   */
  'ports'?: (_loom_policy_v1_OutboundPort)[];
}

/**
 * A service this proxy may reach (model.ts `OutboundService`).
 */
export interface OutboundService__Output {
  /**
   * The Service. Required.
   */
  'service': (_loom_policy_v1_NamespacedName__Output | null);
  /**
   * Cluster IPs; empty for headless services.
   */
  'vips': (string)[];
  /**
   * Headless: clients dial endpoint addresses directly.
   */
  'headless': (boolean);
  /**
   * Service ports, sorted by port.
   */
  'ports': (_loom_policy_v1_OutboundPort__Output)[];
}
