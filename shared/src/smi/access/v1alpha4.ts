/**
 * access.smi-spec.io/v1alpha4, as published (doc only, merged after v0.6.0; no SDK type or CRD): subjects gain
 * `group`, and `IdentityBinding` is introduced as a kind of its own and as a subject kind.
 */
import type { RawListMeta, RawObjectMeta } from '../meta.js';

export const API_VERSION = 'access.smi-spec.io/v1alpha4';

export interface IdentityBindingSubject {
  /** `ServiceAccount` or `IdentityBinding`. */
  kind: string;
  /** `access.smi-spec.io` for IdentityBinding; empty/absent (core) for ServiceAccount. */
  group?: string;
  name: string;
  namespace?: string;
}

export interface TrafficTargetRule {
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

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** Schemes are OR'ed. `podLabelSelector` and `serviceAccount` are mutually exclusive. */
export interface IdentityBindingSchemes {
  podLabelSelector?: LabelSelector;
  /** SPIFFE IDs; the doc's sample omits the `spiffe://` prefix. */
  spiffeIdentities?: string[];
  /** A ServiceAccount name in the binding's namespace. */
  serviceAccount?: string;
}

export interface IdentityBindingSpec {
  schemes: IdentityBindingSchemes;
}

export interface IdentityBinding {
  apiVersion: typeof API_VERSION;
  kind: 'IdentityBinding';
  metadata: RawObjectMeta;
  spec: IdentityBindingSpec;
}

export interface IdentityBindingList {
  apiVersion: typeof API_VERSION;
  kind: 'IdentityBindingList';
  metadata?: RawListMeta;
  items: IdentityBinding[];
}
