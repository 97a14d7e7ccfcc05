import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse, parseAllDocuments } from 'yaml';
import { formatDiagnostic } from '../../src/diagnostics.js';
import { CRD_CONVERSION_SERVICE, crdFileName, renderCrd, smiCrdFiles, smiCrds } from '../../src/smi/crds.js';
import type { CrdVersion, CustomResourceDefinition, JSONSchemaProps } from '../../src/smi/crds.js';
import { decodeSmi } from '../../src/smi/decode.js';
import { parseApiVersion, SMI_SERVED_VERSIONS } from '../../src/smi/versions.js';
import { SMI_REFERENCE_SAMPLES } from './samples.js';

/** deploy/crds/ of the checkout (the test runs from shared/dist/test/smi/). */
const CRD_DIR = fileURLToPath(new URL('../../../../deploy/crds/', import.meta.url));

type Raw = Record<string, unknown>;

const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------
// A small structural validator: prune what the schema does not declare (as the API server does before
// validating), then check type, int-or-string, enum, required, bounds, pattern, anyOf, not, recursively.

/** The value with undeclared fields removed, and the paths removed. */
function prune(schema: JSONSchemaProps, value: unknown, path: string, pruned: string[], atRoot = false): unknown {
  if (schema['x-kubernetes-preserve-unknown-fields'] === true || schema['x-kubernetes-int-or-string'] === true) return value;
  if (Array.isArray(value) && schema.items !== undefined) {
    const items = schema.items;
    return value.map((v, i) => prune(items, v, `${path}[${i}]`, pruned));
  }
  if (!isObject(value) || schema.type !== 'object') return value;
  const out: Raw = {};
  for (const [key, v] of Object.entries(value)) {
    const field = path === '' ? key : `${path}.${key}`;
    if (atRoot && key === 'metadata') out[key] = v;
    else if (schema.properties?.[key] !== undefined) out[key] = prune(schema.properties[key], v, field, pruned);
    else if (schema.additionalProperties !== undefined) out[key] = prune(schema.additionalProperties, v, field, pruned);
    else pruned.push(field);
  }
  return out;
}

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function validate(schema: JSONSchemaProps, v: unknown, path: string): string[] {
  const at = path === '' ? '<root>' : path;
  const errors: string[] = [];
  const actual = typeOf(v);
  if (schema['x-kubernetes-int-or-string'] === true && actual !== 'integer' && actual !== 'string') return [`${at}: must be an integer or a string, got ${actual}`];
  if (schema.type !== undefined && actual !== schema.type && !(schema.type === 'number' && actual === 'integer')) return [`${at}: must be of type ${schema.type}, got ${actual}`];
  if (schema.enum !== undefined && !schema.enum.includes(v as string)) errors.push(`${at}: unsupported value ${JSON.stringify(v)}`);
  if (typeof v === 'number') {
    if (schema.minimum !== undefined && v < schema.minimum) errors.push(`${at}: must be at least ${schema.minimum}`);
    if (schema.maximum !== undefined && v > schema.maximum) errors.push(`${at}: must be at most ${schema.maximum}`);
  }
  if (typeof v === 'string') {
    if (schema.minLength !== undefined && v.length < schema.minLength) errors.push(`${at}: must be at least ${schema.minLength} characters`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(v)) errors.push(`${at}: must match ${schema.pattern}`);
  }
  if (Array.isArray(v)) {
    if (schema.minItems !== undefined && v.length < schema.minItems) errors.push(`${at}: must have at least ${schema.minItems} items`);
    if (schema.maxItems !== undefined && v.length > schema.maxItems) errors.push(`${at}: must have at most ${schema.maxItems} items`);
    const items = schema.items;
    if (items !== undefined) v.forEach((item, i) => errors.push(...validate(items, item, `${path}[${i}]`)));
  }
  if (isObject(v)) {
    const count = Object.keys(v).length;
    if (schema.minProperties !== undefined && count < schema.minProperties) errors.push(`${at}: must have at least ${schema.minProperties} properties`);
    if (schema.maxProperties !== undefined && count > schema.maxProperties) errors.push(`${at}: must have at most ${schema.maxProperties} properties`);
    for (const key of schema.required ?? []) if (!(key in v)) errors.push(`${path === '' ? key : `${path}.${key}`}: required`);
    for (const [key, value] of Object.entries(v)) {
      const field = path === '' ? key : `${path}.${key}`;
      const sub = schema.properties?.[key] ?? schema.additionalProperties;
      if (sub !== undefined && !(path === '' && key === 'metadata')) errors.push(...validate(sub, value, field));
    }
  }
  if (schema.anyOf !== undefined && !schema.anyOf.some((s) => validate(s, v, path).length === 0)) errors.push(`${at}: must match one of anyOf`);
  if (schema.not !== undefined && validate(schema.not, v, path).length === 0) errors.push(`${at}: must not match ${JSON.stringify(schema.not)}`);
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Helpers

const CRDS = smiCrds();

function versionOf(apiVersion: string, kind: string): CrdVersion {
  const { group, version } = parseApiVersion(apiVersion);
  const crd = CRDS.find((c) => c.spec.group === group && c.spec.names.kind === kind);
  const v = crd?.spec.versions.find((x) => x.name === version);
  if (v === undefined) throw new Error(`no CRD serves ${apiVersion} ${kind}`);
  return v;
}

/** What the API server would do with the object: the fields it prunes and the validation errors. */
function admit(raw: Raw): { pruned: string[]; errors: string[] } {
  const schema = versionOf(String(raw['apiVersion']), String(raw['kind'])).schema.openAPIV3Schema;
  const pruned: string[] = [];
  const kept = prune(schema, raw, '', pruned, true);
  return { pruned, errors: validate(schema, kept, '') };
}

function decodeErrors(raw: Raw): string[] {
  return decodeSmi(raw).diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
}

function docs(text: string): Raw[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Raw);
}

/** Every node of a schema with its field path (`spec.backends[].weight`), junctor contents excluded. */
function* nodes(schema: JSONSchemaProps, path = ''): Generator<[string, JSONSchemaProps]> {
  yield [path, schema];
  for (const [key, sub] of Object.entries(schema.properties ?? {})) yield* nodes(sub, path === '' ? key : `${path}.${key}`);
  if (schema.items !== undefined) yield* nodes(schema.items, `${path}[]`);
  if (schema.additionalProperties !== undefined) yield* nodes(schema.additionalProperties, `${path}{}`);
}

function everyVersion(): [CustomResourceDefinition, CrdVersion][] {
  return CRDS.flatMap((crd) => crd.spec.versions.map((v): [CustomResourceDefinition, CrdVersion] => [crd, v]));
}

// ---------------------------------------------------------------------------------------------
// The CRDs against the versions table

t.test('every CRD kind/version of the versions table appears exactly once, and nothing else', (t) => {
  const expected = SMI_SERVED_VERSIONS.filter((v) => v.crd).map((v) => `${v.plural}.${v.group} ${v.kind} ${v.version}`);
  const actual = everyVersion().map(([crd, v]) => `${crd.metadata.name} ${crd.spec.names.kind} ${v.name}`);
  t.strictSame([...actual].sort(), [...expected].sort());
  t.equal(new Set(actual).size, actual.length, 'no version twice');
  t.notOk(
    CRDS.some((c) => c.spec.names.kind === 'TrafficMetrics'),
    'TrafficMetrics is an aggregated API, not a CRD',
  );
  t.equal(CRDS.length, new Set(CRDS.map((c) => c.metadata.name)).size, 'one CRD per kind');
  t.end();
});

t.test('exactly one storage version per CRD, the one the table stores; every version served', (t) => {
  for (const crd of CRDS) {
    const stored = crd.spec.versions.filter((v) => v.storage).map((v) => v.name);
    const table = SMI_SERVED_VERSIONS.filter((v) => v.kind === crd.spec.names.kind && v.storage).map((v) => v.version);
    t.equal(table.length, 1, `${crd.metadata.name}: the table stores one version`);
    t.strictSame(stored, table, `${crd.metadata.name}: storage version`);
    t.ok(
      crd.spec.versions.every((v) => v.served),
      `${crd.metadata.name}: every version served`,
    );
  }
  t.end();
});

t.test('names, scope, labels and subresources', (t) => {
  const byName = new Map(CRDS.map((c) => [c.metadata.name, c]));
  t.strictSame([...byName.keys()], [
    'traffictargets.access.smi-spec.io',
    'identitybindings.access.smi-spec.io',
    'httproutegroups.specs.smi-spec.io',
    'tcproutes.specs.smi-spec.io',
    'udproutes.specs.smi-spec.io',
    'trafficsplits.split.smi-spec.io',
  ]);
  t.strictSame(byName.get('trafficsplits.split.smi-spec.io')?.spec.names, {
    plural: 'trafficsplits',
    singular: 'trafficsplit',
    kind: 'TrafficSplit',
    listKind: 'TrafficSplitList',
    shortNames: ['ts'],
    categories: ['smi'],
  });
  t.strictSame(byName.get('traffictargets.access.smi-spec.io')?.spec.names.shortNames, ['tt']);
  t.strictSame(byName.get('httproutegroups.specs.smi-spec.io')?.spec.names.shortNames, ['htr']);
  t.strictSame(byName.get('tcproutes.specs.smi-spec.io')?.spec.names.shortNames, ['tr']);
  t.strictSame(byName.get('udproutes.specs.smi-spec.io')?.spec.names.shortNames, ['ur']);
  t.notOk('shortNames' in (byName.get('identitybindings.access.smi-spec.io')?.spec.names ?? {}), 'no shortNames when the table has none');
  for (const crd of CRDS) {
    t.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
    t.equal(crd.metadata.name, `${crd.spec.names.plural}.${crd.spec.group}`);
    t.equal(crd.spec.scope, 'Namespaced');
    t.strictSame(crd.spec.names.categories, ['smi']);
    t.strictSame(crd.metadata.labels, { 'app.kubernetes.io/part-of': 'loom' });
    for (const v of crd.spec.versions) t.strictSame(v.subresources, { status: {} }, `${crd.metadata.name} ${v.name}: status subresource`);
  }
  t.end();
});

t.test('printer columns name the destination of a TrafficTarget and the root service of a TrafficSplit', (t) => {
  const columns = (apiVersion: string, kind: string): string[] => (versionOf(apiVersion, kind).additionalPrinterColumns ?? []).map((c) => `${c.name}=${c.jsonPath}`);
  t.strictSame(columns('access.smi-spec.io/v1alpha1', 'TrafficTarget'), ['Destination=.destination.name', 'Age=.metadata.creationTimestamp']);
  t.strictSame(columns('access.smi-spec.io/v1alpha3', 'TrafficTarget'), ['Destination=.spec.destination.name', 'Age=.metadata.creationTimestamp']);
  for (const v of ['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4']) {
    t.strictSame(columns(`split.smi-spec.io/${v}`, 'TrafficSplit'), ['Service=.spec.service', 'Age=.metadata.creationTimestamp'], v);
  }
  t.strictSame(columns('specs.smi-spec.io/v1alpha4', 'TCPRoute'), [], 'server defaults (name, age)');
  t.end();
});

t.test('conversion: Loom\'s webhook without caBundle by default, None on request', (t) => {
  for (const crd of CRDS) {
    t.strictSame(crd.spec.conversion, {
      strategy: 'Webhook',
      webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: { namespace: 'loom-system', name: 'loom-controller', path: '/convert', port: 9443 } } },
    });
  }
  t.strictSame(CRD_CONVERSION_SERVICE, { namespace: 'loom-system', name: 'loom-controller', path: '/convert', port: 9443 });
  const none = smiCrds({ conversion: 'None' });
  t.strictSame(
    none.map((c) => c.spec.conversion),
    CRDS.map(() => ({ strategy: 'None' })),
  );
  t.strictSame(
    none.map((c) => ({ ...c, spec: { ...c.spec, conversion: undefined } })),
    CRDS.map((c) => ({ ...c, spec: { ...c.spec, conversion: undefined } })),
    'nothing else differs',
  );
  t.end();
});

t.test('each call returns fresh objects', (t) => {
  const a = smiCrds();
  const b = smiCrds();
  t.strictSame(a, b);
  t.not(a[0], b[0]);
  t.not(a[0]?.spec.versions[0]?.schema, b[0]?.spec.versions[0]?.schema);
  t.end();
});

// ---------------------------------------------------------------------------------------------
// Structural schemas

t.test('every schema is structural', (t) => {
  for (const [crd, v] of everyVersion()) {
    const problems: string[] = [];
    const rootSchema = v.schema.openAPIV3Schema;
    if (rootSchema.type !== 'object') problems.push('root: type must be object');
    for (const [path, node] of nodes(rootSchema)) {
      const where = path === '' ? '<root>' : path;
      const intOrString = node['x-kubernetes-int-or-string'] === true;
      if (node.type === undefined && !intOrString && node['x-kubernetes-preserve-unknown-fields'] !== true) problems.push(`${where}: no type`);
      if (node.type === 'array' && node.items === undefined) problems.push(`${where}: array without items`);
      if (node.properties !== undefined && node.additionalProperties !== undefined) problems.push(`${where}: properties and additionalProperties`);
      if (intOrString && (node.type !== undefined || JSON.stringify(node.anyOf) !== JSON.stringify([{ type: 'integer' }, { type: 'string' }]))) {
        problems.push(`${where}: int-or-string must be anyOf integer/string without a type`);
      }
      const junctors = [...(intOrString ? [] : (node.anyOf ?? [])), ...(node.not === undefined ? [] : [node.not])];
      for (const j of junctors) {
        const allowed = ['required', 'minProperties', 'maxProperties'];
        const extra = Object.keys(j).filter((k) => !allowed.includes(k));
        if (extra.length > 0) problems.push(`${where}: a junctor may only constrain (${extra.join(', ')})`);
        for (const key of j.required ?? []) if (node.properties?.[key] === undefined) problems.push(`${where}: junctor requires undeclared ${key}`);
      }
      if (path !== '' && node.description === undefined && path !== 'metadata' && !path.endsWith('[]') && !path.endsWith('{}')) problems.push(`${where}: no description`);
    }
    t.strictSame(problems, [], `${crd.metadata.name} ${v.name}`);
  }
  t.end();
});

t.test('x-kubernetes-preserve-unknown-fields only where a version allows two shapes or refuses content', (t) => {
  const found = everyVersion().flatMap(([crd, v]) =>
    [...nodes(v.schema.openAPIV3Schema)].filter(([, n]) => n['x-kubernetes-preserve-unknown-fields'] === true).map(([path]) => `${crd.spec.names.kind} ${v.name} ${path}`),
  );
  t.strictSame(found, [
    // headers: a map or a list of maps, both published forms
    'HTTPRouteGroup v1alpha2 matches[].headers',
    'HTTPRouteGroup v1alpha3 spec.matches[].headers',
    'HTTPRouteGroup v1alpha3 matches[].headers',
    'HTTPRouteGroup v1alpha4 spec.matches[].headers',
    'HTTPRouteGroup v1alpha4 matches[].headers',
    // kept only to be refused unless empty (maxProperties: 0), never pruned
    'TCPRoute v1alpha1 spec',
    'TCPRoute v1alpha2 spec',
    'TCPRoute v1alpha3 spec',
  ]);
  for (const [crd, v] of everyVersion()) {
    if (crd.spec.names.kind !== 'TCPRoute' || v.name === 'v1alpha4') continue;
    t.equal(v.schema.openAPIV3Schema.properties?.['spec']?.maxProperties, 0, `TCPRoute ${v.name} spec only empty`);
  }
  t.end();
});

t.test('pathRegex carries no pattern; every pattern is a valid regex', (t) => {
  for (const [crd, v] of everyVersion()) {
    for (const [path, node] of nodes(v.schema.openAPIV3Schema)) {
      if (path.endsWith('pathRegex')) t.equal(node.pattern, undefined, `${crd.spec.names.kind} ${v.name} ${path}`);
      if (node.pattern !== undefined) t.doesNotThrow(() => new RegExp(node.pattern ?? ''), path);
    }
  }
  t.end();
});

// ---------------------------------------------------------------------------------------------
// Files on disk

t.test('deploy/crds holds exactly the generated files (node scripts/gen-crds.mjs --check)', (t) => {
  const files = smiCrdFiles();
  const onDisk = readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml')).sort();
  t.strictSame(onDisk, files.map((f) => f.name).sort(), 'no missing or extra files');
  for (const f of files) {
    t.equal(readFileSync(join(CRD_DIR, f.name), 'utf8'), f.text, `${f.name} is current: run node scripts/gen-crds.mjs`);
  }
  t.end();
});

t.test('rendered files: header comment, then YAML that reads back as the generated object', (t) => {
  for (const crd of CRDS) {
    const text = renderCrd(crd);
    t.equal(crdFileName(crd), `${crd.spec.names.plural}.${crd.spec.group}.yaml`);
    t.match(text, /^# Generated by scripts\/gen-crds\.mjs .*\n# Regenerate .*node scripts\/gen-crds\.mjs/);
    t.notMatch(text, /caBundle/);
    t.notMatch(text, /[&*]a\d/, 'no YAML anchors or aliases');
    t.strictSame(parse(text), crd, crd.metadata.name);
    t.strictSame(parse(text, { version: '1.1' }), crd, `${crd.metadata.name} read as YAML 1.1 (kubectl)`);
  }
  t.end();
});

// ---------------------------------------------------------------------------------------------
// Examples every version must admit: spec documents, smi-reference samples, the conformance suite, Flagger

const EXAMPLES = `
apiVersion: access.smi-spec.io/v1alpha1
kind: TrafficTarget
metadata: {name: path-specific, namespace: default}
destination: {kind: ServiceAccount, name: service-a, namespace: default}
specs:
- {kind: HTTPRouteGroup, name: the-routes, matches: [metrics]}
- {kind: TCPRoute, name: tcp-route}
sources:
- {kind: ServiceAccount, name: prometheus, namespace: default}
---
apiVersion: access.smi-spec.io/v1alpha2
kind: TrafficTarget
metadata: {name: path-specific, namespace: default}
spec:
  destination: {kind: ServiceAccount, name: service-a, namespace: default, port: 8080}
  rules:
  - {kind: HTTPRouteGroup, name: the-routes, matches: [metrics]}
  sources:
  - {kind: ServiceAccount, name: prometheus, namespace: default}
---
apiVersion: access.smi-spec.io/v1alpha2
kind: TrafficTarget
metadata: {name: api-service-metrics, namespace: default}
spec:
  destination: {kind: ServiceAccount, name: api-service}
---
# conformance traffic-access 04: TCPRoute-only target
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: service-targets, namespace: conformance}
spec:
  destination: {kind: ServiceAccount, name: service-b, namespace: conformance}
  sources:
  - {kind: ServiceAccount, name: service-a, namespace: conformance}
  rules:
  - {kind: TCPRoute, name: service-tcp-route}
---
# conformance traffic-spec 03: destination.port as a string, not in the v1alpha3 schema
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: service-targets, namespace: conformance}
spec:
  destination: {kind: ServiceAccount, name: service-b, namespace: conformance, port: "9091"}
  sources:
  - {kind: ServiceAccount, name: service-a, namespace: conformance}
  rules:
  - kind: HTTPRouteGroup
    name: http-rg
    matches: [testMatch]
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: nobody-yet}
spec:
  destination: {kind: ServiceAccount, name: orders, namespace: ""}
  rules: []
  sources: []
---
apiVersion: access.smi-spec.io/v1alpha4
kind: TrafficTarget
metadata: {name: orders-from-web, namespace: shop}
spec:
  destination: {kind: ServiceAccount, group: "", name: orders, port: 8080}
  rules: [{kind: UDPRoute, name: dns}]
  sources: [{kind: ServiceAccount, name: web}]
status:
  observedGeneration: 3
  conditions:
  - {type: Accepted, status: "True", reason: Valid, message: "", lastTransitionTime: "2024-05-02T10:00:00Z", observedGeneration: 3}
  - {type: Programmed, status: "False", reason: Pending, message: 2 of 3 proxies acknowledged}
---
apiVersion: access.smi-spec.io/v1alpha4
kind: IdentityBinding
metadata: {name: web, namespace: shop}
spec:
  schemes:
    podLabelSelector:
      matchLabels: {app: web}
      matchExpressions:
      - {key: tier, operator: In, values: [frontend]}
      - {key: canary, operator: DoesNotExist}
    spiffeIdentities: ["spiffe://cluster.local/ns/shop/sa/web"]
---
apiVersion: specs.smi-spec.io/v1alpha1
kind: HTTPRouteGroup
metadata: {name: the-routes}
matches:
- name: metrics
  pathRegex: "/metrics"
  methods: [GET]
- name: health
  pathRegex: "/ping"
  methods: ["*"]
---
apiVersion: specs.smi-spec.io/v1alpha2
kind: HTTPRouteGroup
metadata: {name: the-routes, namespace: default}
matches:
- name: android-insiders
  headers:
    user-agent: ".*Android.*"
    cookie: "^(.*?;)?(type=insider)(;.*)?$"
- name: iphone-users
  pathRegex: "/api/.*"
  methods: [GET, HEAD]
  headers:
  - user-agent: ".*iPhone.*"
---
apiVersion: specs.smi-spec.io/v1alpha3
kind: HTTPRouteGroup
metadata: {name: the-routes}
spec:
  matches:
  - name: firefox-users
    headers: {user-agent: ".*Firefox.*"}
  - name: everything
    pathRegex: ".*"
    methods: ["*"]
---
# conformance traffic-spec 03: written without spec
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: http-rg, namespace: conformance}
matches:
- name: testMatch
  pathRegex: /metrics
  methods: ["*"]
---
# conformance traffic-spec 05
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: http-rg, namespace: conformance}
spec:
  matches:
  - name: testMatch
    pathRegex: ".*"
    methods: [GET]
---
apiVersion: specs.smi-spec.io/v1alpha1
kind: TCPRoute
metadata: {name: tcp-route}
---
apiVersion: specs.smi-spec.io/v1alpha2
kind: TCPRoute
metadata: {name: tcp-route}
---
apiVersion: specs.smi-spec.io/v1alpha3
kind: TCPRoute
metadata: {name: tcp-route}
spec: {}
---
# conformance traffic-access 04: every port
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: {name: service-tcp-route, namespace: conformance}
spec:
  matches:
    ports: []
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: UDPRoute
metadata: {name: dns}
spec: {matches: {ports: [53, 5353]}}
---
# Flagger (linkerd, smi:v1alpha1): quantities written as strings
apiVersion: split.smi-spec.io/v1alpha1
kind: TrafficSplit
metadata: {name: podinfo, namespace: test}
spec:
  service: podinfo
  backends:
  - {service: podinfo-canary, weight: "5"}
  - {service: podinfo-primary, weight: "95"}
---
apiVersion: split.smi-spec.io/v1alpha1
kind: TrafficSplit
metadata: {name: quantities}
spec:
  service: web
  backends:
  - {service: web-v1, weight: 1}
  - {service: web-v2, weight: "1.5"}
  - {service: web-v3, weight: 250m}
  - {service: web-v4, weight: 0}
  - {service: web-v5, weight: "1e3"}
---
apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata: {name: foobar-rollout}
spec:
  service: foobar
  backends:
  - {service: foobar-v1, weight: 1000}
  - {service: foobar-v2, weight: 500}
---
apiVersion: split.smi-spec.io/v1alpha3
kind: TrafficSplit
metadata: {name: ab-test}
spec:
  service: website
  matches:
  - {kind: HTTPRouteGroup, name: ab-test}
  backends:
  - {service: website-v1, weight: 0}
  - {service: website-v2, weight: 100}
---
# conformance traffic-split 08
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: {name: server-split, namespace: conformance}
spec:
  service: app-svc
  backends:
  - {service: app-b, weight: 75}
  - {service: app-c, weight: 25}
---
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: {name: cart-ab, namespace: shop}
spec:
  service: cart
  matches: [{apiGroup: specs.smi-spec.io, kind: HTTPRouteGroup, name: beta-users}]
  backends:
  - {service: cart-v1, weight: 2147483647}
  - {service: cart-v2, weight: 0}
`;

t.test('the schemas admit realistic objects of every version, keeping every field, and so does the decoder', (t) => {
  const examples = [...docs(SMI_REFERENCE_SAMPLES), ...docs(EXAMPLES)];
  const covered = new Set(examples.map((e) => `${String(e['apiVersion'])} ${String(e['kind'])}`));
  for (const row of SMI_SERVED_VERSIONS.filter((v) => v.crd)) t.ok(covered.has(`${row.apiVersion} ${row.kind}`), `an example of ${row.apiVersion} ${row.kind}`);
  for (const raw of examples) {
    const name = `${String(raw['apiVersion'])} ${String(raw['kind'])} ${JSON.stringify((raw['metadata'] as Raw | undefined)?.['name'])}`;
    t.strictSame(admit(raw), { pruned: [], errors: [] }, name);
    t.strictSame(decodeErrors(raw), [], `${name} decodes`);
  }
  t.end();
});

// ---------------------------------------------------------------------------------------------
// Mistakes the schemas refuse (and the decoder too, unless noted)

interface Mistake {
  readonly name: string;
  readonly yaml: string;
  /** A substring of one validation error. */
  readonly error: string;
  /** Set where the schema is stricter than decodeSmi on purpose: why. */
  readonly decoderAccepts?: string;
}

const tt = (version: string, spec: string): string => `apiVersion: access.smi-spec.io/${version}\nkind: TrafficTarget\nmetadata: {name: t}\nspec:\n${spec}`;
const SA = '{kind: ServiceAccount, name: web}';
const hrg = (version: string, body: string): string => `apiVersion: specs.smi-spec.io/${version}\nkind: HTTPRouteGroup\nmetadata: {name: r}\n${body}`;
const ts = (version: string, spec: string): string => `apiVersion: split.smi-spec.io/${version}\nkind: TrafficSplit\nmetadata: {name: s}\nspec:\n  service: web\n${spec}`;
const backends = (w1: string, w2 = '0'): string => `  backends:\n  - {service: web-v1, weight: ${w1}}\n  - {service: web-v2, weight: ${w2}}`;

const MISTAKES: readonly Mistake[] = [
  // TrafficTarget
  { name: 'v1alpha1 without destination', yaml: `apiVersion: access.smi-spec.io/v1alpha1\nkind: TrafficTarget\nmetadata: {name: t}\nsources: [${SA}]`, error: 'destination: required' },
  { name: 'v1alpha1 fields under spec', yaml: tt('v1alpha1', `  destination: ${SA}`), error: 'destination: required' },
  { name: 'v1alpha2 fields at the top level', yaml: `apiVersion: access.smi-spec.io/v1alpha2\nkind: TrafficTarget\nmetadata: {name: t}\ndestination: ${SA}`, error: 'spec: required' },
  { name: 'v1alpha2 port as a string', yaml: tt('v1alpha2', '  destination: {kind: ServiceAccount, name: web, port: "8080"}'), error: 'spec.destination.port: must be of type integer' },
  { name: 'v1alpha2 port out of range', yaml: tt('v1alpha2', '  destination: {kind: ServiceAccount, name: web, port: 70000}'), error: 'spec.destination.port: must be at most 65535' },
  { name: 'v1alpha2 UDPRoute rule', yaml: tt('v1alpha2', `  destination: ${SA}\n  rules: [{kind: UDPRoute, name: dns}]`), error: 'spec.rules[0].kind: unsupported value "UDPRoute"' },
  { name: 'v1alpha3 destination kind Group', yaml: tt('v1alpha3', `  destination: {kind: Group, name: admins}\n  rules: []\n  sources: []`), error: 'spec.destination.kind: unsupported value "Group"' },
  { name: 'v1alpha3 IdentityBinding source', yaml: tt('v1alpha3', `  destination: ${SA}\n  rules: []\n  sources: [{kind: IdentityBinding, name: web}]`), error: 'spec.sources[0].kind: unsupported value' },
  { name: 'v1alpha3 rule without name', yaml: tt('v1alpha3', `  destination: ${SA}\n  rules: [{kind: TCPRoute}]\n  sources: [${SA}]`), error: 'spec.rules[0].name: required' },
  { name: 'v1alpha3 source with an empty name', yaml: tt('v1alpha3', `  destination: ${SA}\n  rules: []\n  sources: [{kind: ServiceAccount, name: ""}]`), error: 'spec.sources[0].name: must be at least 1 characters' },
  { name: 'v1alpha3 empty match name', yaml: tt('v1alpha3', `  destination: ${SA}\n  rules: [{kind: HTTPRouteGroup, name: r, matches: [""]}]\n  sources: [${SA}]`), error: 'spec.rules[0].matches[0]: must be at least 1 characters' },
  { name: 'v1alpha3 port name instead of number', yaml: tt('v1alpha3', `  destination: {kind: ServiceAccount, name: web, port: http}\n  rules: []\n  sources: []`), error: 'spec.destination.port: must match' },
  { name: 'v1alpha3 port 0', yaml: tt('v1alpha3', `  destination: {kind: ServiceAccount, name: web, port: "0"}\n  rules: []\n  sources: []`), error: 'spec.destination.port: must match' },
  { name: 'v1alpha3 port 0 as a number', yaml: tt('v1alpha3', `  destination: {kind: ServiceAccount, name: web, port: 0}\n  rules: []\n  sources: []`), error: 'spec.destination.port: must be at least 1' },
  {
    name: 'v1alpha3 without rules',
    yaml: tt('v1alpha3', `  destination: ${SA}\n  sources: [${SA}]`),
    error: 'spec.rules: required',
    decoderAccepts: 'the published v1alpha3 CRD requires rules and sources; the decoder reads an absent list as empty (allows nothing)',
  },
  { name: 'v1alpha4 IdentityBinding subject with the wrong group', yaml: tt('v1alpha4', `  destination: {kind: IdentityBinding, group: rbac.authorization.k8s.io, name: web}\n  rules: []\n  sources: []`), error: 'spec.destination.group: unsupported value' },
  // IdentityBinding
  {
    name: 'IdentityBinding with podLabelSelector and serviceAccount (the spec document\'s sample)',
    yaml: 'apiVersion: access.smi-spec.io/v1alpha4\nkind: IdentityBinding\nmetadata: {name: b}\nspec:\n  schemes:\n    podLabelSelector: {matchLabels: {app: web}}\n    serviceAccount: web',
    error: 'spec.schemes: must not match',
  },
  { name: 'IdentityBinding without schemes', yaml: 'apiVersion: access.smi-spec.io/v1alpha4\nkind: IdentityBinding\nmetadata: {name: b}\nspec:\n  schemes: {}', error: 'spec.schemes: must have at least 1 properties' },
  { name: 'IdentityBinding with only an unknown scheme', yaml: 'apiVersion: access.smi-spec.io/v1alpha4\nkind: IdentityBinding\nmetadata: {name: b}\nspec:\n  schemes: {x509Subject: web}', error: 'spec.schemes: must have at least 1 properties' },
  {
    name: 'IdentityBinding with an unknown operator',
    yaml: 'apiVersion: access.smi-spec.io/v1alpha4\nkind: IdentityBinding\nmetadata: {name: b}\nspec:\n  schemes:\n    podLabelSelector: {matchExpressions: [{key: app, operator: Equals, values: [web]}]}',
    error: 'operator: unsupported value "Equals"',
  },
  // HTTPRouteGroup
  { name: 'v1alpha1 headers (map form)', yaml: hrg('v1alpha1', 'matches:\n- name: m\n  headers: {x-beta: on}'), error: 'matches[0].headers: must be of type array' },
  { name: 'v1alpha1 headers (list form)', yaml: hrg('v1alpha1', 'matches:\n- name: m\n  headers: [{x-beta: on}]'), error: 'matches[0].headers: must have at most 0 items' },
  { name: 'v1alpha2 matches under spec', yaml: hrg('v1alpha2', 'spec:\n  matches: [{name: m}]'), error: 'matches: required' },
  { name: 'v1alpha4 lower-case method', yaml: hrg('v1alpha4', 'spec:\n  matches: [{name: m, methods: [get]}]'), error: 'spec.matches[0].methods[0]: unsupported value "get"' },
  { name: 'v1alpha4 match without name', yaml: hrg('v1alpha4', 'spec:\n  matches: [{pathRegex: /api}]'), error: 'spec.matches[0].name: required' },
  { name: 'v1alpha4 top-level match without name', yaml: hrg('v1alpha4', 'matches: [{pathRegex: /api}]'), error: 'matches[0].name: required' },
  { name: 'v1alpha3 pathRegex as a list', yaml: hrg('v1alpha3', 'spec:\n  matches: [{name: m, pathRegex: [/a, /b]}]'), error: 'spec.matches[0].pathRegex: must be of type string' },
  // TCPRoute, UDPRoute
  { name: 'TCPRoute v1alpha1 with ports', yaml: 'apiVersion: specs.smi-spec.io/v1alpha1\nkind: TCPRoute\nmetadata: {name: r}\nspec: {matches: {ports: [80]}}', error: 'spec: must have at most 0 properties' },
  { name: 'TCPRoute v1alpha3 with ports', yaml: 'apiVersion: specs.smi-spec.io/v1alpha3\nkind: TCPRoute\nmetadata: {name: r}\nspec: {matches: {ports: [80]}}', error: 'spec: must have at most 0 properties' },
  { name: 'TCPRoute v1alpha4 without spec', yaml: 'apiVersion: specs.smi-spec.io/v1alpha4\nkind: TCPRoute\nmetadata: {name: r}', error: 'spec: required' },
  { name: 'TCPRoute v1alpha4 port typo', yaml: 'apiVersion: specs.smi-spec.io/v1alpha4\nkind: TCPRoute\nmetadata: {name: r}\nspec: {matches: {port: [80]}}', error: 'spec.matches.ports: required' },
  { name: 'TCPRoute v1alpha4 port name', yaml: 'apiVersion: specs.smi-spec.io/v1alpha4\nkind: TCPRoute\nmetadata: {name: r}\nspec: {matches: {ports: [http]}}', error: 'spec.matches.ports[0]: must be of type integer' },
  { name: 'UDPRoute v1alpha4 port 0', yaml: 'apiVersion: specs.smi-spec.io/v1alpha4\nkind: UDPRoute\nmetadata: {name: r}\nspec: {matches: {ports: [0]}}', error: 'spec.matches.ports[0]: must be at least 1' },
  // TrafficSplit
  { name: 'v1alpha1 negative quantity', yaml: ts('v1alpha1', backends('"-1"')), error: 'spec.backends[0].weight: must match' },
  { name: 'v1alpha1 negative integer', yaml: ts('v1alpha1', backends('-1')), error: 'spec.backends[0].weight: must be at least 0' },
  { name: 'v1alpha1 not a quantity', yaml: ts('v1alpha1', backends('ten')), error: 'spec.backends[0].weight: must match' },
  { name: 'v1alpha1 percent', yaml: ts('v1alpha1', backends('"50%"')), error: 'spec.backends[0].weight: must match' },
  { name: 'v1alpha1 weight as a list', yaml: ts('v1alpha1', backends('[1]')), error: 'spec.backends[0].weight: must be an integer or a string' },
  {
    name: 'v1alpha1 fractional number',
    yaml: ts('v1alpha1', backends('0.5')),
    error: 'spec.backends[0].weight: must be an integer or a string',
    decoderAccepts: 'int-or-string, like every quantity field of Kubernetes: fractions are written as strings ("0.5", "500m")',
  },
  { name: 'v1alpha1 matches', yaml: ts('v1alpha1', `${backends('1')}\n  matches: [{kind: HTTPRouteGroup, name: beta}]`), error: 'spec.matches: must have at most 0 items' },
  { name: 'v1alpha2 fractional weight', yaml: ts('v1alpha2', backends('2.5')), error: 'spec.backends[0].weight: must be of type integer' },
  { name: 'v1alpha2 weight as a string', yaml: ts('v1alpha2', backends('"50"')), error: 'spec.backends[0].weight: must be of type integer' },
  { name: 'v1alpha2 negative weight', yaml: ts('v1alpha2', backends('-10')), error: 'spec.backends[0].weight: must be at least 0' },
  { name: 'v1alpha2 weight beyond int32', yaml: ts('v1alpha2', backends('2147483648')), error: 'spec.backends[0].weight: must be at most 2147483647' },
  { name: 'v1alpha2 matches', yaml: ts('v1alpha2', `${backends('1')}\n  matches: [{kind: HTTPRouteGroup, name: beta}]`), error: 'spec.matches: must have at most 0 items' },
  { name: 'v1alpha4 without backends', yaml: ts('v1alpha4', ''), error: 'spec.backends: required' },
  { name: 'v1alpha4 backend without weight', yaml: ts('v1alpha4', '  backends: [{service: web-v1}]'), error: 'spec.backends[0].weight: required' },
  { name: 'v1alpha4 empty root service', yaml: 'apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: s}\nspec:\n  service: ""\n  backends: []', error: 'spec.service: must be at least 1 characters' },
  { name: 'v1alpha4 match of another kind', yaml: ts('v1alpha4', `${backends('1')}\n  matches: [{kind: HTTPRoute, name: beta}]`), error: 'spec.matches[0].kind: unsupported value "HTTPRoute"' },
  { name: 'v1alpha4 match of another group', yaml: ts('v1alpha4', `${backends('1')}\n  matches: [{apiGroup: gateway.networking.k8s.io, kind: HTTPRouteGroup, name: beta}]`), error: 'spec.matches[0].apiGroup: unsupported value' },
  { name: 'v1alpha3 match without name', yaml: ts('v1alpha3', `${backends('1')}\n  matches: [{kind: HTTPRouteGroup}]`), error: 'spec.matches[0].name: required' },
  // status
  { name: 'a condition status that is not True, False or Unknown', yaml: `${ts('v1alpha4', backends('1'))}\nstatus: {conditions: [{type: Accepted, status: Yes}]}`, error: 'status.conditions[0].status: unsupported value', decoderAccepts: 'status is written by the controller, not read by the decoder' },
];

t.test('the schemas refuse typical mistakes, as the decoder does', (t) => {
  for (const m of MISTAKES) {
    const raw = parse(m.yaml) as Raw;
    const { errors } = admit(raw);
    t.ok(
      errors.some((e) => e.includes(m.error)),
      `${m.name}: refused with "${m.error}"`,
      { errors },
    );
    if (m.decoderAccepts === undefined) t.not(decodeErrors(raw).length, 0, `${m.name}: the decoder refuses it too`);
    else t.strictSame(decodeErrors(raw), [], `${m.name}: the decoder accepts it (${m.decoderAccepts})`);
  }
  t.end();
});

t.test('undeclared fields are pruned, never kept', (t) => {
  const raw = parse(ts('v1alpha4', `${backends('1')}\n  mirror: web-shadow`)) as Raw;
  t.strictSame(admit(raw), { pruned: ['spec.mirror'], errors: [] });
  const hr = parse(hrg('v1alpha4', 'spec:\n  matches: [{name: m, host: example.com}]')) as Raw;
  t.strictSame(admit(hr), { pruned: ['spec.matches[0].host'], errors: [] });
  t.end();
});

// ---------------------------------------------------------------------------------------------
// kubectl reads the files as written

const KUBECTL = process.env['KUBECTL'] ?? 'kubectl';

function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(KUBECTL, [...args], { env, timeout: 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr: err !== null && stderr === '' ? err.message : stderr });
    });
  });
}

t.test('kubectl create --dry-run=client reads every file as the generated CRD', async (t) => {
  const version = await run(['version', '--client', '-o', 'json'], process.env);
  if (version.code !== 0) {
    t.plan(0, `kubectl is not available: ${version.stderr.trim()}`);
    return;
  }
  // kubectl maps kinds to resources through discovery even for a client-side dry run: a stub serving only
  // apiextensions.k8s.io/v1 stands in for a cluster.
  const discovery: Record<string, unknown> = {
    '/version': { major: '1', minor: '32', gitVersion: 'v1.32.0' },
    '/api': { kind: 'APIVersions', versions: ['v1'] },
    '/api/v1': { kind: 'APIResourceList', groupVersion: 'v1', resources: [] },
    '/apis': {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [{ name: 'apiextensions.k8s.io', versions: [{ groupVersion: 'apiextensions.k8s.io/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apiextensions.k8s.io/v1', version: 'v1' } }],
    },
    '/apis/apiextensions.k8s.io/v1': {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: 'apiextensions.k8s.io/v1',
      resources: [{ name: 'customresourcedefinitions', singularName: 'customresourcedefinition', namespaced: false, kind: 'CustomResourceDefinition', verbs: ['create', 'get', 'list'] }],
    },
  };
  const server = createServer((req, res) => {
    const body = discovery[(req.url ?? '').split('?')[0] ?? ''];
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dir = await mkdtemp(join(tmpdir(), 'loom-crds-kubectl-'));
  t.teardown(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });
  const { port } = server.address() as AddressInfo;
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: stub, cluster: {server: "http://127.0.0.1:${port}"}}]\ncontexts: [{name: stub, context: {cluster: stub}}]\ncurrent-context: stub\n`,
  );
  const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir };
  for (const crd of CRDS) {
    const r = await run(['create', '--dry-run=client', '--validate=false', '-o', 'json', '-f', join(CRD_DIR, crdFileName(crd))], env);
    t.equal(r.code, 0, `kubectl create --dry-run=client -f ${crdFileName(crd)}${r.stderr === '' ? '' : `: ${r.stderr.trim()}`}`);
    if (r.code === 0) t.strictSame(JSON.parse(r.stdout), crd, crd.metadata.name);
  }
});
