// Original file: proto/loom/policy/v1/policy.proto

import type { InboundPort as _loom_policy_v1_InboundPort, InboundPort__Output as _loom_policy_v1_InboundPort__Output } from '../../../loom/policy/v1/InboundPort.js';
import type { Authorization as _loom_policy_v1_Authorization, Authorization__Output as _loom_policy_v1_Authorization__Output } from '../../../loom/policy/v1/Authorization.js';

/**
 * The inbound side of this proxy (model.ts `InboundPolicy`).
 */
export interface InboundPolicy {
  /**
   * Declared protocol per pod port that has a declaration, sorted by port; other ports: DETECT.
   */
  'ports'?: (_loom_policy_v1_InboundPort)[];
  /**
   * One per TrafficTarget whose destination is this proxy's identity, sorted by the TrafficTarget's
   * namespace, name. A request is allowed iff one authorization admits it on its own (source AND
   * ports AND http). A port is governed when some authorization covers it; in permissive mode an
   * ungoverned port admits everything. A port governed only by audit authorizations logs would-be
   * denials and allows.
   */
  'authorizations'?: (_loom_policy_v1_Authorization)[];
}

/**
 * The inbound side of this proxy (model.ts `InboundPolicy`).
 */
export interface InboundPolicy__Output {
  /**
   * Declared protocol per pod port that has a declaration, sorted by port; other ports: DETECT.
   */
  'ports': (_loom_policy_v1_InboundPort__Output)[];
  /**
   * One per TrafficTarget whose destination is this proxy's identity, sorted by the TrafficTarget's
   * namespace, name. A request is allowed iff one authorization admits it on its own (source AND
   * ports AND http). A port is governed when some authorization covers it; in permissive mode an
   * ungoverned port admits everything. A port governed only by audit authorizations logs would-be
   * denials and allows.
   */
  'authorizations': (_loom_policy_v1_Authorization__Output)[];
}
