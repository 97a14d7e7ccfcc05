import t from 'tap';
import type { Backend, Endpoint, HttpRoute, MeshSettings, OutboundPort, OutboundService, ProxyPolicy, Split } from '../../src/policy/model.js';
import { prepareOutbound, selectBackend, splitWeights, type BackendChoice, type SplitRequest } from '../../src/policy/split.js';

// ---------------------------------------------------------------------------------------------
// Builders

/** mulberry32: a small seeded PRNG returning [0, 1). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function ep(address: string, port = 8080): Endpoint {
  return { address, port, identity: 'spiffe://cluster.local/ns/shop/sa/cart', pod: { namespace: 'shop', name: `pod-${address}` }, ready: true };
}

function backend(name: string, weight: number, address: string): Backend {
  return { service: { namespace: 'shop', name }, weight, endpoints: [ep(address)] };
}

function split(backends: Backend[], matches: HttpRoute[] | null = null): Split {
  return { trafficSplit: { namespace: 'shop', name: 'cart-rollout' }, matches, backends };
}

function port(s: Split | null, endpoints: Endpoint[] = [ep('10.1.0.1')]): OutboundPort {
  return { port: 80, protocol: 'http1', endpoints, split: s };
}

function service(name: string, ports: OutboundPort[], vips: string[] = ['10.96.0.10']): OutboundService {
  return { service: { namespace: 'shop', name }, vips, headless: vips.length === 0, ports };
}

function policy(outbound: OutboundService[], mesh: Partial<MeshSettings> = {}): ProxyPolicy {
  return {
    version: 'v1',
    proxy: { namespace: 'shop', pod: 'web-0', serviceAccount: 'web', identity: 'spiffe://cluster.local/ns/shop/sa/web', workload: 'web' },
    mesh: { mode: 'strict', allowUnmeshed: false, pathMatch: 'prefix', outboundUnknown: 'passthrough', ...mesh },
    trustBundle: [],
    inbound: { ports: [], authorizations: [] },
    outbound,
  };
}

const beta: HttpRoute = {
  route: { kind: 'HTTPRouteGroup', namespace: 'shop', name: 'beta-users', match: 'beta' },
  pathRegex: '/cart',
  methods: null,
  headers: [{ name: 'x-beta', value: 'on' }],
};

function get(path: string, headers: Record<string, string> = {}): SplitRequest {
  return { http: { method: 'GET', path, headers: (n) => headers[n] } };
}

const TCP: SplitRequest = {};

function label(c: BackendChoice): string {
  return c.kind === 'root' ? `root:${c.endpoints.map((e) => e.address).join(',')}` : c.backend.service.name;
}

function draw(p: OutboundPort, req: SplitRequest, n: number, seed = 42): Map<string, number> {
  const entry = prepareOutbound(policy([service('cart', [p])])).lookup('10.96.0.10', 80);
  if (entry === undefined) throw new Error('no entry');
  const random = seeded(seed);
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = label(entry.select(req, random));
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------

t.test('weighted choice: 90/10 over 10,000 draws', (t) => {
  const counts = draw(port(split([backend('cart-v1', 90, '10.1.1.1'), backend('cart-v2', 10, '10.1.2.1')])), TCP, 10_000);
  const v1 = counts.get('cart-v1') ?? 0;
  const v2 = counts.get('cart-v2') ?? 0;
  t.equal(v1 + v2, 10_000, 'every draw goes to a backend');
  // Binomial sd = sqrt(10000 * 0.9 * 0.1) = 30; allow 5 sd.
  t.ok(Math.abs(v2 - 1000) <= 150, `cart-v2 got ${v2}, expected about 1000`);
  t.end();
});

t.test('relative weights need not sum to 100 (1000 and 500: a third)', (t) => {
  const counts = draw(port(split([backend('cart-v1', 1000, '10.1.1.1'), backend('cart-v2', 500, '10.1.2.1')])), get('/'), 9_000, 7);
  t.ok(Math.abs((counts.get('cart-v2') ?? 0) - 3000) <= 250, `cart-v2 got ${counts.get('cart-v2')}`);
  t.end();
});

t.test('zero weight is never chosen', (t) => {
  const counts = draw(port(split([backend('cart-v1', 0, '10.1.1.1'), backend('cart-v2', 100, '10.1.2.1'), backend('cart-v3', 0, '10.1.3.1')])), TCP, 10_000, 3);
  t.same([...counts.entries()], [['cart-v2', 10_000]]);
  t.end();
});

t.test('draw boundaries', (t) => {
  const p = port(split([backend('cart-v1', 90, '10.1.1.1'), backend('cart-v2', 10, '10.1.2.1')]));
  const cases: [number, string][] = [
    [0, 'cart-v1'],
    [0.8999, 'cart-v1'],
    [0.9, 'cart-v2'],
    [0.999999, 'cart-v2'],
    [1, 'cart-v2'], // out of contract; still a backend
  ];
  for (const [r, want] of cases) t.equal(label(selectBackend(p, TCP, () => r, 'prefix')), want, `random ${r}`);
  t.end();
});

t.test('when the root is used', (t) => {
  const cases: { name: string; port: OutboundPort; req: SplitRequest; want: string }[] = [
    { name: 'no split', port: port(null), req: get('/'), want: 'root:10.1.0.1' },
    { name: 'split without backends', port: port(split([])), req: get('/'), want: 'root:10.1.0.1' },
    { name: 'all weights zero', port: port(split([backend('cart-v1', 0, '10.1.1.1'), backend('cart-v2', 0, '10.1.2.1')])), req: TCP, want: 'root:10.1.0.1' },
    { name: 'matches: matching request is split', port: port(split([backend('cart-v2', 100, '10.1.2.1')], [beta])), req: get('/cart/1?x=1', { 'x-beta': 'on' }), want: 'cart-v2' },
    { name: 'matches: header missing goes to root', port: port(split([backend('cart-v2', 100, '10.1.2.1')], [beta])), req: get('/cart/1'), want: 'root:10.1.0.1' },
    { name: 'matches: other path goes to root', port: port(split([backend('cart-v2', 100, '10.1.2.1')], [beta])), req: get('/checkout', { 'x-beta': 'on' }), want: 'root:10.1.0.1' },
    { name: 'matches: TCP connection goes to root', port: port(split([backend('cart-v2', 100, '10.1.2.1')], [beta])), req: TCP, want: 'root:10.1.0.1' },
    { name: 'matches: [] selects nothing', port: port(split([backend('cart-v2', 100, '10.1.2.1')], [])), req: get('/cart', { 'x-beta': 'on' }), want: 'root:10.1.0.1' },
    { name: 'no matches: TCP is split', port: port(split([backend('cart-v2', 100, '10.1.2.1')])), req: TCP, want: 'cart-v2' },
  ];
  for (const c of cases) t.equal(label(selectBackend(c.port, c.req, () => 0.5, 'prefix')), c.want, c.name);
  t.end();
});

t.test('matches follow pathMatch', (t) => {
  const p = port(split([backend('cart-v2', 100, '10.1.2.1')], [beta]));
  const req = get('/cart/1', { 'x-beta': 'on' });
  const prefix = prepareOutbound(policy([service('cart', [p])])).lookup('10.96.0.10', 80);
  const full = prepareOutbound(policy([service('cart', [p])], { pathMatch: 'full' })).lookup('10.96.0.10', 80);
  t.equal(prefix && label(prefix.select(req, () => 0)), 'cart-v2');
  t.equal(full && label(full.select(req, () => 0)), 'root:10.1.0.1');
  t.end();
});

t.test('lookup by cluster IP and by headless endpoint', (t) => {
  const cart = service('cart', [port(split([backend('cart-v2', 100, '10.1.2.1')]))], ['10.96.0.10', 'fd00::10']);
  const db = service('db', [{ port: 5432, protocol: 'opaque', endpoints: [ep('10.2.0.1', 5432), ep('10.2.0.2', 5432)], split: null }], []);
  const lookup = prepareOutbound(policy([cart, db]));
  t.equal(lookup.lookup('10.96.0.10', 80)?.service.name, 'cart');
  t.equal(lookup.lookup('fd00::10', 80)?.service.name, 'cart', 'IPv6 cluster IP');
  t.equal(lookup.lookup('10.96.0.10', 81), undefined, 'unknown port');
  t.equal(lookup.lookup('10.9.9.9', 80), undefined, 'unknown address');
  const pod2 = lookup.lookup('10.2.0.2', 5432);
  t.equal(pod2?.service.name, 'db');
  t.equal(pod2 && label(pod2.select(TCP, Math.random)), 'root:10.2.0.2', 'a headless root choice is the dialled endpoint');
  t.equal(lookup.lookup('10.2.0.1', 80), undefined);
  t.equal(lookup.entries.length, 3);
  t.end();
});

t.test('splitWeights and explain', (t) => {
  const p = port(split([backend('cart-v1', 90, '10.1.1.1'), backend('cart-v0', 0, '10.1.0.9'), backend('cart-v2', 10, '10.1.2.1')]));
  t.same(splitWeights(p), [
    { service: 'shop/cart-v1', weight: 90 },
    { service: 'shop/cart-v2', weight: 10 },
  ]);
  t.equal(splitWeights(port(null)), null);
  t.equal(splitWeights(port(split([backend('cart-v1', 0, '10.1.1.1')]))), null);

  const entry = prepareOutbound(policy([service('cart', [p])])).lookup('10.96.0.10', 80);
  const e = entry?.explain(TCP);
  t.equal(e?.applies, true);
  t.equal(e?.reason, 'TrafficSplit shop/cart-rollout on shop/cart port 80 splits it: shop/cart-v1 90 (90%), shop/cart-v2 10 (10%)');

  const matched = prepareOutbound(policy([service('cart', [port(split([backend('cart-v2', 100, '10.1.2.1')], [beta]))])])).lookup('10.96.0.10', 80);
  t.same(matched?.explain(get('/cart', { 'x-beta': 'on' })).route, beta.route);
  t.match(matched?.explain(get('/x')).reason, /does not apply \(the request matches none of its matches\): root endpoints$/);
  t.match(matched?.explain(TCP).reason, /does not apply \(it is not an HTTP request\)/);
  t.same(matched?.explain(TCP).weights, [{ service: 'shop/cart-v2', weight: 100 }], 'weights shown even when the split does not apply');

  const none = prepareOutbound(policy([service('cart', [port(null)])])).lookup('10.96.0.10', 80);
  t.equal(none?.explain(TCP).reason, 'no TrafficSplit on shop/cart port 80: root endpoints');
  t.end();
});

t.test('select allocates no result objects and constructs no RegExp', (t) => {
  const Original = globalThis.RegExp;
  let constructed = 0;
  globalThis.RegExp = new Proxy(Original, {
    construct(target, args: [string | RegExp, string?]) {
      constructed++;
      return Reflect.construct(target, args);
    },
  });
  t.teardown(() => {
    globalThis.RegExp = Original;
  });
  const p = port(split([backend('cart-v1', 50, '10.1.1.1'), backend('cart-v2', 50, '10.1.2.1')], [beta]));
  const entry = prepareOutbound(policy([service('cart', [p])])).lookup('10.96.0.10', 80);
  if (entry === undefined) throw new Error('no entry');
  t.ok(constructed > 0, 'preparing compiles the matches (the counter works)');
  constructed = 0;
  const req = get('/cart', { 'x-beta': 'on' });
  const a = entry.select(req, () => 0.1);
  const b = entry.select(req, () => 0.2);
  const root1 = entry.select(TCP, () => 0.2);
  const root2 = entry.select(get('/other'), () => 0.2);
  t.equal(a, b, 'the same prepared choice object is returned');
  t.equal(root1, root2, 'the same prepared root object is returned');
  t.equal(constructed, 0);
  t.end();
});
