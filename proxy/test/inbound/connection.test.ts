/**
 * Edge labels of inbound peers, the per-connection edge cache (one EdgeMetrics per admitting decision, of one
 * policy version), and connection counting that always pairs open with close.
 */
import { once } from 'node:events';
import { connect as netConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import type { Decision } from '@loom/shared/policy';
import { silentLogger } from '@loom/shared/runtime';
import { Registry } from 'prom-client';
import t from 'tap';
import { InboundAuthz } from '../../src/inbound/authorize.js';
import { countConnection, inboundEdgeLabels, InboundConnection, routeLabel } from '../../src/inbound/connection.js';
import { proxyMetrics } from '../../src/metrics/families.js';
import { prepareSnapshot, PolicyStore } from '../../src/policy/snapshot.js';
import { allow, httpRoute, testPolicy } from '../support/policy.js';
import { listenOn } from './support.js';

t.test('routeLabel', (t) => {
  t.equal(routeLabel(null), '');
  t.equal(routeLabel({ kind: 'HTTPRouteGroup', namespace: 'shop', name: 'routes', match: 'orders' }), 'shop/routes/orders');
  t.equal(routeLabel({ kind: 'TCPRoute', namespace: 'shop', name: 'db' }), 'shop/db');
  t.end();
});

t.test('inboundEdgeLabels', (t) => {
  t.same(inboundEdgeLabels('spiffe://cluster.local/ns/shop/sa/web', true, 'shop/r/m'), {
    direction: 'inbound',
    peer_namespace: 'shop',
    peer_workload: '',
    peer_identity: 'spiffe://cluster.local/ns/shop/sa/web',
    dst_service: '',
    route: 'shop/r/m',
    tls: 'true',
  });
  t.match(inboundEdgeLabels(null, false, ''), { peer_namespace: '', peer_identity: '', tls: 'false' });
  t.match(inboundEdgeLabels('spiffe://cluster.local/not-a-workload', true, ''), { peer_namespace: '', peer_identity: 'spiffe://cluster.local/not-a-workload' });
  t.end();
});

t.test('edge(): cached per admitting decision; denials, audits and route-less decisions share the unrouted edge', (t) => {
  const conn = new InboundConnection(
    { raw: {} as Socket, port: 8080, peer: '10.0.0.1:5555', identity: 'spiffe://cluster.local/ns/shop/sa/web', tls: true, carried: 'http2' },
    proxyMetrics(new Registry()),
  );
  const admitted: Decision = { allowed: true, audit: false, reason: 'ok', code: 'allowed', trafficTarget: null, route: { kind: 'HTTPRouteGroup', namespace: 'shop', name: 'r', match: 'm' } };
  const edge = conn.edge(admitted);
  t.equal(conn.edge(admitted), edge, 'the same decision, the same handles');
  t.equal(edge.labels.route, 'shop/r/m');
  const unrouted = conn.unrouted();
  t.equal(unrouted.labels.route, '');
  t.equal(conn.edge({ ...admitted, allowed: false, code: 'route-not-matched' }), unrouted, 'a denial');
  t.equal(conn.edge({ ...admitted, audit: true }), unrouted, 'an audit pass');
  t.equal(conn.edge({ ...admitted, route: null }), unrouted, 'no route');
  t.equal(conn.edge(null), unrouted, 'no decision');
  t.end();
});

t.test('the edge cache holds one policy version: a long-lived connection does not grow it per version', (t) => {
  const store = new PolicyStore();
  const metrics = proxyMetrics(new Registry());
  const authz = new InboundAuthz(store, metrics, silentLogger());
  const conn = new InboundConnection(
    { raw: {} as Socket, port: 8080, peer: '10.0.0.1:5555', identity: 'spiffe://cluster.local/ns/shop/sa/web', tls: true, carried: 'http2' },
    metrics,
  );
  const view = { method: 'GET', path: '/orders', headers: () => undefined };
  const edges = new Set<unknown>();
  for (let version = 0; version < 20; version += 1) {
    // Each version differs (a header rule no request sends), so each has its own Decision objects.
    const routes = [httpRoute({ match: 'orders', pathRegex: '/orders' }), httpRoute({ match: `v${version}`, headers: { 'x-version': String(version) } })];
    store.apply(prepareSnapshot(testPolicy({ identity: 'spiffe://cluster.local/ns/shop/sa/api', authorizations: [allow({ sources: ['spiffe://cluster.local/ns/shop/sa/web'], http: routes })] })));
    for (let request = 0; request < 3; request += 1) {
      const decision = authz.check(conn, view);
      t.ok(decision?.allowed);
      edges.add(conn.edge(decision));
    }
  }
  t.equal(conn.cachedEdges, 1, "only the current version's decision is cached");
  t.equal(edges.size, 1, 'and every version still counts on the same edge (the metrics registry caches it by labels)');
  t.end();
});

t.test('countConnection: a socket that closed before its edge was decided is counted opened and closed', async (t) => {
  const registry = new Registry();
  const metrics = proxyMetrics(registry);
  const listener = createServer();
  await listenOn(t, listener);
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = netConnect({ host: '127.0.0.1', port: (listener.address() as AddressInfo).port });
  client.on('error', () => {});
  const [server] = await accepted;
  server.destroy();
  await once(server, 'close');
  client.destroy();
  const edge = metrics.edge(inboundEdgeLabels(null, true, ''));
  countConnection(server, edge, () => true);
  const open = await registry.getSingleMetricAsString('loom_tcp_connections_open');
  t.match(open, /tls="true"\} 0/, 'not left open');
  t.match(await registry.getSingleMetricAsString('loom_tcp_connections_total'), /tls="true",outcome="failure"\} 1/);
});
