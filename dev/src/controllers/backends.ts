/**
 * Which pods back a Service and on which ports, as Kubernetes' endpoint controllers decide: pods in the Service's
 * namespace whose labels match its selector, that have an IP and have not finished; each Service port's targetPort
 * resolved per pod (a number as is, a name through the pod's container ports of that name and protocol — app
 * containers and restartable init containers). A port that does not resolve for a pod is left out for that pod.
 * Pure.
 */
import { matchesServiceSelector } from '@loom/shared/k8s';
import type { KubeObject } from '../api/store.js';
import { isPodReady, rec, records, str, type Json } from './kube.js';

/** A Service port as the endpoints show it. */
export interface BackendPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
  readonly appProtocol?: string;
}

export interface Backend {
  readonly pod: KubeObject;
  readonly ip: string;
  readonly ready: boolean;
  readonly terminating: boolean;
  readonly ports: readonly BackendPort[];
  readonly nodeName?: string;
  /** `spec.hostname` when the pod's subdomain is the Service (headless DNS names). */
  readonly hostname?: string;
}

/** The Service's selector when the endpoint controllers manage it: a non-empty map, not ExternalName. */
export function managedSelector(service: KubeObject): Record<string, string> | undefined {
  const spec = rec(service, 'spec');
  if (spec['type'] === 'ExternalName') return undefined;
  const selector = spec['selector'];
  if (typeof selector !== 'object' || selector === null || Array.isArray(selector)) return undefined;
  const entries = Object.entries(selector).filter((e): e is [string, string] => typeof e[1] === 'string');
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

export const isHeadless = (service: KubeObject): boolean => rec(service, 'spec')['clusterIP'] === 'None';

/** The container port `targetPort` names on `pod` for `protocol` (Kubernetes' podutil.FindPort). */
export function findPort(pod: KubeObject, targetPort: unknown, protocol: string): number | undefined {
  if (typeof targetPort === 'number') return targetPort;
  if (typeof targetPort !== 'string') return undefined;
  if (/^\d+$/.test(targetPort)) return Number(targetPort);
  const spec = rec(pod, 'spec');
  const containers = [...records(spec['containers']), ...records(spec['initContainers']).filter((c) => c['restartPolicy'] === 'Always')];
  for (const c of containers) {
    for (const p of records(c['ports'])) {
      if (p['name'] === targetPort && (p['protocol'] ?? 'TCP') === protocol && typeof p['containerPort'] === 'number') return p['containerPort'];
    }
  }
  return undefined;
}

function servicePorts(service: KubeObject): Json[] {
  return records(rec(service, 'spec')['ports']);
}

/** The pods backing `service` among `pods` (same namespace), in name order. */
export function backendsOf(service: KubeObject, pods: readonly KubeObject[]): Backend[] {
  const selector = managedSelector(service);
  if (selector === undefined) return [];
  const out: Backend[] = [];
  for (const pod of pods) {
    if (pod.metadata.namespace !== service.metadata.namespace) continue;
    if (!matchesServiceSelector(selector, pod.metadata.labels)) continue;
    const status = rec(pod, 'status');
    const phase = status['phase'];
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    const ip = str(status['podIP']);
    if (ip === undefined || ip === '') continue;
    const ports: BackendPort[] = [];
    for (const sp of servicePorts(service)) {
      const protocol = str(sp['protocol']) ?? 'TCP';
      const port = findPort(pod, sp['targetPort'] ?? sp['port'], protocol);
      if (port === undefined) continue;
      const appProtocol = str(sp['appProtocol']);
      ports.push({ name: str(sp['name']) ?? '', port, protocol, ...(appProtocol === undefined ? {} : { appProtocol }) });
    }
    const spec = rec(pod, 'spec');
    const nodeName = str(spec['nodeName']);
    const hostname = str(spec['hostname']);
    const ownDns = hostname !== undefined && hostname !== '' && spec['subdomain'] === service.metadata.name;
    out.push({
      pod,
      ip,
      ready: isPodReady(pod),
      terminating: pod.metadata['deletionTimestamp'] !== undefined,
      ports,
      ...(nodeName === undefined || nodeName === '' ? {} : { nodeName }),
      ...(ownDns ? { hostname } : {}),
    });
  }
  return out.sort((a, b) => a.pod.metadata.name.localeCompare(b.pod.metadata.name));
}

/** A pod as endpoints refer to it. */
export function podRef(pod: KubeObject): Json {
  return { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, ...(pod.metadata.uid === undefined ? {} : { uid: pod.metadata.uid }) };
}

/** A stable text key of a port list (the grouping key of subsets and slices). */
export const portsKey = (ports: readonly BackendPort[]): string =>
  JSON.stringify([...ports].sort((a, b) => a.name.localeCompare(b.name) || a.port - b.port || a.protocol.localeCompare(b.protocol)));

/** Numeric order of dotted IPv4 addresses (text order for anything else). */
export function compareIps(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.length === 4 && pb.length === 4 && [...pa, ...pb].every((n) => Number.isInteger(n))) {
    for (let i = 0; i < 4; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
    return 0;
  }
  return a.localeCompare(b);
}

/** Labels endpoint objects carry from their Service: its own (except the controllers' keys) and the headless mark. */
export function endpointLabels(service: KubeObject, extra: Record<string, string>): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(service.metadata.labels ?? {})) {
    if (k === 'kubernetes.io/service-name' || k === 'endpointslice.kubernetes.io/managed-by' || k === 'service.kubernetes.io/headless') continue;
    labels[k] = v;
  }
  if (isHeadless(service)) labels['service.kubernetes.io/headless'] = '';
  return { ...labels, ...extra };
}
