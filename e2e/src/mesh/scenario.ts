/**
 * The standard end-to-end scenario: namespace `shop` (strict mode), a client pod `web` (ServiceAccount web),
 * two server pods `api-v1` / `api-v2` (ServiceAccount api) running the echo application, Services `api` (both
 * pods), `api-v1`, `api-v2` with cluster IPs (ports: http 8080, grpc 8081, h2c 8082, undeclared 8083, opaque TCP
 * 9090 and 9091), and SMI access rules letting `web` call `/echo`, `/status`, `/ws`, the gRPC echo service, and
 * TCP port 9090 on `api` — nothing else (so TCP to 9091 is denied).
 *
 * On a dual-stack topology the pods also have IPv6 addresses, and Service `api-v6` (an IPv6 cluster IP, an
 * IPv6 EndpointSlice) selects `api-v1`.
 *
 * An impostor, in meshes that include it ({@link IMPOSTOR}): pod `api-impostor` that the manifests say runs as
 * ServiceAccount `api` (so clients expect `spiffe://…/sa/api` from it, and Service `api-impostor` selects it),
 * while its token proves ServiceAccount `evil`: its certificate names `…/sa/evil`.
 */
import type { PodSpec } from './harness.js';
import { meshManifests, type ServiceDef } from './manifests.js';

export const NS = 'shop';
export const VIP = { api: '10.96.50.10', v1: '10.96.50.11', v2: '10.96.50.12', impostor: '10.96.50.13' } as const;
/** The IPv6 cluster IP of `api-v6` (written as the kernel prints it: the proxy looks addresses up as strings). */
export const VIP6 = 'fd00:10:96::50:10';
export const PORTS = { http: 8080, grpc: 8081, h2: 8082, alt: 8083, tcp: 9090, tcpOther: 9091 } as const;

export const PODS: readonly PodSpec[] = [
  { name: 'web', namespace: NS, serviceAccount: 'web' },
  { name: 'api-v1', namespace: NS, serviceAccount: 'api', echo: true },
  { name: 'api-v2', namespace: NS, serviceAccount: 'api', echo: true },
];

/** The impostor pod: its proxy proves `evil`; it logs every connection its application accepts. */
export const IMPOSTOR: PodSpec = { name: 'api-impostor', namespace: NS, serviceAccount: 'evil', echo: true, appEnv: { LOG_REQUESTS: '1' }, awaits: 'certificate' };

const ports = [
  { name: 'http', port: PORTS.http },
  { name: 'grpc', port: PORTS.grpc, appProtocol: 'grpc' },
  { name: 'h2', port: PORTS.h2, appProtocol: 'kubernetes.io/h2c' },
  { name: 'alt', port: PORTS.alt },
  { name: 'tcp-echo', port: PORTS.tcp, appProtocol: 'tcp' },
  { name: 'tcp-other', port: PORTS.tcpOther, appProtocol: 'tcp' },
];

export const SERVICES: readonly ServiceDef[] = [
  { name: 'api', namespace: NS, clusterIP: VIP.api, selector: { app: 'api' }, ports },
  { name: 'api-v1', namespace: NS, clusterIP: VIP.v1, selector: { app: 'api', version: 'v1' }, ports },
  { name: 'api-v2', namespace: NS, clusterIP: VIP.v2, selector: { app: 'api', version: 'v2' }, ports },
  { name: 'api-v6', namespace: NS, clusterIP: VIP6, selector: { app: 'api', version: 'v1' }, ports },
];

const IMPOSTOR_SERVICE: ServiceDef = { name: 'api-impostor', namespace: NS, clusterIP: VIP.impostor, selector: { app: 'impostor' }, ports };

export const ACCESS = `
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: api-routes, namespace: shop}
spec:
  matches:
  - {name: echo, pathRegex: /echo}
  - {name: status, pathRegex: /status}
  - {name: ws, pathRegex: /ws}
  - {name: grpc, pathRegex: '/loom\\.e2e\\.echo\\.Echo/', methods: [POST]}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: {name: api-tcp, namespace: shop}
spec:
  matches:
    ports: [9090]
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: web-to-api, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: api, namespace: shop}
  sources: [{kind: ServiceAccount, name: web, namespace: shop}]
  rules:
  - {kind: HTTPRouteGroup, name: api-routes, matches: [echo, status, ws, grpc]}
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: web-to-api-tcp, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: api, namespace: shop}
  sources: [{kind: ServiceAccount, name: web, namespace: shop}]
  rules:
  - {kind: TCPRoute, name: api-tcp}
`;

export function split(v1: number, v2: number): string {
  return `
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: {name: api-rollout, namespace: shop}
spec:
  service: api
  backends:
  - {service: api-v1, weight: ${v1}}
  - {service: api-v2, weight: ${v2}}
`;
}

/**
 * The scenario's manifests for the pods' addresses (`ips6`: their IPv6 ones on a dual-stack topology), with extra
 * SMI documents appended. The impostor's pod and Service are included when the mesh has the impostor pod.
 */
export function manifests(ips: ReadonlyMap<string, string>, smi: string = ACCESS, ips6: ReadonlyMap<string, string> = new Map()): string {
  const ip = (name: string): string => ips.get(name) ?? '0.0.0.0';
  const impostor = ips.has(IMPOSTOR.name);
  const podPorts = [
    { name: 'http', containerPort: PORTS.http },
    { name: 'grpc', containerPort: PORTS.grpc },
    { name: 'h2', containerPort: PORTS.h2 },
    { name: 'alt', containerPort: PORTS.alt },
    { name: 'tcp-echo', containerPort: PORTS.tcp },
    { name: 'tcp-other', containerPort: PORTS.tcpOther },
  ];
  return meshManifests({
    namespaces: [{ name: NS }],
    pods: [
      { name: 'web', namespace: NS, serviceAccount: 'web', ip: ip('web'), ip6: ips6.get('web'), labels: { app: 'web' } },
      { name: 'api-v1', namespace: NS, serviceAccount: 'api', ip: ip('api-v1'), ip6: ips6.get('api-v1'), labels: { app: 'api', version: 'v1' }, ports: podPorts },
      { name: 'api-v2', namespace: NS, serviceAccount: 'api', ip: ip('api-v2'), ip6: ips6.get('api-v2'), labels: { app: 'api', version: 'v2' }, ports: podPorts },
      // The manifests say `api`; the pod's token proves `evil`.
      ...(impostor ? [{ name: IMPOSTOR.name, namespace: NS, serviceAccount: 'api', ip: ip(IMPOSTOR.name), labels: { app: 'impostor' }, ports: podPorts }] : []),
    ],
    services: impostor ? [...SERVICES, IMPOSTOR_SERVICE] : SERVICES,
    smi,
  });
}
