/**
 * Decoders for the Kubernetes objects Loom reads (Namespace, ServiceAccount, Service, EndpointSlice, Pod, and
 * ConfigMap loom-system/loom-config), and `decodeObject`, which dispatches any object to the SMI or Kubernetes
 * decoder. Only the fields of `model.ts` are read and checked; everything else is ignored.
 */
import { DiagnosticCode } from '../diagnostics.js';
import type { Diagnostic } from '../diagnostics.js';
import { decodeSmi, envelope } from '../smi/decode.js';
import type { DecodeOptions, DecodeResult } from '../smi/decode.js';
import type { SmiObject } from '../smi/model.js';
import {
  at,
  DEFAULT_NAMESPACE,
  describe,
  get,
  isPort,
  label1035,
  label1123,
  objectRefOf,
  Problems,
  readBoolean,
  readList,
  readMeta,
  readPort,
  readRecord,
  readString,
  readStringList,
  readStringMap,
  records,
  subdomain,
  wrong,
  PORT_EXPECTED,
} from '../smi/reader.js';
import type { RawRecord } from '../smi/reader.js';
import { parseApiVersion, SmiGroup, SMI_INPUT_GROUPS } from '../smi/versions.js';
import { CONTROL_PLANE_NAMESPACE, DEFAULT_MESH_CONFIG, MESH_CONFIG_NAME } from './model.js';
import type {
  Container,
  ContainerPort,
  Endpoint,
  EndpointPort,
  EndpointSlice,
  K8sObject,
  L4Protocol,
  LoomConfig,
  MeshConfig,
  Namespace,
  ObjectMeta,
  OwnerRef,
  Pod,
  Service,
  ServiceAccount,
  ServicePort,
} from './model.js';

export type { DecodeOptions, DecodeResult };

/** Everything `decodeObject` can return. */
export type LoomObject = SmiObject | K8sObject;

/** The label EndpointSlices carry to name their Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** API groups of Kubernetes itself: objects of kinds Loom does not read are ignored quietly. */
export const BUILTIN_GROUPS: readonly string[] = [
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'extensions',
  'rbac.authorization.k8s.io',
  'networking.k8s.io',
  'apiextensions.k8s.io',
  'admissionregistration.k8s.io',
  'apiregistration.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'internal.apiserver.k8s.io',
  'metrics.k8s.io',
  'node.k8s.io',
  'resource.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
  'storagemigration.k8s.io',
];

const PROTOCOLS: readonly L4Protocol[] = ['TCP', 'UDP', 'SCTP'];
const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;
const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'] as const;

/** IANA service name, as Kubernetes requires for named ports: ≤ 15 chars, lower-case alphanumerics and '-', a letter. */
export function isPortName(s: string): boolean {
  return s.length >= 1 && s.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s) && /[a-z]/.test(s) && !s.includes('--');
}

const PORT_NAME = "a port name (at most 15 lower-case letters, digits and '-', with at least one letter)";

// --- shared pieces -----------------------------------------------------------------------------

function readObjectMeta(p: Problems, raw: RawRecord, namespaced: string | undefined, nameCheck: (s: string) => string | undefined): ObjectMeta {
  const meta = readMeta(p, raw, { defaultNamespace: namespaced, nameCheck });
  const md = readRecord(p, raw, 'metadata', '') ?? {};
  const list = readList(p, md, 'ownerReferences', 'metadata');
  if (list === undefined) return meta;
  const ownerReferences: OwnerRef[] = [];
  for (const [i, o] of records(p, list, 'metadata.ownerReferences')) {
    const path = at('metadata.ownerReferences', i);
    const kind = readString(p, o, 'kind', path, { required: true });
    const name = readString(p, o, 'name', path, { required: true });
    const controller = readBoolean(p, o, 'controller', path);
    if (kind !== undefined && name !== undefined) ownerReferences.push({ kind, name, ...(controller === undefined ? {} : { controller }) });
  }
  return { ...meta, ownerReferences };
}

function readProtocol(p: Problems, obj: RawRecord, path: string): L4Protocol {
  const s = readString(p, obj, 'protocol', path, {
    expected: 'TCP, UDP or SCTP',
    check: (v) => ((PROTOCOLS as readonly string[]).includes(v) ? undefined : 'TCP, UDP or SCTP'),
  });
  return (s as L4Protocol | undefined) ?? 'TCP';
}

function finish<T>(p: Problems, object: T): DecodeResult<T> {
  return p.ok ? { object, diagnostics: p.diagnostics } : { diagnostics: p.diagnostics };
}

function problemsFor(raw: RawRecord, kind: string, apiVersion: string, namespace: string | undefined, source: string | undefined): Problems {
  return new Problems(objectRefOf(raw, kind, apiVersion, namespace), source);
}

// --- Namespace, ServiceAccount -----------------------------------------------------------------

export function decodeNamespace(raw: RawRecord, source?: string): DecodeResult<Namespace> {
  const p = problemsFor(raw, 'Namespace', 'v1', undefined, source);
  const meta = readObjectMeta(p, raw, undefined, label1123('a namespace name'));
  return finish(p, { kind: 'Namespace', meta });
}

export function decodeServiceAccount(raw: RawRecord, source?: string, options: DecodeOptions = {}): DecodeResult<ServiceAccount> {
  const ns = options.defaultNamespace ?? DEFAULT_NAMESPACE;
  const p = problemsFor(raw, 'ServiceAccount', 'v1', ns, source);
  const meta = readObjectMeta(p, raw, ns, subdomain('a ServiceAccount name'));
  return finish(p, { kind: 'ServiceAccount', meta });
}

// --- Service -----------------------------------------------------------------------------------

function readTargetPort(p: Problems, obj: RawRecord, path: string): number | string | undefined {
  const v = get(obj, 'targetPort');
  if (v === undefined) return undefined;
  if (typeof v === 'number') return isPort(v) ? v : wrong(p, at(path, 'targetPort'), `${PORT_EXPECTED} or ${PORT_NAME}`, v);
  if (typeof v === 'string') return isPortName(v) ? v : wrong(p, at(path, 'targetPort'), `${PORT_EXPECTED} or ${PORT_NAME}`, v);
  return wrong(p, at(path, 'targetPort'), `${PORT_EXPECTED} or ${PORT_NAME}`, v);
}

export function decodeService(raw: RawRecord, source?: string, options: DecodeOptions = {}): DecodeResult<Service> {
  const ns = options.defaultNamespace ?? DEFAULT_NAMESPACE;
  const p = problemsFor(raw, 'Service', 'v1', ns, source);
  const meta = readObjectMeta(p, raw, ns, label1035('a Service name'));
  const spec = readRecord(p, raw, 'spec', '', { required: true }) ?? {};
  const type =
    readString(p, spec, 'type', 'spec', {
      expected: SERVICE_TYPES.join(', '),
      check: (s) => ((SERVICE_TYPES as readonly string[]).includes(s) ? undefined : SERVICE_TYPES.join(', ')),
    }) ?? 'ClusterIP';
  const clusterIPRaw = readString(p, spec, 'clusterIP', 'spec');
  const clusterIP = clusterIPRaw === '' ? undefined : clusterIPRaw;
  const clusterIPs = readStringList(p, spec, 'clusterIPs', 'spec') ?? (clusterIP === undefined ? [] : [clusterIP]);
  const selector = readStringMap(p, spec, 'selector', 'spec');
  const ports: ServicePort[] = [];
  for (const [i, sp] of records(p, readList(p, spec, 'ports', 'spec') ?? [], 'spec.ports')) {
    const path = at('spec.ports', i);
    const name = readString(p, sp, 'name', path);
    const port = readPort(p, sp, 'port', path, { required: true });
    const targetPort = readTargetPort(p, sp, path);
    const protocol = readProtocol(p, sp, path);
    const appProtocol = readString(p, sp, 'appProtocol', path);
    if (port === undefined) continue;
    ports.push({
      ...(name === undefined || name === '' ? {} : { name }),
      port,
      ...(targetPort === undefined ? {} : { targetPort }),
      protocol,
      ...(appProtocol === undefined ? {} : { appProtocol }),
    });
  }
  return finish(p, {
    kind: 'Service',
    meta,
    type,
    ...(clusterIP === undefined ? {} : { clusterIP }),
    clusterIPs,
    ...(selector === undefined ? {} : { selector }),
    ports,
  });
}

// --- EndpointSlice -----------------------------------------------------------------------------

function readConditions(p: Problems, obj: RawRecord, path: string): Endpoint['conditions'] {
  const c = readRecord(p, obj, 'conditions', path);
  if (c === undefined) return {};
  const cPath = at(path, 'conditions');
  const ready = readBoolean(p, c, 'ready', cPath);
  const serving = readBoolean(p, c, 'serving', cPath);
  const terminating = readBoolean(p, c, 'terminating', cPath);
  return {
    ...(ready === undefined ? {} : { ready }),
    ...(serving === undefined ? {} : { serving }),
    ...(terminating === undefined ? {} : { terminating }),
  };
}

function readEndpoint(p: Problems, e: RawRecord, path: string): Endpoint | undefined {
  const addresses = readStringList(p, e, 'addresses', path, { required: true });
  const conditions = readConditions(p, e, path);
  const hostname = readString(p, e, 'hostname', path);
  const nodeName = readString(p, e, 'nodeName', path);
  let targetRef: Endpoint['targetRef'];
  const t = readRecord(p, e, 'targetRef', path);
  if (t !== undefined) {
    const tPath = at(path, 'targetRef');
    const kind = readString(p, t, 'kind', tPath, { required: true });
    const name = readString(p, t, 'name', tPath, { required: true });
    const namespace = readString(p, t, 'namespace', tPath);
    const uid = readString(p, t, 'uid', tPath);
    if (kind !== undefined && name !== undefined) {
      targetRef = { kind, name, ...(namespace === undefined ? {} : { namespace }), ...(uid === undefined ? {} : { uid }) };
    }
  }
  if (addresses === undefined) return undefined;
  return {
    addresses,
    conditions,
    ...(targetRef === undefined ? {} : { targetRef }),
    ...(hostname === undefined ? {} : { hostname }),
    ...(nodeName === undefined ? {} : { nodeName }),
  };
}

export function decodeEndpointSlice(raw: RawRecord, source?: string, options: DecodeOptions = {}): DecodeResult<EndpointSlice> {
  const ns = options.defaultNamespace ?? DEFAULT_NAMESPACE;
  const p = problemsFor(raw, 'EndpointSlice', 'discovery.k8s.io/v1', ns, source);
  const meta = readObjectMeta(p, raw, ns, subdomain('an EndpointSlice name'));
  const addressType = readString(p, raw, 'addressType', '', {
    required: true,
    expected: ADDRESS_TYPES.join(', '),
    check: (s) => ((ADDRESS_TYPES as readonly string[]).includes(s) ? undefined : ADDRESS_TYPES.join(', ')),
  }) as EndpointSlice['addressType'] | undefined;
  const ports: EndpointPort[] = [];
  for (const [i, ep] of records(p, readList(p, raw, 'ports', '') ?? [], 'ports')) {
    const path = at('ports', i);
    const name = readString(p, ep, 'name', path);
    const port = readPort(p, ep, 'port', path);
    const protocol = readProtocol(p, ep, path);
    const appProtocol = readString(p, ep, 'appProtocol', path);
    ports.push({
      ...(name === undefined || name === '' ? {} : { name }),
      ...(port === undefined ? {} : { port }),
      protocol,
      ...(appProtocol === undefined ? {} : { appProtocol }),
    });
  }
  const endpoints: Endpoint[] = [];
  for (const [i, e] of records(p, readList(p, raw, 'endpoints', '') ?? [], 'endpoints')) {
    const endpoint = readEndpoint(p, e, at('endpoints', i));
    if (endpoint !== undefined) endpoints.push(endpoint);
  }
  const serviceName = meta.labels[SERVICE_NAME_LABEL];
  return finish(p, {
    kind: 'EndpointSlice',
    meta,
    ...(serviceName === undefined ? {} : { serviceName }),
    addressType: addressType ?? 'IPv4',
    ports,
    endpoints,
  });
}

// --- Pod ---------------------------------------------------------------------------------------

function readContainers(p: Problems, spec: RawRecord, key: 'containers' | 'initContainers'): Container[] {
  const out: Container[] = [];
  for (const [i, c] of records(p, readList(p, spec, key, 'spec') ?? [], at('spec', key))) {
    const path = at(at('spec', key), i);
    const name = readString(p, c, 'name', path, { required: true, expected: 'a container name' });
    const restartPolicy = readString(p, c, 'restartPolicy', path);
    const ports: ContainerPort[] = [];
    for (const [j, cp] of records(p, readList(p, c, 'ports', path) ?? [], at(path, 'ports'))) {
      const pPath = at(at(path, 'ports'), j);
      const portName = readString(p, cp, 'name', pPath, { check: (s) => (isPortName(s) ? undefined : PORT_NAME) });
      const containerPort = readPort(p, cp, 'containerPort', pPath, { required: true });
      const protocol = readProtocol(p, cp, pPath);
      if (containerPort !== undefined) ports.push({ ...(portName === undefined ? {} : { name: portName }), containerPort, protocol });
    }
    if (name !== undefined) out.push({ name, ports, ...(restartPolicy === undefined ? {} : { restartPolicy }) });
  }
  return out;
}

export function decodePod(raw: RawRecord, source?: string, options: DecodeOptions = {}): DecodeResult<Pod> {
  const ns = options.defaultNamespace ?? DEFAULT_NAMESPACE;
  const p = problemsFor(raw, 'Pod', 'v1', ns, source);
  const meta = readObjectMeta(p, raw, ns, subdomain('a Pod name'));
  const spec = readRecord(p, raw, 'spec', '', { required: true }) ?? {};
  const saCheck = { check: subdomain('a ServiceAccount name') };
  const serviceAccountName = readString(p, spec, 'serviceAccountName', 'spec', saCheck) || readString(p, spec, 'serviceAccount', 'spec', saCheck) || 'default';
  const containers = readContainers(p, spec, 'containers');
  const initContainers = readContainers(p, spec, 'initContainers');
  const hostNetwork = readBoolean(p, spec, 'hostNetwork', 'spec') ?? false;
  const status = readRecord(p, raw, 'status', '') ?? {};
  const phase = readString(p, status, 'phase', 'status');
  const ipList = readList(p, status, 'podIPs', 'status');
  let podIPs: string[];
  if (ipList !== undefined && ipList.length > 0) {
    podIPs = [];
    for (const [i, entry] of records(p, ipList, 'status.podIPs', 'an object with ip')) {
      const ip = readString(p, entry, 'ip', at('status.podIPs', i), { required: true });
      if (ip !== undefined) podIPs.push(ip);
    }
  } else {
    const podIP = readString(p, status, 'podIP', 'status');
    podIPs = podIP === undefined || podIP === '' ? [] : [podIP];
  }
  return finish(p, {
    kind: 'Pod',
    meta,
    serviceAccountName,
    containers,
    initContainers,
    hostNetwork,
    ...(phase === undefined ? {} : { phase }),
    podIPs,
  });
}

// --- loom-config -------------------------------------------------------------------------------

/** SPIFFE trust domain: lower-case letters, digits, '.', '-' and '_'. */
export function isTrustDomain(s: string): boolean {
  return s.length >= 1 && s.length <= 255 && /^[a-z0-9._-]+$/.test(s);
}

/**
 * ConfigMap `loom-system/loom-config` → MeshConfig. A wrong value is reported (InvalidField, naming the key)
 * and replaced by its default; the object is still returned.
 */
export function decodeMeshConfig(raw: RawRecord, source?: string): DecodeResult<LoomConfig> {
  const p = problemsFor(raw, 'ConfigMap', 'v1', CONTROL_PLANE_NAMESPACE, source);
  const meta = readObjectMeta(p, raw, CONTROL_PLANE_NAMESPACE, subdomain('a ConfigMap name'));
  const dataRaw = readRecord(p, raw, 'data', '', { expected: 'a map of strings' }) ?? {};

  function setting<T extends string>(key: string, allowed: readonly T[] | ((s: string) => boolean), expected: string, dflt: T): T {
    const v = get(dataRaw, key);
    if (v === undefined) return dflt;
    const ok = typeof v === 'string' && (typeof allowed === 'function' ? allowed(v) : (allowed as readonly string[]).includes(v));
    if (ok) return v as T;
    p.fallback(at('data', key), `must be ${expected}, got ${describe(v)}; using the default "${dflt}"`);
    return dflt;
  }

  const config: MeshConfig = Object.freeze({
    mode: setting('mode', ['strict', 'permissive'], '"strict" or "permissive"', DEFAULT_MESH_CONFIG.mode),
    pathMatch: setting('pathMatch', ['prefix', 'full'], '"prefix" or "full"', DEFAULT_MESH_CONFIG.pathMatch),
    trustDomain: setting('trustDomain', isTrustDomain, "a SPIFFE trust domain (lower-case letters, digits, '.', '-' and '_')", DEFAULT_MESH_CONFIG.trustDomain),
    outboundUnknown: setting('outboundUnknown', ['passthrough', 'deny'], '"passthrough" or "deny"', DEFAULT_MESH_CONFIG.outboundUnknown),
  });
  return finish(p, { kind: 'LoomConfig', meta, config });
}

// --- dispatch ----------------------------------------------------------------------------------

function warning(raw: RawRecord, kind: string, apiVersion: string, message: string, source: string | undefined): Diagnostic {
  return {
    code: DiagnosticCode.UnknownKind,
    severity: 'warning',
    object: objectRefOf(raw, kind, apiVersion, ''),
    message,
    ...(source === undefined ? {} : { source }),
  };
}

/**
 * Decodes any object Loom may meet in the API or in manifests: SMI kinds (every served version), the Kubernetes
 * kinds of `model.ts`, and ConfigMap loom-system/loom-config. Other Kubernetes built-in kinds (Deployment,
 * Secret, other ConfigMaps, ...) give no object and no diagnostic; kinds of other groups give an UnknownKind warning.
 */
export function decodeObject(raw: unknown, source?: string, options: DecodeOptions = {}): DecodeResult<LoomObject> {
  const env = envelope(raw, source);
  if (!env.ok) return { diagnostics: env.diagnostics };
  const { apiVersion, kind } = env;
  const { group, version } = parseApiVersion(apiVersion);

  if (SMI_INPUT_GROUPS.includes(group)) return decodeSmi(env.raw, source, options);
  if (group === SmiGroup.metrics) {
    return { diagnostics: [warning(env.raw, kind, apiVersion, `${apiVersion} ${kind} is served by Loom's metrics API, not read as input; ignored`, source)] };
  }
  if (group === '' && version === 'v1') {
    switch (kind) {
      case 'Namespace':
        return decodeNamespace(env.raw, source);
      case 'ServiceAccount':
        return decodeServiceAccount(env.raw, source, options);
      case 'Service':
        return decodeService(env.raw, source, options);
      case 'Pod':
        return decodePod(env.raw, source, options);
      case 'ConfigMap':
        if (isMeshConfig(env.raw)) return decodeMeshConfig(env.raw, source);
        return { diagnostics: [] };
    }
  }
  if (group === 'discovery.k8s.io' && version === 'v1' && kind === 'EndpointSlice') return decodeEndpointSlice(env.raw, source, options);
  if (BUILTIN_GROUPS.includes(group)) return { diagnostics: [] };
  return { diagnostics: [warning(env.raw, kind, apiVersion, `${apiVersion} ${kind} is not a kind Loom reads; ignored`, source)] };
}

function isMeshConfig(raw: RawRecord): boolean {
  const md = get(raw, 'metadata');
  if (typeof md !== 'object' || md === null) return false;
  const name = (md as RawRecord)['name'];
  const namespace = (md as RawRecord)['namespace'];
  return name === MESH_CONFIG_NAME && namespace === CONTROL_PLANE_NAMESPACE;
}
