/**
 * split.smi-spec.io/v1alpha1, as published: weights are Kubernetes Quantities.
 */
import type { RawListMeta, RawObjectMeta } from '../meta.js';

export const API_VERSION = 'split.smi-spec.io/v1alpha1';

export interface TrafficSplitBackend {
  service: string;
  /** A Kubernetes Quantity: `"1"` (= 1000m), `"500m"`, `1`. Serialized by Go as a string. */
  weight: string | number;
}

export interface TrafficSplitSpec {
  /** The root ("apex") Service. */
  service: string;
  backends: TrafficSplitBackend[];
}

export interface TrafficSplit {
  apiVersion: typeof API_VERSION;
  kind: 'TrafficSplit';
  metadata: RawObjectMeta;
  spec: TrafficSplitSpec;
}

export interface TrafficSplitList {
  apiVersion: typeof API_VERSION;
  kind: 'TrafficSplitList';
  metadata?: RawListMeta;
  items: TrafficSplit[];
}
