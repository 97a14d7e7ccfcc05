/**
 * What the Loom pair's control plane compiles: Kubernetes + SMI manifests for a two-pod mesh in namespace
 * `bench`. Pod `client` (ServiceAccount client) is the load generators' namespace, pod `server` (ServiceAccount
 * server) the upstreams'. Service `server` has a cluster IP the generators dial, with the upstream ports declared
 * (HTTP/1.1, gRPC, opaque TCP), and SMI lets `client` reach every HTTP path and the TCP port of `server` — and
 * nothing else. Pure: the control-plane process (control-plane.ts) hands the text to the controller's compiler.
 */
import { meshManifests } from '@loom/e2e';

export const MESH_NAMESPACE = 'bench';

/** The two pods' addresses, the Service's cluster IP and the upstream ports. Plain data (sent over IPC). */
export interface LoomMeshLayout {
  readonly clientIp: string;
  readonly serverIp: string;
  readonly serviceIp: string;
  readonly ports: { readonly http: number; readonly grpc: number; readonly tcp: number };
}

/** Every HTTP path (HTTP/1.1 and gRPC ports), and the TCP port, from client to server. */
function access(tcpPort: number): string {
  return `
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: everything, namespace: ${MESH_NAMESPACE}}
spec:
  matches:
  - {name: all, pathRegex: '.*'}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: {name: sink, namespace: ${MESH_NAMESPACE}}
spec:
  matches:
    ports: [${tcpPort}]
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: client-to-server, namespace: ${MESH_NAMESPACE}}
spec:
  destination: {kind: ServiceAccount, name: server, namespace: ${MESH_NAMESPACE}}
  sources: [{kind: ServiceAccount, name: client, namespace: ${MESH_NAMESPACE}}]
  rules:
  - {kind: HTTPRouteGroup, name: everything, matches: [all]}
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: client-to-server-tcp, namespace: ${MESH_NAMESPACE}}
spec:
  destination: {kind: ServiceAccount, name: server, namespace: ${MESH_NAMESPACE}}
  sources: [{kind: ServiceAccount, name: client, namespace: ${MESH_NAMESPACE}}]
  rules:
  - {kind: TCPRoute, name: sink}
`;
}

export function loomMeshManifests(layout: LoomMeshLayout): string {
  const { ports } = layout;
  const servicePorts = [
    { name: 'http', port: ports.http, appProtocol: 'http' },
    { name: 'grpc', port: ports.grpc, appProtocol: 'grpc' },
    { name: 'tcp-sink', port: ports.tcp, appProtocol: 'tcp' },
  ];
  return meshManifests({
    namespaces: [{ name: MESH_NAMESPACE }],
    pods: [
      { name: 'client', namespace: MESH_NAMESPACE, serviceAccount: 'client', ip: layout.clientIp, labels: { app: 'client' } },
      {
        name: 'server',
        namespace: MESH_NAMESPACE,
        serviceAccount: 'server',
        ip: layout.serverIp,
        labels: { app: 'server' },
        ports: servicePorts.map((p) => ({ name: p.name, containerPort: p.port })),
      },
    ],
    services: [{ name: 'server', namespace: MESH_NAMESPACE, clusterIP: layout.serviceIp, selector: { app: 'server' }, ports: servicePorts }],
    smi: access(ports.tcp),
  });
}
