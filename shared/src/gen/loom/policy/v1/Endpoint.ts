// Original file: proto/loom/policy/v1/policy.proto

import type { NamespacedName as _loom_policy_v1_NamespacedName, NamespacedName__Output as _loom_policy_v1_NamespacedName__Output } from '../../../loom/policy/v1/NamespacedName.js';

/**
 * One endpoint (model.ts `Endpoint`).
 */
export interface Endpoint {
  /**
   * IPv4 or IPv6 address. Required.
   */
  'address'?: (string);
  /**
   * Resolved target port on the pod, 1-65535.
   */
  'port'?: (number);
  /**
   * true: the pod is not meshed and is dialled in plaintext (model `identity: null`); `identity`
   * must then be empty.
   */
  'unmeshed'?: (boolean);
  /**
   * SPIFFE ID the peer must present; required when `unmeshed` is false.
   */
  'identity'?: (string);
  /**
   * The pod behind the endpoint; absent = unknown (model `pod: null`).
   */
  'pod'?: (_loom_policy_v1_NamespacedName | null);
  /**
   * EndpointSlice readiness.
   */
  'ready'?: (boolean);
}

/**
 * One endpoint (model.ts `Endpoint`).
 */
export interface Endpoint__Output {
  /**
   * IPv4 or IPv6 address. Required.
   */
  'address': (string);
  /**
   * Resolved target port on the pod, 1-65535.
   */
  'port': (number);
  /**
   * true: the pod is not meshed and is dialled in plaintext (model `identity: null`); `identity`
   * must then be empty.
   */
  'unmeshed': (boolean);
  /**
   * SPIFFE ID the peer must present; required when `unmeshed` is false.
   */
  'identity': (string);
  /**
   * The pod behind the endpoint; absent = unknown (model `pod: null`).
   */
  'pod': (_loom_policy_v1_NamespacedName__Output | null);
  /**
   * EndpointSlice readiness.
   */
  'ready': (boolean);
}
