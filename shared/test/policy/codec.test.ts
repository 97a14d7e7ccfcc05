import t, { type Test } from 'tap';
import type { ControllerMessage, ControllerMessage__Output } from '../../src/proto/index.js';
import { loadPolicyService } from '../../src/proto/index.js';
import { decodePolicy, encodePolicy, type DecodeResult, type WireProxyPolicy } from '../../src/policy/codec.js';
import { withVersion } from '../../src/policy/hash.js';
import type { ProxyPolicy } from '../../src/policy/model.js';
import { minimal, rich, richContent } from '../proto/fixtures.js';

/** What the controller's gRPC layer writes and the proxy's reads: the real protobufjs (de)serializer. */
function overTheWire(message: ControllerMessage): ControllerMessage__Output {
  const method = loadPolicyService().service.Stream;
  const bytes = method.responseSerialize(message);
  return method.responseDeserialize(bytes);
}

function roundTrip(policy: ProxyPolicy): DecodeResult {
  return decodePolicy(overTheWire({ policy: encodePolicy(policy) }).policy);
}

/** Decodes `wire` (after really serializing it) and returns the errors, failing the test if it decoded. */
function errorsOf(t: Test, wire: WireProxyPolicy): readonly string[] {
  const result = decodePolicy(overTheWire({ policy: wire }).policy);
  if (result.ok) {
    t.fail('expected the policy to be rejected');
    return [];
  }
  return result.errors;
}

/** A deep copy of the encoded rich policy that a test may mutate freely. */
function richWire(): { -readonly [K in keyof WireProxyPolicy]: WireProxyPolicy[K] } {
  return structuredClone(encodePolicy(rich));
}

t.test('round trip through protobuf bytes gives back the same policy', (t) => {
  for (const [name, policy] of [['rich', rich], ['minimal', minimal]] as const) {
    const result = roundTrip(policy);
    t.ok(result.ok, `${name} decodes`);
    if (result.ok) t.strictSame(result.policy, policy, `${name} deep-equals the original`);
  }
  t.end();
});

t.test('null and empty lists stay distinct across the wire', (t) => {
  const result = roundTrip(rich);
  if (!result.ok) throw new Error(result.reason);
  const [audited, anyPort, udpOnly] = result.policy.inbound.authorizations;
  t.strictSame(anyPort?.ports, null, 'ports null = every port');
  t.strictSame(udpOnly?.ports, [], 'ports [] = no port');
  t.strictSame(anyPort?.udpPorts, null);
  t.strictSame(udpOnly?.udpPorts, [53, 5353], 'UDP ports survive');
  t.strictSame(anyPort?.http, null, 'http null = no HTTP restriction');
  t.strictSame(udpOnly?.http, [], 'http [] = no request admitted');
  t.equal(audited?.audit, true);
  const [cart, any, empty] = audited?.http ?? [];
  t.equal(any?.pathRegex, null, 'pathRegex null = any path');
  t.equal(empty?.pathRegex, '', "pathRegex '' stays a (matching-everything) regex");
  t.equal(any?.methods, null, 'methods null = any method');
  t.strictSame(empty?.methods, [], 'methods [] stays empty');
  t.equal(cart?.route.match, 'checkout');
  t.notOk(any !== undefined && 'match' in any.route, 'an absent match name stays absent');

  const [catalog, db, search] = result.policy.outbound;
  const http = catalog?.ports[0];
  t.strictSame(http?.split?.matches?.map((m) => m.route.name), ['cart-routes', 'everything'], 'split matches survive');
  t.equal(search?.ports[0]?.split?.matches, null, 'split matches null = all traffic split');
  t.strictSame(search?.ports[1]?.split?.matches, [], 'split matches [] stays empty');
  t.equal(search?.ports[0]?.split?.backends[0]?.weight, 2 ** 40, 'uint64 weight above 2^32');
  t.equal(catalog?.ports[1]?.split, null, 'no split');
  t.strictSame(
    http?.endpoints.map((e) => [e.identity, e.pod]),
    [
      ['spiffe://cluster.local/ns/shop/sa/catalog', { namespace: 'shop', name: 'catalog-1' }],
      [null, { namespace: 'shop', name: 'legacy-1' }],
      [null, null],
    ],
    'unmeshed endpoints and unknown pods',
  );
  t.equal(db?.headless, true);
  t.strictSame(db?.vips, [], 'headless: no VIPs');
  t.equal(http?.name, 'http');
  t.notOk(search?.ports[0] !== undefined && 'name' in search.ports[0], 'an unnamed port stays unnamed');
  t.end();
});

t.test('encoding spells out every "all"/"any" with an explicit flag', (t) => {
  const wire = encodePolicy(rich);
  const [, anyPort, udpOnly] = wire.inbound?.authorizations ?? [];
  t.match(anyPort, { allPorts: true, ports: [], allUdpPorts: true, udpPorts: [], httpUnrestricted: true, http: [] });
  t.match(udpOnly, { allPorts: false, ports: [], allUdpPorts: false, udpPorts: [53, 5353], httpUnrestricted: false, http: [] });
  const endpoints = wire.outbound[0]?.ports[0]?.endpoints ?? [];
  t.match(endpoints[1], { unmeshed: true, identity: '' });
  t.equal(endpoints[2]?.pod, null);
  t.equal(wire.mesh?.mode, 'MODE_STRICT');
  t.equal(wire.inbound?.ports[4]?.protocol, 'APP_PROTOCOL_GRPC');
  t.end();
});

t.test('a message where every optional thing is absent reads as the most restrictive policy', (t) => {
  // A sparse object (no defaults filled in), as another client library might produce.
  const sparse = {
    version: 'v1',
    proxy: minimal.proxy,
    mesh: { mode: 'MODE_STRICT', pathMatch: 'PATH_MATCH_PREFIX', outboundUnknown: 'OUTBOUND_UNKNOWN_DENY' },
    inbound: { authorizations: [{ trafficTarget: { namespace: 'a', name: 't' } }] },
    outbound: [{ service: { namespace: 'a', name: 's' }, ports: [{ port: 80, protocol: 'APP_PROTOCOL_HTTP1', endpoints: [{ address: '10.0.0.1', port: 80, identity: 'spiffe://td/ns/a/sa/s' }] }] }],
  } as unknown as WireProxyPolicy;
  const result = decodePolicy(sparse);
  if (!result.ok) throw new Error(result.reason);
  t.strictSame(result.policy.inbound.authorizations[0], {
    trafficTarget: { namespace: 'a', name: 't' },
    audit: false,
    sources: [],
    ports: [],
    udpPorts: [],
    http: [],
    l4Routes: [],
  });
  t.strictSame(result.policy.outbound[0]?.ports[0], {
    port: 80,
    protocol: 'http1',
    endpoints: [{ address: '10.0.0.1', port: 80, identity: 'spiffe://td/ns/a/sa/s', pod: null, ready: false }],
    split: null,
  });
  t.strictSame(result.policy.trustBundle, []);
  t.end();
});

t.test('decoding rejects bad input with errors naming the field', (t) => {
  const cases: { name: string; mutate: (w: ReturnType<typeof richWire>) => void; error: string | RegExp }[] = [
    { name: 'missing version', mutate: (w) => (w.version = ''), error: 'version: missing' },
    { name: 'missing proxy', mutate: (w) => (w.proxy = null), error: 'proxy: missing' },
    { name: 'missing mesh', mutate: (w) => (w.mesh = null), error: 'mesh: missing' },
    { name: 'missing inbound', mutate: (w) => (w.inbound = null), error: 'inbound: missing' },
    { name: 'empty pod name', mutate: (w) => w.proxy && (w.proxy.pod = ''), error: 'proxy.pod: missing' },
    {
      name: 'proxy identity not a SPIFFE ID',
      mutate: (w) => w.proxy && (w.proxy.identity = 'cart.shop'),
      error: 'proxy.identity: "cart.shop" is not a SPIFFE ID (spiffe://<trust-domain>/...)',
    },
    { name: 'unspecified mode', mutate: (w) => w.mesh && (w.mesh.mode = 'MODE_UNSPECIFIED'), error: 'mesh.mode: missing (MODE_UNSPECIFIED)' },
    {
      name: 'unknown enum number',
      mutate: (w) => {
        const p = w.inbound?.ports[1];
        if (p) p.protocol = 99 as unknown as typeof p.protocol;
      },
      error: 'inbound.ports[1].protocol: unknown AppProtocol 99',
    },
    {
      name: 'unknown route kind number',
      mutate: (w) => {
        const r = w.inbound?.authorizations[1]?.l4Routes[0];
        if (r) r.kind = 7 as unknown as typeof r.kind;
      },
      error: 'inbound.authorizations[1].l4Routes[0].kind: unknown RouteKind 7',
    },
    {
      name: 'inbound port out of range',
      mutate: (w) => {
        const p = w.inbound?.ports[2];
        if (p) p.port = 70000;
      },
      error: 'inbound.ports[2].port: 70000 is not a port (1-65535)',
    },
    {
      name: 'port 0',
      mutate: (w) => {
        const e = w.outbound[1]?.ports[0]?.endpoints[0];
        if (e) e.port = 0;
      },
      error: 'outbound[1].ports[0].endpoints[0].port: missing (a port is 1-65535)',
    },
    {
      name: 'authorization port out of range',
      mutate: (w) => w.inbound?.authorizations[0]?.ports.push(65536),
      error: 'inbound.authorizations[0].ports[1]: 65536 is not a port (1-65535)',
    },
    {
      name: 'allPorts with ports',
      mutate: (w) => w.inbound?.authorizations[1]?.ports.push(80),
      error: 'inbound.authorizations[1].ports: must be empty when allPorts is true (got 1 entries)',
    },
    {
      name: 'httpUnrestricted with routes',
      mutate: (w) => {
        const a = w.inbound?.authorizations[0];
        if (a) a.httpUnrestricted = true;
      },
      error: 'inbound.authorizations[0].http: must be empty when httpUnrestricted is true (got 3 entries)',
    },
    {
      name: 'anyPath with a regex',
      mutate: (w) => {
        const h = w.inbound?.authorizations[0]?.http[0];
        if (h) h.anyPath = true;
      },
      error: 'inbound.authorizations[0].http[0].pathRegex: must be empty when anyPath is true',
    },
    {
      name: 'source not a SPIFFE ID',
      mutate: (w) => w.inbound?.authorizations[0]?.sources.push('frontend'),
      error: 'inbound.authorizations[0].sources[2]: "frontend" is not a SPIFFE ID (spiffe://<trust-domain>/...)',
    },
    {
      name: 'meshed endpoint without identity',
      mutate: (w) => {
        const e = w.outbound[0]?.ports[0]?.endpoints[0];
        if (e) e.identity = '';
      },
      error: 'outbound[0].ports[0].endpoints[0].identity: missing',
    },
    {
      name: 'unmeshed endpoint with identity',
      mutate: (w) => {
        const e = w.outbound[0]?.ports[0]?.endpoints[0];
        if (e) e.unmeshed = true;
      },
      error: 'outbound[0].ports[0].endpoints[0].identity: must be empty when unmeshed is true',
    },
    {
      name: 'bad address',
      mutate: (w) => {
        const e = w.outbound[0]?.ports[0]?.split?.backends[0]?.endpoints[0];
        if (e) e.address = 'catalog.shop';
      },
      error: 'outbound[0].ports[0].split.backends[0].endpoints[0].address: "catalog.shop" is not an IP address',
    },
    { name: 'bad VIP', mutate: (w) => w.outbound[0]?.vips.push('10.96.0.300'), error: 'outbound[0].vips[2]: "10.96.0.300" is not an IP address' },
    {
      name: 'weight beyond 2^53',
      mutate: (w) => {
        const b = w.outbound[2]?.ports[0]?.split?.backends[0];
        if (b) b.weight = 2 ** 60;
      },
      error: /^outbound\[2\]\.ports\[0\]\.split\.backends\[0\]\.weight: \d+ is not a weight/,
    },
    {
      name: 'split without its TrafficSplit name',
      mutate: (w) => {
        const s = w.outbound[0]?.ports[0]?.split;
        if (s) s.trafficSplit = null;
      },
      error: 'outbound[0].ports[0].split.trafficSplit: missing',
    },
    {
      name: 'route without kind',
      mutate: (w) => {
        const r = w.outbound[0]?.ports[0]?.split?.matches[0]?.route;
        if (r) r.kind = 'ROUTE_KIND_UNSPECIFIED';
      },
      error: 'outbound[0].ports[0].split.matches[0].route.kind: missing (ROUTE_KIND_UNSPECIFIED)',
    },
  ];
  for (const c of cases) {
    const wire = richWire();
    c.mutate(wire);
    const errors = errorsOf(t, wire);
    t.equal(errors.length, 1, `${c.name}: exactly one error (${errors.join('; ')})`);
    if (typeof c.error === 'string') t.equal(errors[0], c.error, c.name);
    else t.match(errors[0], c.error, c.name);
  }
  t.end();
});

t.test('every problem is reported; the reason lists the first five and counts the rest', (t) => {
  const wire = richWire();
  const ports = wire.inbound?.ports ?? [];
  for (const p of ports) p.port = 0; // 5 errors
  wire.version = ''; // 1 more
  const result = decodePolicy(overTheWire({ policy: wire }).policy);
  if (result.ok) throw new Error('expected rejection');
  t.equal(result.errors.length, 6);
  t.equal(result.errors[0], 'version: missing', 'in message order');
  t.equal(result.reason.split('; ').length, 6, 'five errors and the remainder count');
  t.match(result.reason, /; and 1 more$/);
  t.end();
});

t.test('a ControllerMessage without a policy is rejected', (t) => {
  const result = decodePolicy(overTheWire({}).policy);
  t.strictSame(result, { ok: false, errors: ['policy: missing'], reason: 'policy: missing' });
  t.match(decodePolicy(undefined), { ok: false, reason: 'policy: missing' });
  t.end();
});

t.test('wrongly typed values from a non-proto-loader source are errors, not crashes', (t) => {
  const bad = { ...encodePolicy(minimal), trustBundle: 'pem', outbound: [{ service: { namespace: 1, name: 'x' }, vips: [], headless: 'yes', ports: [] }] };
  const result = decodePolicy(bad as unknown as WireProxyPolicy);
  if (result.ok) throw new Error('expected rejection');
  t.strictSame(result.errors, [
    'trustBundle: expected a list, got "pem"',
    'outbound[0].service.namespace: expected a string, got 1',
    'outbound[0].headless: expected a bool, got "yes"',
  ]);
  t.end();
});

t.test('the version is carried, not recomputed', (t) => {
  const stale: ProxyPolicy = { ...withVersion(richContent), version: 'not-the-hash' };
  const result = roundTrip(stale);
  t.equal(result.ok && result.policy.version, 'not-the-hash');
  t.end();
});
