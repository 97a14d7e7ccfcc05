import t, { type Test } from 'tap';
import type { Authorization, HttpRoute, MeshSettings, ProxyPolicy, RouteRef } from '../../src/policy/model.js';
import { prepareInbound, type Decision, type DecisionCode, type InboundRequest } from '../../src/policy/authorize.js';

// ---------------------------------------------------------------------------------------------
// Builders

const id = (ns: string, sa: string): string => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;
const WEB = id('shop', 'web');
const ADMIN = id('shop', 'admin');
const BATCH = id('jobs', 'batch');

function http(name: string, match: string, o: { path?: string; methods?: string[]; headers?: Record<string, string> } = {}): HttpRoute {
  return {
    route: { kind: 'HTTPRouteGroup', namespace: 'shop', name, match },
    pathRegex: o.path ?? null,
    methods: o.methods ?? null,
    headers: Object.entries(o.headers ?? {}).map(([n, value]) => ({ name: n, value })),
  };
}

const tcpRoute = (name: string): RouteRef => ({ kind: 'TCPRoute', namespace: 'shop', name });
const udpRoute = (name: string): RouteRef => ({ kind: 'UDPRoute', namespace: 'shop', name });

function authz(name: string, o: Partial<Omit<Authorization, 'trafficTarget'>> = {}): Authorization {
  return {
    trafficTarget: { namespace: 'shop', name },
    audit: o.audit ?? false,
    sources: o.sources ?? [WEB],
    ports: o.ports === undefined ? null : o.ports,
    udpPorts: o.udpPorts === undefined ? [] : o.udpPorts,
    http: o.http === undefined ? null : o.http,
    l4Routes: o.l4Routes ?? [],
  };
}

function policy(authorizations: Authorization[], mesh: Partial<MeshSettings> = {}): ProxyPolicy {
  return {
    version: 'v1',
    proxy: { namespace: 'shop', pod: 'orders-0', serviceAccount: 'orders', identity: id('shop', 'orders'), workload: 'orders' },
    mesh: { mode: 'strict', allowUnmeshed: false, pathMatch: 'prefix', outboundUnknown: 'passthrough', ...mesh },
    trustBundle: [],
    inbound: { ports: [], authorizations },
    outbound: [],
  };
}

/** An HTTP request `GET /path` (method and path from `line`) from `identity` to `port`. */
function get(identity: string | null, port: number, line: string, headers: Record<string, string> = {}): InboundRequest {
  const [method, path] = line.split(' ') as [string, string];
  return { port, protocol: 'tcp', peer: { identity }, http: { method, path, headers: (n) => headers[n] } };
}

function tcp(identity: string | null, port: number): InboundRequest {
  return { port, protocol: 'tcp', peer: { identity } };
}

function udp(identity: string | null, port: number): InboundRequest {
  return { port, protocol: 'udp', peer: { identity } };
}

interface Want {
  allowed: boolean;
  code: DecisionCode;
  audit?: boolean;
  tt?: string | null;
  route?: string | null;
  reason?: RegExp;
}

interface Case {
  name: string;
  policy: ProxyPolicy;
  req: InboundRequest;
  want: Want;
}

function check(parent: Test, c: Case): void {
  parent.test(c.name, (t) => {
    const authorizer = prepareInbound(c.policy);
    const d = authorizer.authorize(c.req);
    t.equal(d.allowed, c.want.allowed, 'allowed');
    t.equal(d.code, c.want.code, 'code');
    t.equal(d.audit, c.want.audit ?? false, 'audit');
    if (c.want.tt !== undefined) t.equal(d.trafficTarget === null ? null : `${d.trafficTarget.namespace}/${d.trafficTarget.name}`, c.want.tt, 'trafficTarget');
    if (c.want.route !== undefined) t.equal(routeOf(d), c.want.route, 'route');
    if (c.want.reason !== undefined) t.match(d.reason, c.want.reason, 'reason');
    // `loom why` sees exactly what the proxy sees.
    t.same(authorizer.explain(c.req).decision, d, 'explain agrees');
    t.end();
  });
}

function routeOf(d: Decision): string | null {
  const r = d.route;
  if (r === null) return null;
  return `${r.kind} ${r.namespace}/${r.name}${r.match === undefined ? '' : `#${r.match}`}`;
}

// ---------------------------------------------------------------------------------------------
// Tables

t.test('union of TrafficTargets, never mixing sources and rules (osm#5297)', (t) => {
  const p = policy([
    authz('admin-writes', { sources: [ADMIN], http: [http('orders-api', 'write', { path: '/orders', methods: ['POST'] })] }),
    authz('web-reads', { sources: [WEB], http: [http('orders-api', 'read', { path: '/orders', methods: ['GET'] })] }),
  ]);
  const cases: Case[] = [
    { name: 'web reads via its own target', policy: p, req: get(WEB, 8080, 'GET /orders'), want: { allowed: true, code: 'allowed', tt: 'shop/web-reads', route: 'HTTPRouteGroup shop/orders-api#read' } },
    { name: 'a second client keeps access', policy: p, req: get(ADMIN, 8080, 'POST /orders'), want: { allowed: true, code: 'allowed', tt: 'shop/admin-writes', route: 'HTTPRouteGroup shop/orders-api#write' } },
    { name: "web does not get admin's rules", policy: p, req: get(WEB, 8080, 'POST /orders'), want: { allowed: false, code: 'route-not-matched', tt: 'shop/web-reads' } },
    { name: "admin does not get web's rules", policy: p, req: get(ADMIN, 8080, 'GET /orders'), want: { allowed: false, code: 'route-not-matched', tt: 'shop/admin-writes' } },
    { name: 'third identity: source-not-allowed', policy: p, req: get(BATCH, 8080, 'GET /orders'), want: { allowed: false, code: 'source-not-allowed' } },
  ];
  for (const c of cases) check(t, c);
  t.end();
});

t.test('the first admitting TrafficTarget (policy order) decides', (t) => {
  const p = policy([authz('a-l4', { l4Routes: [tcpRoute('all')] }), authz('b-http', { http: [http('g', 'any')] })]);
  check(t, { name: 'first wins', policy: p, req: get(WEB, 80, 'GET /'), want: { allowed: true, code: 'allowed', tt: 'shop/a-l4', route: 'TCPRoute shop/all' } });
  t.end();
});

t.test('path anchoring: prefix (SMI default) and full', (t) => {
  const counter = [authz('counter', { http: [http('counter-api', 'counter', { path: '/counter' })] })];
  const prefix = policy(counter);
  const full = policy(counter, { pathMatch: 'full' });
  const cases: Case[] = [
    { name: 'prefix: /counter allowed', policy: prefix, req: get(WEB, 80, 'GET /counter'), want: { allowed: true, code: 'allowed', route: 'HTTPRouteGroup shop/counter-api#counter' } },
    { name: 'prefix: /incrementcounter refused (osm#250)', policy: prefix, req: get(WEB, 80, 'GET /incrementcounter'), want: { allowed: false, code: 'route-not-matched' } },
    { name: 'prefix: /counter2 allowed (start-anchored only)', policy: prefix, req: get(WEB, 80, 'GET /counter2'), want: { allowed: true, code: 'allowed' } },
    { name: 'full: /counter2 refused', policy: full, req: get(WEB, 80, 'GET /counter2'), want: { allowed: false, code: 'route-not-matched' } },
    { name: 'full: /counter allowed', policy: full, req: get(WEB, 80, 'GET /counter'), want: { allowed: true, code: 'allowed' } },
    { name: 'full: query string stripped', policy: full, req: get(WEB, 80, 'GET /counter?n=1'), want: { allowed: true, code: 'allowed' } },
    { name: 'full: /incrementcounter refused', policy: full, req: get(WEB, 80, 'GET /incrementcounter'), want: { allowed: false, code: 'route-not-matched' } },
  ];
  for (const c of cases) check(t, c);
  t.end();
});

t.test('methods, headers, query string', (t) => {
  const p = policy([
    authz('api', {
      http: [
        http('api', 'read', { path: '/orders(/.*)?', methods: ['GET', 'HEAD'] }),
        http('api', 'beta', { methods: ['POST'], headers: { 'x-beta': 'on', 'x-tenant': '[a-z]+' } }),
        http('api', 'search', { path: '/search', methods: ['GET'] }),
      ],
    }),
  ]);
  const cases: Case[] = [
    { name: 'GET listed', policy: p, req: get(WEB, 80, 'GET /orders/1'), want: { allowed: true, code: 'allowed', route: 'HTTPRouteGroup shop/api#read' } },
    { name: 'lower-case method upper-cased', policy: p, req: get(WEB, 80, 'head /orders'), want: { allowed: true, code: 'allowed', route: 'HTTPRouteGroup shop/api#read' } },
    { name: 'DELETE not listed', policy: p, req: get(WEB, 80, 'DELETE /orders/1'), want: { allowed: false, code: 'route-not-matched' } },
    { name: 'headers: both match', policy: p, req: get(WEB, 80, 'POST /anything', { 'x-beta': 'on', 'x-tenant': 'acme' }), want: { allowed: true, code: 'allowed', route: 'HTTPRouteGroup shop/api#beta' } },
    { name: 'headers: AND, one missing', policy: p, req: get(WEB, 80, 'POST /anything', { 'x-beta': 'on' }), want: { allowed: false, code: 'route-not-matched' } },
    { name: 'headers: whole value must match', policy: p, req: get(WEB, 80, 'POST /anything', { 'x-beta': 'on', 'x-tenant': 'acme1' }), want: { allowed: false, code: 'route-not-matched' } },
    { name: 'query string stripped', policy: p, req: get(WEB, 80, 'GET /search?q=x'), want: { allowed: true, code: 'allowed', route: 'HTTPRouteGroup shop/api#search' } },
    { name: 'query string cannot satisfy the path', policy: p, req: get(WEB, 80, 'GET /x?/orders'), want: { allowed: false, code: 'route-not-matched' } },
    { name: 'dot segments cannot escape the prefix', policy: p, req: get(WEB, 80, 'GET /orders/../admin'), want: { allowed: false, code: 'route-not-matched' } },
  ];
  for (const c of cases) check(t, c);
  t.end();
});

t.test('TCP, HTTP, UDP rules', (t) => {
  const tcpOnly = policy([authz('tcp-only', { ports: [8080], l4Routes: [tcpRoute('orders-port')] })]);
  const tcpAndHttp = policy([
    authz('web-orders', { ports: [8080], l4Routes: [tcpRoute('orders-port')], http: [http('api', 'read', { path: '/orders', methods: ['GET'] })] }),
    authz('z-admin-all', { sources: [ADMIN] }),
  ]);
  const udpOnly = policy([authz('dns', { ports: [], udpPorts: [53], l4Routes: [udpRoute('dns')] })]);
  const everyUdp = policy([authz('all-udp', { ports: [], udpPorts: null, l4Routes: [udpRoute('all-udp')] })]);
  const emptyHttp = policy([authz('broken', { http: [] })]);
  const cases: Case[] = [
    { name: 'TCPRoute-only target admits HTTP on its port', policy: tcpOnly, req: get(WEB, 8080, 'DELETE /anything'), want: { allowed: true, code: 'allowed', tt: 'shop/tcp-only', route: 'TCPRoute shop/orders-port' } },
    { name: 'TCPRoute-only target admits raw TCP', policy: tcpOnly, req: tcp(WEB, 8080), want: { allowed: true, code: 'allowed', route: 'TCPRoute shop/orders-port' } },
    { name: 'TCPRoute-only target: other port ungoverned (strict)', policy: tcpOnly, req: tcp(WEB, 9090), want: { allowed: false, code: 'no-authorization', reason: /no TrafficTarget governs port 9090 \(strict mode\).*shop\/tcp-only admits it on TCP port 8080 only: port-not-allowed/ } },
    { name: 'TCP+HTTP: both match', policy: tcpAndHttp, req: get(WEB, 8080, 'GET /orders'), want: { allowed: true, code: 'allowed', route: 'HTTPRouteGroup shop/api#read' } },
    { name: 'TCP+HTTP: route fails', policy: tcpAndHttp, req: get(WEB, 8080, 'GET /admin'), want: { allowed: false, code: 'route-not-matched', tt: 'shop/web-orders' } },
    { name: 'TCP+HTTP: port fails', policy: tcpAndHttp, req: get(WEB, 9090, 'GET /orders'), want: { allowed: false, code: 'port-not-allowed', tt: 'shop/web-orders', reason: /shop\/web-orders admits it on TCP port 8080 only: port-not-allowed/ } },
    { name: 'TCP+HTTP: raw TCP is not-http', policy: tcpAndHttp, req: tcp(WEB, 8080), want: { allowed: false, code: 'not-http', reason: /only: not-http/ } },
    { name: 'UDP port admitted', policy: udpOnly, req: udp(WEB, 53), want: { allowed: true, code: 'allowed', route: 'UDPRoute shop/dns' } },
    { name: 'UDP rule does not govern TCP', policy: udpOnly, req: tcp(WEB, 53), want: { allowed: false, code: 'no-authorization' } },
    { name: 'UDP rule does not govern TCP (permissive)', policy: policy(udpOnly.inbound.authorizations.slice(), { mode: 'permissive' }), req: tcp(WEB, 53), want: { allowed: true, code: 'ungoverned' } },
    { name: 'other UDP port ungoverned', policy: udpOnly, req: udp(WEB, 54), want: { allowed: false, code: 'no-authorization', reason: /UDP port 54/ } },
    { name: 'UDP source not allowed', policy: udpOnly, req: udp(BATCH, 53), want: { allowed: false, code: 'source-not-allowed' } },
    { name: 'udpPorts null covers every UDP port', policy: everyUdp, req: udp(WEB, 5353), want: { allowed: true, code: 'allowed', route: 'UDPRoute shop/all-udp' } },
    { name: 'udpPorts null governs every UDP port', policy: everyUdp, req: udp(BATCH, 5353), want: { allowed: false, code: 'source-not-allowed' } },
    { name: 'udpPorts null: TCP not covered', policy: everyUdp, req: tcp(WEB, 5353), want: { allowed: false, code: 'no-authorization', reason: /every UDP port only: port-not-allowed/ } },
    { name: 'TCP-only target does not admit UDP', policy: tcpOnly, req: udp(WEB, 8080), want: { allowed: false, code: 'no-authorization' } },
    { name: 'http [] admits no request', policy: emptyHttp, req: get(WEB, 80, 'GET /'), want: { allowed: false, code: 'route-not-matched', reason: /no HTTP request/ } },
  ];
  for (const c of cases) check(t, c);
  t.end();
});

t.test('modes and unmeshed clients', (t) => {
  const governs8080 = [authz('orders', { ports: [8080] })];
  const strict = policy(governs8080);
  const permissive = policy(governs8080, { mode: 'permissive' });
  const cases: Case[] = [
    { name: 'strict: meshed, ungoverned port refused', policy: strict, req: tcp(WEB, 9090), want: { allowed: false, code: 'no-authorization', tt: 'shop/orders' } },
    { name: 'strict: ungoverned, no hint', policy: strict, req: tcp(BATCH, 9090), want: { allowed: false, code: 'no-authorization', tt: null } },
    { name: 'strict: no TrafficTarget at all', policy: policy([]), req: tcp(WEB, 80), want: { allowed: false, code: 'no-authorization' } },
    { name: 'permissive: meshed, ungoverned port allowed', policy: permissive, req: tcp(BATCH, 9090), want: { allowed: true, code: 'ungoverned', tt: null, route: null } },
    { name: 'permissive: meshed, governed port enforced', policy: permissive, req: tcp(BATCH, 8080), want: { allowed: false, code: 'source-not-allowed', tt: 'shop/orders' } },
    { name: 'strict: unmeshed refused on ungoverned port', policy: strict, req: tcp(null, 9090), want: { allowed: false, code: 'unmeshed-refused', reason: /strict mode requires mTLS/ } },
    { name: 'strict: unmeshed refused on governed port', policy: strict, req: tcp(null, 8080), want: { allowed: false, code: 'unmeshed-refused' } },
    { name: 'permissive: unmeshed allowed on ungoverned port', policy: permissive, req: tcp(null, 9090), want: { allowed: true, code: 'ungoverned' } },
    { name: 'permissive: unmeshed refused on governed port', policy: permissive, req: get(null, 8080, 'GET /'), want: { allowed: false, code: 'unmeshed-refused', reason: /governed by TrafficTarget shop\/orders/ } },
    { name: 'allowUnmeshed (strict): governed port', policy: policy(governs8080, { allowUnmeshed: true }), req: tcp(null, 8080), want: { allowed: true, code: 'unmeshed-allowed' } },
    { name: 'allowUnmeshed (permissive): governed port', policy: policy(governs8080, { allowUnmeshed: true, mode: 'permissive' }), req: tcp(null, 8080), want: { allowed: true, code: 'unmeshed-allowed' } },
    { name: 'allowUnmeshed: meshed callers still need a TrafficTarget', policy: policy(governs8080, { allowUnmeshed: true }), req: tcp(BATCH, 8080), want: { allowed: false, code: 'source-not-allowed' } },
  ];
  for (const c of cases) check(t, c);
  t.end();
});

t.test('audit mode', (t) => {
  const auditOnly = [authz('orders', { audit: true, ports: [8080], http: [http('api', 'read', { path: '/orders' })] })];
  const mixed = [...auditOnly, authz('strict-one', { sources: [ADMIN], ports: [8080] })];
  const cases: Case[] = [
    { name: 'would-deny source is allowed and flagged', policy: policy(auditOnly), req: get(BATCH, 8080, 'GET /orders'), want: { allowed: true, audit: true, code: 'source-not-allowed', reason: /^audit: would deny: no TrafficTarget admits spiffe:\/\/cluster.local\/ns\/jobs\/sa\/batch/ } },
    { name: 'would-deny route is allowed and flagged', policy: policy(auditOnly), req: get(WEB, 8080, 'GET /admin'), want: { allowed: true, audit: true, code: 'route-not-matched' } },
    { name: 'admitted request is not an audit', policy: policy(auditOnly), req: get(WEB, 8080, 'GET /orders'), want: { allowed: true, audit: false, code: 'allowed' } },
    { name: 'a non-audit target on the port enforces', policy: policy(mixed), req: get(BATCH, 8080, 'GET /orders'), want: { allowed: false, audit: false, code: 'source-not-allowed', reason: /^denied: / } },
    { name: 'strict ungoverned port is not audited', policy: policy(auditOnly), req: tcp(BATCH, 9090), want: { allowed: false, code: 'no-authorization' } },
    { name: 'permissive: unmeshed on audit-only port allowed and flagged', policy: policy(auditOnly, { mode: 'permissive' }), req: tcp(null, 8080), want: { allowed: true, audit: true, code: 'unmeshed-refused' } },
    { name: 'strict: unmeshed refusal is not audited', policy: policy(auditOnly), req: tcp(null, 8080), want: { allowed: false, audit: false, code: 'unmeshed-refused' } },
  ];
  for (const c of cases) check(t, c);
  t.end();
});

t.test('denial reasons by priority', (t) => {
  const others = authz('a-others', { sources: [ADMIN, BATCH] });
  const elsewhere = authz('b-elsewhere', { ports: [9090] });
  const routes = authz('c-orders-from-web', { ports: [8080], http: [http('orders-api', 'read', { path: '/orders(/.*)?', methods: ['GET'] })] });
  const cases: Case[] = [
    {
      name: 'route-not-matched beats port-not-allowed and source-not-allowed',
      policy: policy([others, elsewhere, routes]),
      req: get(WEB, 8080, 'GET /incrementcounter?x=1'),
      want: {
        allowed: false,
        code: 'route-not-matched',
        tt: 'shop/c-orders-from-web',
        reason: /^denied: no TrafficTarget admits spiffe:\/\/cluster\.local\/ns\/shop\/sa\/web \(GET \/incrementcounter\) to port 8080 \(shop\/c-orders-from-web allows HTTP GET \/orders\(\/\.\*\)\? only: route-not-matched\)$/,
      },
    },
    {
      name: 'port-not-allowed beats source-not-allowed',
      policy: policy([others, elsewhere]),
      req: tcp(WEB, 8080),
      want: { allowed: false, code: 'port-not-allowed', tt: 'shop/b-elsewhere', reason: /^denied: no TrafficTarget admits spiffe:\/\/cluster\.local\/ns\/shop\/sa\/web to port 8080 \(shop\/b-elsewhere admits it on TCP port 9090 only: port-not-allowed; on this port shop\/a-others allows spiffe:\/\/cluster\.local\/ns\/shop\/sa\/admin, spiffe:\/\/cluster\.local\/ns\/jobs\/sa\/batch only\)$/ },
    },
    {
      name: 'source-not-allowed names the governing targets and their sources',
      policy: policy([others]),
      req: tcp(WEB, 8080),
      want: { allowed: false, code: 'source-not-allowed', tt: 'shop/a-others', reason: /\(shop\/a-others allows spiffe:\/\/cluster\.local\/ns\/shop\/sa\/admin, spiffe:\/\/cluster\.local\/ns\/jobs\/sa\/batch only: source-not-allowed\)$/ },
    },
  ];
  for (const c of cases) check(t, c);
  t.end();
});

t.test('invalid regexes never match and never throw', (t) => {
  const p = policy([authz('api', { http: [http('api', 'bad', { path: '(' }), http('api', 'good', { path: '/ok' })] })]);
  const a = prepareInbound(p);
  t.equal(a.authorize(get(WEB, 80, 'GET /(')).allowed, false);
  t.equal(a.authorize(get(WEB, 80, 'GET /ok')).code, 'allowed');
  t.equal(routeOf(a.authorize(get(WEB, 80, 'GET /ok'))), 'HTTPRouteGroup shop/api#good');
  t.end();
});

t.test('explain lists every TrafficTarget verdict', (t) => {
  const p = policy([
    authz('a-others', { sources: [ADMIN] }),
    authz('b-elsewhere', { ports: [9090] }),
    authz('c-web', { ports: [8080], http: [http('api', 'read', { path: '/orders' })] }),
  ]);
  const e = prepareInbound(p).explain(get(WEB, 8080, 'GET /orders'));
  t.equal(e.decision.code, 'allowed');
  t.equal(e.governed, true);
  t.same(
    e.verdicts.map((v) => [v.trafficTarget.name, v.governs, v.result]),
    [
      ['a-others', true, 'source-not-allowed'],
      ['b-elsewhere', false, 'port-not-allowed'],
      ['c-web', true, 'admits'],
    ],
  );
  t.same(e.verdicts[2]?.route, { kind: 'HTTPRouteGroup', namespace: 'shop', name: 'api', match: 'read' });
  t.match(e.verdicts[2]?.allows, /sources spiffe:\/\/cluster\.local\/ns\/shop\/sa\/web; TCP port 8080; HTTP \* \/orders/);
  t.end();
});

t.test('authorize does not construct RegExps per call', (t) => {
  const Original = globalThis.RegExp;
  let constructed = 0;
  globalThis.RegExp = new Proxy(Original, {
    construct(target, args: [string | RegExp, string?]) {
      constructed++;
      return Reflect.construct(target, args);
    },
    apply(target, self, args: [string | RegExp, string?]) {
      constructed++;
      return Reflect.apply(target, self, args);
    },
  });
  t.teardown(() => {
    globalThis.RegExp = Original;
  });
  const p = policy(
    [authz('api', { http: [http('api', 'read', { path: '/orders(/.*)?', methods: ['GET'], headers: { 'x-a': 'on' } }), http('api', 'all', { path: '/x' })] })],
    { pathMatch: 'full' },
  );
  const a = prepareInbound(p);
  t.ok(constructed > 0, 'preparing compiles the regexes (the counter works)');
  constructed = 0;
  const first = a.authorize(get(WEB, 80, 'GET /orders/1?x', { 'x-a': 'on' }));
  for (let i = 0; i < 100; i++) {
    a.authorize(get(WEB, 80, `GET /orders/${i}/../${i}?q=%2e`, { 'x-a': 'on' }));
    a.authorize(get(WEB, 80, 'GET /nope'));
    a.authorize(get(BATCH, 80, 'GET /orders'));
  }
  t.equal(constructed, 0, 'no RegExp constructed by authorize');
  t.equal(first.allowed, true);
  t.equal(a.authorize(get(WEB, 80, 'GET /orders', { 'x-a': 'on' })), first, 'allowed decisions are shared, prepared objects');
  t.end();
});
