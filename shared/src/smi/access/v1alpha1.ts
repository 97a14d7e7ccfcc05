/**
 * access.smi-spec.io/v1alpha1, as published (SDK pkg/apis/access/v1alpha1, SPEC traffic-access v1alpha1):
 * the legacy flat shape, fields at the top level, rules in `specs`.
 */
import type { RawListMeta, RawObjectMeta } from '../meta.js';

export const API_VERSION = 'access.smi-spec.io/v1alpha1';

/** Destination or source. Only `ServiceAccount` is defined. */
export interface IdentityBindingSubject {
  kind: string;
  name: string;
  namespace?: string;
  /** Destination only. The CRD lists it as required (`type: number`), the docs call it optional. */
  port?: number;
}

/** A rule: `HTTPRouteGroup` or `TCPRoute`, in the TrafficTarget's namespace. */
export interface TrafficTargetSpec {
  kind: string;
  name: string;
  /** HTTPRouteGroup match names; omitted = all. */
  matches?: string[];
}

export interface TrafficTarget {
  apiVersion: typeof API_VERSION;
  kind: 'TrafficTarget';
  metadata: RawObjectMeta;
  destination: IdentityBindingSubject;
  specs?: TrafficTargetSpec[];
  sources?: IdentityBindingSubject[];
}

export interface TrafficTargetList {
  apiVersion: typeof API_VERSION;
  kind: 'TrafficTargetList';
  metadata?: RawListMeta;
  items: TrafficTarget[];
}
