/**
 * Service registry: who is where. Pods, Services and EndpointSlices → per service port, the endpoints with
 * their resolved target ports and expected identities. Built once per snapshot; pure.
 */
import { DiagnosticCode } from '@loom/shared/diagnostics';
import { spiffeId } from '@loom/shared/identity';
import { PROXY_CONTAINER_NAME, type EndpointSlice, type Pod, type Service, type ServicePort } from '@loom/shared/k8s';
import type { AppProtocol, Endpoint, NamespacedName } from '@loom/shared/policy';
import type { MeshSnapshot } from '../store/snapshot.js';
import type { DiagnosticBook } from './diagnostics.js';
import { cmp } from './routes.js';

export const key = (namespace: string, name: string): string => `${namespace}/${name}`;

/** A pod is meshed when it carries the sidecar (a container or native sidecar named `loom-proxy`). */
export function isMeshed(pod: Pod): boolean {
  return pod.containers.some((c) => c.name === PROXY_CONTAINER_NAME) || pod.initContainers.some((c) => c.name === PROXY_CONTAINER_NAME);
}

/** The workload a pod belongs to, for metrics labels: Deployment from a ReplicaSet's name, else the controller owner, else the pod. */
export function workloadOf(pod: Pod): string {
  const owner = pod.meta.ownerReferences?.find((o) => o.controller === true) ?? pod.meta.ownerReferences?.[0];
  if (owner === undefined) return pod.meta.name;
  if (owner.kind === 'ReplicaSet') {
    const hash = pod.meta.labels['pod-template-hash'];
    if (hash !== undefined && owner.name.endsWith(`-${hash}`)) return owner.name.slice(0, -hash.length - 1);
  }
  return owner.name;
}

export class Registry {
  readonly pods = new Map<string, Pod>();
  readonly services = new Map<string, Service>();
  /** `ns/sa` → pods running as it. */
  readonly podsBySa = new Map<string, Pod[]>();
  /** Pod IP → pod (for endpoints without a targetRef). */
  readonly podsByIp = new Map<string, Pod>();
  readonly slicesByService = new Map<string, EndpointSlice[]>();
  /** Pod key → services that have it as an endpoint. */
  readonly servicesByPod = new Map<string, Set<string>>();
  readonly #endpoints = new Map<string, Endpoint[]>();
  readonly #podByRef = new Map<object, Pod | null>();

  constructor(
    private readonly snapshot: MeshSnapshot,
    private readonly book: DiagnosticBook,
  ) {
    for (const pod of snapshot.pods) {
      const k = key(pod.meta.namespace, pod.meta.name);
      this.pods.set(k, pod);
      push(this.podsBySa, key(pod.meta.namespace, pod.serviceAccountName), pod);
      if (!pod.hostNetwork) for (const ip of pod.podIPs) this.podsByIp.set(ip, pod);
    }
    for (const svc of snapshot.services) this.services.set(key(svc.meta.namespace, svc.meta.name), svc);
    for (const slice of snapshot.endpointSlices) {
      if (slice.serviceName === undefined) continue;
      const svcKey = key(slice.meta.namespace, slice.serviceName);
      push(this.slicesByService, svcKey, slice);
      for (const ep of slice.endpoints) {
        const pod = this.podOf(ep.targetRef, ep.addresses, slice.meta.namespace);
        if (pod === undefined) continue;
        const podKey = key(pod.meta.namespace, pod.meta.name);
        let set = this.servicesByPod.get(podKey);
        if (set === undefined) this.servicesByPod.set(podKey, (set = new Set()));
        set.add(svcKey);
      }
    }
  }

  identityOf(pod: Pod): string {
    return spiffeId(this.snapshot.config.trustDomain, pod.meta.namespace, pod.serviceAccountName);
  }

  podOf(targetRef: { kind: string; namespace?: string; name: string } | undefined, addresses: readonly string[], namespace: string): Pod | undefined {
    if (targetRef !== undefined && targetRef.kind === 'Pod') {
      // PERFORMANCE: every endpoint is resolved several times per snapshot (here, reachability, endpoints());
      // memoised by the targetRef object, which belongs to one slice (so one namespace), to skip building keys.
      let pod = this.#podByRef.get(targetRef);
      if (pod === undefined) this.#podByRef.set(targetRef, (pod = this.pods.get(key(targetRef.namespace ?? namespace, targetRef.name)) ?? null));
      return pod ?? undefined;
    }
    for (const a of addresses) {
      const p = this.podsByIp.get(a);
      if (p !== undefined) return p;
    }
    return undefined;
  }

  /**
   * Endpoints of a service port, sorted by address: from the service's EndpointSlices, matching the slice port
   * by name (Kubernetes names slice ports after service ports). Ready and serving-while-terminating endpoints only.
   */
  endpoints(svc: Service, port: ServicePort): readonly Endpoint[] {
    const k = `${svc.meta.namespace}/${svc.meta.name}:${port.port}/${port.protocol}`;
    const cached = this.#endpoints.get(k);
    if (cached !== undefined) return cached;
    const out = new Map<string, Endpoint>();
    for (const slice of this.slicesByService.get(key(svc.meta.namespace, svc.meta.name)) ?? []) {
      if (slice.addressType === 'FQDN') continue;
      const sp = slice.ports.find((p) => (p.name ?? '') === (port.name ?? '') && p.protocol === port.protocol);
      if (sp?.port === undefined) continue;
      for (const ep of slice.endpoints) {
        const ready = ep.conditions.ready !== false;
        if (!ready && !(ep.conditions.serving === true && ep.conditions.terminating === true)) continue;
        const pod = this.podOf(ep.targetRef, ep.addresses, slice.meta.namespace);
        const identity = pod !== undefined && isMeshed(pod) ? this.identityOf(pod) : null;
        const podRef: NamespacedName | null = pod === undefined ? null : { namespace: pod.meta.namespace, name: pod.meta.name };
        for (const address of ep.addresses) {
          out.set(`${address}:${sp.port}`, { address, port: sp.port, identity, pod: podRef, ready });
        }
      }
    }
    const list = [...out.values()].sort((a, b) => cmp(a.address, b.address) || a.port - b.port);
    this.#endpoints.set(k, list);
    return list;
  }

  /** Resolve a Service port's targetPort on one pod: a number, or a named container port. */
  targetPortOn(svc: Service, pod: Pod, port: ServicePort): number | undefined {
    const t = port.targetPort ?? port.port;
    if (typeof t === 'number') return t;
    for (const c of pod.containers) {
      const cp = c.ports.find((p) => p.name === t && p.protocol === port.protocol);
      if (cp !== undefined) return cp.containerPort;
    }
    this.book.add(
      DiagnosticCode.DanglingReference,
      'warning',
      { kind: 'Service', namespace: svc.meta.namespace, name: svc.meta.name },
      `targetPort "${t}" names no container port of pod ${pod.meta.namespace}/${pod.meta.name}`,
      `spec.ports[${svc.ports.indexOf(port)}].targetPort`,
    );
    return undefined;
  }
}

const HTTP1 = new Set(['http', 'http1', 'http/1.1', 'kubernetes.io/ws']);
const HTTP2 = new Set(['http2', 'h2c', 'kubernetes.io/h2c']);
const GRPC = new Set(['grpc', 'grpc-web']);
const OPAQUE = new Set(['tcp', 'opaque', 'tls', 'https', 'kubernetes.io/wss', 'mysql', 'redis', 'mongo']);

/** Declared application protocol of a port: `appProtocol` first, then the port name or its prefix before `-`. */
export function declaredProtocol(port: { name?: string; appProtocol?: string }): AppProtocol {
  const ap = port.appProtocol?.toLowerCase();
  const byName = (n: string): AppProtocol | undefined =>
    HTTP1.has(n) ? 'http1' : HTTP2.has(n) ? 'http2' : GRPC.has(n) ? 'grpc' : OPAQUE.has(n) ? 'opaque' : undefined;
  const fromAp = ap === undefined ? undefined : byName(ap);
  if (fromAp !== undefined) return fromAp;
  const name = port.name?.toLowerCase() ?? '';
  return byName(name) ?? byName(name.split('-')[0] ?? '') ?? 'detect';
}

function push<K, V>(map: Map<K, V[]>, k: K, v: V): void {
  const list = map.get(k);
  if (list === undefined) map.set(k, [v]);
  else list.push(v);
}
