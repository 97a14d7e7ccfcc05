/** The Loom pair's manifests, through the controller's real loader and compiler: what each proxy is told. */
import t from 'tap';
import { compile } from '@loom/controller/compile';
import { loadManifests } from '@loom/controller/manifests';
import { prepareInbound, prepareOutbound } from '@loom/shared/policy';
import { loomMeshManifests, MESH_NAMESPACE, type LoomMeshLayout } from '../../../src/proxy/pairs/loom-mesh.js';

const layout: LoomMeshLayout = { clientIp: '10.77.0.1', serverIp: '10.77.0.2', serviceIp: '10.96.0.10', ports: { http: 8080, grpc: 50051, tcp: 9000 } };
const CLIENT = `spiffe://cluster.local/ns/${MESH_NAMESPACE}/sa/client`;
const SERVER = `spiffe://cluster.local/ns/${MESH_NAMESPACE}/sa/server`;

const loaded = loadManifests([{ path: 'bench.yaml', text: loomMeshManifests(layout) }]);
const policyOf = (pod: string) => compile(loaded.snapshot, { namespace: MESH_NAMESPACE, pod }).policy;

t.test('the manifests load without errors', (t) => {
  t.same(loaded.diagnostics.filter((d) => d.severity === 'error'), []);
  t.end();
});

t.test("client: the Service's cluster IP carries each upstream port with its protocol to the server pod", (t) => {
  const outbound = prepareOutbound(policyOf('client'));
  const protocols = { http: 'http1', grpc: 'grpc', tcp: 'opaque' } as const;
  for (const [service, port] of Object.entries(layout.ports) as [keyof typeof protocols, number][]) {
    const entry = outbound.lookup(layout.serviceIp, port);
    t.equal(entry?.port.protocol, protocols[service], `${service}: ${port} is ${protocols[service]}`);
    t.same(
      entry?.port.endpoints.map((e) => [e.address, e.port, e.identity]),
      [[layout.serverIp, port, SERVER]],
      `${service}: the one endpoint is the server pod, which must present the server identity`,
    );
  }
  t.equal(outbound.lookup(layout.serviceIp, 1234), undefined, 'no other port');
  t.end();
});

t.test('server: the client identity reaches every HTTP path, gRPC and the TCP port; nobody else does', (t) => {
  const inbound = prepareInbound(policyOf('server'));
  const http = (method: string, path: string) => ({ method, path, headers: (name: string) => (name === 'content-type' && path.startsWith('/bench') ? 'application/grpc' : undefined) });
  const cases = [
    { port: 8080, identity: CLIENT, http: http('GET', '/'), allowed: true },
    { port: 8080, identity: CLIENT, http: http('POST', '/any/path?x=1'), allowed: true },
    { port: 50051, identity: CLIENT, http: http('POST', '/bench.Echo/Unary'), allowed: true },
    { port: 9000, identity: CLIENT, allowed: true },
    { port: 8080, identity: `spiffe://cluster.local/ns/${MESH_NAMESPACE}/sa/intruder`, http: http('GET', '/'), allowed: false },
    { port: 9000, identity: null, allowed: false },
    { port: 9001, identity: CLIENT, allowed: false },
  ];
  for (const c of cases) {
    const decision = inbound.authorize({ port: c.port, protocol: 'tcp', peer: { identity: c.identity }, ...(c.http === undefined ? {} : { http: c.http }) });
    t.equal(decision.allowed, c.allowed, `${c.identity ?? 'plaintext'} → ${c.port} ${c.http?.path ?? '(tcp)'}: ${decision.reason}`);
  }
  t.end();
});
