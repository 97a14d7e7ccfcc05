// Original file: proto/loom/policy/v1/policy.proto

import type { AppProtocol as _loom_policy_v1_AppProtocol, AppProtocol__Output as _loom_policy_v1_AppProtocol__Output } from '../../../loom/policy/v1/AppProtocol.js';
import type { Endpoint as _loom_policy_v1_Endpoint, Endpoint__Output as _loom_policy_v1_Endpoint__Output } from '../../../loom/policy/v1/Endpoint.js';
import type { Split as _loom_policy_v1_Split, Split__Output as _loom_policy_v1_Split__Output } from '../../../loom/policy/v1/Split.js';

/**
 * One Service port (model.ts `OutboundPort`).
 */
export interface OutboundPort {
  /**
   * The Service port clients dial, 1-65535.
   */
  'port'?: (number);
  /**
   * Service port name; empty = unnamed (the model's absent `name`).
   */
  'name'?: (string);
  /**
   * Required (not UNSPECIFIED).
   */
  'protocol'?: (_loom_policy_v1_AppProtocol);
  /**
   * The root service's own endpoints: used when there is no split, and for requests the split's
   * matches do not select.
   */
  'endpoints'?: (_loom_policy_v1_Endpoint)[];
  /**
   * TrafficSplit in effect for this port; absent = none (model `split: null`).
   */
  'split'?: (_loom_policy_v1_Split | null);
}

/**
 * One Service port (model.ts `OutboundPort`).
 */
export interface OutboundPort__Output {
  /**
   * The Service port clients dial, 1-65535.
   */
  'port': (number);
  /**
   * Service port name; empty = unnamed (the model's absent `name`).
   */
  'name': (string);
  /**
   * Required (not UNSPECIFIED).
   */
  'protocol': (_loom_policy_v1_AppProtocol__Output);
  /**
   * The root service's own endpoints: used when there is no split, and for requests the split's
   * matches do not select.
   */
  'endpoints': (_loom_policy_v1_Endpoint__Output)[];
  /**
   * TrafficSplit in effect for this port; absent = none (model `split: null`).
   */
  'split': (_loom_policy_v1_Split__Output | null);
}
