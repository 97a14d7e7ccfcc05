/**
 * CRDs for the tests: Loom's SMI CRDs as the CRD generator will write them (one CRD per kind, every served version
 * with its own schema, the newest stored, a conversion webhook when there is more than one version), and a small
 * generic CRD to break in every way.
 */
import { SMI_SERVED_VERSIONS } from '@loom/shared/smi';
import type { KubeObject } from '../../../src/api/store.js';

type Json = Record<string, unknown>;

const str = { type: 'string' };
const obj = (properties: Json, required?: string[]): Json => ({ type: 'object', properties, ...(required === undefined ? {} : { required }) });
const arr = (items: Json, extra: Json = {}): Json => ({ type: 'array', items, ...extra });

const subject = (withGroup: boolean): Json =>
  obj({ kind: { type: 'string', enum: withGroup ? ['ServiceAccount', 'IdentityBinding'] : ['ServiceAccount'] }, ...(withGroup ? { group: str } : {}), name: str, namespace: str }, ['kind', 'name']);

const rule = (withMatches: boolean): Json => obj({ kind: { type: 'string', enum: ['HTTPRouteGroup', 'TCPRoute', 'UDPRoute'] }, name: str, ...(withMatches ? { matches: arr(str) } : {}) }, ['kind', 'name']);

const trafficTarget = (version: string): Json => {
  const v4 = version === 'v1alpha4';
  return obj({ spec: obj({ destination: subject(v4), sources: arr(subject(v4)), rules: arr(rule(version !== 'v1alpha1')) }, ['destination', 'sources']) });
};

const httpMatch = (version: string): Json =>
  obj(
    {
      name: str,
      pathRegex: str,
      methods: arr(str),
      headers: version === 'v1alpha1' ? arr({ type: 'object', additionalProperties: str }) : { type: 'object', additionalProperties: str },
    },
    ['name'],
  );

const specs: Record<string, (version: string) => Json> = {
  TrafficTarget: trafficTarget,
  IdentityBinding: () =>
    obj({
      spec: obj({
        schemes: obj({
          podLabelSelector: obj({ matchLabels: { type: 'object', additionalProperties: str }, matchExpressions: arr(obj({ key: str, operator: str, values: arr(str) }, ['key', 'operator'])) }),
          spiffeIdentities: arr(str),
          serviceAccount: str,
        }),
      }),
    }),
  HTTPRouteGroup: (version) => obj({ spec: obj({ matches: arr(httpMatch(version)) }, ['matches']) }),
  TCPRoute: (version) =>
    obj({ spec: version === 'v1alpha4' ? obj({ matches: obj({ ports: arr({ type: 'integer', minimum: 1, maximum: 65535 }) }) }) : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } }),
  UDPRoute: () => obj({ spec: obj({ matches: obj({ ports: arr({ type: 'integer', minimum: 1, maximum: 65535 }) }) }) }),
  TrafficSplit: (version) => {
    const weight =
      version === 'v1alpha1'
        ? { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }], pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$' }
        : version === 'v1alpha3'
          ? { type: 'number' }
          : { type: 'integer', minimum: 0 };
    const backends = arr(obj({ service: str, weight }, version === 'v1alpha1' ? ['service'] : ['service', 'weight']));
    const matches = arr(obj({ kind: { type: 'string', enum: ['HTTPRouteGroup'] }, name: str, apiGroup: str }, ['kind', 'name']));
    return obj({ spec: obj({ service: str, backends, ...(version >= 'v1alpha3' ? { matches } : {}) }, ['service', 'backends']) });
  },
};

/** Loom's SMI CRDs: one per kind that is a CRD, versions oldest first as the generator lists them. */
export function smiCrds(): KubeObject[] {
  const kinds = [...new Set(SMI_SERVED_VERSIONS.filter((v) => v.crd).map((v) => v.kind))];
  return kinds.map((kind) => {
    const versions = SMI_SERVED_VERSIONS.filter((v) => v.kind === kind);
    const first = versions[0];
    if (first === undefined) throw new Error(`no versions of ${kind}`);
    const spec = specs[kind];
    if (spec === undefined) throw new Error(`no schema for ${kind}`);
    const conversion =
      versions.length > 1
        ? {
            strategy: 'Webhook',
            webhook: {
              clientConfig: { service: { namespace: 'loom-system', name: 'loom-controller', path: '/convert', port: 443 }, caBundle: 'Y2E=' },
              conversionReviewVersions: ['v1'],
            },
          }
        : { strategy: 'None' };
    return {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${first.plural}.${first.group}`, labels: { 'app.kubernetes.io/part-of': 'loom' } },
      spec: {
        group: first.group,
        scope: 'Namespaced',
        names: { plural: first.plural, singular: first.singular, kind, listKind: first.listKind, ...(first.shortNames.length > 0 ? { shortNames: [...first.shortNames] } : {}), categories: ['smi'] },
        versions: versions.map((v) => ({ name: v.version, served: true, storage: v.storage, schema: { openAPIV3Schema: spec(v.version) } })),
        conversion,
      },
    };
  });
}

export function smiCrd(kind: string): KubeObject {
  const crd = smiCrds().find((c) => (c.spec as { names: { kind: string } }).names.kind === kind);
  if (crd === undefined) throw new Error(`no CRD for ${kind}`);
  return crd;
}

/** A valid single-version CRD `widgets.example.com`. */
export function widgetCrd(): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: obj({ spec: obj({ replicas: { type: 'integer' }, mode: str }) }) } }],
    },
  };
}

/** An edit of a JSON document: a dotted path (numbers index arrays) and the new value; undefined deletes. */
export type Edit = readonly [path: string, value: unknown];

/** A copy of `doc` with the edits applied in order (missing objects on the way are created). */
export function edited<T>(doc: T, ...edits: readonly Edit[]): T {
  const out = structuredClone(doc);
  for (const [path, value] of edits) {
    const parts = path.split('.');
    let at: Record<string, unknown> = out as Record<string, unknown>;
    for (const part of parts.slice(0, -1)) {
      const next = at[part];
      if (typeof next !== 'object' || next === null) at[part] = {};
      at = at[part] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1] ?? '';
    if (value === undefined) {
      if (Array.isArray(at)) at.splice(Number(last), 1);
      else delete at[last];
    } else at[last] = structuredClone(value);
  }
  return out;
}
