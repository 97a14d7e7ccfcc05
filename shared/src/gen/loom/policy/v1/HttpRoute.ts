// Original file: proto/loom/policy/v1/policy.proto

import type { RouteRef as _loom_policy_v1_RouteRef, RouteRef__Output as _loom_policy_v1_RouteRef__Output } from '../../../loom/policy/v1/RouteRef.js';
import type { HeaderMatch as _loom_policy_v1_HeaderMatch, HeaderMatch__Output as _loom_policy_v1_HeaderMatch__Output } from '../../../loom/policy/v1/HeaderMatch.js';

/**
 * One HTTPRouteGroup match, ready to evaluate (model.ts `HttpRoute`).
 */
export interface HttpRoute {
  /**
   * The match this came from. Required.
   */
  'route'?: (_loom_policy_v1_RouteRef | null);
  /**
   * true: any path (model `pathRegex: null`); `path_regex` must then be empty.
   */
  'anyPath'?: (boolean);
  /**
   * Regex source as written; anchoring is applied by the evaluator per `MeshSettings.path_match`.
   */
  'pathRegex'?: (string);
  /**
   * true: any method (model `methods: null`, also when `*` was listed); `methods` must then be empty.
   */
  'anyMethod'?: (boolean);
  /**
   * Upper-case methods, sorted, when `any_method` is false.
   */
  'methods'?: (string)[];
  /**
   * All must match. Sorted by name.
   */
  'headers'?: (_loom_policy_v1_HeaderMatch)[];
}

/**
 * One HTTPRouteGroup match, ready to evaluate (model.ts `HttpRoute`).
 */
export interface HttpRoute__Output {
  /**
   * The match this came from. Required.
   */
  'route': (_loom_policy_v1_RouteRef__Output | null);
  /**
   * true: any path (model `pathRegex: null`); `path_regex` must then be empty.
   */
  'anyPath': (boolean);
  /**
   * Regex source as written; anchoring is applied by the evaluator per `MeshSettings.path_match`.
   */
  'pathRegex': (string);
  /**
   * true: any method (model `methods: null`, also when `*` was listed); `methods` must then be empty.
   */
  'anyMethod': (boolean);
  /**
   * Upper-case methods, sorted, when `any_method` is false.
   */
  'methods': (string)[];
  /**
   * All must match. Sorted by name.
   */
  'headers': (_loom_policy_v1_HeaderMatch__Output)[];
}
