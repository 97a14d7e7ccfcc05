// Original file: proto/loom/policy/v1/policy.proto

import type { NamespacedName as _loom_policy_v1_NamespacedName, NamespacedName__Output as _loom_policy_v1_NamespacedName__Output } from '../../../loom/policy/v1/NamespacedName.js';
import type { HttpRoute as _loom_policy_v1_HttpRoute, HttpRoute__Output as _loom_policy_v1_HttpRoute__Output } from '../../../loom/policy/v1/HttpRoute.js';
import type { RouteRef as _loom_policy_v1_RouteRef, RouteRef__Output as _loom_policy_v1_RouteRef__Output } from '../../../loom/policy/v1/RouteRef.js';

/**
 * One TrafficTarget, compiled (model.ts `Authorization`).
 */
export interface Authorization {
  /**
   * The TrafficTarget this came from. Required.
   */
  'trafficTarget'?: (_loom_policy_v1_NamespacedName | null);
  /**
   * The TrafficTarget is annotated `loom.dev/audit: "true"`: would-be denials are logged and
   * counted, and allowed.
   */
  'audit'?: (boolean);
  /**
   * SPIFFE IDs admitted, sorted and deduplicated. Empty admits nobody.
   */
  'sources'?: (string)[];
  /**
   * true: every TCP port (model `ports: null`); `ports` must then be empty.
   */
  'allPorts'?: (boolean);
  /**
   * TCP ports covered when `all_ports` is false; empty covers none.
   */
  'ports'?: (number)[];
  /**
   * true: every UDP port (model `udpPorts: null`); `udp_ports` must then be empty.
   */
  'allUdpPorts'?: (boolean);
  /**
   * UDP ports (UDPRoute rules) when `all_udp_ports` is false; empty when the target has no UDPRoute rule.
   */
  'udpPorts'?: (number)[];
  /**
   * true: no HTTP restriction, any protocol passes (model `http: null`, e.g. a TCPRoute-only
   * target); `http` must then be empty.
   */
  'httpUnrestricted'?: (boolean);
  /**
   * When `http_unrestricted` is false, a request must match one of these; empty admits no request
   * (every referenced match was missing or invalid).
   */
  'http'?: (_loom_policy_v1_HttpRoute)[];
  /**
   * The L4 routes (TCPRoute/UDPRoute) that set `ports`/`udp_ports`, sorted, for explanations.
   */
  'l4Routes'?: (_loom_policy_v1_RouteRef)[];
}

/**
 * One TrafficTarget, compiled (model.ts `Authorization`).
 */
export interface Authorization__Output {
  /**
   * The TrafficTarget this came from. Required.
   */
  'trafficTarget': (_loom_policy_v1_NamespacedName__Output | null);
  /**
   * The TrafficTarget is annotated `loom.dev/audit: "true"`: would-be denials are logged and
   * counted, and allowed.
   */
  'audit': (boolean);
  /**
   * SPIFFE IDs admitted, sorted and deduplicated. Empty admits nobody.
   */
  'sources': (string)[];
  /**
   * true: every TCP port (model `ports: null`); `ports` must then be empty.
   */
  'allPorts': (boolean);
  /**
   * TCP ports covered when `all_ports` is false; empty covers none.
   */
  'ports': (number)[];
  /**
   * true: every UDP port (model `udpPorts: null`); `udp_ports` must then be empty.
   */
  'allUdpPorts': (boolean);
  /**
   * UDP ports (UDPRoute rules) when `all_udp_ports` is false; empty when the target has no UDPRoute rule.
   */
  'udpPorts': (number)[];
  /**
   * true: no HTTP restriction, any protocol passes (model `http: null`, e.g. a TCPRoute-only
   * target); `http` must then be empty.
   */
  'httpUnrestricted': (boolean);
  /**
   * When `http_unrestricted` is false, a request must match one of these; empty admits no request
   * (every referenced match was missing or invalid).
   */
  'http': (_loom_policy_v1_HttpRoute__Output)[];
  /**
   * The L4 routes (TCPRoute/UDPRoute) that set `ports`/`udp_ports`, sorted, for explanations.
   */
  'l4Routes': (_loom_policy_v1_RouteRef__Output)[];
}
