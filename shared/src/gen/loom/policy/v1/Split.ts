// Original file: proto/loom/policy/v1/policy.proto

import type { NamespacedName as _loom_policy_v1_NamespacedName, NamespacedName__Output as _loom_policy_v1_NamespacedName__Output } from '../../../loom/policy/v1/NamespacedName.js';
import type { HttpRoute as _loom_policy_v1_HttpRoute, HttpRoute__Output as _loom_policy_v1_HttpRoute__Output } from '../../../loom/policy/v1/HttpRoute.js';
import type { Backend as _loom_policy_v1_Backend, Backend__Output as _loom_policy_v1_Backend__Output } from '../../../loom/policy/v1/Backend.js';

/**
 * A TrafficSplit applied at this (client) proxy (model.ts `Split`).
 */
export interface Split {
  /**
   * The TrafficSplit. Required.
   */
  'trafficSplit'?: (_loom_policy_v1_NamespacedName | null);
  /**
   * true: all traffic to the root is split (model `matches: null`); `matches` must then be empty.
   */
  'allRequests'?: (boolean);
  /**
   * v1alpha3+ `matches` when `all_requests` is false: only requests matching one of these routes are
   * split; the rest use the root's endpoints.
   */
  'matches'?: (_loom_policy_v1_HttpRoute)[];
  /**
   * Backends with weight > 0 and at least one endpoint on this port, in the split's order.
   */
  'backends'?: (_loom_policy_v1_Backend)[];
}

/**
 * A TrafficSplit applied at this (client) proxy (model.ts `Split`).
 */
export interface Split__Output {
  /**
   * The TrafficSplit. Required.
   */
  'trafficSplit': (_loom_policy_v1_NamespacedName__Output | null);
  /**
   * true: all traffic to the root is split (model `matches: null`); `matches` must then be empty.
   */
  'allRequests': (boolean);
  /**
   * v1alpha3+ `matches` when `all_requests` is false: only requests matching one of these routes are
   * split; the rest use the root's endpoints.
   */
  'matches': (_loom_policy_v1_HttpRoute__Output)[];
  /**
   * Backends with weight > 0 and at least one endpoint on this port, in the split's order.
   */
  'backends': (_loom_policy_v1_Backend__Output)[];
}
