/** Edge labels of inbound peers and the per-connection edge cache (one EdgeMetrics per admitting decision). */
import type { Socket } from 'node:net';
import type { Decision } from '@loom/shared/policy';
import { Registry } from 'prom-client';
import t from 'tap';
import { inboundEdgeLabels, InboundConnection, routeLabel } from '../../src/inbound/connection.js';
import { proxyMetrics } from '../../src/metrics/families.js';

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
