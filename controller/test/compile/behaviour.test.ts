/**
 * What the golden fixtures mean: the compiled policies of key scenarios run through the evaluation functions the
 * proxy uses (`prepareInbound(...).authorize`, `prepareOutbound(...).lookup(...).select`), so a fixture that is
 * merely stable but wrong fails here with the user-visible consequence (who may call what, where requests go).
 */
import t, { type Test } from 'tap';
import {
  prepareInbound,
  prepareOutbound,
  type BackendChoice,
  type Decision,
  type DecisionCode,
  type InboundRequest,
  type ProxyPolicy,
} from '@loom/shared/policy';
import { policiesOf } from './fixture-util.js';

const id = (ns: string, sa: string, trustDomain = 'cluster.local'): string => `spiffe://${trustDomain}/ns/${ns}/sa/${sa}`;

/** The policy of the (first) proxy of `namespace` whose workload is `workload`. */
async function scenario(name: string): Promise<(namespace: string, workload: string) => ProxyPolicy> {
  const { policies } = await policiesOf(name);
  return (namespace, workload) => {
    const found = [...policies.values()].find((p) => p.proxy.namespace === namespace && p.proxy.workload === workload);
    if (found === undefined) throw new Error(`${name}: no meshed proxy of workload ${namespace}/${workload}`);
    return found;
  };
}

interface Call {
  readonly from: string | null;
  readonly port: number;
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly protocol?: 'tcp' | 'udp';
}

function request(c: Call): InboundRequest {
  const headers = Object.fromEntries(Object.entries(c.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    port: c.port,
    protocol: c.protocol ?? 'tcp',
    peer: { identity: c.from },
    ...(c.method === undefined ? {} : { http: { method: c.method, path: c.path ?? '/', headers: (n: string) => headers[n] } }),
  };
}

function describeCall(c: Call): string {
  const what = c.method === undefined ? `${c.protocol ?? 'tcp'} connection` : `${c.method} ${c.path ?? '/'}`;
  const hdrs = c.headers === undefined ? '' : ` ${JSON.stringify(c.headers)}`;
  return `${c.from ?? 'plaintext client'} → ${what}${hdrs} on port ${c.port}`;
}

/** Asserts each call's decision: `true`/`false`, or a decision code. */
function expectCalls(t: Test, policy: ProxyPolicy, calls: readonly [Call, boolean | DecisionCode][]): void {
  const inbound = prepareInbound(policy);
  for (const [call, want] of calls) {
    const d: Decision = inbound.authorize(request(call));
    const label = `${policy.proxy.workload}: ${describeCall(call)}`;
    if (typeof want === 'boolean') t.equal(d.allowed, want, `${label} is ${want ? 'allowed' : 'refused'} (${d.reason})`);
    else t.equal(d.code, want, `${label}: ${want} (${d.reason})`);
  }
}

function authorize(policy: ProxyPolicy, call: Call): Decision {
  return prepareInbound(policy).authorize(request(call));
}

/** Where `n` evenly spread draws of requests to `address:port` go: backend service name, or `root`. */
function spread(policy: ProxyPolicy, address: string, port: number, http?: { path?: string; headers?: Record<string, string> }, n = 1000): Record<string, number> {
  const entry = prepareOutbound(policy).lookup(address, port);
  if (entry === undefined) throw new Error(`${policy.proxy.workload} has no outbound entry for ${address}:${port}`);
  const headers = http?.headers ?? {};
  const req = http === undefined ? undefined : { http: { method: 'GET', path: http.path ?? '/', headers: (h: string) => headers[h] } };
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const choice: BackendChoice = entry.select(req, () => (i + 0.5) / n);
    const k = choice.kind === 'root' ? 'root' : choice.backend.service.name;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

function addresses(choice: BackendChoice): string[] {
  return (choice.kind === 'root' ? choice.endpoints : choice.backend.endpoints).map((e) => `${e.address}:${e.port}`);
}

const get = (from: string | null, port: number, path: string, headers?: Record<string, string>): Call => ({ from, port, method: 'GET', path, ...(headers === undefined ? {} : { headers }) });
const post = (from: string | null, port: number, path: string): Call => ({ from, port, method: 'POST', path });

// ---------------------------------------------------------------------------------------------
// Conformance (smi-reference §5)

t.test('conformance traffic-access: default deny, TCPRoute-only target admits HTTP, blocked again', async (t) => {
  const ns = 'smi-access';
  const A = id(ns, 'service-a');
  const C = id(ns, 'service-c');
  const def = await scenario('conformance-access-default');
  const appA = def(ns, 'app-a-deployment');
  t.ok(prepareOutbound(appA).lookup('10.96.10.12', 9091), 'app-a has app-b in its outbound policy (mTLS, so app-b sees its identity)');
  expectCalls(t, def(ns, 'app-b-deployment'), [
    [get(A, 9091, '/echo'), 'no-authorization'],
    [get(null, 9091, '/metrics'), 'unmeshed-allowed'], // the unmeshed harness reads /metrics
  ]);
  expectCalls(t, appA, [[post(null, 9091, '/call'), 'unmeshed-allowed']]);

  const allowed = await scenario('conformance-access-allowed');
  expectCalls(t, allowed(ns, 'app-b-deployment'), [
    [get(A, 9091, '/echo'), true],
    [{ from: A, port: 9091 }, true],
    [get(C, 9091, '/echo'), 'source-not-allowed'],
  ]);

  const blocked = await scenario('conformance-access-blocked');
  for (const w of ['app-a-deployment', 'app-b-deployment', 'app-c-deployment']) {
    t.equal(blocked(ns, w).version, def(ns, w).version, `${w}: blocked policy = default policy`);
  }
  expectCalls(t, blocked(ns, 'app-b-deployment'), [[get(A, 9091, '/echo'), false]]);
});

t.test('conformance traffic-spec: path and method checks', async (t) => {
  const ns = 'smi-spec';
  const A = id(ns, 'service-a');
  const path = await scenario('conformance-spec-path');
  expectCalls(t, path(ns, 'app-b-deployment'), [
    [get(A, 9091, '/metrics'), true],
    [post(A, 9091, '/metrics'), true], // methods ["*"]
    [get(A, 9091, '/metrics?x=1'), true],
    [get(A, 9091, '/echo'), 'route-not-matched'],
    [get(A, 8080, '/metrics'), false], // destination.port "9091" restricts the port
    [get(id(ns, 'service-c'), 9091, '/metrics'), false],
  ]);
  const method = await scenario('conformance-spec-method');
  expectCalls(t, method(ns, 'app-b-deployment'), [
    [get(A, 9091, '/echo'), true],
    [post(A, 9091, '/echo'), 'route-not-matched'],
  ]);
});

t.test('conformance traffic-split: weights 1/0, 0/1, 75/25, and no split', async (t) => {
  const ns = 'smi-split';
  const cases: [string, Record<string, number>][] = [
    ['conformance-split-1-0', { 'app-b': 1000 }],
    ['conformance-split-0-1', { 'app-c': 1000 }],
    ['conformance-split-75-25', { 'app-b': 750, 'app-c': 250 }],
    ['conformance-split-none', { root: 1000 }],
  ];
  for (const [name, want] of cases) {
    const s = await scenario(name);
    t.strictSame(spread(s(ns, 'app-a-deployment'), '10.96.20.10', 9091, { path: '/echo' }), want, `${name}: app-a's requests to app-svc`);
    // No TrafficTarget anywhere: the permissive namespace leaves every port ungoverned.
    expectCalls(t, s(ns, 'app-b-deployment'), [[get(id(ns, 'default'), 9091, '/echo'), 'ungoverned']]);
  }
  const none = await scenario('conformance-split-none');
  const root = prepareOutbound(none(ns, 'app-a-deployment')).lookup('10.96.20.10', 9091)?.select(undefined, () => 0);
  t.strictSame(root === undefined ? [] : addresses(root), ['10.244.2.12:9091', '10.244.2.13:9091'], 'without a split app-svc reaches app-b and app-c');
});

// ---------------------------------------------------------------------------------------------
// Field bugs

t.test('traefik/mesh#747: a TrafficTarget without rules or sources allows nothing', async (t) => {
  const s = await scenario('field-rulesless-traffictarget');
  expectCalls(t, s('demo', 'server'), [[get(id('demo', 'client'), 8080, '/'), 'no-authorization']]);
  t.equal(prepareOutbound(s('demo', 'client')).lookup('10.96.0.10', 8080), undefined, 'client is not sent the server it may not reach');
});

t.test('osm#250: a match the target does not name is refused', async (t) => {
  const s = await scenario('field-unlisted-path');
  const buyer = id('bookstore', 'bookbuyer');
  expectCalls(t, s('bookstore', 'bookstore'), [
    [get(buyer, 14001, '/counter'), true],
    [get(buyer, 14001, '/incrementcounter'), 'route-not-matched'],
  ]);
});

t.test('osm#5297: two targets on one destination are a union, never mixed', async (t) => {
  const s = await scenario('field-two-targets-one-destination');
  const buyer = id('bookstore', 'bookbuyer');
  const thief = id('bookstore', 'bookthief');
  expectCalls(t, s('bookstore', 'bookstore'), [
    [post(buyer, 14001, '/buy'), true],
    [get(buyer, 14001, '/books'), true],
    [get(thief, 14001, '/books'), true],
    [post(thief, 14001, '/buy'), 'route-not-matched'],
  ]);
});

t.test('a split applies in permissive mode', async (t) => {
  const s = await scenario('field-split-permissive');
  t.strictSame(spread(s('shop', 'web'), '10.96.0.100', 8080, { path: '/' }), { 'cart-v1': 900, 'cart-v2': 100 });
  expectCalls(t, s('shop', 'cart-v1'), [[get(id('shop', 'web'), 8080, '/'), 'ungoverned']]);
});

// ---------------------------------------------------------------------------------------------
// smi-reference §3.3

t.test('#8 empty namespace means the TrafficTarget\'s own', async (t) => {
  const s = await scenario('edge-empty-namespace');
  expectCalls(t, s('shop', 'orders'), [
    [{ from: id('shop', 'web'), port: 8080 }, true],
    [{ from: id('jobs', 'batch'), port: 8080 }, true],
    [{ from: id('default', 'web'), port: 8080 }, false],
  ]);
});

t.test('#3 pathRegex: prefix by default, whole path with pathMatch: full', async (t) => {
  const web = id('paths', 'web');
  const prefix = await scenario('edge-path-prefix');
  expectCalls(t, prefix('paths', 'backend'), [
    [get(web, 8080, '/api'), true],
    [get(web, 8080, '/api/v1'), true],
    [get(web, 8080, '/apikey?x=1'), true],
    [get(web, 8080, '/v1/api'), false],
    [get(web, 8080, '/API'), false],
  ]);
  const full = await scenario('edge-path-full');
  expectCalls(t, full('paths', 'backend'), [
    [get(web, 8080, '/api'), true],
    [get(web, 8080, '/api?x=1'), true],
    [get(web, 8080, '/api/v1'), false],
    [get(web, 8080, '/apikey'), false],
  ]);
});

t.test('#4 methods "*" and missing methods mean any method', async (t) => {
  const s = await scenario('edge-methods-wildcard');
  const web = id('methods', 'web');
  expectCalls(t, s('methods', 'backend'), [
    [post(web, 8080, '/any'), true],
    [{ from: web, port: 8080, method: 'DELETE', path: '/mixed' }, true],
    [{ from: web, port: 8080, method: 'PATCH', path: '/unset' }, true],
    [post(web, 8080, '/listed'), true],
    [{ from: web, port: 8080, method: 'DELETE', path: '/listed' }, false],
  ]);
});

t.test('#7 TCPRoute and HTTPRouteGroup in one target combine with AND', async (t) => {
  const s = await scenario('edge-tcp-and-http');
  const web = id('shop', 'web');
  expectCalls(t, s('shop', 'orders'), [
    [get(web, 8080, '/orders/7'), true],
    [post(web, 8080, '/orders'), 'route-not-matched'],
    [get(web, 9090, '/orders'), 'no-authorization'],
    [{ from: web, port: 8080 }, 'not-http'],
  ]);
});

t.test('#9 plaintext clients only where allow-unmeshed says so', async (t) => {
  const s = await scenario('edge-unmeshed-clients');
  expectCalls(t, s('shop', 'frontend'), [[get(null, 8080, '/'), 'unmeshed-allowed']]);
  expectCalls(t, s('ingress', 'gateway'), [[get(null, 8080, '/'), 'unmeshed-allowed']]);
  expectCalls(t, s('shop', 'orders'), [[get(null, 8080, '/'), 'unmeshed-refused']]);
  // Meshed callers still need a TrafficTarget where plaintext is allowed.
  expectCalls(t, s('shop', 'frontend'), [[get(id('shop', 'orders'), 8080, '/'), 'no-authorization']]);
  const legacy = prepareOutbound(s('shop', 'orders')).lookup('10.96.0.12', 8080)?.select(undefined, () => 0);
  t.strictSame(legacy?.kind === 'root' ? legacy.endpoints.map((e) => e.identity) : undefined, [null], 'the unmeshed legacy endpoint expects no identity');
});

t.test('#10 headers: map and list forms, all must match', async (t) => {
  const s = await scenario('edge-headers-forms');
  const web = id('beta', 'web');
  expectCalls(t, s('beta', 'backend'), [
    [get(web, 8080, '/anything', { 'X-Beta': 'on' }), true],
    [get(web, 8080, '/anything', { 'x-beta': 'only' }), false],
    [get(web, 8080, '/anything'), false],
    [{ from: web, port: 8080, method: 'POST', path: '/checkout', headers: { 'x-user': 'bob', 'content-type': 'application/json; charset=utf-8' } }, true],
    [{ from: web, port: 8080, method: 'POST', path: '/checkout', headers: { 'x-user': 'bob' } }, false],
    [{ from: web, port: 8080, method: 'POST', path: '/checkout', headers: { 'x-user': 'mallory', 'content-type': 'application/json' } }, false],
    [get(web, 8080, '/legacy', { cookie: 'a=1; canary=always' }), true],
  ]);
});

t.test('#12 #13 #15 #16 split edge cases', async (t) => {
  const web = (s: (n: string, w: string) => ProxyPolicy): ProxyPolicy => s('shop', 'web');
  const rootAsBackend = await scenario('edge-root-as-backend');
  t.strictSame(spread(web(rootAsBackend), '10.96.0.100', 8080), { cart: 900, 'cart-v2': 100 }, '#12 root as backend');
  const entry = prepareOutbound(web(rootAsBackend)).lookup('10.96.0.100', 8080);
  t.strictSame(entry === undefined ? [] : addresses(entry.select(undefined, () => 0)), ['10.244.0.10:8080', '10.244.0.11:8080'], '#12 the backend "cart" is the root\'s own endpoints');

  t.strictSame(spread(web(await scenario('edge-weight-zero')), '10.96.0.100', 8080), { 'cart-v1': 1000 }, '#13 weight 0 receives nothing');
  t.strictSame(spread(web(await scenario('edge-all-weights-zero')), '10.96.0.100', 8080), { root: 1000 }, '#13 all zero: no split');
  t.strictSame(spread(web(await scenario('edge-invalid-weights')), '10.96.0.100', 8080), { root: 1000 }, '#14 rejected splits do not apply');
  t.strictSame(spread(web(await scenario('edge-conflicting-splits')), '10.96.0.100', 8080), { 'cart-v1': 1000 }, '#15 the oldest split wins');

  const matches = web(await scenario('edge-split-matches'));
  t.strictSame(spread(matches, '10.96.0.100', 8080, { path: '/cart', headers: { 'x-beta': 'on' } }), { 'cart-v2': 1000 }, '#16 matching header: split');
  t.strictSame(spread(matches, '10.96.0.100', 8080, { path: '/beta/cart' }), { 'cart-v2': 1000 }, '#16 matching path: split');
  t.strictSame(spread(matches, '10.96.0.100', 8080, { path: '/cart' }), { root: 1000 }, '#16 unmatched request: root');
  t.strictSame(spread(matches, '10.96.0.100', 8080), { root: 1000 }, '#16 plain TCP: root');

  const nested = await scenario('edge-nested-splits');
  const v2 = prepareOutbound(nested('shop', 'web'))
    .lookup('10.96.0.100', 8080)
    ?.select(undefined, () => 0.99);
  t.strictSame(v2 === undefined ? [] : addresses(v2), ['10.244.0.11:8080', '10.244.0.12:8080'], 'splits do not nest: cart-v2 means its own endpoints');
  t.strictSame(spread(nested('shop', 'web'), '10.96.0.101', 8080), { 'cart-v2-blue': 900, 'cart-v2-green': 100 }, 'cart-v2 addressed directly is split');
});

t.test('#17 access plus split: authorization at the backend pod', async (t) => {
  const s = await scenario('edge-access-plus-split');
  const web = id('shop', 'web');
  t.strictSame(spread(s('shop', 'web'), '10.96.0.100', 8080), { 'cart-v1': 500, 'cart-v2': 500 });
  expectCalls(t, s('shop', 'cart-v1'), [[get(web, 8080, '/'), true]]);
  expectCalls(t, s('shop', 'cart-v2'), [[get(web, 8080, '/'), 'no-authorization']]);
  t.equal(prepareOutbound(s('shop', 'web')).lookup('10.96.0.11', 8080), undefined, 'web is not sent cart-v2, which it may not call directly');
});

t.test('IdentityBinding: destinations are pod-precise, sources cover every scheme; exclusive schemes are rejected', async (t) => {
  const s = await scenario('edge-identitybinding');
  expectCalls(t, s('shop', 'orders'), [
    [{ from: id('shop', 'web'), port: 8080 }, true],
    [{ from: id('shop', 'web-canary'), port: 8080 }, true],
    [{ from: id('shop', 'batch'), port: 8080 }, true],
    [{ from: id('shop', 'orders'), port: 8080 }, false],
  ]);
  expectCalls(t, s('shop', 'orders-admin'), [[{ from: id('shop', 'web'), port: 8080 }, 'no-authorization']]);
  const rejected = await scenario('edge-identitybinding-exclusive');
  expectCalls(t, rejected('shop', 'orders'), [[{ from: id('shop', 'web'), port: 8080 }, 'no-authorization']]);
});

// ---------------------------------------------------------------------------------------------
// Other scenarios

t.test('Flagger canaries: every TrafficSplit version splits the apex canary-first', async (t) => {
  const cases: [string, Record<string, number>][] = [
    ['flagger-v1alpha1', { 'podinfo-canary': 50, 'podinfo-primary': 950 }],
    ['flagger-v1alpha1-milli', { 'podinfo-canary': 50, 'podinfo-primary': 950 }],
    ['flagger-v1alpha2', { 'podinfo-canary': 100, 'podinfo-primary': 900 }],
    ['flagger-v1alpha3', { 'podinfo-canary': 250, 'podinfo-primary': 750 }],
    ['flagger-v1alpha4', { 'podinfo-primary': 1000 }],
  ];
  for (const [name, want] of cases) {
    const s = await scenario(name);
    const lt = s('test', 'flagger-loadtester');
    t.strictSame(spread(lt, '10.96.0.50', 9898, { path: '/' }), want, `${name}: loadtester's requests to the apex`);
    const entry = prepareOutbound(lt).lookup('10.96.0.50', 9898);
    t.strictSame(entry?.weights?.map((w) => w.service), want['podinfo-canary'] === undefined ? ['test/podinfo-primary'] : ['test/podinfo-canary', 'test/podinfo-primary'], `${name}: canary first`);
    expectCalls(t, s('test', 'podinfo'), [[get(id('test', 'flagger-loadtester'), 9898, '/'), true]]);
  }
});

t.test('headless and multi-port services', async (t) => {
  const headless = await scenario('headless-service');
  const out = prepareOutbound(headless('data', 'app'));
  for (const ip of ['10.244.0.10', '10.244.0.11', '10.244.0.12']) {
    const e = out.lookup(ip, 9042);
    t.equal(e?.port.protocol, 'opaque', `headless endpoint ${ip}:9042 is known and opaque`);
    t.strictSame(e === undefined ? [] : addresses(e.select(undefined, () => 0)), [`${ip}:9042`], `a connection to ${ip} stays on that pod`);
  }
  const multi = await scenario('multi-port-service');
  const o = prepareOutbound(multi('shop', 'web'));
  const grpc = o.lookup('10.96.0.10', 9090);
  t.equal(grpc?.port.protocol, 'grpc');
  t.strictSame(grpc === undefined ? [] : addresses(grpc.select(undefined, () => 0)), ['10.244.0.10:50051', '10.244.0.11:50051'], 'targetPort by name resolved per pod');
  t.equal(o.lookup('10.96.0.10', 53), undefined, 'UDP ports are not proxied');
});

t.test('split backends without the port or without endpoints are left out', async (t) => {
  const missing = await scenario('split-backend-missing-port');
  t.strictSame(spread(missing('shop', 'web'), '10.96.0.100', 8080), { 'cart-v1': 500, 'cart-v2': 500 });
  t.strictSame(spread(missing('shop', 'web'), '10.96.0.100', 8081), { 'cart-v1': 1000 });
  const none = await scenario('split-backend-no-endpoints');
  t.strictSame(spread(none('shop', 'web'), '10.96.0.100', 8080), { 'cart-v1': 1000 });
});

t.test('invalid regexes and dangling references fail closed', async (t) => {
  const regex = await scenario('invalid-regex');
  expectCalls(t, regex('regex', 'backend'), [
    [get(id('regex', 'web'), 8080, '/orders/42'), true],
    [get(id('regex', 'web'), 8080, '/orders/abc'), false],
    [get(id('regex', 'web'), 8080, '/ADMIN/users'), true],
    [get(id('regex', 'web'), 8080, '/v2/'), false], // [[:digit:]] was refused, not misread
    [get(id('regex', 'web'), 8080, '/reports'), false], // its header regex was invalid
    [get(id('regex', 'admin'), 8080, '/files/['), false],
  ]);
  const dangling = await scenario('dangling-references');
  expectCalls(t, dangling('shop', 'orders'), [
    [get(id('shop', 'web'), 8080, '/orders'), false],
    [{ from: id('shop', 'web'), port: 8080 }, false],
  ]);
  t.strictSame(spread(dangling('shop', 'web'), '10.96.0.10', 8080, { path: '/orders' }), { 'orders-v2': 1000 }, 'only the existing backend');
  t.strictSame(spread(dangling('shop', 'web'), '10.96.0.10', 8080, { path: '/other' }), { root: 1000 }, 'matches of the existing group still select');
});

t.test('audit mode allows and flags would-be denials on the ports it alone governs', async (t) => {
  const s = await scenario('audit-annotation');
  const web = id('shop', 'web');
  const audited = authorize(s('shop', 'orders'), post(web, 8080, '/orders'));
  t.equal(audited.allowed, true);
  t.equal(audited.audit, true, audited.reason);
  const enforced = authorize(s('shop', 'orders'), post(web, 9090, '/orders'));
  t.equal(enforced.allowed, false, enforced.reason);
  t.equal(authorize(s('shop', 'orders'), get(web, 8080, '/orders')).audit, false, 'admitted requests are not audit findings');
});

t.test('strict mode sends only reachable services; modes follow annotations', async (t) => {
  const s = await scenario('strict-vs-permissive');
  const strictWeb = prepareOutbound(s('strict-shop', 'web'));
  t.ok(strictWeb.lookup('10.96.0.11', 8080), 'strict web: orders (admitted)');
  t.equal(strictWeb.lookup('10.96.0.12', 8080), undefined, 'strict web: not payments');
  t.ok(strictWeb.lookup('10.96.0.13', 8080), 'strict web: reports (permissive pod)');
  t.ok(strictWeb.lookup('10.96.0.16', 8080), 'strict web: open-shop payments');
  t.equal(prepareOutbound(s('open-shop', 'web')).lookup('10.96.0.11', 8080), undefined, 'open-shop web: not strict-shop orders');
  expectCalls(t, s('open-shop', 'orders'), [[get(id('strict-shop', 'payments'), 8080, '/'), 'ungoverned']]);
  expectCalls(t, s('strict-shop', 'payments'), [[get(id('strict-shop', 'web'), 8080, '/'), 'no-authorization']]);

  const m = await scenario('mode-annotations');
  const stranger = id('elsewhere', 'x', 'mesh.example');
  expectCalls(t, m('team-a', 'api'), [[get(stranger, 8080, '/'), 'no-authorization']]);
  expectCalls(t, m('team-a', 'debug'), [[get(stranger, 8080, '/'), 'ungoverned']]);
  // team-b's mode annotations are invalid: read as strict (fail closed) although the mesh is permissive.
  expectCalls(t, m('team-b', 'worker'), [[get(stranger, 8080, '/'), 'no-authorization']]);
});

t.test('UDPRoute, access v1alpha1 destination.port and v1alpha2 targets', async (t) => {
  const s = await scenario('access-udp-and-legacy-versions');
  const client = id('infra', 'client');
  const monitor = id('infra', 'monitor');
  expectCalls(t, s('infra', 'dns'), [
    [{ from: client, port: 5353, protocol: 'udp' }, true],
    [{ from: client, port: 5353 }, true],
    [{ from: client, port: 8053 }, false],
    [get(monitor, 5353, '/health'), true],
    [post(monitor, 5353, '/flush'), false],
    [{ from: monitor, port: 5353, protocol: 'udp' }, false],
  ]);
});
