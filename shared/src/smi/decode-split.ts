/**
 * split.smi-spec.io → hub: TrafficSplit v1alpha1 (Quantity weights) .. v1alpha4.
 */
import type { Meta, Origin, TrafficSplit, TrafficSplitBackend, TrafficSplitMatch } from './model.js';
import { parseQuantityMilli } from './quantity.js';
import {
  at,
  describe,
  get,
  isRecord,
  label1035,
  readList,
  readRecord,
  readString,
  records,
  subdomain,
  unknownFields,
  wrong,
} from './reader.js';
import type { Problems, RawRecord } from './reader.js';
import { SPLIT_MATCHES_ANNOTATION, SPLIT_V1ALPHA1_WEIGHTS_ANNOTATION } from './stash.js';
import { SmiGroup } from './versions.js';

/** Largest weight (Go `int32`, what every implementation can hold). */
export const MAX_WEIGHT = 2147483647;

const INTEGER_WEIGHT = 'a non-negative integer';

/**
 * v1alpha1 quantities (as exact milli-values) → hub weights: whole values when every quantity is whole,
 * otherwise every backend's milli-value, so ratios stay exact. Returns the index of the first weight too large
 * for the chosen unit, if any.
 */
export function weightsFromMilli(milli: readonly bigint[]): { weights: number[]; milliUnits: boolean; tooLarge: number[] } {
  const milliUnits = milli.some((m) => m % 1000n !== 0n);
  const scaled = milli.map((m) => (milliUnits ? m : m / 1000n));
  const tooLarge = scaled.flatMap((w, i) => (w > BigInt(MAX_WEIGHT) ? [i] : []));
  return { weights: scaled.map((w) => Number(w)), milliUnits, tooLarge };
}

function quantityProblem(reason: 'syntax' | 'negative' | 'precision' | 'too-large'): string {
  switch (reason) {
    case 'syntax':
      return 'a non-negative Kubernetes quantity such as 1, "1500m" or "0.5"';
    case 'negative':
      return 'non-negative';
    case 'precision':
      return 'a whole number of milli-units (at most 3 decimal places, e.g. "1.5" or "1500m")';
    case 'too-large':
      return `at most ${MAX_WEIGHT}`;
  }
}

function readMatches(p: Problems, list: readonly unknown[], path: string): TrafficSplitMatch[] {
  const out: TrafficSplitMatch[] = [];
  for (const [i, m] of records(p, list, path)) {
    const mPath = at(path, i);
    unknownFields(p, m, mPath, ['kind', 'name', 'apiGroup'], 'a TrafficSplit match');
    const kind = readString(p, m, 'kind', mPath, { required: true, expected: 'HTTPRouteGroup', check: (s) => (s === 'HTTPRouteGroup' ? undefined : 'HTTPRouteGroup') });
    const name = readString(p, m, 'name', mPath, { required: true, expected: 'the name of an HTTPRouteGroup', check: subdomain('an HTTPRouteGroup name') });
    const apiGroup = readString(p, m, 'apiGroup', mPath, {
      check: (s) => (s === '' || s === SmiGroup.specs ? undefined : `"${SmiGroup.specs}"`),
    });
    if (kind === 'HTTPRouteGroup' && name !== undefined) out.push({ kind, name, ...(apiGroup === undefined ? {} : { apiGroup }) });
  }
  return out;
}

/** split v1alpha1/v1alpha2 carrying v1alpha3+ matches (see stash.ts): the matches, or errors (fail closed). */
function readStashedMatches(p: Problems, meta: Meta): TrafficSplitMatch[] | undefined {
  const text = meta.annotations[SPLIT_MATCHES_ANNOTATION];
  if (text === undefined) return undefined;
  const path = at('metadata.annotations', SPLIT_MATCHES_ANNOTATION);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return wrong(p, path, 'a JSON list of {kind, name} HTTPRouteGroup references', text);
  }
  if (!Array.isArray(parsed)) return wrong(p, path, 'a JSON list of {kind, name} HTTPRouteGroup references', text);
  return readMatches(p, parsed, path);
}

/** split v1alpha2+ converted from v1alpha1: the original quantities, if they still describe these weights. */
function restoreQuantities(p: Problems, meta: Meta, backends: readonly TrafficSplitBackend[]): TrafficSplitBackend[] | undefined {
  const text = meta.annotations[SPLIT_V1ALPHA1_WEIGHTS_ANNOTATION];
  if (text === undefined) return undefined;
  const path = at('metadata.annotations', SPLIT_V1ALPHA1_WEIGHTS_ANNOTATION);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const entries = Array.isArray(parsed) ? parsed : [];
  const quantities: (string | number)[] = [];
  for (const e of entries) {
    const weight = isRecord(e) ? e['weight'] : undefined;
    if (!isRecord(e) || typeof e['service'] !== 'string' || (typeof weight !== 'string' && typeof weight !== 'number')) break;
    quantities.push(weight);
  }
  if (!Array.isArray(parsed) || quantities.length !== entries.length) {
    p.warn(path, `must be a JSON list of {service, weight}; ignored, got ${describe(text)}`);
    return undefined;
  }
  // Stale (backends or weights edited since the conversion): ignore quietly; the next conversion drops it.
  if (entries.length !== backends.length) return undefined;
  if (entries.some((e, i) => isRecord(e) && e['service'] !== backends[i]?.service)) return undefined;
  const milli: bigint[] = [];
  for (const q of quantities) {
    const r = parseQuantityMilli(q);
    if (!r.ok) return undefined;
    milli.push(r.milli);
  }
  const { weights, tooLarge } = weightsFromMilli(milli);
  if (tooLarge.length > 0 || weights.some((w, i) => w !== backends[i]?.weight)) return undefined;
  return backends.map((b, i) => ({ ...b, quantity: quantities[i] ?? String(b.weight) }));
}

export function decodeTrafficSplit(p: Problems, raw: RawRecord, meta: Meta, origin: Origin, v: number): TrafficSplit | undefined {
  const where = `TrafficSplit ${origin.apiVersion}`;
  unknownFields(p, raw, '', ['apiVersion', 'kind', 'metadata', 'status', 'spec'], where);
  const spec = readRecord(p, raw, 'spec', '', { required: true, expected: 'an object with service and backends' }) ?? {};
  unknownFields(p, spec, 'spec', ['service', 'backends', 'matches'], where);

  const service = readString(p, spec, 'service', 'spec', { required: true, expected: 'the root Service name', check: subdomain('a Service name') });

  const backendsRaw = readList(p, spec, 'backends', 'spec', { required: true, expected: 'a list of backends' }) ?? [];
  const entries = records(p, backendsRaw, 'spec.backends');
  const partial: { service: string | undefined; weight: number | undefined; quantity?: string | number; milli?: bigint }[] = [];
  for (const [i, b] of entries) {
    const path = at('spec.backends', i);
    unknownFields(p, b, path, ['service', 'weight'], `a TrafficSplit backend in ${origin.apiVersion}`);
    const backendService = readString(p, b, 'service', path, { required: true, expected: 'a Service name', check: label1035('a Service name') });
    const w = get(b, 'weight');
    const wPath = at(path, 'weight');
    if (v === 1) {
      if (w === undefined) {
        p.error(wPath, 'required, expected a Kubernetes quantity such as 1 or "500m"');
        partial.push({ service: backendService, weight: undefined });
      } else if (typeof w !== 'string' && typeof w !== 'number') {
        wrong(p, wPath, 'a Kubernetes quantity (a string such as "500m", or a number)', w);
        partial.push({ service: backendService, weight: undefined });
      } else {
        const r = parseQuantityMilli(w);
        if (!r.ok) wrong(p, wPath, quantityProblem(r.reason), w);
        partial.push({ service: backendService, weight: undefined, quantity: w, ...(r.ok ? { milli: r.milli } : {}) });
      }
    } else {
      let weight: number | undefined;
      if (w === undefined) p.error(wPath, `required, expected ${INTEGER_WEIGHT}`);
      else if (typeof w !== 'number' || !Number.isInteger(w) || w < 0) wrong(p, wPath, INTEGER_WEIGHT, w);
      else if (w > MAX_WEIGHT) wrong(p, wPath, `at most ${MAX_WEIGHT}`, w);
      else weight = w;
      partial.push({ service: backendService, weight });
    }
  }

  let backends: TrafficSplitBackend[] | undefined;
  if (v === 1) {
    const milli = partial.map((b) => b.milli);
    if (milli.every((m): m is bigint => m !== undefined)) {
      const { weights, milliUnits, tooLarge } = weightsFromMilli(milli);
      for (const i of tooLarge) {
        const b = partial[i];
        const limit = milliUnits ? `at most ${MAX_WEIGHT}m (2147483.647) when any weight has a fraction` : `at most ${MAX_WEIGHT}`;
        wrong(p, at(at('spec.backends', entries[i]?.[0] ?? i), 'weight'), limit, b?.quantity);
      }
      backends = partial.flatMap((b, i) =>
        b.service === undefined || b.quantity === undefined ? [] : [{ service: b.service, weight: weights[i] ?? 0, quantity: b.quantity }],
      );
    }
  } else {
    backends = partial.flatMap((b) => (b.service === undefined || b.weight === undefined ? [] : [{ service: b.service, weight: b.weight }]));
  }

  let matches: TrafficSplitMatch[] | undefined;
  const matchesRaw = get(spec, 'matches');
  if (matchesRaw !== undefined && v <= 2) {
    // Ignoring them would split all traffic instead of the matching requests, so refuse rather than drop.
    p.error('spec.matches', `not available in ${origin.apiVersion} (ignoring it would split all traffic); use split.smi-spec.io/v1alpha3 or later`);
  } else if (matchesRaw !== undefined) {
    const list = readList(p, spec, 'matches', 'spec', { expected: 'a list of HTTPRouteGroup references' });
    if (list !== undefined) matches = readMatches(p, list, 'spec.matches');
  }
  if (v <= 2) matches = readStashedMatches(p, meta);

  if (!p.ok || service === undefined || backends === undefined) return undefined;
  if (v >= 2) backends = restoreQuantities(p, meta, backends) ?? backends;
  return { kind: 'TrafficSplit', meta, origin, service, backends, ...(matches === undefined ? {} : { matches }) };
}
