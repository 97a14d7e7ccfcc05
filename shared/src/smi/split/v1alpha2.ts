/**
 * split.smi-spec.io/v1alpha2, as published: integer weights, backend service required.
 */
import type { RawListMeta, RawObjectMeta } from '../meta.js';

export const API_VERSION = 'split.smi-spec.io/v1alpha2';

export interface TrafficSplitBackend {
  service: string;
  /** Whole number, required. */
  weight: number;
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
