/**
 * access.smi-spec.io/v1alpha2, as published: fields move under `spec`, `specs` is renamed `rules`,
 * `destination.port` is still there.
 */
import type { RawListMeta, RawObjectMeta } from '../meta.js';

export const API_VERSION = 'access.smi-spec.io/v1alpha2';

export interface IdentityBindingSubject {
  kind: string;
  name: string;
  namespace?: string;
  /** Destination only; absent = every port. */
  port?: number;
}

export interface TrafficTargetRule {
  /** `HTTPRouteGroup` or `TCPRoute`. */
  kind: string;
  name: string;
  matches?: string[];
}

export interface TrafficTargetSpec {
  destination: IdentityBindingSubject;
  rules?: TrafficTargetRule[];
  sources?: IdentityBindingSubject[];
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
