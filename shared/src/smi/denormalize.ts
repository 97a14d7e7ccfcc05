/**
 * denormalize: hub → raw object of one served version, for the CRD conversion webhook and `loom` output.
 * Refuses conversions that would widen access or change meaning, unless the lost information travels in
 * an annotation (TrafficSplit, see stash.ts). `apiVersion` is always written as `<group>/<version>`.
 */
import type * as AccessV1 from './access/v1alpha1.js';
import type * as AccessV2 from './access/v1alpha2.js';
import type * as AccessV3 from './access/v1alpha3.js';
import type * as AccessV4 from './access/v1alpha4.js';
import type { RawObjectMeta } from './meta.js';
import type {
  HTTPMatch,
  HTTPRouteGroup,
  IdentityBinding,
  IdentityRef,
  L4Route,
  Meta,
  SmiObject,
  TrafficSplit,
  TrafficTarget,
} from './model.js';
import { formatObjectRef } from '../diagnostics.js';
import { isRecord } from './reader.js';
import type * as SpecsV1 from './specs/v1alpha1.js';
import type * as SpecsV2 from './specs/v1alpha2.js';
import type * as SpecsV3 from './specs/v1alpha3.js';
import type * as SpecsV4 from './specs/v1alpha4.js';
import type * as SplitV1 from './split/v1alpha1.js';
import type * as SplitV2 from './split/v1alpha2.js';
import type * as SplitV3 from './split/v1alpha3.js';
import type * as SplitV4 from './split/v1alpha4.js';
import {
  encodeSplitMatches,
  encodeV1alpha1Weights,
  needsWeightsStash,
  SPLIT_MATCHES_ANNOTATION,
  SPLIT_V1ALPHA1_WEIGHTS_ANNOTATION,
} from './stash.js';
import { alphaNumber, findServedVersion, parseApiVersion, servedVersionsOf } from './versions.js';

/** Every published raw shape of the kinds Loom stores. */
export type RawSmiObject =
  | AccessV1.TrafficTarget
  | AccessV2.TrafficTarget
  | AccessV3.TrafficTarget
  | AccessV4.TrafficTarget
  | AccessV4.IdentityBinding
  | SpecsV1.HTTPRouteGroup
  | SpecsV2.HTTPRouteGroup
  | SpecsV3.HTTPRouteGroup
  | SpecsV4.HTTPRouteGroup
  | SpecsV1.TCPRoute
  | SpecsV2.TCPRoute
  | SpecsV3.TCPRoute
  | SpecsV4.TCPRoute
  | SpecsV4.UDPRoute
  | SplitV1.TrafficSplit
  | SplitV2.TrafficSplit
  | SplitV3.TrafficSplit
  | SplitV4.TrafficSplit;

export type DenormalizeResult = { readonly object: RawSmiObject & { status?: unknown } } | { readonly error: string };

/**
 * @param rawMetadata the object's `metadata` exactly as the API server sent it (kept verbatim, apart from
 *   Loom's stash annotations); without it, metadata is rebuilt from the hub's `meta`.
 * @param rawStatus the object's `status`, copied through when given (Loom's status has the same shape in every version).
 */
export function denormalize(hub: SmiObject, apiVersion: string, rawMetadata?: unknown, rawStatus?: unknown): DenormalizeResult {
  const { group, version } = parseApiVersion(apiVersion);
  const served = findServedVersion(apiVersion, hub.kind);
  if (served === undefined || !served.crd) {
    const where = servedVersionsOf(hub.kind).map((s) => s.apiVersion);
    return { error: `${formatObjectRef(refOf(hub))}: cannot convert to ${apiVersion}: ${hub.kind} is served only in ${where.join(', ')}` };
  }
  const v = alphaNumber(version);
  const out = convert(hub, `${group}/${version}`, v, rawMetadata);
  if ('error' in out) return { error: `${formatObjectRef(refOf(hub))}: cannot convert to ${apiVersion}: ${out.error}` };
  return { object: rawStatus === undefined ? out.object : { ...out.object, status: structuredClone(rawStatus) } };
}

type Converted = { object: RawSmiObject } | { error: string };

function refOf(hub: SmiObject): { kind: string; namespace: string; name: string } {
  return { kind: hub.kind, namespace: hub.meta.namespace, name: hub.meta.name };
}

function convert(hub: SmiObject, apiVersion: string, v: number, rawMetadata: unknown): Converted {
  switch (hub.kind) {
    case 'TrafficTarget':
      return trafficTarget(hub, apiVersion, v, metadata(hub.meta, rawMetadata, {}));
    case 'IdentityBinding':
      return identityBinding(hub, apiVersion, metadata(hub.meta, rawMetadata, {}));
    case 'HTTPRouteGroup':
      return httpRouteGroup(hub, apiVersion, v, metadata(hub.meta, rawMetadata, {}));
    case 'TCPRoute':
    case 'UDPRoute':
      return l4Route(hub, apiVersion, v, metadata(hub.meta, rawMetadata, {}));
    case 'TrafficSplit':
      return trafficSplit(hub, apiVersion, v, rawMetadata);
  }
}

// --- metadata ----------------------------------------------------------------------------------

function metaFromHub(meta: Meta): RawObjectMeta {
  return {
    name: meta.name,
    namespace: meta.namespace,
    ...(meta.creationTimestamp === undefined ? {} : { creationTimestamp: meta.creationTimestamp }),
    ...(meta.uid === undefined ? {} : { uid: meta.uid }),
    ...(Object.keys(meta.labels).length === 0 ? {} : { labels: { ...meta.labels } }),
    ...(Object.keys(meta.annotations).length === 0 ? {} : { annotations: { ...meta.annotations } }),
  };
}

/**
 * The output metadata: the raw metadata (or the hub's), with the given annotations set (string) or
 * removed (undefined). An `annotations` map emptied by removals is dropped.
 */
function metadata(meta: Meta, rawMetadata: unknown, set: Readonly<Record<string, string | undefined>>): RawObjectMeta {
  const base: RawObjectMeta = isRecord(rawMetadata) ? structuredClone(rawMetadata) : metaFromHub(meta);
  const keys = Object.keys(set);
  if (keys.length === 0) return base;
  const had = isRecord(base.annotations) ? base.annotations : undefined;
  const annotations: Record<string, string> = { ...(had ?? {}) };
  let changed = false;
  for (const key of keys) {
    const value = set[key];
    if (value === undefined) {
      if (key in annotations) {
        delete annotations[key];
        changed = true;
      }
    } else if (annotations[key] !== value) {
      annotations[key] = value;
      changed = true;
    }
  }
  if (!changed) return base;
  if (Object.keys(annotations).length === 0) {
    const rest = { ...base };
    delete rest.annotations;
    return rest;
  }
  return { ...base, annotations };
}

// --- access ------------------------------------------------------------------------------------

function subjectsProblem(refs: readonly { path: string; ref: IdentityRef }[], v: number): string[] {
  if (v >= 4) return [];
  return refs
    .filter(({ ref }) => ref.kind === 'IdentityBinding')
    .map(({ path }) => `${path} names an IdentityBinding, which has no form before access.smi-spec.io/v1alpha4`);
}

function subject(ref: IdentityRef, v: number): AccessV4.IdentityBindingSubject {
  return {
    kind: ref.kind,
    ...(v >= 4 && ref.group !== undefined ? { group: ref.group } : {}),
    name: ref.name,
    ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
  };
}

function trafficTarget(hub: TrafficTarget, apiVersion: string, v: number, md: RawObjectMeta): Converted {
  const rulesKey = v === 1 ? 'specs' : 'rules';
  const base = v === 1 ? '' : 'spec.';
  const problems = subjectsProblem(
    [{ path: `${base}destination`, ref: hub.destination }, ...hub.sources.map((ref, i) => ({ path: `${base}sources[${i}]`, ref }))],
    v,
  );
  if (v <= 2) {
    hub.rules.forEach((r, i) => {
      if (r.kind === 'UDPRoute') problems.push(`${base}${rulesKey}[${i}] is a UDPRoute rule, which needs access.smi-spec.io/v1alpha3 or later`);
    });
  }
  const port = hub.destination.port;
  // access v1alpha3+ has no destination.port. When the object came from such a version (the conformance
  // suite's non-schema `port: "9091"`), write it back the same way; otherwise dropping it would allow every port.
  const originV = alphaNumber(parseApiVersion(hub.origin.apiVersion).version);
  if (v >= 3 && port !== undefined && originV <= 2) {
    problems.push(`spec.destination.port ${port} has no place in ${apiVersion} and dropping it would allow every port; express it with a TCPRoute (specs.smi-spec.io/v1alpha4 matches.ports) instead`);
  }
  if (problems.length > 0) return { error: problems.join('; ') };

  const destination = {
    ...subject(hub.destination, v),
    ...(port === undefined ? {} : { port: v <= 2 ? port : String(port) }),
  };
  const rules = hub.rules.map((r) => ({ kind: r.kind, name: r.name, ...(r.matches === undefined ? {} : { matches: [...r.matches] }) }));
  const sources = hub.sources.map((s) => subject(s, v));
  if (v === 1) {
    return { object: { apiVersion: apiVersion as AccessV1.TrafficTarget['apiVersion'], kind: 'TrafficTarget', metadata: md, destination: destination as AccessV1.IdentityBindingSubject, specs: rules, sources } };
  }
  const object = { apiVersion, kind: 'TrafficTarget', metadata: md, spec: { destination, rules, sources } };
  return { object: object as AccessV2.TrafficTarget | AccessV3.TrafficTarget | AccessV4.TrafficTarget };
}

function identityBinding(hub: IdentityBinding, apiVersion: string, md: RawObjectMeta): Converted {
  const s = hub.schemes;
  const schemes: AccessV4.IdentityBindingSchemes = {
    ...(s.podLabelSelector === undefined ? {} : { podLabelSelector: structuredClone(s.podLabelSelector) as AccessV4.LabelSelector }),
    ...(s.spiffeIdentities === undefined ? {} : { spiffeIdentities: [...s.spiffeIdentities] }),
    ...(s.serviceAccount === undefined ? {} : { serviceAccount: s.serviceAccount }),
  };
  return { object: { apiVersion: apiVersion as AccessV4.IdentityBinding['apiVersion'], kind: 'IdentityBinding', metadata: md, spec: { schemes } } };
}

// --- specs -------------------------------------------------------------------------------------

/** Headers are written in the SDK list form: one single-key map per header. */
function match(m: HTTPMatch, v: number): SpecsV4.HTTPMatch {
  return {
    name: m.name,
    ...(m.pathRegex === undefined ? {} : { pathRegex: m.pathRegex }),
    ...(m.methods === undefined ? {} : { methods: [...m.methods] }),
    ...(v < 2 || m.headers === undefined ? {} : { headers: m.headers.map((h) => ({ [h.name]: h.value })) }),
  };
}

function httpRouteGroup(hub: HTTPRouteGroup, apiVersion: string, v: number, md: RawObjectMeta): Converted {
  if (v === 1) {
    const withHeaders = hub.matches.flatMap((m, i) => (m.headers !== undefined && m.headers.length > 0 ? [`matches[${i}] (${m.name})`] : []));
    if (withHeaders.length > 0) {
      return { error: `${withHeaders.join(', ')} filter on headers, which specs.smi-spec.io/v1alpha1 cannot express; dropping them would widen the match` };
    }
  }
  const matches = hub.matches.map((m) => match(m, v));
  if (v <= 2) return { object: { apiVersion, kind: 'HTTPRouteGroup', metadata: md, matches } as SpecsV1.HTTPRouteGroup | SpecsV2.HTTPRouteGroup };
  return { object: { apiVersion, kind: 'HTTPRouteGroup', metadata: md, spec: { matches } } as SpecsV3.HTTPRouteGroup | SpecsV4.HTTPRouteGroup };
}

function l4Route(hub: L4Route, apiVersion: string, v: number, md: RawObjectMeta): Converted {
  if (v <= 3 && hub.ports.length > 0) {
    return { error: `ports ${hub.ports.join(', ')} cannot be expressed before specs.smi-spec.io/v1alpha4, and dropping them would allow every port` };
  }
  if (v <= 2) return { object: { apiVersion, kind: 'TCPRoute', metadata: md } as SpecsV1.TCPRoute | SpecsV2.TCPRoute };
  if (v === 3) return { object: { apiVersion: apiVersion as SpecsV3.TCPRoute['apiVersion'], kind: 'TCPRoute', metadata: md, spec: {} } };
  const spec = { matches: { ports: [...hub.ports] } };
  return { object: { apiVersion, kind: hub.kind, metadata: md, spec } as SpecsV4.TCPRoute | SpecsV4.UDPRoute };
}

// --- split -------------------------------------------------------------------------------------

function trafficSplit(hub: TrafficSplit, apiVersion: string, v: number, rawMetadata: unknown): Converted {
  // What this version cannot hold travels in annotations; what it can hold natively is removed from them.
  const stashMatches = v <= 2 && hub.matches !== undefined ? encodeSplitMatches(hub.matches) : undefined;
  const stashWeights = v >= 2 && needsWeightsStash(hub.backends) ? encodeV1alpha1Weights(hub.backends) : undefined;
  const md = metadata(hub.meta, rawMetadata, {
    [SPLIT_MATCHES_ANNOTATION]: stashMatches,
    [SPLIT_V1ALPHA1_WEIGHTS_ANNOTATION]: stashWeights,
  });
  if (v === 1) {
    const backends = hub.backends.map((b) => ({ service: b.service, weight: b.quantity ?? String(b.weight) }));
    return { object: { apiVersion: apiVersion as SplitV1.TrafficSplit['apiVersion'], kind: 'TrafficSplit', metadata: md, spec: { service: hub.service, backends } } };
  }
  const backends = hub.backends.map((b) => ({ service: b.service, weight: b.weight }));
  const matches =
    v >= 3 && hub.matches !== undefined
      ? { matches: hub.matches.map((m) => ({ kind: m.kind, name: m.name, ...(m.apiGroup === undefined ? {} : { apiGroup: m.apiGroup }) })) }
      : {};
  const object = { apiVersion, kind: 'TrafficSplit', metadata: md, spec: { service: hub.service, backends, ...matches } };
  return { object: object as SplitV2.TrafficSplit | SplitV3.TrafficSplit | SplitV4.TrafficSplit };
}
