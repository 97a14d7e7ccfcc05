/**
 * What a cluster would have that a manifests folder lacks, for offline evaluation (`loom why`). Pure.
 *
 * - A Pod per workload template (apps/v1 Deployment, StatefulSet, DaemonSet, ReplicaSet; batch/v1 Job),
 *   named after the workload, unless a Pod of that name is already given.
 * - Addresses from 198.18.0.0/15 (RFC 2544 benchmarking range) for pods that have none: data only, never dialled.
 * - Mesh membership: the `loom-proxy` container, or injection enabled (pod annotation, namespace label or
 *   annotation), or a namespace absent from the manifests (assumed meshed unless the pod opts out); injection
 *   is simulated by adding a `loom-proxy` container, as the webhook would.
 * - EndpointSlices for Services with a selector and no EndpointSlice, selecting pods by labels, with
 *   targetPort resolution (numbers, or container port names per pod, as the EndpointSlice controller does).
 */
import { DiagnosticCode, type Diagnostic } from '@loom/shared/diagnostics';
import { Annotations, decodePod, PROXY_CONTAINER_NAME, SERVICE_NAME_LABEL, type Endpoint, type EndpointPort, type EndpointSlice, type Namespace, type Pod, type Service } from '@loom/shared/k8s';
import type { MeshSnapshot } from '../../store/snapshot.js';

/** Workload kinds whose pod template becomes a pod, by `apiVersion kind`. */
export const WORKLOAD_KINDS: ReadonlyMap<string, string> = new Map([
  ['apps/v1 Deployment', 'Deployment'],
  ['apps/v1 StatefulSet', 'StatefulSet'],
  ['apps/v1 DaemonSet', 'DaemonSet'],
  ['apps/v1 ReplicaSet', 'ReplicaSet'],
  ['batch/v1 Job', 'Job'],
]);

/** Where a pod of the evaluation comes from. */
export type PodOrigin =
  | { readonly kind: 'given' }
  | { readonly kind: 'workload'; readonly workload: { readonly kind: string; readonly name: string }; readonly source: string }
  /** A stand-in caller running as a ServiceAccount that no pod runs as. */
  | { readonly kind: 'caller' };

export interface PodEntry {
  readonly pod: Pod;
  readonly origin: PodOrigin;
}

export interface Membership {
  readonly meshed: boolean;
  /** Injection was simulated (the pod did not carry `loom-proxy`). */
  readonly injected: boolean;
  /** Its namespace is not among the manifests, so membership was assumed. */
  readonly assumed: boolean;
  /** Why, in a few words: `namespace shop has loom.dev/inject: enabled`. */
  readonly reason: string;
}

export interface PodView extends PodEntry {
  readonly membership: Membership;
}

export interface WorkloadPods {
  readonly entries: readonly PodEntry[];
  /** Problems of the workloads' pod templates (the workload is then left out). */
  readonly diagnostics: readonly Diagnostic[];
  /** Workloads read, `Kind ns/name`, also the ones left out. */
  readonly workloads: ReadonlyMap<string, { kind: string; namespace: string; name: string; source: string }>;
}

/** Pods synthesised from workload templates. `given` are the pods of the manifests (they win on a name clash). */
export function workloadPods(others: readonly { raw: unknown; source: string }[], given: readonly Pod[]): WorkloadPods {
  const taken = new Set(given.map((p) => `${p.meta.namespace}/${p.meta.name}`));
  const entries: PodEntry[] = [];
  const diagnostics: Diagnostic[] = [];
  const workloads = new Map<string, { kind: string; namespace: string; name: string; source: string }>();
  for (const { raw, source } of others) {
    if (!isRecord(raw)) continue;
    const kind = WORKLOAD_KINDS.get(`${String(raw['apiVersion'])} ${String(raw['kind'])}`);
    if (kind === undefined) continue;
    const apiVersion = String(raw['apiVersion']);
    const md = isRecord(raw['metadata']) ? raw['metadata'] : {};
    const name = typeof md['name'] === 'string' ? md['name'] : '';
    const namespace = typeof md['namespace'] === 'string' && md['namespace'] !== '' ? md['namespace'] : 'default';
    const ref = { kind, namespace, name, apiVersion };
    const problem = (field: string, message: string): void => {
      diagnostics.push({ code: DiagnosticCode.InvalidField, severity: 'error', object: ref, field, message: `${message}; no pod is synthesised for it`, source });
    };
    if (name === '') {
      problem('metadata.name', 'required, expected a string');
      continue;
    }
    workloads.set(`${kind} ${namespace}/${name}`, { kind, namespace, name, source });
    const spec = raw['spec'];
    const template = isRecord(spec) ? spec['template'] : undefined;
    if (!isRecord(template)) {
      problem('spec.template', 'required, expected a pod template');
      continue;
    }
    if (taken.has(`${namespace}/${name}`)) continue; // a Pod (or an earlier workload) of that name stands for it
    const tmd = isRecord(template['metadata']) ? template['metadata'] : {};
    const podRaw = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...tmd,
        name,
        namespace,
        ownerReferences: [{ apiVersion, kind, name, controller: true }],
      },
      spec: template['spec'],
    };
    const decoded = decodePod(podRaw, source);
    for (const d of decoded.diagnostics) {
      const field = d.field === undefined || d.field.startsWith('metadata.ownerReferences') ? undefined : templateField(d.field);
      diagnostics.push({
        code: d.code,
        severity: d.severity,
        object: ref,
        ...(field === undefined ? {} : { field }),
        message: decoded.object === undefined ? `${d.message}; no pod is synthesised for it` : d.message,
        source,
      });
    }
    if (decoded.object === undefined) continue;
    taken.add(`${namespace}/${name}`);
    entries.push({ pod: decoded.object, origin: { kind: 'workload', workload: { kind, name }, source } });
  }
  return { entries, diagnostics, workloads };
}

/** A field of the synthesised pod → the same field in the workload's template. */
function templateField(field: string): string {
  if (field === 'metadata.name' || field === 'metadata.namespace') return field;
  return `spec.template.${field}`;
}

/** A pod running as `serviceAccount` with no containers: the caller when only a ServiceAccount is named. */
export function callerPod(namespace: string, serviceAccount: string, name: string): Pod {
  return {
    kind: 'Pod',
    meta: { namespace, name, labels: {}, annotations: {} },
    serviceAccountName: serviceAccount,
    containers: [],
    initContainers: [],
    hostNetwork: false,
    podIPs: [],
  };
}

/** Mesh membership of a pod as the injector would decide it, offline. */
export function membershipOf(pod: Pod, ns: Namespace | undefined): Membership {
  const carries = [...pod.containers, ...pod.initContainers].some((c) => c.name === PROXY_CONTAINER_NAME);
  if (carries) return { meshed: true, injected: false, assumed: false, reason: `carries the ${PROXY_CONTAINER_NAME} container` };
  const podInject = pod.meta.annotations[Annotations.inject];
  if (pod.hostNetwork) return { meshed: false, injected: false, assumed: false, reason: 'hostNetwork pods are not injected' };
  if (podInject === 'disabled') return { meshed: false, injected: false, assumed: false, reason: `pod annotation ${Annotations.inject}: disabled` };
  if (podInject === 'enabled') return { meshed: true, injected: true, assumed: false, reason: `pod annotation ${Annotations.inject}: enabled` };
  const nsName = pod.meta.namespace;
  if (ns === undefined) return { meshed: true, injected: true, assumed: true, reason: `assumed meshed: namespace ${nsName} not in manifests` };
  const nsInject = ns.meta.labels[Annotations.inject] === 'enabled' || ns.meta.annotations[Annotations.inject] === 'enabled';
  if (nsInject) return { meshed: true, injected: true, assumed: false, reason: `namespace ${nsName} has ${Annotations.inject}: enabled` };
  return { meshed: false, injected: false, assumed: false, reason: `namespace ${nsName} does not have ${Annotations.inject}: enabled` };
}

export interface Completed {
  readonly snapshot: MeshSnapshot;
  /** Every pod of the snapshot, `ns/name` → view. */
  readonly pods: ReadonlyMap<string, PodView>;
  /** Services whose EndpointSlices were synthesised, `ns/name`. */
  readonly synthesisedSlices: ReadonlySet<string>;
}

/** First address of 198.18.0.0/15 handed out, as a number. */
const SYNTH_BASE = (198 << 24) | (18 << 16);
const SYNTH_SIZE = 1 << 17;

function ipv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * The snapshot `loom why` evaluates: given and `extra` pods with addresses and simulated injection, and
 * EndpointSlices for selector Services that have none.
 */
export function completeSnapshot(snapshot: MeshSnapshot, extra: readonly PodEntry[]): Completed {
  const namespaces = new Map(snapshot.namespaces.map((n) => [n.meta.name, n]));
  const entries: PodEntry[] = [...snapshot.pods.map((pod): PodEntry => ({ pod, origin: { kind: 'given' } })), ...extra];
  entries.sort((a, b) => cmp(a.pod.meta.namespace, b.pod.meta.namespace) || cmp(a.pod.meta.name, b.pod.meta.name));

  const used = new Set(entries.flatMap((e) => e.pod.podIPs));
  let next = 1;
  const allocate = (): string => {
    while (next < SYNTH_SIZE - 1) {
      const ip = ipv4((SYNTH_BASE + next++) >>> 0);
      if (!used.has(ip)) return ip;
    }
    throw new Error('more than 131070 pods without an address');
  };

  const pods = new Map<string, PodView>();
  for (const e of entries) {
    const membership = membershipOf(e.pod, namespaces.get(e.pod.meta.namespace));
    let pod = e.pod;
    if (pod.podIPs.length === 0 && !pod.hostNetwork) pod = { ...pod, podIPs: [allocate()] };
    if (membership.injected) pod = { ...pod, containers: [...pod.containers, { name: PROXY_CONTAINER_NAME, ports: [] }] };
    pods.set(`${pod.meta.namespace}/${pod.meta.name}`, { pod, origin: e.origin, membership });
  }

  const haveSlices = new Set(snapshot.endpointSlices.flatMap((s) => (s.serviceName === undefined ? [] : [`${s.meta.namespace}/${s.serviceName}`])));
  const slices: EndpointSlice[] = [...snapshot.endpointSlices];
  const synthesisedSlices = new Set<string>();
  const podList = [...pods.values()].map((v) => v.pod);
  for (const svc of snapshot.services) {
    const k = `${svc.meta.namespace}/${svc.meta.name}`;
    if (svc.type === 'ExternalName' || haveSlices.has(k)) continue;
    if (svc.selector === undefined || Object.keys(svc.selector).length === 0) continue;
    slices.push(...slicesFor(svc, podList));
    synthesisedSlices.add(k);
  }

  return {
    snapshot: { ...snapshot, pods: podList, endpointSlices: slices },
    pods,
    synthesisedSlices,
  };
}

/** The EndpointSlices the EndpointSlice controller would write for `svc`: one per distinct port mapping. */
export function slicesFor(svc: Service, pods: readonly Pod[]): EndpointSlice[] {
  const selector = svc.selector ?? {};
  const groups = new Map<string, { ports: EndpointPort[]; endpoints: Endpoint[] }>();
  for (const pod of pods) {
    if (pod.meta.namespace !== svc.meta.namespace) continue;
    if (pod.phase === 'Succeeded' || pod.phase === 'Failed') continue;
    if (!Object.entries(selector).every(([key, v]) => pod.meta.labels[key] === v)) continue;
    const ports: EndpointPort[] = [];
    for (const sp of svc.ports) {
      const port = resolveTargetPort(sp.targetPort ?? sp.port, sp.protocol, pod);
      if (port === undefined) continue;
      ports.push({ ...(sp.name === undefined ? {} : { name: sp.name }), port, protocol: sp.protocol, ...(sp.appProtocol === undefined ? {} : { appProtocol: sp.appProtocol }) });
    }
    const signature = JSON.stringify(ports);
    let group = groups.get(signature);
    if (group === undefined) groups.set(signature, (group = { ports, endpoints: [] }));
    group.endpoints.push({
      addresses: [...pod.podIPs.slice(0, 1)],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: pod.meta.namespace, name: pod.meta.name },
    });
  }
  return [...groups.values()].map((g, i) => ({
    kind: 'EndpointSlice',
    meta: {
      namespace: svc.meta.namespace,
      name: `${svc.meta.name}-synthesised-${i}`,
      labels: { [SERVICE_NAME_LABEL]: svc.meta.name },
      annotations: {},
    },
    serviceName: svc.meta.name,
    addressType: 'IPv4',
    ports: g.ports,
    endpoints: g.endpoints,
  }));
}

function resolveTargetPort(target: number | string, protocol: string, pod: Pod): number | undefined {
  if (typeof target === 'number') return target;
  for (const c of pod.containers) {
    const cp = c.ports.find((p) => p.name === target && p.protocol === protocol);
    if (cp !== undefined) return cp.containerPort;
  }
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
