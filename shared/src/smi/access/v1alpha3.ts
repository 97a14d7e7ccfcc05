/**
 * access.smi-spec.io/v1alpha3, as published (the version of SMI release v0.6.0 and the SDK conversion hub):
 * `destination.port` is removed (port limits move to TCPRoute/UDPRoute), `UDPRoute` joins the rule kinds,
 * and destination, rules and sources are all required.
 */
import type { RawListMeta, RawObjectMeta } from '../meta.js';

export const API_VERSION = 'access.smi-spec.io/v1alpha3';

export interface IdentityBindingSubject {
  kind: string;
  name: string;
  namespace?: string;
}

export interface TrafficTargetRule {
  /** `HTTPRouteGroup`, `TCPRoute` or `UDPRoute`. */
  kind: string;
  name: string;
  matches?: string[];
}

export interface TrafficTargetSpec {
  destination: IdentityBindingSubject;
  rules: TrafficTargetRule[];
  sources: IdentityBindingSubject[];
}

export interface TrafficTarget {
  apiVersion: typeof API_VERSION;
  kind: 'TrafficTarget';
  metadata: RawObjectMeta;
  spec: TrafficTargetSpec;
}

export interface TrafficTargetList {
  apiVersion: typeof API_VERSION;
  kind: 'TrafficTargetList';
  metadata?: RawListMeta;
  items: TrafficTarget[];
}
