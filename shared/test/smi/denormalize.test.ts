import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { formatDiagnostic } from '../../src/diagnostics.js';
import { decodeSmi } from '../../src/smi/decode.js';
import { denormalize } from '../../src/smi/denormalize.js';
import type { SmiObject } from '../../src/smi/model.js';
import { servedVersionsOf } from '../../src/smi/versions.js';
import { SMI_REFERENCE_SAMPLES } from './samples.js';

type Raw = Record<string, unknown>;

function hub(raw: unknown): SmiObject {
  const r = decodeSmi(raw);
  if (r.object === undefined) throw new Error(`decode failed: ${r.diagnostics.map(formatDiagnostic).join('\n')}`);
  return r.object;
}

function convert(h: SmiObject, apiVersion: string, rawMetadata?: unknown): Raw {
  const r = denormalize(h, apiVersion, rawMetadata);
  if ('error' in r) throw new Error(r.error);
  return r.object as unknown as Raw;
}

function isRecord(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The documented differences of a round trip: headers come back in the SDK list form, one single-key map per
 * header, with lower-cased names.
 */
function canonical(raw: unknown): unknown {
  if (Array.isArray(raw)) return raw.map(canonical);
  if (!isRecord(raw)) return raw;
  const out: Raw = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'headers' && (isRecord(v) || Array.isArray(v))) {
      const maps = Array.isArray(v) ? v : [v];
      out[k] = maps.flatMap((m) => Object.entries(m as Raw).map(([name, value]) => ({ [name.toLowerCase()]: value })));
    } else out[k] = canonical(v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Corpus: the smi-reference §2 samples verbatim, plus realistic objects of every version.

const CORPUS_YAML = `${SMI_REFERENCE_SAMPLES}
---
# access v1alpha2 with a port, metadata as a server sends it
apiVersion: access.smi-spec.io/v1alpha2
kind: TrafficTarget
metadata:
  name: api-from-gateway
  namespace: shop
  uid: 5b1f3e8c-0d2a-4c59-9a53-2f2b9f1c7a10
  resourceVersion: "1834"
  generation: 2
  creationTimestamp: "2024-05-02T10:00:00Z"
  labels: {team: shop}
  annotations: {loom.dev/audit: "true"}
spec:
  destination: {kind: ServiceAccount, name: api, namespace: shop, port: 9090}
  rules:
  - {kind: HTTPRouteGroup, name: api-routes}
  sources:
  - {kind: ServiceAccount, name: gateway, namespace: ingress}
  - {kind: ServiceAccount, name: web}
---
# access v1alpha2 without a port
apiVersion: access.smi-spec.io/v1alpha2
kind: TrafficTarget
metadata: {name: metrics-scrape, namespace: monitoring}
spec:
  destination: {kind: ServiceAccount, name: node-exporter}
  rules: [{kind: TCPRoute, name: scrape}]
  sources: [{kind: ServiceAccount, name: prometheus, namespace: monitoring}]
---
# access v1alpha3 with a UDPRoute rule
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: dns, namespace: kube-system}
spec:
  destination: {kind: ServiceAccount, name: coredns}
  rules: [{kind: UDPRoute, name: dns}, {kind: TCPRoute, name: dns-tcp}]
  sources: [{kind: ServiceAccount, name: default, namespace: shop}]
---
# access v1alpha4 with only ServiceAccounts
apiVersion: access.smi-spec.io/v1alpha4
kind: TrafficTarget
metadata: {name: cart-from-web, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: cart, namespace: shop}
  rules: [{kind: HTTPRouteGroup, name: cart-api, matches: [read, write]}]
  sources: [{kind: ServiceAccount, name: web, namespace: shop}]
---
apiVersion: specs.smi-spec.io/v1alpha1
kind: HTTPRouteGroup
metadata: {name: legacy, namespace: shop}
matches:
- {name: all, pathRegex: ".*", methods: ["*"]}
- {name: health, pathRegex: /healthz, methods: [GET]}
---
apiVersion: specs.smi-spec.io/v1alpha2
kind: HTTPRouteGroup
metadata: {name: beta, namespace: shop}
matches:
- name: android
  headers:
  - user-agent: ".*Android.*"
  - x-beta: "on"
---
apiVersion: specs.smi-spec.io/v1alpha3
kind: HTTPRouteGroup
metadata: {name: docs-style, namespace: shop}
spec:
  matches:
  - name: firefox
    pathRegex: /
    methods: [GET]
    headers:
      User-Agent: ".*Firefox.*"
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: plain, namespace: shop}
spec:
  matches:
  - {name: writes, methods: [POST, PUT, PATCH, DELETE]}
---
apiVersion: specs.smi-spec.io/v1alpha1
kind: TCPRoute
metadata: {name: all-ports, namespace: shop}
---
apiVersion: specs.smi-spec.io/v1alpha3
kind: TCPRoute
metadata: {name: all-ports-3, namespace: shop}
spec: {}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: {name: service-tcp-route, namespace: smi-test}
spec: {matches: {ports: []}}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: UDPRoute
metadata: {name: dns, namespace: kube-system}
spec: {matches: {ports: [53]}}
---
# Flagger (linkerd provider): v1alpha1 with quantities written as strings
apiVersion: split.smi-spec.io/v1alpha1
kind: TrafficSplit
metadata:
  name: podinfo
  namespace: test
  ownerReferences:
  - {apiVersion: flagger.app/v1beta1, kind: Canary, name: podinfo, uid: 1, controller: true, blockOwnerDeletion: true}
spec:
  service: podinfo
  backends:
  - {service: podinfo-canary, weight: "5"}
  - {service: podinfo-primary, weight: "95"}
---
# v1alpha1 with plain numbers
apiVersion: split.smi-spec.io/v1alpha1
kind: TrafficSplit
metadata: {name: numbers, namespace: shop}
spec:
  service: cart
  backends:
  - {service: cart-v1, weight: 100}
  - {service: cart-v2, weight: 0.5}
---
apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata: {name: osm, namespace: shop}
spec:
  service: bookstore
  backends:
  - {service: bookstore-v1, weight: 75}
  - {service: bookstore-v2, weight: 25}
---
apiVersion: split.smi-spec.io/v1alpha3
kind: TrafficSplit
metadata: {name: ab, namespace: shop, annotations: {owner: team-a}}
spec:
  service: web
  matches: [{kind: HTTPRouteGroup, name: beta}, {kind: HTTPRouteGroup, name: android, apiGroup: specs.smi-spec.io}]
  backends:
  - {service: web-v1, weight: 50}
  - {service: web-v2, weight: 50}
`;

const CORPUS = parseAllDocuments(CORPUS_YAML).map((d) => d.toJS() as Raw);

/** The target versions each corpus object must refuse (everything else must round-trip). */
const REFUSALS: Record<string, string[]> = {
  'access.smi-spec.io/v1alpha1 orders-from-web': ['v1alpha3', 'v1alpha4'], // destination.port
  'access.smi-spec.io/v1alpha4 orders-from-web': ['v1alpha1', 'v1alpha2', 'v1alpha3'], // IdentityBinding refs
  'access.smi-spec.io/v1alpha2 api-from-gateway': ['v1alpha3', 'v1alpha4'], // destination.port
  'access.smi-spec.io/v1alpha3 dns': ['v1alpha1', 'v1alpha2'], // UDPRoute rule
  'specs.smi-spec.io/v1alpha4 orders-api': ['v1alpha1'], // headers
  'specs.smi-spec.io/v1alpha2 beta': ['v1alpha1'],
  'specs.smi-spec.io/v1alpha3 docs-style': ['v1alpha1'],
  'specs.smi-spec.io/v1alpha4 orders-port': ['v1alpha1', 'v1alpha2', 'v1alpha3'], // ports
};

function key(raw: Raw): string {
  return `${String(raw['apiVersion'])} ${String((raw['metadata'] as Raw)['name'])}`;
}

t.test('every version pair round-trips or is refused as documented', (t) => {
  t.equal(CORPUS.length, 24);
  for (const original of CORPUS) {
    const apiVersion = String(original['apiVersion']);
    const first = hub(original);
    const refusals = REFUSALS[key(original)] ?? [];
    for (const target of servedVersionsOf(first.kind)) {
      const name = `${key(original)} → ${target.version} → back`;
      const mid = denormalize(first, target.apiVersion, original['metadata']);
      if (refusals.includes(target.version)) {
        t.ok('error' in mid, `${name}: refused`);
        continue;
      }
      if ('error' in mid) {
        t.fail(`${name}: unexpectedly refused: ${mid.error}`);
        continue;
      }
      t.equal(mid.object.apiVersion, target.apiVersion, `${name}: apiVersion is group/version`);
      const second = decodeSmi(mid.object);
      t.strictSame(second.diagnostics.map(formatDiagnostic), [], `${name}: the converted object decodes cleanly`);
      if (second.object === undefined) continue;
      const back = denormalize(second.object, apiVersion, mid.object.metadata);
      t.strictSame('object' in back ? back.object : back, canonical(original), name);
    }
  }
  t.end();
});

t.test('round trips without raw metadata rebuild it from the hub', (t) => {
  for (const original of CORPUS.filter((o) => !('ownerReferences' in (o['metadata'] as Raw)) && !('uid' in (o['metadata'] as Raw)))) {
    const h = hub(original);
    const same = denormalize(h, String(original['apiVersion']));
    t.strictSame('object' in same ? same.object : same, canonical(original), key(original));
  }
  t.end();
});

// ---------------------------------------------------------------------------------------------
// What the conversions write

function find(name: string, apiVersion: string): Raw {
  const raw = CORPUS.find((o) => key(o) === `${apiVersion} ${name}`);
  if (raw === undefined) throw new Error(`no corpus object ${apiVersion} ${name}`);
  return raw;
}

t.test('TrafficSplit v1alpha1 quantities → v1alpha4 integers, originals stashed', (t) => {
  const raw = find('cart-rollout', 'split.smi-spec.io/v1alpha1');
  const v4 = convert(hub(raw), 'split.smi-spec.io/v1alpha4', raw['metadata']);
  t.strictSame(v4, {
    apiVersion: 'split.smi-spec.io/v1alpha4',
    kind: 'TrafficSplit',
    metadata: {
      name: 'cart-rollout',
      namespace: 'shop',
      annotations: { 'loom.dev/split-v1alpha1-weights': '[{"service":"cart-v1","weight":"1"},{"service":"cart-v2","weight":"500m"}]' },
    },
    spec: { service: 'cart', backends: [{ service: 'cart-v1', weight: 1000 }, { service: 'cart-v2', weight: 500 }] },
  });

  // Flagger's whole string weights need no stash: "5" → 5 → "5".
  const flagger = find('podinfo', 'split.smi-spec.io/v1alpha1');
  const f4 = convert(hub(flagger), 'split.smi-spec.io/v1alpha4', flagger['metadata']);
  t.strictSame(f4['metadata'], flagger['metadata'], 'metadata untouched');
  t.strictSame((f4['spec'] as Raw)['backends'], [{ service: 'podinfo-canary', weight: 5 }, { service: 'podinfo-primary', weight: 95 }]);

  // Edited in v1alpha4 (e.g. by Flagger): the stash is stale, so v1alpha1 gets the new integers and loses the stash.
  const edited = { ...v4, spec: { service: 'cart', backends: [{ service: 'cart-v1', weight: 90 }, { service: 'cart-v2', weight: 10 }] } };
  const v1 = convert(hub(edited), 'split.smi-spec.io/v1alpha1', v4['metadata']);
  t.strictSame(v1, {
    apiVersion: 'split.smi-spec.io/v1alpha1',
    kind: 'TrafficSplit',
    metadata: { name: 'cart-rollout', namespace: 'shop' },
    spec: { service: 'cart', backends: [{ service: 'cart-v1', weight: '90' }, { service: 'cart-v2', weight: '10' }] },
  });
  t.end();
});

t.test('TrafficSplit matches → v1alpha1/v1alpha2 travel in an annotation Loom honours', (t) => {
  const raw = find('cart-ab', 'split.smi-spec.io/v1alpha4');
  const v2 = convert(hub(raw), 'split.smi-spec.io/v1alpha2', raw['metadata']);
  t.strictSame(v2, {
    apiVersion: 'split.smi-spec.io/v1alpha2',
    kind: 'TrafficSplit',
    metadata: { name: 'cart-ab', namespace: 'shop', annotations: { 'loom.dev/split-matches': '[{"kind":"HTTPRouteGroup","name":"beta-users"}]' } },
    spec: { service: 'cart', backends: [{ service: 'cart-v1', weight: 0 }, { service: 'cart-v2', weight: 100 }] },
  });
  // Read as v1alpha2, the split still applies only to matching requests.
  t.match(hub(v2), { kind: 'TrafficSplit', matches: [{ kind: 'HTTPRouteGroup', name: 'beta-users' }] });
  const v1 = convert(hub(raw), 'split.smi-spec.io/v1alpha1', raw['metadata']);
  t.strictSame((v1['spec'] as Raw)['backends'], [{ service: 'cart-v1', weight: '0' }, { service: 'cart-v2', weight: '100' }]);
  t.end();
});

t.test('headers are written in the list form', (t) => {
  const raw = find('docs-style', 'specs.smi-spec.io/v1alpha3');
  const v4 = convert(hub(raw), 'specs.smi-spec.io/v1alpha4', raw['metadata']);
  t.strictSame(v4['spec'], { matches: [{ name: 'firefox', pathRegex: '/', methods: ['GET'], headers: [{ 'user-agent': '.*Firefox.*' }] }] });
  const v2 = convert(hub(raw), 'specs.smi-spec.io/v1alpha2', raw['metadata']);
  t.strictSame(v2['matches'], [{ name: 'firefox', pathRegex: '/', methods: ['GET'], headers: [{ 'user-agent': '.*Firefox.*' }] }]);
  t.notOk('spec' in v2);
  t.end();
});

t.test('TrafficTarget shapes per version', (t) => {
  const raw = find('orders-from-web', 'access.smi-spec.io/v1alpha1');
  t.strictSame(convert(hub(raw), 'access.smi-spec.io/v1alpha2', raw['metadata']), {
    apiVersion: 'access.smi-spec.io/v1alpha2',
    kind: 'TrafficTarget',
    metadata: { name: 'orders-from-web', namespace: 'shop' },
    spec: {
      destination: { kind: 'ServiceAccount', name: 'orders', namespace: 'shop', port: 8080 },
      rules: [{ kind: 'HTTPRouteGroup', name: 'orders-api', matches: ['read'] }],
      sources: [{ kind: 'ServiceAccount', name: 'web', namespace: 'shop' }],
    },
  });
  const v3 = find('orders-from-web', 'access.smi-spec.io/v1alpha3');
  const v1 = convert(hub(v3), 'access.smi-spec.io/v1alpha1', v3['metadata']);
  t.strictSame(Object.keys(v1), ['apiVersion', 'kind', 'metadata', 'destination', 'specs', 'sources']);
  t.end();
});

t.test('the conformance TrafficTarget (v1alpha3 with destination.port "9091") survives v1alpha4 storage', (t) => {
  const raw: Raw = {
    apiVersion: 'access.smi-spec.io/v1alpha3',
    kind: 'TrafficTarget',
    metadata: { name: 'path-specific', namespace: 'smi-test' },
    spec: {
      destination: { kind: 'ServiceAccount', name: 'service-b', namespace: 'smi-test', port: '9091' },
      rules: [{ kind: 'HTTPRouteGroup', name: 'http-rg', matches: ['testMatch'] }],
      sources: [{ kind: 'ServiceAccount', name: 'service-a', namespace: 'smi-test' }],
    },
  };
  const v4 = convert(hub(raw), 'access.smi-spec.io/v1alpha4', raw['metadata']);
  t.strictSame((v4['spec'] as Raw)['destination'], { kind: 'ServiceAccount', name: 'service-b', namespace: 'smi-test', port: '9091' });
  const stored = decodeSmi(v4);
  t.match(stored.object, { destination: { port: 9091 } });
  t.strictSame(convert(stored.object as SmiObject, 'access.smi-spec.io/v1alpha3', v4['metadata']), raw);
  // Down to v1alpha2 the port is native; from there v1alpha3 is refused like any v1alpha2 port.
  const v2 = convert(hub(raw), 'access.smi-spec.io/v1alpha2', raw['metadata']);
  t.strictSame((v2['spec'] as Raw)['destination'], { kind: 'ServiceAccount', name: 'service-b', namespace: 'smi-test', port: 9091 });
  t.ok('error' in denormalize(hub(v2), 'access.smi-spec.io/v1alpha3'));
  t.end();
});

t.test('documented non-exact round trips', (t) => {
  // HTTPRouteGroup v1alpha4 written without spec (conformance): comes back under spec.
  const flat: Raw = { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', metadata: { name: 'http-rg', namespace: 'smi-test' }, matches: [{ name: 'testMatch', pathRegex: '/metrics', methods: ['*'] }] };
  t.strictSame(convert(hub(flat), 'specs.smi-spec.io/v1alpha4', flat['metadata']), {
    apiVersion: 'specs.smi-spec.io/v1alpha4',
    kind: 'HTTPRouteGroup',
    metadata: { name: 'http-rg', namespace: 'smi-test' },
    spec: { matches: [{ name: 'testMatch', pathRegex: '/metrics', methods: ['*'] }] },
  });
  // An empty headers list has no v1alpha1 form and is not restored.
  const empty: Raw = { apiVersion: 'specs.smi-spec.io/v1alpha2', kind: 'HTTPRouteGroup', metadata: { name: 'g', namespace: 'shop' }, matches: [{ name: 'm', headers: [] }] };
  t.strictSame(convert(hub(empty), 'specs.smi-spec.io/v1alpha1')['matches'], [{ name: 'm' }]);
  t.end();
});

// ---------------------------------------------------------------------------------------------
// Refusals, each with its reason

t.test('lossy conversions are refused with the reason', (t) => {
  const cases: [string, string, RegExp][] = [
    ['access.smi-spec.io/v1alpha1 orders-from-web', 'access.smi-spec.io/v1alpha3', /^TrafficTarget shop\/orders-from-web: cannot convert to access.smi-spec.io\/v1alpha3: spec.destination.port 8080 has no place in access.smi-spec.io\/v1alpha3 and dropping it would allow every port; express it with a TCPRoute/],
    ['access.smi-spec.io/v1alpha4 orders-from-web', 'access.smi-spec.io/v1alpha3', /spec.destination names an IdentityBinding, which has no form before access.smi-spec.io\/v1alpha4; spec.sources\[0\] names an IdentityBinding/],
    ['access.smi-spec.io/v1alpha4 orders-from-web', 'access.smi-spec.io/v1alpha1', /: destination names an IdentityBinding/],
    ['access.smi-spec.io/v1alpha3 dns', 'access.smi-spec.io/v1alpha2', /spec.rules\[0\] is a UDPRoute rule, which needs access.smi-spec.io\/v1alpha3 or later/],
    ['access.smi-spec.io/v1alpha3 dns', 'access.smi-spec.io/v1alpha1', /specs\[0\] is a UDPRoute rule/],
    ['specs.smi-spec.io/v1alpha2 beta', 'specs.smi-spec.io/v1alpha1', /^HTTPRouteGroup shop\/beta: cannot convert to specs.smi-spec.io\/v1alpha1: matches\[0\] \(android\) filter on headers, which specs.smi-spec.io\/v1alpha1 cannot express; dropping them would widen the match$/],
    ['specs.smi-spec.io/v1alpha4 orders-port', 'specs.smi-spec.io/v1alpha3', /^TCPRoute shop\/orders-port: cannot convert to specs.smi-spec.io\/v1alpha3: ports 8080 cannot be expressed before specs.smi-spec.io\/v1alpha4, and dropping them would allow every port$/],
    ['specs.smi-spec.io/v1alpha4 dns', 'specs.smi-spec.io/v1alpha3', /^UDPRoute kube-system\/dns: cannot convert to specs.smi-spec.io\/v1alpha3: UDPRoute is served only in specs.smi-spec.io\/v1alpha4$/],
    ['access.smi-spec.io/v1alpha4 orders', 'access.smi-spec.io/v1alpha3', /IdentityBinding is served only in access.smi-spec.io\/v1alpha4/],
    ['split.smi-spec.io/v1alpha2 osm', 'access.smi-spec.io/v1alpha3', /cannot convert to access.smi-spec.io\/v1alpha3: TrafficSplit is served only in split/],
    ['split.smi-spec.io/v1alpha2 osm', 'split.smi-spec.io/v1alpha5', /TrafficSplit is served only in/],
    ['split.smi-spec.io/v1alpha2 osm', 'v1alpha3', /cannot convert to v1alpha3/],
  ];
  for (const [name, apiVersion, message] of cases) {
    const [ver = '', obj = ''] = name.split(' ');
    const r = denormalize(hub(find(obj, ver)), apiVersion);
    t.match('error' in r ? r.error : 'converted', message, `${name} → ${apiVersion}`);
  }
  t.end();
});

t.test('status is copied through when given', (t) => {
  const raw = find('osm', 'split.smi-spec.io/v1alpha2');
  const status = { conditions: [{ type: 'Accepted', status: 'True' }] };
  const r = denormalize(hub(raw), 'split.smi-spec.io/v1alpha4', raw['metadata'], status);
  t.strictSame('object' in r ? r.object.status : undefined, status);
  t.end();
});
