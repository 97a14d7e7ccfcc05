// Original file: proto/loom/policy/v1/policy.proto

import type { RouteKind as _loom_policy_v1_RouteKind, RouteKind__Output as _loom_policy_v1_RouteKind__Output } from '../../../loom/policy/v1/RouteKind.js';

/**
 * Reference to an SMI route object, or to one match of an HTTPRouteGroup (model.ts `RouteRef`).
 */
export interface RouteRef {
  /**
   * Required (not UNSPECIFIED).
   */
  'kind'?: (_loom_policy_v1_RouteKind);
  /**
   * Required.
   */
  'namespace'?: (string);
  /**
   * Required.
   */
  'name'?: (string);
  /**
   * HTTPRouteGroup match name; empty = none (the model's absent `match`).
   */
  'match'?: (string);
}

/**
 * Reference to an SMI route object, or to one match of an HTTPRouteGroup (model.ts `RouteRef`).
 */
export interface RouteRef__Output {
  /**
   * Required (not UNSPECIFIED).
   */
  'kind': (_loom_policy_v1_RouteKind__Output);
  /**
   * Required.
   */
  'namespace': (string);
  /**
   * Required.
   */
  'name': (string);
  /**
   * HTTPRouteGroup match name; empty = none (the model's absent `match`).
   */
  'match': (string);
}
