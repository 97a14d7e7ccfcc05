/**
 * Which connection-level decisions deny a peer everything on a port (the HTTP connections a policy change
 * closes), from real prepared policies; and the denial's `port` label, bounded by what the policy names.
 */
import { prepareInbound, type ProxyPolicy } from '@loom/shared/policy';
import { silentLogger } from '@loom/shared/runtime';
import type { Socket } from 'node:net';
import { Registry } from 'prom-client';
import t from 'tap';
import { deniedOutright, InboundAuthz } from '../../src/inbound/authorize.js';
import { InboundConnection } from '../../src/inbound/connection.js';
import { proxyMetrics } from '../../src/metrics/families.js';
import { prepareSnapshot, PolicyStore } from '../../src/policy/snapshot.js';
import { allow, httpRoute, testPolicy } from '../support/policy.js';

const API = 'spiffe://cluster.local/ns/shop/sa/api';
const WEB = 'spiffe://cluster.local/ns/shop/sa/web';
const policyFor = (options: Parameters<typeof testPolicy>[0] = {}): ProxyPolicy => testPolicy({ identity: API, ...options });

t.test('deniedOutright: only a denial that no HTTP request could turn into an admission', (t) => {
  const cases: [string, ProxyPolicy, string | null, string, boolean][] = [
    ['allowed (L4 rule)', policyFor({ authorizations: [allow({ sources: [WEB] })] }), WEB, 'allowed', false],
    ['HTTP rules for this peer: a request may match', policyFor({ authorizations: [allow({ sources: [WEB], http: [httpRoute({ pathRegex: '/a' })] })] }), WEB, 'not-http', false],
    ['another source only', policyFor({ authorizations: [allow({ sources: ['spiffe://cluster.local/ns/shop/sa/cart'] })] }), WEB, 'source-not-allowed', true],
    ['another source only, with HTTP rules', policyFor({ authorizations: [allow({ sources: ['spiffe://cluster.local/ns/shop/sa/cart'], http: [httpRoute()] })] }), WEB, 'source-not-allowed', true],
    ['this peer on other ports only', policyFor({ authorizations: [allow({ sources: [WEB], ports: [9090] }), allow({ sources: ['spiffe://cluster.local/ns/shop/sa/cart'], target: { namespace: 'shop', name: 'b' } })] }), WEB, 'port-not-allowed', true],
    ['strict, nothing governs the port', policyFor({ authorizations: [allow({ sources: [WEB], ports: [9090] })] }), WEB, 'no-authorization', true],
    ['plaintext, strict', policyFor({ authorizations: [allow({ sources: [WEB] })] }), null, 'unmeshed-refused', true],
    ['plaintext, allow-unmeshed', policyFor({ mesh: { allowUnmeshed: true } }), null, 'unmeshed-allowed', false],
    ['permissive, ungoverned', policyFor({ mesh: { mode: 'permissive' } }), WEB, 'ungoverned', false],
    ['audit: would deny, lets through', policyFor({ authorizations: [allow({ sources: ['spiffe://cluster.local/ns/shop/sa/cart'], audit: true })] }), WEB, 'source-not-allowed', false],
  ];
  for (const [name, policy, identity, code, outright] of cases) {
    const decision = prepareInbound(policy).authorize({ port: 8080, protocol: 'tcp', peer: { identity } });
    t.equal(decision.code, code, `${name}: code`);
    t.equal(deniedOutright(decision), outright, `${name}: ${outright ? 'denied outright' : 'not denied outright'}`);
  }
  t.end();
});

t.test('denials are counted with the port when the policy names it, else port="other"', async (t) => {
  const registry = new Registry();
  const metrics = proxyMetrics(registry);
  const store = new PolicyStore();
  store.apply(prepareSnapshot(policyFor({ inboundPorts: { 8080: 'http1' }, authorizations: [allow({ sources: ['spiffe://cluster.local/ns/shop/sa/cart'], ports: [9090] })] })));
  const authz = new InboundAuthz(store, metrics, silentLogger());
  for (let port = 8000; port < 8200; port += 1) {
    authz.check(new InboundConnection({ raw: {} as Socket, port, peer: '10.0.0.1:1', identity: WEB, tls: true, carried: 'opaque' }, metrics));
  }
  authz.check(new InboundConnection({ raw: {} as Socket, port: 9090, peer: '10.0.0.1:1', identity: WEB, tls: true, carried: 'opaque' }, metrics));
  const text = await registry.getSingleMetricAsString('loom_authz_denied_total');
  const series = text.split('\n').filter((l) => l.startsWith('loom_authz_denied_total{'));
  t.equal(series.length, 3, '200 scanned ports make three series, not 200');
  t.match(text, /port="8080",code="no-authorization",audit="false"\} 1/, 'a declared port');
  t.match(text, /port="9090",code="source-not-allowed",audit="false"\} 1/, "a port of an authorization's rules");
  t.match(text, /port="other",code="no-authorization",audit="false"\} 199/, 'every other port');
});
