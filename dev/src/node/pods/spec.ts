/**
 * A Pod's JSON read into the typed view the runner works with: containers, probes, volumes, security contexts,
 * with Kubernetes' defaults filled in. The API server stores pods as they were sent, so every field is checked
 * here and what has the wrong shape is treated as absent, never trusted. Pure.
 */
import type { KubeObject } from '../../api/store.js';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface PodView {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly spec: PodSpec;
}

export interface PodSpec {
  readonly nodeName: string;
  readonly serviceAccountName: string;
  readonly automountServiceAccountToken?: boolean;
  readonly restartPolicy: RestartPolicy;
  readonly terminationGracePeriodSeconds: number;
  readonly hostname: string;
  readonly initContainers: readonly Container[];
  readonly containers: readonly Container[];
  readonly volumes: readonly Volume[];
  readonly securityContext: SecurityContext;
  readonly readinessGates: readonly string[];
}

export interface SecurityContext {
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly runAsNonRoot?: boolean;
  readonly supplementalGroups?: readonly number[];
  readonly fsGroup?: number;
  readonly allowPrivilegeEscalation?: boolean;
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly workingDir?: string;
  readonly env: readonly EnvVar[];
  readonly envFrom: readonly EnvFromSource[];
  readonly ports: readonly ContainerPort[];
  readonly volumeMounts: readonly VolumeMount[];
  readonly startupProbe?: Probe;
  readonly readinessProbe?: Probe;
  readonly livenessProbe?: Probe;
  readonly securityContext: SecurityContext;
  /** Only `Always`, on an init container: a native sidecar. */
  readonly restartPolicy?: string;
  readonly resources: Resources;
}

export interface Resources {
  readonly limits: Readonly<Record<string, string>>;
  readonly requests: Readonly<Record<string, string>>;
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
}

export interface KeyRef {
  readonly name: string;
  readonly key: string;
  readonly optional: boolean;
}

export interface ResourceFieldRef {
  readonly containerName?: string;
  readonly resource: string;
  readonly divisor?: string;
}

export type EnvSource =
  | { readonly kind: 'field'; readonly fieldPath: string }
  | { readonly kind: 'resource'; readonly ref: ResourceFieldRef }
  | { readonly kind: 'configMap'; readonly ref: KeyRef }
  | { readonly kind: 'secret'; readonly ref: KeyRef };

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: EnvSource;
}

export interface EnvFromSource {
  readonly kind: 'configMap' | 'secret';
  readonly name: string;
  readonly prefix: string;
  readonly optional: boolean;
}

export interface VolumeMount {
  readonly name: string;
  readonly mountPath: string;
  readonly subPath?: string;
  readonly subPathExpr?: string;
  readonly readOnly: boolean;
}

export type ProbeHandler =
  | { readonly kind: 'http'; readonly scheme: 'HTTP' | 'HTTPS'; readonly host?: string; readonly port: number | string; readonly path: string; readonly headers: readonly (readonly [string, string])[] }
  | { readonly kind: 'tcp'; readonly host?: string; readonly port: number | string }
  | { readonly kind: 'exec'; readonly command: readonly string[] }
  | { readonly kind: 'unsupported'; readonly what: string };

export interface Probe {
  readonly handler: ProbeHandler;
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
  readonly terminationGracePeriodSeconds?: number;
}

export interface KeyToPath {
  readonly key: string;
  readonly path: string;
  readonly mode?: number;
}

export interface DownwardFile {
  readonly path: string;
  readonly fieldPath?: string;
  readonly resourceFieldRef?: ResourceFieldRef;
  readonly mode?: number;
}

export type ProjectedSource =
  | { readonly kind: 'serviceAccountToken'; readonly audience?: string; readonly expirationSeconds: number; readonly path: string }
  | { readonly kind: 'configMap'; readonly name: string; readonly items?: readonly KeyToPath[]; readonly optional: boolean }
  | { readonly kind: 'secret'; readonly name: string; readonly items?: readonly KeyToPath[]; readonly optional: boolean }
  | { readonly kind: 'downwardAPI'; readonly items: readonly DownwardFile[] }
  /** A file of fixed content (the API's CA in the ServiceAccount volume the runner adds). */
  | { readonly kind: 'inline'; readonly path: string; readonly content: string }
  | { readonly kind: 'unsupported'; readonly what: string };

export type VolumeSource =
  | { readonly kind: 'emptyDir' }
  | { readonly kind: 'hostPath'; readonly path: string; readonly type: string }
  | { readonly kind: 'configMap'; readonly name: string; readonly items?: readonly KeyToPath[]; readonly optional: boolean; readonly defaultMode: number }
  | { readonly kind: 'secret'; readonly name: string; readonly items?: readonly KeyToPath[]; readonly optional: boolean; readonly defaultMode: number }
  | { readonly kind: 'downwardAPI'; readonly items: readonly DownwardFile[]; readonly defaultMode: number }
  | { readonly kind: 'projected'; readonly sources: readonly ProjectedSource[]; readonly defaultMode: number }
  | { readonly kind: 'unsupported'; readonly what: string };

export interface Volume {
  readonly name: string;
  readonly source: VolumeSource;
}

/** The file mode of configMap, secret, downwardAPI and projected volumes when none is given (0644). */
export const DEFAULT_FILE_MODE = 0o644;
/** terminationGracePeriodSeconds when the pod gives none. */
export const DEFAULT_GRACE_SECONDS = 30;
/** expirationSeconds of a projected token when none is given. */
export const DEFAULT_TOKEN_SECONDS = 3600;

type Json = Record<string, unknown>;
const rec = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
const nonEmpty = (v: unknown): string | undefined => {
  const s = str(v);
  return s === undefined || s === '' ? undefined : s;
};

/** A Kubernetes quantity or int-or-string field read as a string (`"500m"`, `1` → `"1"`). */
const quantity = (v: unknown): string | undefined => (typeof v === 'number' ? String(v) : str(v));

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(rec(v))) {
    const s = quantity(value);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

/** Adds `key: value` only when value is defined (exactOptionalPropertyTypes). */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function securityContext(v: unknown): SecurityContext {
  const sc = rec(v);
  const groups = arr(sc['supplementalGroups']).map(int).filter((g): g is number => g !== undefined);
  return {
    ...opt('runAsUser', int(sc['runAsUser'])),
    ...opt('runAsGroup', int(sc['runAsGroup'])),
    ...opt('runAsNonRoot', bool(sc['runAsNonRoot'])),
    ...(groups.length > 0 ? { supplementalGroups: groups } : {}),
    ...opt('fsGroup', int(sc['fsGroup'])),
    ...opt('allowPrivilegeEscalation', bool(sc['allowPrivilegeEscalation'])),
  };
}

function keyRef(v: unknown): KeyRef | undefined {
  const r = rec(v);
  const name = str(r['name']);
  const key = str(r['key']);
  if (name === undefined || key === undefined) return undefined;
  return { name, key, optional: r['optional'] === true };
}

function resourceFieldRef(v: unknown): ResourceFieldRef | undefined {
  const r = rec(v);
  const resource = str(r['resource']);
  if (resource === undefined) return undefined;
  return { resource, ...opt('containerName', nonEmpty(r['containerName'])), ...opt('divisor', quantity(r['divisor'])) };
}

function envSource(v: unknown): EnvSource | undefined {
  const from = rec(v);
  const field = str(rec(from['fieldRef'])['fieldPath']);
  if (field !== undefined) return { kind: 'field', fieldPath: field };
  const resource = resourceFieldRef(from['resourceFieldRef']);
  if (resource !== undefined) return { kind: 'resource', ref: resource };
  const cm = keyRef(from['configMapKeyRef']);
  if (cm !== undefined) return { kind: 'configMap', ref: cm };
  const secret = keyRef(from['secretKeyRef']);
  if (secret !== undefined) return { kind: 'secret', ref: secret };
  return undefined;
}

function envVars(v: unknown): EnvVar[] {
  const out: EnvVar[] = [];
  for (const item of arr(v)) {
    const e = rec(item);
    const name = str(e['name']);
    if (name === undefined || name === '') continue;
    out.push({ name, ...opt('value', str(e['value'])), ...opt('valueFrom', envSource(e['valueFrom'])) });
  }
  return out;
}

function envFrom(v: unknown): EnvFromSource[] {
  const out: EnvFromSource[] = [];
  for (const item of arr(v)) {
    const e = rec(item);
    const prefix = str(e['prefix']) ?? '';
    for (const kind of ['configMap', 'secret'] as const) {
      const ref = rec(e[`${kind}Ref`]);
      const name = str(ref['name']);
      if (name !== undefined) out.push({ kind, name, prefix, optional: ref['optional'] === true });
    }
  }
  return out;
}

/** An int-or-string port: a number, or a name (a numeric string is a number). */
function port(v: unknown): number | string | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v !== 'string' || v === '') return undefined;
  return /^\d+$/.test(v) ? Number(v) : v;
}

function probeHandler(p: Json): ProbeHandler {
  if (p['httpGet'] !== undefined) {
    const h = rec(p['httpGet']);
    const headers = arr(h['httpHeaders']).flatMap((x): [string, string][] => {
      const name = str(rec(x)['name']);
      const value = str(rec(x)['value']);
      return name === undefined || value === undefined ? [] : [[name, value]];
    });
    const path = str(h['path']) ?? '/';
    return {
      kind: 'http',
      scheme: str(h['scheme'])?.toUpperCase() === 'HTTPS' ? 'HTTPS' : 'HTTP',
      ...opt('host', nonEmpty(h['host'])),
      port: port(h['port']) ?? 0,
      path: path.startsWith('/') ? path : `/${path}`,
      headers,
    };
  }
  if (p['tcpSocket'] !== undefined) {
    const s = rec(p['tcpSocket']);
    return { kind: 'tcp', ...opt('host', nonEmpty(s['host'])), port: port(s['port']) ?? 0 };
  }
  if (p['exec'] !== undefined) return { kind: 'exec', command: strings(rec(p['exec'])['command']) ?? [] };
  if (p['grpc'] !== undefined) return { kind: 'unsupported', what: 'gRPC probes' };
  return { kind: 'unsupported', what: 'probes without a handler' };
}

function probe(v: unknown): Probe | undefined {
  if (v === undefined || v === null) return undefined;
  const p = rec(v);
  const positive = (x: unknown, fallback: number): number => {
    const n = int(x);
    return n === undefined || n < 1 ? fallback : n;
  };
  return {
    handler: probeHandler(p),
    initialDelaySeconds: Math.max(0, int(p['initialDelaySeconds']) ?? 0),
    periodSeconds: positive(p['periodSeconds'], 10),
    timeoutSeconds: positive(p['timeoutSeconds'], 1),
    successThreshold: positive(p['successThreshold'], 1),
    failureThreshold: positive(p['failureThreshold'], 3),
    ...opt('terminationGracePeriodSeconds', int(p['terminationGracePeriodSeconds'])),
  };
}

function container(v: unknown): Container | undefined {
  const c = rec(v);
  const name = str(c['name']);
  if (name === undefined || name === '') return undefined;
  const resources = rec(c['resources']);
  const command = strings(c['command']);
  const args = strings(c['args']);
  return {
    name,
    image: str(c['image']) ?? '',
    ...(command === undefined || command.length === 0 ? {} : { command }),
    ...(args === undefined ? {} : { args }),
    ...opt('workingDir', nonEmpty(c['workingDir'])),
    env: envVars(c['env']),
    envFrom: envFrom(c['envFrom']),
    ports: arr(c['ports']).flatMap((x) => {
      const p = rec(x);
      const containerPort = int(p['containerPort']);
      return containerPort === undefined ? [] : [{ containerPort, ...opt('name', nonEmpty(p['name'])) }];
    }),
    volumeMounts: arr(c['volumeMounts']).flatMap((x): VolumeMount[] => {
      const m = rec(x);
      const volume = str(m['name']);
      const mountPath = str(m['mountPath']);
      if (volume === undefined || mountPath === undefined || mountPath === '') return [];
      return [{ name: volume, mountPath, readOnly: m['readOnly'] === true, ...opt('subPath', nonEmpty(m['subPath'])), ...opt('subPathExpr', nonEmpty(m['subPathExpr'])) }];
    }),
    ...opt('startupProbe', probe(c['startupProbe'])),
    ...opt('readinessProbe', probe(c['readinessProbe'])),
    ...opt('livenessProbe', probe(c['livenessProbe'])),
    securityContext: securityContext(c['securityContext']),
    ...opt('restartPolicy', str(c['restartPolicy'])),
    resources: { limits: stringMap(resources['limits']), requests: stringMap(resources['requests']) },
  };
}

function items(v: unknown): KeyToPath[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.flatMap((x): KeyToPath[] => {
    const i = rec(x);
    const key = str(i['key']);
    const path = str(i['path']);
    return key === undefined || path === undefined ? [] : [{ key, path, ...opt('mode', int(i['mode'])) }];
  });
}

function downwardFiles(v: unknown): DownwardFile[] {
  return arr(v).flatMap((x): DownwardFile[] => {
    const i = rec(x);
    const path = str(i['path']);
    if (path === undefined) return [];
    return [{ path, ...opt('fieldPath', str(rec(i['fieldRef'])['fieldPath'])), ...opt('resourceFieldRef', resourceFieldRef(i['resourceFieldRef'])), ...opt('mode', int(i['mode'])) }];
  });
}

function projectedSource(v: unknown): ProjectedSource {
  const s = rec(v);
  if (s['serviceAccountToken'] !== undefined) {
    const t = rec(s['serviceAccountToken']);
    return { kind: 'serviceAccountToken', ...opt('audience', nonEmpty(t['audience'])), expirationSeconds: int(t['expirationSeconds']) ?? DEFAULT_TOKEN_SECONDS, path: str(t['path']) ?? 'token' };
  }
  for (const kind of ['configMap', 'secret'] as const) {
    if (s[kind] === undefined) continue;
    const r = rec(s[kind]);
    return { kind, name: str(r['name']) ?? '', ...opt('items', items(r['items'])), optional: r['optional'] === true };
  }
  if (s['downwardAPI'] !== undefined) return { kind: 'downwardAPI', items: downwardFiles(rec(s['downwardAPI'])['items']) };
  return { kind: 'unsupported', what: Object.keys(s)[0] ?? 'an empty source' };
}

function volumeSource(v: Json): VolumeSource {
  if (v['emptyDir'] !== undefined) return { kind: 'emptyDir' };
  if (v['hostPath'] !== undefined) {
    const h = rec(v['hostPath']);
    return { kind: 'hostPath', path: str(h['path']) ?? '', type: str(h['type']) ?? '' };
  }
  const mode = (x: Json): number => int(x['defaultMode']) ?? DEFAULT_FILE_MODE;
  if (v['configMap'] !== undefined) {
    const c = rec(v['configMap']);
    return { kind: 'configMap', name: str(c['name']) ?? '', ...opt('items', items(c['items'])), optional: c['optional'] === true, defaultMode: mode(c) };
  }
  if (v['secret'] !== undefined) {
    const s = rec(v['secret']);
    return { kind: 'secret', name: str(s['secretName']) ?? '', ...opt('items', items(s['items'])), optional: s['optional'] === true, defaultMode: mode(s) };
  }
  if (v['downwardAPI'] !== undefined) {
    const d = rec(v['downwardAPI']);
    return { kind: 'downwardAPI', items: downwardFiles(d['items']), defaultMode: mode(d) };
  }
  if (v['projected'] !== undefined) {
    const p = rec(v['projected']);
    return { kind: 'projected', sources: arr(p['sources']).map(projectedSource), defaultMode: mode(p) };
  }
  const what = Object.keys(v).find((k) => k !== 'name');
  return { kind: 'unsupported', what: what ?? 'a volume without a source' };
}

const restartPolicy = (v: unknown): RestartPolicy => (v === 'OnFailure' || v === 'Never' ? v : 'Always');

/** Reads a Pod object. */
export function podView(object: KubeObject): PodView {
  const spec = rec(object['spec']);
  const meta = object.metadata;
  const list = (v: unknown): Container[] => arr(v).map(container).filter((c): c is Container => c !== undefined);
  const grace = int(spec['terminationGracePeriodSeconds']);
  return {
    namespace: meta.namespace ?? 'default',
    name: meta.name,
    uid: meta.uid ?? '',
    labels: stringMap(meta.labels),
    annotations: stringMap(meta.annotations),
    spec: {
      nodeName: str(spec['nodeName']) ?? '',
      serviceAccountName: nonEmpty(spec['serviceAccountName']) ?? nonEmpty(spec['serviceAccount']) ?? 'default',
      ...opt('automountServiceAccountToken', bool(spec['automountServiceAccountToken'])),
      restartPolicy: restartPolicy(spec['restartPolicy']),
      terminationGracePeriodSeconds: grace === undefined || grace < 0 ? DEFAULT_GRACE_SECONDS : grace,
      hostname: (nonEmpty(spec['hostname']) ?? meta.name).slice(0, 63),
      initContainers: list(spec['initContainers']),
      containers: list(spec['containers']),
      volumes: arr(spec['volumes']).flatMap((x) => {
        const v = rec(x);
        const name = str(v['name']);
        return name === undefined ? [] : [{ name, source: volumeSource(v) }];
      }),
      securityContext: securityContext(spec['securityContext']),
      readinessGates: arr(spec['readinessGates'])
        .map((g) => str(rec(g)['conditionType']))
        .filter((g): g is string => g !== undefined),
    },
  };
}

/** Whether an init container is a native sidecar (`restartPolicy: Always`). */
export const isSidecar = (c: Container): boolean => c.restartPolicy === 'Always';
