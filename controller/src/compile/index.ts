/**
 * The policy compiler: `compile(snapshot, proxy)` → the ProxyPolicy of one proxy plus the diagnostics of the
 * objects that shaped it. Pure and deterministic (sorted output): no clock, no I/O, no logger (DESIGN §6).
 */
import type { Diagnostic, ObjectRef } from '@loom/shared/diagnostics';
import type { InboundPort, OutboundService, ProxyPolicy } from '@loom/shared/policy';
import type { Pod } from '@loom/shared/k8s';
import type { MeshSnapshot, ProxyRef } from '../store/snapshot.js';
import { indexOf, type MeshIndex } from './mesh-index.js';
import { declaredProtocol, isMeshed, key, workloadOf } from './registry.js';
import { versionOf } from './version.js';

export interface Compiled {
  readonly policy: ProxyPolicy;
  readonly diagnostics: readonly Diagnostic[];
}

/** The proxy's pod is not in the snapshot. */
export class UnknownProxyError extends Error {
  readonly code = 'UNKNOWN_PROXY';
  constructor(readonly proxy: ProxyRef) {
    super(`pod ${proxy.namespace}/${proxy.pod} does not exist`);
    this.name = 'UnknownProxyError';
  }
}

export function compile(snapshot: MeshSnapshot, proxy: ProxyRef): Compiled {
  const index = indexOf(snapshot);
  const pod = index.registry.pods.get(key(proxy.namespace, proxy.pod));
  if (pod === undefined) throw new UnknownProxyError(proxy);
  const touched: ObjectRef[] = [
    { kind: 'Pod', namespace: pod.meta.namespace, name: pod.meta.name },
    { kind: 'Namespace', namespace: '', name: pod.meta.namespace },
  ];
  const settings = index.settings(pod);
  const identity = index.registry.identityOf(pod);

  const authorizations = [];
  for (const tt of index.targetsFor(pod)) {
    const m = index.authorization(tt);
    touched.push(...m.touched);
    if (m.value !== null) authorizations.push(m.value);
  }

  const outbound: OutboundService[] = [];
  for (const svcKey of index.reachableServices(identity)) {
    const m = index.outboundService(svcKey);
    touched.push(...m.touched);
    if (m.value !== null) outbound.push(m.value);
  }

  const body: Omit<ProxyPolicy, 'version'> = {
    proxy: {
      namespace: pod.meta.namespace,
      pod: pod.meta.name,
      serviceAccount: pod.serviceAccountName,
      identity,
      workload: workloadOf(pod),
    },
    mesh: {
      mode: settings.mode,
      allowUnmeshed: settings.allowUnmeshed,
      pathMatch: snapshot.config.pathMatch,
      outboundUnknown: snapshot.config.outboundUnknown,
    },
    trustBundle: [...snapshot.trustBundle],
    inbound: { ports: inboundPorts(index, pod, touched), authorizations },
    outbound,
  };
  // PERFORMANCE: versionOf(body) === policyVersion(body), reusing the shared parts' canonical JSON (version.ts).
  const policy: ProxyPolicy = { version: versionOf(body, index.canonicalOf), ...body };
  return { policy, diagnostics: index.book.about(touched) };
}

/** Declared protocols of the pod's ports: Services' appProtocol/port names, container port names, opaque-ports. */
function inboundPorts(index: MeshIndex, pod: Pod, touched: ObjectRef[]): InboundPort[] {
  const byPort = new Map<number, InboundPort['protocol']>();
  const declare = (port: number, protocol: InboundPort['protocol']): void => {
    if (protocol !== 'detect' && !byPort.has(port)) byPort.set(port, protocol);
  };
  for (const svc of index.servicesOf(pod)) {
    touched.push({ kind: 'Service', namespace: svc.meta.namespace, name: svc.meta.name });
    for (const sp of svc.ports) {
      if (sp.protocol !== 'TCP') continue;
      const target = index.registry.targetPortOn(svc, pod, sp);
      if (target !== undefined) declare(target, declaredProtocol(sp));
    }
  }
  for (const c of pod.containers) for (const cp of c.ports) if (cp.protocol === 'TCP' && cp.name !== undefined) declare(cp.containerPort, declaredProtocol({ name: cp.name }));
  for (const p of index.settings(pod).opaquePorts) byPort.set(p, 'opaque');
  return [...byPort].map(([port, protocol]) => ({ port, protocol })).sort((a, b) => a.port - b.port);
}

/** Every meshed pod's proxy, sorted: what the controller compiles when the snapshot changes. */
export function meshedProxies(snapshot: MeshSnapshot): ProxyRef[] {
  const index = indexOf(snapshot);
  return [...index.registry.pods.values()]
    .filter(isMeshed)
    .map((p) => ({ namespace: p.meta.namespace, pod: p.meta.name }))
    .sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
}

/** Every diagnostic of the snapshot (for status conditions and `loom why`): forces every lazily computed part. */
export function analyze(snapshot: MeshSnapshot): Diagnostic[] {
  const index = indexOf(snapshot);
  for (const pod of index.registry.pods.values()) index.settings(pod);
  for (const tt of snapshot.smi.trafficTargets) {
    index.authorization(tt);
    index.destinationPods(tt);
  }
  for (const svcKey of index.registry.services.keys()) index.outboundService(svcKey);
  for (const ts of snapshot.smi.trafficSplits) index.outboundService(key(ts.meta.namespace, ts.service));
  return index.book.all();
}

export { isMeshed, workloadOf } from './registry.js';
export type { MeshSnapshot, ProxyRef } from '../store/snapshot.js';
