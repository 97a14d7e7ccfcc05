import t from 'tap';
import { parse, parseAllDocuments } from 'yaml';
import { formatDiagnostic } from '../../src/diagnostics.js';
import type { Diagnostic } from '../../src/diagnostics.js';
import { decodeSmi } from '../../src/smi/decode.js';
import type { SmiObject, TrafficSplit } from '../../src/smi/model.js';
import { SMI_REFERENCE_SAMPLES } from './samples.js';

// ---------------------------------------------------------------------------------------------
// Helpers

type Raw = Record<string, unknown>;

function errors(ds: readonly Diagnostic[]): string[] {
  return ds.filter((d) => d.severity === 'error').map(formatDiagnostic);
}

function warnings(ds: readonly Diagnostic[]): string[] {
  return ds.filter((d) => d.severity === 'warning').map(formatDiagnostic);
}

/** Decodes and requires success with no diagnostics at all. */
function ok(raw: unknown): SmiObject {
  const r = decodeSmi(raw);
  if (r.object === undefined || r.diagnostics.length > 0) throw new Error(`expected a clean decode, got ${r.diagnostics.map(formatDiagnostic).join('\n')}`);
  return r.object;
}

function asSplit(o: SmiObject): TrafficSplit {
  if (o.kind !== 'TrafficSplit') throw new Error(`expected a TrafficSplit, got ${o.kind}`);
  return o;
}

function yaml(text: string): Raw {
  return parse(text) as Raw;
}

function split(version: string, backends: unknown, extra: Raw = {}): Raw {
  return {
    apiVersion: `split.smi-spec.io/${version}`,
    kind: 'TrafficSplit',
    metadata: { name: 'canary', namespace: 'default' },
    spec: { service: 'web', backends, ...extra },
  };
}

function target(version: string, spec: Raw): Raw {
  return { apiVersion: `access.smi-spec.io/${version}`, kind: 'TrafficTarget', metadata: { name: 'tt', namespace: 'shop' }, spec };
}

const SA = (name: string): Raw => ({ kind: 'ServiceAccount', name, namespace: 'shop' });

function group(version: string, matches: unknown): Raw {
  const base = { apiVersion: `specs.smi-spec.io/${version}`, kind: 'HTTPRouteGroup', metadata: { name: 'api', namespace: 'shop' } };
  return version === 'v1alpha1' || version === 'v1alpha2' ? { ...base, matches } : { ...base, spec: { matches } };
}

// ---------------------------------------------------------------------------------------------
// The smi-reference §2 samples decode (verbatim YAML)

const SAMPLES = SMI_REFERENCE_SAMPLES;

t.test('smi-reference samples decode to the hub', (t) => {
  const [tt1, tt3, ib, tt4, hrg, tcp, ts1, ts4] = parseAllDocuments(SAMPLES).map((d) => ok(d.toJS()));
  t.match(tt1, {
    kind: 'TrafficTarget',
    meta: { namespace: 'shop', name: 'orders-from-web', labels: {}, annotations: {} },
    origin: { apiVersion: 'access.smi-spec.io/v1alpha1' },
    destination: { kind: 'ServiceAccount', name: 'orders', namespace: 'shop', port: 8080 },
    rules: [{ kind: 'HTTPRouteGroup', name: 'orders-api', matches: ['read'] }],
    sources: [{ kind: 'ServiceAccount', name: 'web', namespace: 'shop' }],
  });
  t.strictSame((tt3 as { rules: unknown }).rules, [
    { kind: 'TCPRoute', name: 'orders-port' },
    { kind: 'HTTPRouteGroup', name: 'orders-api', matches: ['read'] },
  ]);
  t.match(ib, { kind: 'IdentityBinding', schemes: { serviceAccount: 'orders', spiffeIdentities: ['cluster.local/ns/shop/sa/orders'] } });
  t.match(tt4, {
    destination: { kind: 'IdentityBinding', group: 'access.smi-spec.io', name: 'orders' },
    sources: [{ kind: 'IdentityBinding', group: 'access.smi-spec.io', name: 'web' }],
  });
  t.strictSame((hrg as { matches: unknown }).matches, [
    { name: 'read', pathRegex: '/orders(/.*)?', methods: ['GET', 'HEAD'] },
    { name: 'beta', headers: [{ name: 'x-beta', value: '^on$' }] },
  ]);
  t.match(tcp, { kind: 'TCPRoute', ports: [8080] });
  t.strictSame((ts1 as { backends: unknown }).backends, [
    { service: 'cart-v1', weight: 1000, quantity: '1' },
    { service: 'cart-v2', weight: 500, quantity: '500m' },
  ]);
  t.match(ts4, { service: 'cart', matches: [{ kind: 'HTTPRouteGroup', name: 'beta-users' }], backends: [{ weight: 0 }, { weight: 100 }] });
  t.end();
});

// ---------------------------------------------------------------------------------------------
// Exact messages

t.test('messages name the resource, the field path and what was expected', (t) => {
  const r = decodeSmi(split('v1alpha2', [{ service: 'web-v1', weight: 1 }, { service: 'web-v2', weight: 'ten' }]));
  t.equal(r.object, undefined);
  t.strictSame(errors(r.diagnostics), ['TrafficSplit default/canary: spec.backends[1].weight: must be a non-negative integer, got "ten"']);
  t.match(r.diagnostics[0], { code: 'InvalidField', severity: 'error', field: 'spec.backends[1].weight', object: { kind: 'TrafficSplit', namespace: 'default', name: 'canary', apiVersion: 'split.smi-spec.io/v1alpha2' } });

  const withSource = decodeSmi(split('v1alpha4', [{ service: 'web-v1', weight: 2.5 }]), 'deploy/split.yaml');
  t.strictSame(errors(withSource.diagnostics), ['deploy/split.yaml: TrafficSplit default/canary: spec.backends[0].weight: must be a non-negative integer, got 2.5']);

  const name = decodeSmi(target('v1alpha3', { destination: SA('Orders_1'), rules: [], sources: [] }));
  t.strictSame(errors(name.diagnostics), [
    "TrafficTarget shop/tt: spec.destination.name: must be a ServiceAccount name: a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters), got \"Orders_1\"",
  ]);

  const kind = decodeSmi(target('v1alpha3', { destination: SA('orders'), rules: [], sources: [{ kind: 'IdentityBinding', name: 'web' }] }));
  t.strictSame(errors(kind.diagnostics), [
    'TrafficTarget shop/tt: spec.sources[0].kind: must be ServiceAccount (IdentityBinding needs access.smi-spec.io/v1alpha4), got "IdentityBinding"',
  ]);
  t.end();
});

t.test('every problem of an object is reported, not only the first', (t) => {
  const r = decodeSmi({
    apiVersion: 'split.smi-spec.io/v1alpha4',
    kind: 'TrafficSplit',
    metadata: { name: 'Canary', namespace: 'default', labels: { app: 1 } },
    spec: { backends: [{ service: 'web_v1', weight: -1 }, { weight: 1 }, 'web-v3'], matches: [{ kind: 'Service', name: 'x' }] },
  });
  t.equal(r.object, undefined);
  t.strictSame(
    r.diagnostics.map((d) => d.field),
    [
      'metadata.name',
      'metadata.labels.app',
      'spec.service',
      'spec.backends[2]',
      'spec.backends[0].service',
      'spec.backends[0].weight',
      'spec.backends[1].service',
      'spec.matches[0].kind',
    ],
  );
  t.ok(r.diagnostics.every((d) => d.code === 'InvalidField' && d.severity === 'error'));
  t.end();
});

// ---------------------------------------------------------------------------------------------
// TrafficSplit weights

t.test('v1alpha2+ weights are non-negative integers up to 2147483647', (t) => {
  for (const version of ['v1alpha2', 'v1alpha3', 'v1alpha4']) {
    for (const [weight, expected] of [
      [2.5, 'must be a non-negative integer, got 2.5'],
      [-1, 'must be a non-negative integer, got -1'],
      ['10', 'must be a non-negative integer, got "10"'],
      [true, 'must be a non-negative integer, got true'],
      [2147483648, 'must be at most 2147483647, got 2147483648'],
    ] as const) {
      const r = decodeSmi(split(version, [{ service: 'a', weight }]));
      t.strictSame(r.diagnostics.map((d) => d.message), [expected], `${version} ${String(weight)}`);
      t.equal(r.object, undefined);
    }
    const missing = decodeSmi(split(version, [{ service: 'a' }]));
    t.strictSame(missing.diagnostics.map((d) => d.message), ['required, expected a non-negative integer']);
    t.match(ok(split(version, [{ service: 'a', weight: 0 }, { service: 'b', weight: 2147483647 }])), { backends: [{ weight: 0 }, { weight: 2147483647 }] });
  }
  t.end();
});

t.test('v1alpha1 quantities: whole values stay whole, otherwise all become milli', (t) => {
  const cases: [unknown[], number[]][] = [
    [['1', '500m'], [1000, 500]],
    [['5', '95'], [5, 95]],
    [[1, '0.5'], [1000, 500]],
    [[100, 0], [100, 0]],
    [['1k', '2'], [1000, 2]],
    [['1Ki', '1'], [1024, 1]],
    [['1500m', '1.5'], [1500, 1500]],
    [['2000m', '1'], [2, 1]],
  ];
  for (const [weights, expected] of cases) {
    const hub = ok(split('v1alpha1', weights.map((weight, i) => ({ service: `b${i}`, weight }))));
    t.strictSame(
      asSplit(hub).backends.map((b) => [b.weight, b.quantity]),
      expected.map((w, i) => [w, weights[i]]),
      JSON.stringify(weights),
    );
  }
  t.end();
});

t.test('v1alpha1 quantities are validated with clear messages', (t) => {
  const cases: [unknown, string][] = [
    ['ten', 'must be a non-negative Kubernetes quantity such as 1, "1500m" or "0.5", got "ten"'],
    ['-1', 'must be non-negative, got "-1"'],
    [-3, 'must be non-negative, got -3'],
    ['1u', 'must be a whole number of milli-units (at most 3 decimal places, e.g. "1.5" or "1500m"), got "1u"'],
    ['0.0005', 'must be a whole number of milli-units (at most 3 decimal places, e.g. "1.5" or "1500m"), got "0.0005"'],
    [true, 'must be a Kubernetes quantity (a string such as "500m", or a number), got true'],
    ['3G', 'must be at most 2147483647, got "3G"'],
  ];
  for (const [weight, message] of cases) {
    const r = decodeSmi(split('v1alpha1', [{ service: 'a', weight }, { service: 'b', weight: '1' }]));
    t.strictSame(errors(r.diagnostics), [`TrafficSplit default/canary: spec.backends[0].weight: ${message}`], String(weight));
  }
  // 3000000 is fine alone, but with a fractional sibling everything is milli and 3e9 overflows.
  t.ok(ok(split('v1alpha1', [{ service: 'a', weight: '3000000' }, { service: 'b', weight: '1' }])));
  const r = decodeSmi(split('v1alpha1', [{ service: 'a', weight: '3000000' }, { service: 'b', weight: '0.5' }]));
  t.strictSame(r.diagnostics.map((d) => [d.field, d.message]), [
    ['spec.backends[0].weight', 'must be at most 2147483647m (2147483.647) when any weight has a fraction, got "3000000"'],
  ]);
  t.end();
});

t.test('split names, matches and versions', (t) => {
  const bad = decodeSmi(split('v1alpha4', [{ service: 'Web-V1', weight: 1 }]));
  t.match(errors(bad.diagnostics), [/spec\.backends\[0\]\.service: must be a Service name: a DNS-1035 label .*got "Web-V1"/]);
  // The root may be written as a DNS name (older docs used the FQDN); the compiler resolves it.
  t.ok(ok({ ...split('v1alpha4', [{ service: 'a', weight: 1 }]), spec: { service: 'web.shop', backends: [{ service: 'a', weight: 1 }] } }));

  const m = decodeSmi(split('v1alpha2', [{ service: 'a', weight: 1 }], { matches: [{ kind: 'HTTPRouteGroup', name: 'beta' }] }));
  t.strictSame(m.diagnostics.map((d) => d.message), [
    'not available in split.smi-spec.io/v1alpha2 (ignoring it would split all traffic); use split.smi-spec.io/v1alpha3 or later',
  ]);
  const v3 = ok(split('v1alpha3', [{ service: 'a', weight: 1 }], { matches: [{ kind: 'HTTPRouteGroup', name: 'beta', apiGroup: 'specs.smi-spec.io' }] }));
  t.match(v3, { matches: [{ kind: 'HTTPRouteGroup', name: 'beta', apiGroup: 'specs.smi-spec.io' }] });
  const wrongKind = decodeSmi(split('v1alpha4', [{ service: 'a', weight: 1 }], { matches: [{ kind: 'TCPRoute', name: 'x' }] }));
  t.strictSame(wrongKind.diagnostics.map((d) => d.message), ['must be HTTPRouteGroup, got "TCPRoute"']);
  // null is absent, as the API server treats it
  t.notOk('matches' in ok(split('v1alpha4', [{ service: 'a', weight: 1 }], { matches: null })));
  t.end();
});

t.test('stashed split annotations are honoured', (t) => {
  const withMatches = split('v1alpha2', [{ service: 'a', weight: 1 }]);
  withMatches['metadata'] = { name: 'canary', namespace: 'default', annotations: { 'loom.dev/split-matches': '[{"kind":"HTTPRouteGroup","name":"beta"}]' } };
  t.match(ok(withMatches), { matches: [{ kind: 'HTTPRouteGroup', name: 'beta' }] });

  withMatches['metadata'] = { name: 'canary', namespace: 'default', annotations: { 'loom.dev/split-matches': '{oops' } };
  const broken = decodeSmi(withMatches);
  t.equal(broken.object, undefined, 'a broken matches stash fails closed');
  t.match(broken.diagnostics, [{ field: 'metadata.annotations["loom.dev/split-matches"]', code: 'InvalidField' }]);

  const v4 = split('v1alpha4', [{ service: 'a', weight: 1000 }, { service: 'b', weight: 500 }]);
  v4['metadata'] = { name: 'canary', namespace: 'default', annotations: { 'loom.dev/split-v1alpha1-weights': '[{"service":"a","weight":"1"},{"service":"b","weight":"500m"}]' } };
  t.match(ok(v4), { backends: [{ weight: 1000, quantity: '1' }, { weight: 500, quantity: '500m' }] });

  const stale = split('v1alpha4', [{ service: 'a', weight: 10 }, { service: 'b', weight: 90 }]);
  stale['metadata'] = v4['metadata'];
  const staleHub = asSplit(ok(stale));
  t.strictSame(staleHub.backends, [{ service: 'a', weight: 10 }, { service: 'b', weight: 90 }], 'a stale weights stash is ignored');

  stale['metadata'] = { name: 'canary', namespace: 'default', annotations: { 'loom.dev/split-v1alpha1-weights': 'nope' } };
  const r = decodeSmi(stale);
  t.ok(r.object, 'a malformed weights stash does not reject the split');
  t.match(warnings(r.diagnostics), [/split-v1alpha1-weights.*ignored/]);
  t.end();
});

// ---------------------------------------------------------------------------------------------
// TrafficTarget

t.test('identity and rule kinds per version', (t) => {
  const ib = { kind: 'IdentityBinding', group: 'access.smi-spec.io', name: 'web' };
  t.ok(ok(target('v1alpha4', { destination: SA('orders'), rules: [], sources: [ib] })), 'v1alpha4 allows IdentityBinding');
  const v4bad = decodeSmi(target('v1alpha4', { destination: SA('orders'), rules: [], sources: [{ kind: 'Group', name: 'x' }, { ...ib, group: 'other.io' }, { ...SA('a'), group: 'v1' }] }));
  t.strictSame(v4bad.diagnostics.map((d) => `${d.field ?? ''}: ${d.message}`), [
    'spec.sources[0].kind: must be ServiceAccount or IdentityBinding, got "Group"',
    'spec.sources[1].group: must be "access.smi-spec.io" for an IdentityBinding, got "other.io"',
    'spec.sources[2].group: must be empty for a ServiceAccount (the core group), got "v1"',
  ]);

  const udp = { kind: 'UDPRoute', name: 'dns' };
  t.ok(ok(target('v1alpha3', { destination: SA('orders'), rules: [udp], sources: [SA('web')] })));
  const v2 = decodeSmi(target('v1alpha2', { destination: SA('orders'), rules: [udp], sources: [SA('web')] }));
  t.strictSame(v2.diagnostics.map((d) => d.message), ['must be HTTPRouteGroup or TCPRoute (UDPRoute needs access.smi-spec.io/v1alpha3 or later), got "UDPRoute"']);
  const nope = decodeSmi(target('v1alpha3', { destination: SA('orders'), rules: [{ kind: 'HTTPRoute', name: 'x' }], sources: [SA('web')] }));
  t.strictSame(nope.diagnostics.map((d) => d.message), ['must be HTTPRouteGroup, TCPRoute or UDPRoute, got "HTTPRoute"']);
  const missing = decodeSmi(target('v1alpha3', { rules: [{ name: 'x' }], sources: [SA('web')] }));
  t.strictSame(missing.diagnostics.map((d) => `${d.field ?? ''}: ${d.message}`), [
    'spec.destination: required, expected an object with kind and name',
    'spec.rules[0].kind: required, expected HTTPRouteGroup, TCPRoute or UDPRoute',
  ]);
  t.end();
});

t.test('destination ports', (t) => {
  const v1 = (port: unknown): Raw => ({
    apiVersion: 'access.smi-spec.io/v1alpha1',
    kind: 'TrafficTarget',
    metadata: { name: 'tt', namespace: 'shop' },
    destination: { kind: 'ServiceAccount', name: 'orders', port },
    specs: [{ kind: 'TCPRoute', name: 'all' }],
    sources: [SA('web')],
  });
  t.match(ok(v1(8080)), { destination: { port: 8080 } });
  for (const port of [0, 65536, '8080', 80.5]) {
    const r = decodeSmi(v1(port));
    t.strictSame(errors(r.diagnostics), [`TrafficTarget shop/tt: destination.port: must be an integer port from 1 to 65535, got ${JSON.stringify(port)}`]);
  }
  t.match(ok(target('v1alpha2', { destination: { ...SA('orders'), port: 9090 }, rules: [], sources: [] })), { destination: { port: 9090 } });

  // Conformance quirk: access v1alpha3 written with destination.port "9091" → accepted as the port limit, with a warning.
  const quirk = decodeSmi(target('v1alpha3', { destination: { ...SA('orders'), port: '9091' }, rules: [], sources: [] }));
  t.match(quirk.object, { destination: { port: 9091 } });
  t.strictSame(quirk.diagnostics.map((d) => [d.code, d.severity, d.field, d.message]), [
    ['UnsupportedField', 'warning', 'spec.destination.port', 'not part of access.smi-spec.io/v1alpha3 (port limits belong in a TCPRoute); read as a restriction to port 9091'],
  ]);
  const badQuirk = decodeSmi(target('v1alpha3', { destination: { ...SA('orders'), port: 'http' }, rules: [], sources: [] }));
  t.equal(badQuirk.object, undefined, 'an unreadable port fails closed');

  const sourcePort = decodeSmi(target('v1alpha2', { destination: SA('orders'), rules: [], sources: [{ ...SA('web'), port: 80 }] }));
  t.ok(sourcePort.object);
  t.match(warnings(sourcePort.diagnostics), [/spec\.sources\[0\]\.port: a port on a source means nothing/]);
  t.end();
});

t.test('empty rules and sources are valid input (the compiler reports them)', (t) => {
  t.match(ok(target('v1alpha3', { destination: SA('orders'), rules: [], sources: [] })), { rules: [], sources: [] });
  t.match(ok(target('v1alpha3', { destination: SA('orders') })), { rules: [], sources: [] });
  t.end();
});

t.test('rule matches', (t) => {
  const r = decodeSmi(target('v1alpha3', { destination: SA('o'), rules: [{ kind: 'TCPRoute', name: 'p', matches: ['x'] }], sources: [SA('w')] }));
  t.strictSame((r.object as { rules: unknown }).rules, [{ kind: 'TCPRoute', name: 'p' }]);
  t.match(warnings(r.diagnostics), [/spec\.rules\[0\]\.matches: only HTTPRouteGroup rules select matches; ignored for a TCPRoute/]);
  const bad = decodeSmi(target('v1alpha3', { destination: SA('o'), rules: [{ kind: 'HTTPRouteGroup', name: 'p', matches: ['', 3] }], sources: [SA('w')] }));
  t.strictSame(bad.diagnostics.map((d) => d.field), ['spec.rules[0].matches[0]', 'spec.rules[0].matches[1]']);
  t.end();
});

// ---------------------------------------------------------------------------------------------
// IdentityBinding

t.test('IdentityBinding schemes', (t) => {
  const ib = (schemes: unknown): Raw => ({ apiVersion: 'access.smi-spec.io/v1alpha4', kind: 'IdentityBinding', metadata: { name: 'web', namespace: 'shop' }, spec: { schemes } });
  const both = decodeSmi(ib({ podLabelSelector: { matchLabels: { app: 'web' } }, serviceAccount: 'web' }));
  t.strictSame(errors(both.diagnostics), ['IdentityBinding shop/web: spec.schemes: podLabelSelector and serviceAccount are mutually exclusive; set only one of them']);
  const none = decodeSmi(ib({}));
  t.strictSame(none.diagnostics.map((d) => d.message), ['must set at least one of podLabelSelector, spiffeIdentities or serviceAccount']);
  t.match(ok(ib({ podLabelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }, spiffeIdentities: ['spiffe://x/ns/a/sa/b'] })), {
    schemes: { podLabelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }, spiffeIdentities: ['spiffe://x/ns/a/sa/b'] },
  });
  const badSel = decodeSmi(ib({ podLabelSelector: { matchExpressions: [{ key: 'app', operator: 'Near' }, { key: 'a', operator: 'In' }, { key: 'b', operator: 'Exists', values: ['x'] }] } }));
  t.strictSame(badSel.diagnostics.map((d) => `${d.field ?? ''}: ${d.message}`), [
    'spec.schemes.podLabelSelector.matchExpressions[0].operator: must be In, NotIn, Exists or DoesNotExist, got "Near"',
    'spec.schemes.podLabelSelector.matchExpressions[1].values: required and non-empty for operator In',
    'spec.schemes.podLabelSelector.matchExpressions[2].values: must be empty for operator Exists',
  ]);
  const v3 = decodeSmi({ ...ib({ serviceAccount: 'web' }), apiVersion: 'access.smi-spec.io/v1alpha3' });
  t.strictSame(v3.diagnostics.map((d) => [d.code, d.message]), [['UnknownKind', 'IdentityBinding is not served in access.smi-spec.io/v1alpha3; it exists in access.smi-spec.io/v1alpha4']]);
  t.end();
});

// ---------------------------------------------------------------------------------------------
// HTTPRouteGroup

t.test('methods, regexes and match names', (t) => {
  t.match(ok(group('v1alpha4', [{ name: 'any', methods: ['*'] }, { name: 'rw', methods: ['GET', 'PATCH'], pathRegex: '([' }])), {
    matches: [{ name: 'any', methods: ['*'] }, { name: 'rw', methods: ['GET', 'PATCH'], pathRegex: '([' }],
  });
  const r = decodeSmi(group('v1alpha4', [{ name: 'x', methods: ['get', 'FETCH'], pathRegex: 5 }, { pathRegex: '/' }, { name: 'x' }]));
  t.strictSame(r.diagnostics.map((d) => `${d.field ?? ''}: ${d.message}`), [
    'spec.matches[0].pathRegex: must be a regex (a string), got 5',
    'spec.matches[0].methods[0]: must be one of *, GET, HEAD, PUT, POST, DELETE, CONNECT, OPTIONS, TRACE, PATCH (upper case), got "get"',
    'spec.matches[0].methods[1]: must be one of *, GET, HEAD, PUT, POST, DELETE, CONNECT, OPTIONS, TRACE, PATCH (upper case), got "FETCH"',
    'spec.matches[1].name: required, expected a match name',
    'spec.matches[2].name: duplicates the name of spec.matches[0]; match names must be unique',
  ]);
  const noMatches = decodeSmi({ apiVersion: 'specs.smi-spec.io/v1alpha3', kind: 'HTTPRouteGroup', metadata: { name: 'g' }, spec: {} });
  t.strictSame(noMatches.diagnostics.map((d) => `${d.field ?? ''}: ${d.message}`), ['spec.matches: required, expected a list of matches']);
  t.end();
});

t.test('headers: map or list of maps, names lower-cased, all must hold', (t) => {
  const map = ok(group('v1alpha3', [{ name: 'b', headers: { 'X-Beta': '^on$', Cookie: 'user=.*' } }]));
  t.strictSame((map as { matches: unknown }).matches, [{ name: 'b', headers: [{ name: 'x-beta', value: '^on$' }, { name: 'cookie', value: 'user=.*' }] }]);
  const list = ok(group('v1alpha2', [{ name: 'b', headers: [{ 'X-Beta': '^on$', 'x-env': 'prod' }, { 'user-agent': '.*Android.*' }] }]));
  t.strictSame((list as { matches: unknown }).matches, [
    { name: 'b', headers: [{ name: 'x-beta', value: '^on$' }, { name: 'x-env', value: 'prod' }, { name: 'user-agent', value: '.*Android.*' }] },
  ]);
  const bad = decodeSmi(group('v1alpha4', [{ name: 'b', headers: [{ 'x-a': 1 }, 'x-b', { 'bad header': 'x' }] }, { name: 'c', headers: 'x' }]));
  t.strictSame(bad.diagnostics.map((d) => `${d.field ?? ''}: ${d.message}`), [
    'spec.matches[0].headers[1]: must be a map of header name to value regex, got "x-b"',
    'spec.matches[0].headers[0]["x-a"]: must be a value regex (a string), got 1',
    "spec.matches[0].headers[2][\"bad header\"]: must be a valid HTTP header name (letters, digits and !#$%&'*+.^_`|~-)",
    'spec.matches[1].headers: must be a map of header name to value regex, or a list of such maps, got "x"',
  ]);
  const v1 = decodeSmi(group('v1alpha1', [{ name: 'b', headers: { 'x-beta': 'on' } }]));
  t.strictSame(errors(v1.diagnostics), [
    'HTTPRouteGroup shop/api: matches[0].headers: not available in specs.smi-spec.io/v1alpha1 (ignoring them would widen the match); use specs.smi-spec.io/v1alpha2 or later',
  ]);
  t.end();
});

t.test('v1alpha4 HTTPRouteGroup with top-level matches is read as a fallback', (t) => {
  const conformance = yaml(`
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata:
  name: http-rg
  namespace: smi-test
matches:
- name: testMatch
  pathRegex: /metrics
  methods: ["*"]
`);
  const r = decodeSmi(conformance);
  t.match(r.object, { kind: 'HTTPRouteGroup', matches: [{ name: 'testMatch', pathRegex: '/metrics', methods: ['*'] }] });
  t.strictSame(r.diagnostics.map((d) => [d.code, d.severity, d.field, d.message]), [
    ['UnsupportedField', 'warning', 'matches', 'belongs under spec in specs.smi-spec.io/v1alpha4; read from the top level as a fallback'],
  ]);
  // With a spec, the stray top-level matches are ignored (warning), spec wins.
  const both = decodeSmi({ ...conformance, spec: { matches: [{ name: 'other' }] } });
  t.match(both.object, { matches: [{ name: 'other' }] });
  t.match(warnings(both.diagnostics), [/matches: not a field of HTTPRouteGroup specs.smi-spec.io\/v1alpha4; ignored/]);
  t.end();
});

// ---------------------------------------------------------------------------------------------
// TCPRoute / UDPRoute

t.test('TCPRoute and UDPRoute ports', (t) => {
  const l4 = (kind: string, version: string, spec?: unknown): Raw => ({
    apiVersion: `specs.smi-spec.io/${version}`,
    kind,
    metadata: { name: 'p', namespace: 'shop' },
    ...(spec === undefined ? {} : { spec }),
  });
  t.match(ok(l4('TCPRoute', 'v1alpha1')), { kind: 'TCPRoute', ports: [] });
  t.match(ok(l4('TCPRoute', 'v1alpha3', {})), { ports: [] });
  t.match(ok(l4('TCPRoute', 'v1alpha4', { matches: { ports: [] } })), { ports: [] });
  t.match(ok(l4('UDPRoute', 'v1alpha4', { matches: { ports: [53, 5353] } })), { kind: 'UDPRoute', ports: [53, 5353] });
  const bad = decodeSmi(l4('TCPRoute', 'v1alpha4', { matches: { ports: [0, 70000, '80', 80.5, 443] } }));
  t.strictSame(bad.diagnostics.map((d) => `${d.field ?? ''}: ${d.message}`), [
    'spec.matches.ports[0]: must be an integer port from 1 to 65535, got 0',
    'spec.matches.ports[1]: must be an integer port from 1 to 65535, got 70000',
    'spec.matches.ports[2]: must be an integer port from 1 to 65535, got "80"',
    'spec.matches.ports[3]: must be an integer port from 1 to 65535, got 80.5',
  ]);
  const noPorts = decodeSmi(l4('TCPRoute', 'v1alpha4', {}));
  t.strictSame(noPorts.diagnostics.map((d) => d.field), ['spec.matches']);
  const early = decodeSmi(l4('TCPRoute', 'v1alpha3', { matches: { ports: [80] } }));
  t.strictSame(early.diagnostics.map((d) => d.message), ['not available in specs.smi-spec.io/v1alpha3 (ignoring it would allow every port); use specs.smi-spec.io/v1alpha4']);
  const udp3 = decodeSmi(l4('UDPRoute', 'v1alpha3', {}));
  t.match(udp3.diagnostics, [{ code: 'UnknownKind', message: 'UDPRoute is not served in specs.smi-spec.io/v1alpha3; it exists in specs.smi-spec.io/v1alpha4' }]);
  const named = decodeSmi(l4('TCPRoute', 'v1alpha4', { matches: { name: 'm', ports: [80] } }));
  t.ok(named.object);
  t.match(warnings(named.diagnostics), [/spec\.matches\.name: not a field of TCPRoute/]);
  t.end();
});

// ---------------------------------------------------------------------------------------------
// Unknown fields, metadata, envelopes

t.test('unknown fields inside spec are warned about and ignored', (t) => {
  const r = decodeSmi(split('v1alpha4', [{ service: 'a', weight: 1, port: 80 }], { timeout: '1s' }));
  t.ok(r.object);
  t.strictSame(r.diagnostics.map((d) => [d.code, d.severity, d.field]), [
    ['UnsupportedField', 'warning', 'spec.timeout'],
    ['UnsupportedField', 'warning', 'spec.backends[0].port'],
  ]);
  t.strictSame(warnings(r.diagnostics)[0], 'TrafficSplit default/canary: spec.timeout: not a field of TrafficSplit split.smi-spec.io/v1alpha4; ignored');
  t.notOk('timeout' in (r.object ?? {}));
  t.end();
});

t.test('metadata is kept; the namespace defaults to default', (t) => {
  const hub = ok({
    apiVersion: 'specs.smi-spec.io/v1alpha4',
    kind: 'TCPRoute',
    metadata: {
      name: 'p',
      creationTimestamp: '2024-05-02T10:00:00Z',
      uid: 'abc-123',
      labels: { 'app.kubernetes.io/name': 'shop' },
      annotations: { 'loom.dev/audit': 'true' },
      resourceVersion: '42',
    },
    spec: { matches: { ports: [80] } },
  });
  t.strictSame(hub.meta, {
    namespace: 'default',
    name: 'p',
    creationTimestamp: '2024-05-02T10:00:00Z',
    uid: 'abc-123',
    labels: { 'app.kubernetes.io/name': 'shop' },
    annotations: { 'loom.dev/audit': 'true' },
  });
  const other = decodeSmi({ apiVersion: 'specs.smi-spec.io/v1alpha1', kind: 'TCPRoute', metadata: { name: 'p' } }, 'x.yaml', { defaultNamespace: 'team-a' });
  t.equal(other.object?.meta.namespace, 'team-a');
  t.equal(other.object?.origin.source, 'x.yaml');

  const bad = decodeSmi({ apiVersion: 'specs.smi-spec.io/v1alpha1', kind: 'TCPRoute', metadata: { namespace: 'Shop', annotations: { 'loom.dev/audit': true } } });
  t.strictSame(bad.diagnostics.map((d) => `${d.field ?? ''}: ${d.message}`), [
    'metadata.name: required, expected a string',
    "metadata.namespace: must be a namespace name: a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters), got \"Shop\"",
    'metadata.annotations["loom.dev/audit"]: must be a string (quote numbers and booleans), got true',
  ]);
  t.equal(bad.diagnostics[0]?.object.name, '(unnamed)');
  t.end();
});

t.test('envelopes: non-objects, unknown kinds and versions', (t) => {
  t.match(decodeSmi('hello').diagnostics, [{ code: 'MalformedManifest', severity: 'error' }]);
  t.match(decodeSmi({ kind: 'TrafficSplit', metadata: { name: 'x' } }).diagnostics, [{ code: 'MalformedManifest', field: 'apiVersion' }]);
  const cases: [string, string, string][] = [
    ['split.smi-spec.io/v1alpha5', 'TrafficSplit', 'TrafficSplit is not served in split.smi-spec.io/v1alpha5; it exists in split.smi-spec.io/v1alpha1, split.smi-spec.io/v1alpha2, split.smi-spec.io/v1alpha3, split.smi-spec.io/v1alpha4'],
    ['access.smi-spec.io/v1alpha3', 'HTTPRouteGroup', 'access.smi-spec.io has no kind HTTPRouteGroup'],
    ['metrics.smi-spec.io/v1alpha1', 'TrafficMetrics', "metrics.smi-spec.io/v1alpha1 TrafficMetrics is served by Loom's metrics API, not read as input"],
    ['apps/v1', 'Deployment', 'apps/v1 Deployment is not an SMI kind'],
  ];
  for (const [apiVersion, kind, message] of cases) {
    const r = decodeSmi({ apiVersion, kind, metadata: { name: 'x' } });
    t.equal(r.object, undefined);
    t.strictSame(r.diagnostics.map((d) => [d.code, d.message]), [['UnknownKind', message]], `${apiVersion} ${kind}`);
  }
  t.end();
});
