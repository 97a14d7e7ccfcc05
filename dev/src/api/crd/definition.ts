/**
 * A CustomResourceDefinition (apiextensions.k8s.io/v1) read from its JSON, with the defaults Kubernetes applies
 * when it decodes one (singular and listKind from kind, conversion strategy None, webhook service port 443), and
 * the small questions the other modules ask of it: the storage version, a version's schema and subresources,
 * whether it is Established, and Kubernetes' ordering of version names.
 */
import type { KubeObject } from '../store.js';

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export interface CrdNames {
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly kind: string;
  readonly listKind: string;
  readonly categories: readonly string[];
}

export interface CrdVersion {
  readonly name: string;
  readonly served: boolean;
  readonly storage: boolean;
  readonly deprecated: boolean;
  readonly deprecationWarning?: string;
  /** The CustomResourceValidation (`{openAPIV3Schema}`) as written, if any. */
  readonly schema?: unknown;
  readonly subresources?: Json;
  readonly additionalPrinterColumns?: readonly unknown[];
}

export interface CrdCondition {
  readonly type: string;
  readonly status: string;
  readonly lastTransitionTime?: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface Crd {
  readonly name: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly group: string;
  readonly scope: string;
  readonly names: CrdNames;
  /** undefined when spec.versions is missing (Kubernetes tells that apart from an empty list in messages). */
  readonly versions: readonly CrdVersion[] | undefined;
  readonly conversion?: Json;
  readonly preserveUnknownFields: boolean;
  readonly acceptedNames: CrdNames;
  readonly storedVersions: readonly string[];
  readonly conditions: readonly CrdCondition[];
}

const specOf = (o: KubeObject): Json => (isRecord(o.spec) ? o.spec : {});
const statusOf = (o: KubeObject): Json => (isRecord(o.status) ? o.status : {});

export function readNames(v: unknown): CrdNames {
  const n = isRecord(v) ? v : {};
  return {
    plural: str(n.plural),
    singular: str(n.singular),
    shortNames: strings(n.shortNames),
    kind: str(n.kind),
    listKind: str(n.listKind),
    categories: strings(n.categories),
  };
}

function readVersion(v: unknown): CrdVersion {
  const r = isRecord(v) ? v : {};
  return {
    name: str(r.name),
    served: r.served === true,
    storage: r.storage === true,
    deprecated: r.deprecated === true,
    ...(typeof r.deprecationWarning === 'string' ? { deprecationWarning: r.deprecationWarning } : {}),
    ...(r.schema === undefined || r.schema === null ? {} : { schema: r.schema }),
    ...(isRecord(r.subresources) ? { subresources: r.subresources } : {}),
    ...(Array.isArray(r.additionalPrinterColumns) ? { additionalPrinterColumns: r.additionalPrinterColumns as unknown[] } : {}),
  };
}

function readCondition(v: unknown): CrdCondition {
  const c = isRecord(v) ? v : {};
  const opt = (k: 'lastTransitionTime' | 'reason' | 'message'): Partial<Record<typeof k, string>> => (typeof c[k] === 'string' ? { [k]: c[k] } : {});
  return { type: str(c.type), status: str(c.status), ...opt('lastTransitionTime'), ...opt('reason'), ...opt('message') };
}

/** The typed view of a CRD object (read as is: apply {@link defaultCrd} first for Kubernetes' defaults). */
export function readCrd(o: KubeObject): Crd {
  const spec = specOf(o);
  const status = statusOf(o);
  const annotations = isRecord(o.metadata.annotations) ? o.metadata.annotations : {};
  return {
    name: o.metadata.name,
    annotations,
    group: str(spec.group),
    scope: str(spec.scope),
    names: readNames(spec.names),
    versions: Array.isArray(spec.versions) ? spec.versions.map(readVersion) : undefined,
    ...(isRecord(spec.conversion) ? { conversion: spec.conversion } : {}),
    preserveUnknownFields: spec.preserveUnknownFields === true,
    acceptedNames: readNames(status.acceptedNames),
    storedVersions: strings(status.storedVersions),
    conditions: Array.isArray(status.conditions) ? status.conditions.map(readCondition) : [],
  };
}

/**
 * The CRD with the defaults apiextensions.k8s.io/v1 sets on decoding: names.singular (lower-case kind),
 * names.listKind (`<kind>List`), conversion `{strategy: None}`, and port 443 for a conversion webhook service.
 */
export function defaultCrd<T extends KubeObject>(o: T): T {
  const out = structuredClone(o);
  if (!isRecord(out.spec)) return out;
  const spec = out.spec;
  if (isRecord(spec.names)) {
    const names = spec.names;
    const kind = str(names.kind);
    if (str(names.singular) === '') names.singular = kind.toLowerCase();
    if (str(names.listKind) === '' && kind !== '') names.listKind = `${kind}List`;
  }
  if (spec.conversion === undefined || spec.conversion === null) spec.conversion = { strategy: 'None' };
  const conversion = spec.conversion;
  const service = isRecord(conversion) && isRecord(conversion.webhook) && isRecord(conversion.webhook.clientConfig) ? conversion.webhook.clientConfig.service : undefined;
  if (isRecord(service) && (service.port === undefined || service.port === null)) service.port = 443;
  return out;
}

/** The version marked `storage: true` (the first, if several are). */
export const storageVersionOf = (crd: Crd): string | undefined => crd.versions?.find((v) => v.storage)?.name;

export const conditionOf = (crd: Crd, type: string): CrdCondition | undefined => crd.conditions.find((c) => c.type === type);

/** Whether the CRD is Established (its resources are served). */
export const isEstablished = (crd: Crd): boolean => conditionOf(crd, 'Established')?.status === 'True';

/** The `openAPIV3Schema` of a version, if it has one. */
export function schemaOf(crd: Crd, version: string): unknown {
  const schema = crd.versions?.find((v) => v.name === version)?.schema;
  return isRecord(schema) ? schema.openAPIV3Schema : undefined;
}

/** Whether a version has the status subresource. */
export const hasStatusSubresource = (crd: Crd, version: string): boolean => isRecord(crd.versions?.find((v) => v.name === version)?.subresources?.status);

const KUBE_VERSION = /^v([0-9]+)(?:(alpha|beta)([0-9]+))?$/;
const STABILITY: Readonly<Record<string, number>> = { alpha: 0, beta: 1, '': 2 };

/**
 * version.CompareKubeAwareVersionStrings: positive when `a` has the higher priority. GA before beta before
 * alpha, then higher numbers first (v2, v1, v1beta2, v1beta1, v1alpha1); names not shaped like that come
 * after all that are, in alphabetical order.
 */
export function compareKubeAwareVersions(a: string, b: string): number {
  if (a === b) return 0;
  const ma = KUBE_VERSION.exec(a);
  const mb = KUBE_VERSION.exec(b);
  if (ma === null && mb === null) return a < b ? 1 : -1;
  if (ma === null) return -1;
  if (mb === null) return 1;
  const [sa, sb] = [STABILITY[ma[2] ?? ''] ?? 2, STABILITY[mb[2] ?? ''] ?? 2];
  if (sa !== sb) return sa - sb;
  const major = Number(ma[1]) - Number(mb[1]);
  if (major !== 0) return major;
  return Number(ma[3] ?? 0) - Number(mb[3] ?? 0);
}

/** Version names in priority order, the preferred first (as discovery lists them). */
export const byPriority = (names: readonly string[]): string[] => [...names].sort((x, y) => compareKubeAwareVersions(y, x));
