/**
 * split.smi-spec.io/v1alpha4, as published: integer weights plus `matches` (HTTPRouteGroups).
 */
import type { RawListMeta, RawObjectMeta } from '../meta.js';

export const API_VERSION = 'split.smi-spec.io/v1alpha4';

export interface TrafficSplitBackend {
  service: string;
  /** Whole number, required. (The CRD says `type: number`, so 2.5 passes its schema; Go is `int`.) */
  weight: number;
}

/** A TypedLocalObjectReference. `apiGroup` is not in the CRD schema (pruned by a server). */
export interface TrafficSplitMatch {
  apiGroup?: string;
  /** `HTTPRouteGroup`. */
  kind: string;
  name: string;
}

export interface TrafficSplitSpec {
  /** The root ("apex") Service. */
  service: string;
  backends: TrafficSplitBackend[];
  /** Requests matching any of these HTTPRouteGroups are split; the rest go to the root Service. */
  matches?: TrafficSplitMatch[];
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
