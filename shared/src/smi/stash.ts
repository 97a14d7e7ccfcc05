/**
 * Annotations that carry what an older TrafficSplit version cannot hold, so the CRD conversion webhook can
 * convert without losing meaning and restore the information on the way back (smi-reference §7).
 */
import type { TrafficSplitBackend, TrafficSplitMatch } from './model.js';

/**
 * On split v1alpha1/v1alpha2 objects: the v1alpha3+ `matches`, as JSON (`[{"kind":"HTTPRouteGroup","name":"beta"}]`).
 * Loom honours it when reading those versions, so a downgrade never widens a split to all traffic.
 */
export const SPLIT_MATCHES_ANNOTATION = 'loom.dev/split-matches';

/**
 * On split v1alpha2+ objects converted from v1alpha1: the original v1alpha1 weights as written, as JSON
 * (`[{"service":"cart-v1","weight":"1"},{"service":"cart-v2","weight":"500m"}]`). Restored when converting back
 * to v1alpha1 if the backends and weights have not changed since; ignored (and dropped) otherwise.
 */
export const SPLIT_V1ALPHA1_WEIGHTS_ANNOTATION = 'loom.dev/split-v1alpha1-weights';

export const STASH_ANNOTATIONS: readonly string[] = [SPLIT_MATCHES_ANNOTATION, SPLIT_V1ALPHA1_WEIGHTS_ANNOTATION];

export function encodeSplitMatches(matches: readonly TrafficSplitMatch[]): string {
  return JSON.stringify(
    matches.map((m) => ({ kind: m.kind, name: m.name, ...(m.apiGroup === undefined ? {} : { apiGroup: m.apiGroup }) })),
  );
}

export function encodeV1alpha1Weights(backends: readonly TrafficSplitBackend[]): string {
  return JSON.stringify(backends.map((b) => ({ service: b.service, weight: b.quantity ?? String(b.weight) })));
}

/** True when writing the backends as v1alpha1 from their integer weights alone would not reproduce the quantities. */
export function needsWeightsStash(backends: readonly TrafficSplitBackend[]): boolean {
  return backends.some((b) => b.quantity !== undefined && b.quantity !== String(b.weight));
}
