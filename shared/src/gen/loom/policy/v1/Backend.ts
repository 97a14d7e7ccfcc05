// Original file: proto/loom/policy/v1/policy.proto

import type { NamespacedName as _loom_policy_v1_NamespacedName, NamespacedName__Output as _loom_policy_v1_NamespacedName__Output } from '../../../loom/policy/v1/NamespacedName.js';
import type { Endpoint as _loom_policy_v1_Endpoint, Endpoint__Output as _loom_policy_v1_Endpoint__Output } from '../../../loom/policy/v1/Endpoint.js';
import type { Long } from '@grpc/proto-loader';

/**
 * A TrafficSplit backend (model.ts `Backend`).
 */
export interface Backend {
  /**
   * The backend Service. Required.
   */
  'service'?: (_loom_policy_v1_NamespacedName | null);
  /**
   * Integer weight (v1alpha1 quantities normalised by the controller); only ratios matter. At most
   * 2^53-1 (JavaScript safe integer).
   */
  'weight'?: (number | string | Long);
  /**
   * Endpoints of this backend for the root's port.
   */
  'endpoints'?: (_loom_policy_v1_Endpoint)[];
}

/**
 * A TrafficSplit backend (model.ts `Backend`).
 */
export interface Backend__Output {
  /**
   * The backend Service. Required.
   */
  'service': (_loom_policy_v1_NamespacedName__Output | null);
  /**
   * Integer weight (v1alpha1 quantities normalised by the controller); only ratios matter. At most
   * 2^53-1 (JavaScript safe integer).
   */
  'weight': (number);
  /**
   * Endpoints of this backend for the root's port.
   */
  'endpoints': (_loom_policy_v1_Endpoint__Output)[];
}
