/**
 * Kubernetes objects for an end-to-end mesh, as the API server would hold them (Pods with their IPs and the
 * `loom-proxy` sidecar the injector adds, Services with cluster IPs, EndpointSlices of ready pods), written as JSON
 * documents (valid YAML) for the controller's manifest loader. SMI objects are added by the test as YAML text.
 * Pods may be dual-stack (`ip6`); a Service whose cluster IP is IPv6 is single-stack IPv6 (`ipFamilies: [IPv6]`)
 * and its EndpointSlice has `addressType: IPv6` with the selected pods' IPv6 addresses.
 */
import { isIPv6 } from 'node:net';

export interface MeshPodDef {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly ip: string;
  /** The pod's IPv6 address on a dual-stack topology. */
  readonly ip6?: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ports?: readonly { readonly name: string; readonly containerPort: number }[];
  /** Default true: the pod carries the `loom-proxy` sidecar. */
  readonly meshed?: boolean;
}

export interface ServiceDef {
  readonly name: string;
  readonly namespace: string;
  /** Cluster IP (IPv4, or IPv6 for an IPv6 Service), or `None` for headless. */
  readonly clusterIP: string;
  readonly selector: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly name: string; readonly port: number; readonly targetPort?: number; readonly appProtocol?: string }[];
}

export interface NamespaceDef {
  readonly name: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

const matches = (labels: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

function namespaceDoc(ns: NamespaceDef): object {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name, labels: { 'loom.dev/inject': 'enabled' }, annotations: { ...ns.annotations } } };
}

function serviceAccountDoc(namespace: string, name: string): object {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } };
}

function podDoc(pod: MeshPodDef): object {
  const containers: object[] = [{ name: 'app', image: 'example.invalid/app:1', ports: (pod.ports ?? []).map((p) => ({ ...p, protocol: 'TCP' })) }];
  if (pod.meshed !== false) containers.push({ name: 'loom-proxy', image: 'loom:dev', ports: [{ name: 'loom-admin', containerPort: 15020, protocol: 'TCP' }] });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, namespace: pod.namespace, labels: { ...pod.labels }, annotations: { ...pod.annotations } },
    spec: { serviceAccountName: pod.serviceAccount, containers },
    status: { phase: 'Running', podIP: pod.ip, podIPs: [{ ip: pod.ip }, ...(pod.ip6 === undefined ? [] : [{ ip: pod.ip6 }])] },
  };
}

function serviceDoc(svc: ServiceDef): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: svc.name, namespace: svc.namespace },
    spec: {
      clusterIP: svc.clusterIP,
      ...(svc.clusterIP === 'None' ? {} : { clusterIPs: [svc.clusterIP] }),
      ipFamilies: [isIPv6(svc.clusterIP) ? 'IPv6' : 'IPv4'],
      selector: { ...svc.selector },
      ports: svc.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort ?? p.port, protocol: 'TCP', ...(p.appProtocol === undefined ? {} : { appProtocol: p.appProtocol }) })),
    },
  };
}

function endpointSliceDoc(svc: ServiceDef, pods: readonly MeshPodDef[]): object {
  const v6 = isIPv6(svc.clusterIP);
  const selected = pods.filter((p) => p.namespace === svc.namespace && matches(p.labels, svc.selector) && (!v6 || p.ip6 !== undefined));
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc.name}-e2e`, namespace: svc.namespace, labels: { 'kubernetes.io/service-name': svc.name } },
    addressType: v6 ? 'IPv6' : 'IPv4',
    ports: svc.ports.map((p) => ({ name: p.name, port: p.targetPort ?? p.port, protocol: 'TCP', ...(p.appProtocol === undefined ? {} : { appProtocol: p.appProtocol }) })),
    endpoints: selected.map((p) => ({
      addresses: [v6 ? (p.ip6 ?? '') : p.ip],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: p.namespace, name: p.name },
    })),
  };
}

/** Every object of the mesh as a multi-document YAML stream, followed by `smi` (YAML text) verbatim. */
export function meshManifests(defs: {
  readonly namespaces: readonly NamespaceDef[];
  readonly pods: readonly MeshPodDef[];
  readonly services: readonly ServiceDef[];
  readonly smi?: string;
}): string {
  const docs: object[] = [];
  for (const ns of defs.namespaces) docs.push(namespaceDoc(ns));
  const accounts = new Set(defs.pods.map((p) => `${p.namespace}/${p.serviceAccount}`));
  for (const a of accounts) {
    const [namespace = '', name = ''] = a.split('/');
    docs.push(serviceAccountDoc(namespace, name));
  }
  for (const pod of defs.pods) docs.push(podDoc(pod));
  for (const svc of defs.services) {
    docs.push(serviceDoc(svc));
    docs.push(endpointSliceDoc(svc, defs.pods));
  }
  const text = docs.map((d) => JSON.stringify(d, null, 1)).join('\n---\n');
  return defs.smi === undefined ? text : `${text}\n---\n${defs.smi.trim()}\n`;
}
