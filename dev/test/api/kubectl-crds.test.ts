/**
 * The SMI CustomResourceDefinitions on the local API server, driven by the real kubectl, with every version served
 * and a real conversion webhook: an HTTPS server in this test that answers ConversionReview v1 with
 * `@loom/shared/smi` (decodeSmi to the hub, denormalize to the desired version), as Loom's controller does.
 * Objects are applied in every served version and read back in every version of their kind; schema and field
 * validation errors read as Kubernetes prints them; deleting a CRD deletes its objects.
 */
import { mintCa } from '@loom/ca/testing';
import { formatDiagnostic } from '@loom/shared/diagnostics';
import { decodeSmi, denormalize, parseQuantityMilli, servedVersionsOf, smiCrds, SMI_SERVED_VERSIONS, type ServedVersion } from '@loom/shared/smi';
import t from 'tap';
import { caBundleOf, json, kubectlMissing, servingCertificate, startHttps, startKube, type Kube } from './support/kube.js';

type Raw = Record<string, unknown>;

const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const record = (v: unknown): Raw => (isRecord(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

interface ConversionRequest {
  readonly uid: string;
  readonly desiredAPIVersion: string;
  readonly objects: Raw[];
}

/** The webhook's answer to one ConversionReview: every object through the hub, or a Failure saying why not. */
function convertReview(review: unknown): Raw {
  const request = record(record(review)['request']) as unknown as ConversionRequest;
  const response = (result: Raw, convertedObjects: Raw[] = []): Raw => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'ConversionReview',
    response: { uid: request.uid, result, convertedObjects },
  });
  const converted: Raw[] = [];
  for (const raw of request.objects) {
    const decoded = decodeSmi(raw);
    if (decoded.object === undefined) {
      const errors = decoded.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
      return response({ status: 'Failure', message: errors.join('; ') });
    }
    const out = denormalize(decoded.object, request.desiredAPIVersion, raw['metadata'], raw['status']);
    if ('error' in out) return response({ status: 'Failure', message: out.error });
    converted.push(out.object as unknown as Raw);
  }
  return response({ status: 'Success' }, converted);
}

/**
 * One object per served CRD version, named `<kind>-<version>`, chosen so that every other version of the kind can
 * hold it (the refusals have their own test). Labelled `app: shop` to see metadata survive conversion.
 */
const EXAMPLES: Readonly<Record<string, string>> = {
  'access.smi-spec.io/v1alpha1 TrafficTarget': `
destination: {kind: ServiceAccount, name: orders, namespace: shop}
specs:
- {kind: HTTPRouteGroup, name: orders-api, matches: [read]}
- {kind: TCPRoute, name: orders-port}
sources:
- {kind: ServiceAccount, name: web, namespace: shop}`,
  'access.smi-spec.io/v1alpha2 TrafficTarget': `
spec:
  destination: {kind: ServiceAccount, name: orders, namespace: shop}
  rules:
  - {kind: HTTPRouteGroup, name: orders-api, matches: [read, write]}
  sources:
  - {kind: ServiceAccount, name: web, namespace: shop}
  - {kind: ServiceAccount, name: admin, namespace: ops}`,
  'access.smi-spec.io/v1alpha3 TrafficTarget': `
spec:
  destination: {kind: ServiceAccount, name: service-b, namespace: shop}
  rules:
  - {kind: TCPRoute, name: service-tcp-route}
  sources:
  - {kind: ServiceAccount, name: service-a, namespace: shop}`,
  'access.smi-spec.io/v1alpha4 TrafficTarget': `
spec:
  destination: {kind: ServiceAccount, name: orders, namespace: shop}
  rules: [{kind: HTTPRouteGroup, name: orders-api, matches: [read]}]
  sources: [{kind: ServiceAccount, name: web, namespace: shop}]`,
  'access.smi-spec.io/v1alpha4 IdentityBinding': `
spec:
  schemes:
    podLabelSelector:
      matchLabels: {app: web}
      matchExpressions:
      - {key: tier, operator: In, values: [frontend]}
    spiffeIdentities: ["spiffe://cluster.local/ns/shop/sa/web"]`,
  'specs.smi-spec.io/v1alpha1 HTTPRouteGroup': `
matches:
- {name: metrics, pathRegex: /metrics, methods: [GET]}
- {name: health, pathRegex: /ping, methods: ["*"]}`,
  'specs.smi-spec.io/v1alpha2 HTTPRouteGroup': `
matches:
- {name: api, pathRegex: "/api/.*", methods: [GET, HEAD]}`,
  'specs.smi-spec.io/v1alpha3 HTTPRouteGroup': `
spec:
  matches:
  - {name: everything, pathRegex: ".*", methods: ["*"]}`,
  'specs.smi-spec.io/v1alpha4 HTTPRouteGroup': `
spec:
  matches:
  - {name: read, pathRegex: "/orders(/.*)?", methods: [GET, HEAD]}`,
  'specs.smi-spec.io/v1alpha1 TCPRoute': '',
  'specs.smi-spec.io/v1alpha2 TCPRoute': '',
  'specs.smi-spec.io/v1alpha3 TCPRoute': '\nspec: {}',
  'specs.smi-spec.io/v1alpha4 TCPRoute': '\nspec: {matches: {ports: []}}',
  'specs.smi-spec.io/v1alpha4 UDPRoute': '\nspec: {matches: {ports: [53, 5353]}}',
  'split.smi-spec.io/v1alpha1 TrafficSplit': `
spec:
  service: cart
  backends:
  - {service: cart-v1, weight: "1"}
  - {service: cart-v2, weight: 500m}`,
  'split.smi-spec.io/v1alpha2 TrafficSplit': `
spec:
  service: foobar
  backends:
  - {service: foobar-v1, weight: 1000}
  - {service: foobar-v2, weight: 500}`,
  'split.smi-spec.io/v1alpha3 TrafficSplit': `
spec:
  service: website
  matches: [{kind: HTTPRouteGroup, name: ab-test}]
  backends:
  - {service: website-v1, weight: 0}
  - {service: website-v2, weight: 100}`,
  'split.smi-spec.io/v1alpha4 TrafficSplit': `
spec:
  service: app-svc
  matches: [{apiGroup: specs.smi-spec.io, kind: HTTPRouteGroup, name: beta-users}]
  backends:
  - {service: app-b, weight: 75}
  - {service: app-c, weight: 25}`,
};

const nameOf = (row: ServedVersion): string => `${row.singular}-${row.version}`;

function manifest(row: ServedVersion): string {
  const body = EXAMPLES[`${row.apiVersion} ${row.kind}`];
  if (body === undefined) throw new Error(`no example of ${row.apiVersion} ${row.kind}`);
  return `apiVersion: ${row.apiVersion}\nkind: ${row.kind}\nmetadata:\n  name: ${nameOf(row)}\n  namespace: shop\n  labels: {app: shop}${body}\n`;
}

const pick = (v: unknown, keys: readonly string[]): Raw => Object.fromEntries(keys.flatMap((k) => (record(v)[k] === undefined ? [] : [[k, record(v)[k]]])));

/** A weight's share of the total, from integers or (v1alpha1) quantities. */
function shares(weights: unknown[]): number[] {
  const milli = weights.map((w) => {
    const q = parseQuantityMilli(w as string | number);
    return q.ok ? Number(q.milli) : NaN;
  });
  const total = milli.reduce((a, b) => a + b, 0);
  return milli.map((m) => (total === 0 ? 0 : Math.round((m / total) * 1e6) / 1e6));
}

/** What an object means, whatever version it is written in (the fields a conversion must keep). */
function meaning(raw: Raw): unknown {
  const version = String(raw['apiVersion']).split('/')[1];
  const spec = record(raw['spec']);
  switch (raw['kind']) {
    case 'TrafficTarget': {
      const body = version === 'v1alpha1' ? raw : spec;
      const subject = (s: unknown): Raw => pick(s, ['kind', 'name', 'namespace']);
      return {
        destination: subject(body['destination']),
        sources: list(body['sources']).map(subject),
        rules: list(version === 'v1alpha1' ? body['specs'] : body['rules']).map((r) => pick(r, ['kind', 'name', 'matches'])),
      };
    }
    case 'IdentityBinding':
      return spec['schemes'];
    case 'HTTPRouteGroup':
      return list(raw['matches'] ?? spec['matches']).map((m) => pick(m, ['name', 'pathRegex', 'methods']));
    case 'TCPRoute':
    case 'UDPRoute':
      return list(record(spec['matches'])['ports']);
    case 'TrafficSplit': {
      const annotations = record(record(raw['metadata'])['annotations']);
      const stashed = annotations['loom.dev/split-matches'];
      const matches = spec['matches'] ?? (typeof stashed === 'string' ? (JSON.parse(stashed) as unknown) : []);
      const backends = list(spec['backends']);
      return {
        service: spec['service'],
        backends: backends.map((b) => record(b)['service']),
        shares: shares(backends.map((b) => record(b)['weight'])),
        matches: list(matches).map((m) => pick(m, ['kind', 'name'])),
      };
    }
    default:
      return raw;
  }
}

const CRD_ROWS = SMI_SERVED_VERSIONS.filter((row) => row.crd);
const resourceOf = (row: ServedVersion, version = row.version): string => `${row.plural}.${version}.${row.group}`;

/** Runs `fn` over `items`, at most `width` at a time (kubectl processes are slow to start, not to run). */
async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

const missing = await kubectlMissing();
if (missing !== null) {
  t.plan(0, missing);
} else {
  const ca = mintCa();
  const reviews: ConversionRequest[] = [];
  const webhook = await startHttps(t, servingCertificate(ca, { ipAddresses: ['127.0.0.1'] }), (seen) => {
    const review = JSON.parse(seen.body) as unknown;
    reviews.push(record(record(review)['request']) as unknown as ConversionRequest);
    return { body: convertReview(review) };
  });
  const crds = smiCrds({ conversion: 'Webhook' }).map((crd) => ({
    ...crd,
    spec: {
      ...crd.spec,
      conversion: {
        strategy: 'Webhook',
        webhook: { conversionReviewVersions: ['v1'], clientConfig: { url: `https://127.0.0.1:${webhook.port}/convert`, caBundle: caBundleOf(ca) } },
      },
    },
  }));
  const kube: Kube = await startKube(t);
  const { kubectl, ok } = kube;
  const APPLY = ['apply', '-f', '-'];
  /** The reviews that converted `name` to `apiVersion`. */
  const conversionsOf = (name: string, apiVersion: string): ConversionRequest[] =>
    reviews.filter((r) => r.desiredAPIVersion === apiVersion && r.objects.some((o) => record(o['metadata'])['name'] === name));

  t.test('kubectl apply -f of the CRDs: each is created and Established, and served in every version', async (t) => {
    // kubectl validates a `kind: List` with the /openapi/v2 schema (its /openapi/v3 check skips Lists).
    const asList = await kube.file('crds-list.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: crds }));
    const listed = await kubectl(['apply', '--dry-run=server', '-f', asList]);
    t.equal(listed.code, 0, `kubectl apply -f <a List> validates it${listed.code === 0 ? '' : `: ${listed.stderr.trim()}`}`);
    // A stream of JSON documents, as `kubectl apply -f` reads a directory of CRD files.
    const file = await kube.file('crds.json', crds.map((crd) => JSON.stringify(crd)).join('\n'));
    const out = await ok(t, ['apply', '-f', file]);
    for (const crd of crds) t.match(out, `customresourcedefinition.apiextensions.k8s.io/${crd.metadata.name} created`);
    const established = await ok(t, [
      'get',
      'crd',
      '-l',
      'app.kubernetes.io/part-of=loom',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Established")].status}{"\\n"}{end}',
    ]);
    t.strictSame(established.trim().split('\n').sort(), crds.map((c) => `${c.metadata.name}=True`).sort());
    t.match(await ok(t, ['wait', '--for=condition=Established', '--timeout=10s', 'crd', '-l', 'app.kubernetes.io/part-of=loom']), /condition met/);
    const stored = json<{ status: { storedVersions: string[]; acceptedNames: { kind: string } } }>(await ok(t, ['get', 'crd', 'trafficsplits.split.smi-spec.io', '-o', 'json']));
    t.strictSame(stored.status.storedVersions, ['v1alpha4'], 'the storage version is recorded');
    t.equal(stored.status.acceptedNames.kind, 'TrafficSplit');

    const resources = await ok(t, ['api-resources', '--api-group=split.smi-spec.io', '--no-headers']);
    t.match(resources, /^trafficsplits\s+ts\s+split\.smi-spec\.io\/v1alpha4\s+true\s+TrafficSplit/m, 'the preferred version is the newest');
    const versions = (await ok(t, ['api-versions'])).split('\n');
    for (const row of CRD_ROWS) t.ok(versions.includes(row.apiVersion), `kubectl api-versions lists ${row.apiVersion}`);
    const group = json<{ preferredVersion: { version: string } }>(await ok(t, ['get', '--raw', '/apis/access.smi-spec.io']));
    t.equal(group.preferredVersion.version, 'v1alpha4');
  });

  t.test('get --raw /openapi/v3 lists every group/version of the CRDs', async (t) => {
    const index = json<{ paths: Record<string, { serverRelativeURL: string }> }>(await ok(t, ['get', '--raw', '/openapi/v3']));
    for (const row of CRD_ROWS) t.ok(index.paths[`apis/${row.group}/${row.version}`] !== undefined, `apis/${row.group}/${row.version} is listed`);
    const tt = index.paths['apis/access.smi-spec.io/v1alpha4']?.serverRelativeURL ?? '/missing';
    const doc = json<{ paths: Record<string, unknown> }>(await ok(t, ['get', '--raw', tt]));
    t.ok(Object.keys(doc.paths).some((p) => p.includes('/traffictargets/')), 'the group/version document has the resource path');
  });

  t.test('an object applied in every served version reads back in every version of its kind', async (t) => {
    await ok(t, APPLY, 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n');
    const created = await ok(t, APPLY, CRD_ROWS.map(manifest).join('---\n'));
    for (const row of CRD_ROWS) t.match(created, `${row.singular}.${row.group}/${nameOf(row)} created`, `${row.apiVersion} ${row.kind} created`);

    const reads = CRD_ROWS.flatMap((row) => servedVersionsOf(row.kind).map((to) => ({ row, to })));
    const originals = new Map<string, Raw>();
    const readBack = new Map<string, Raw>();
    await inParallel(reads, 8, async ({ row, to }) => {
      const r = await kubectl(['get', resourceOf(row, to.version), nameOf(row), '-n', 'shop', '-o', 'json']);
      t.equal(r.code, 0, `${row.apiVersion} ${nameOf(row)} as ${to.version}${r.code === 0 ? '' : `: ${r.stderr.trim()}`}`);
      if (r.code !== 0) return;
      const raw = json(r.stdout);
      readBack.set(`${nameOf(row)} ${to.version}`, raw);
      if (to.version === row.version) originals.set(nameOf(row), raw);
    });
    for (const { row, to } of reads) {
      const raw = readBack.get(`${nameOf(row)} ${to.version}`);
      const original = originals.get(nameOf(row));
      if (raw === undefined || original === undefined) continue;
      const what = `${row.kind} ${nameOf(row)} (written as ${row.version}) read as ${to.version}`;
      t.equal(raw['apiVersion'], to.apiVersion, `${what}: apiVersion`);
      t.equal(raw['kind'], row.kind, `${what}: kind`);
      const meta = record(raw['metadata']);
      const originalMeta = record(original['metadata']);
      t.strictSame(pick(meta, ['name', 'namespace', 'uid', 'resourceVersion']), pick(originalMeta, ['name', 'namespace', 'uid', 'resourceVersion']), `${what}: identity`);
      t.equal(record(meta['labels'])['app'], 'shop', `${what}: labels kept`);
      t.strictSame(meaning(raw), meaning(original), `${what}: same meaning`);
      if (to.version !== 'v1alpha4') t.ok(conversionsOf(nameOf(row), to.apiVersion).length > 0, `${what}: the webhook converted it`);
    }

    // What the older versions cannot hold travels in annotations and comes back exactly.
    const split1as4 = readBack.get('trafficsplit-v1alpha1 v1alpha4');
    t.strictSame(
      list(record(split1as4?.['spec'])['backends']),
      [
        { service: 'cart-v1', weight: 1000 },
        { service: 'cart-v2', weight: 500 },
      ],
      'v1alpha1 quantities become integer weights in v1alpha4',
    );
    t.equal(record(record(split1as4?.['metadata'])['annotations'])['loom.dev/split-v1alpha1-weights'], '[{"service":"cart-v1","weight":"1"},{"service":"cart-v2","weight":"500m"}]');
    t.strictSame(
      list(record(originals.get('trafficsplit-v1alpha1')?.['spec'])['backends']),
      [
        { service: 'cart-v1', weight: '1' },
        { service: 'cart-v2', weight: '500m' },
      ],
      'read as v1alpha1 again, the quantities are exactly as written',
    );
    const split3as2 = readBack.get('trafficsplit-v1alpha3 v1alpha2');
    t.notOk('matches' in record(split3as2?.['spec']), 'v1alpha2 has no spec.matches');
    t.equal(record(record(split3as2?.['metadata'])['annotations'])['loom.dev/split-matches'], '[{"kind":"HTTPRouteGroup","name":"ab-test"}]');
  });

  t.test('lists, the category and short names convert too', async (t) => {
    const before = reviews.length;
    const asV1 = json<{ apiVersion: string; items: Raw[] }>(await ok(t, ['get', 'trafficsplits.v1alpha1.split.smi-spec.io', '-n', 'shop', '-o', 'json']));
    t.strictSame(
      asV1.items.map((i) => i['apiVersion']),
      Array.from({ length: 4 }, () => 'split.smi-spec.io/v1alpha1'),
    );
    t.ok(
      reviews.slice(before).some((r) => r.desiredAPIVersion === 'split.smi-spec.io/v1alpha1' && r.objects.length === 4),
      'one review carried the whole list',
    );
    const single = reviews.length;
    await ok(t, ['get', 'trafficsplits.v1alpha2.split.smi-spec.io', 'trafficsplit-v1alpha4', '-n', 'shop', '-o', 'json']);
    t.equal(reviews.length - single, 1, 'one GET in another version: one ConversionReview');
    const stored = reviews.length;
    await ok(t, ['get', 'trafficsplits.v1alpha4.split.smi-spec.io', 'trafficsplit-v1alpha1', '-n', 'shop', '-o', 'json']);
    t.equal(reviews.length - stored, 0, 'a GET in the storage version needs none');
    const names = (await ok(t, ['get', 'smi', '-n', 'shop', '-o', 'name'])).trim().split('\n');
    t.equal(names.length, CRD_ROWS.length, 'kubectl get smi lists every SMI object');
    t.match(await ok(t, ['get', 'ts', '-n', 'shop', '-o', 'name']), 'trafficsplit.split.smi-spec.io/trafficsplit-v1alpha4');
    t.equal(await ok(t, ['get', 'ts', 'trafficsplit-v1alpha1', '-n', 'shop', '-o', 'jsonpath={.apiVersion}']), 'split.smi-spec.io/v1alpha4', 'kubectl reads the preferred version');
  });

  t.test('apply again: unchanged, then configured through a merge patch in the written version', async (t) => {
    const split = CRD_ROWS.find((r) => r.kind === 'TrafficSplit' && r.version === 'v1alpha1');
    if (split === undefined) throw new Error('no split v1alpha1');
    t.match(await ok(t, APPLY, manifest(split)), 'trafficsplit.split.smi-spec.io/trafficsplit-v1alpha1 unchanged');
    const changed = manifest(split).replace('weight: 500m', 'weight: "3"');
    t.match(await ok(t, APPLY, changed), 'trafficsplit.split.smi-spec.io/trafficsplit-v1alpha1 configured');
    const now = json(await ok(t, ['get', resourceOf(split, 'v1alpha4'), 'trafficsplit-v1alpha1', '-n', 'shop', '-o', 'json']));
    t.strictSame(list(record(now['spec'])['backends']), [
      { service: 'cart-v1', weight: 1 },
      { service: 'cart-v2', weight: 3 },
    ]);
    t.equal(record(now['metadata'])['generation'], 2, 'a spec change bumps the generation');
  });

  t.test('a conversion the webhook refuses: the object is not stored, or not shown in that version', async (t) => {
    const portTarget = `apiVersion: access.smi-spec.io/v1alpha2
kind: TrafficTarget
metadata: {name: with-port, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: orders, namespace: shop, port: 8080}
  sources: [{kind: ServiceAccount, name: web, namespace: shop}]
`;
    const refused = await kube.fails(t, APPLY, portTarget);
    t.match(refused, 'conversion webhook for access.smi-spec.io/v1alpha2, Kind=TrafficTarget failed: ');
    t.match(refused, 'spec.destination.port 8080 has no place in access.smi-spec.io/v1alpha4');
    t.match(await kube.fails(t, ['get', 'traffictargets.v1alpha2.access.smi-spec.io', 'with-port', '-n', 'shop']), 'traffictargets.access.smi-spec.io "with-port" not found');

    await ok(t, APPLY, 'apiVersion: specs.smi-spec.io/v1alpha4\nkind: TCPRoute\nmetadata: {name: orders-port, namespace: shop}\nspec: {matches: {ports: [8080]}}\n');
    const r = await kubectl(['get', 'tcproutes.v1alpha3.specs.smi-spec.io', 'orders-port', '-n', 'shop', '-o', 'json']);
    t.equal(r.code, 1);
    t.match(r.stderr, 'conversion webhook for specs.smi-spec.io/v1alpha4, Kind=TCPRoute failed: ');
    t.match(r.stderr, 'ports 8080 cannot be expressed before specs.smi-spec.io/v1alpha4, and dropping them would allow every port');
    t.match(r.stderr, /^Error from server: conversion webhook for/m, 'Kubernetes answers a failed conversion with a Status of no reason');
    t.match(await ok(t, ['get', 'tcproutes.v1alpha4.specs.smi-spec.io', 'orders-port', '-n', 'shop', '-o', 'jsonpath={.spec.matches.ports}']), '[8080]', 'the storage version still reads');
  });

  t.test('plain kubectl apply: unknown fields and schema violations are refused with Kubernetes messages', async (t) => {
    const unknown = await kube.fails(t, APPLY, 'apiVersion: specs.smi-spec.io/v1alpha4\nkind: TCPRoute\nmetadata: {name: typo, namespace: shop}\nspec: {bogus: true, matches: {ports: [80]}}\n');
    t.match(unknown, 'strict decoding error: unknown field "spec.bogus"');
    t.match(unknown, 'Error from server (BadRequest): error when creating "STDIN": TCPRoute in version "v1alpha4" cannot be handled as a TCPRoute: strict decoding error: unknown field "spec.bogus"');
    t.match(await kube.fails(t, ['get', 'tcproute', 'typo', '-n', 'shop']), 'not found', 'nothing was stored');

    const wrongType = await kube.fails(t, APPLY, 'apiVersion: specs.smi-spec.io/v1alpha4\nkind: TCPRoute\nmetadata: {name: named-port, namespace: shop}\nspec: {matches: {ports: [http]}}\n');
    t.match(wrongType, 'The TCPRoute "named-port" is invalid: spec.matches.ports[0]: Invalid value: "string": spec.matches.ports[0] in body must be of type integer: "string"');

    const noBackends = await kube.fails(t, APPLY, 'apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: no-backends, namespace: shop}\nspec: {service: cart}\n');
    t.match(noBackends, 'The TrafficSplit "no-backends" is invalid: spec.backends: Required value');

    const tooLow = await kube.fails(t, APPLY, 'apiVersion: specs.smi-spec.io/v1alpha4\nkind: UDPRoute\nmetadata: {name: zero, namespace: shop}\nspec: {matches: {ports: [0]}}\n');
    t.match(tooLow, 'The UDPRoute "zero" is invalid: spec.matches.ports[0]: Invalid value: 0: spec.matches.ports[0] in body should be greater than or equal to 1');

    const warned = await kubectl(['apply', '--validate=warn', '-f', '-'], 'apiVersion: specs.smi-spec.io/v1alpha4\nkind: TCPRoute\nmetadata: {name: warned, namespace: shop}\nspec: {bogus: true, matches: {ports: [80]}}\n');
    t.equal(warned.code, 0, `--validate=warn creates it: ${warned.stderr.trim()}`);
    t.match(warned.stderr, 'Warning: unknown field "spec.bogus"');
    t.equal(await ok(t, ['get', 'tcproute', 'warned', '-n', 'shop', '-o', 'jsonpath={.spec}']), '{"matches":{"ports":[80]}}', 'the unknown field was pruned');
  });

  t.test('kubectl delete of objects, and of a CRD with its objects', async (t) => {
    t.match(await ok(t, ['delete', 'trafficsplits.v1alpha2.split.smi-spec.io', 'trafficsplit-v1alpha2', '-n', 'shop']), 'trafficsplit.split.smi-spec.io "trafficsplit-v1alpha2" deleted');
    t.match(await kube.fails(t, ['get', 'ts', 'trafficsplit-v1alpha2', '-n', 'shop']), 'trafficsplits.split.smi-spec.io "trafficsplit-v1alpha2" not found');

    const path = '/apis/specs.smi-spec.io/v1alpha4/namespaces/shop/udproutes/udproute-v1alpha4';
    t.equal(json(await ok(t, ['get', '--raw', path]))['kind'], 'UDPRoute');
    t.match(await ok(t, ['delete', 'crd', 'udproutes.specs.smi-spec.io']), 'customresourcedefinition.apiextensions.k8s.io "udproutes.specs.smi-spec.io" deleted');
    t.match(await kube.fails(t, ['get', '--raw', path]), 'Error from server (NotFound): the server could not find the requested resource');

    const udp = crds.find((c) => c.metadata.name === 'udproutes.specs.smi-spec.io');
    await ok(t, APPLY, JSON.stringify(udp));
    t.match(await ok(t, ['wait', '--for=condition=Established', '--timeout=10s', 'crd/udproutes.specs.smi-spec.io']), 'condition met');
    t.match(await kube.fails(t, ['get', '--raw', path]), 'udproutes.specs.smi-spec.io "udproute-v1alpha4" not found', 'a recreated CRD does not bring its objects back');
    t.equal(await ok(t, ['get', 'udproutes', '-A', '-o', 'name']), '');
  });

  t.test('the webhook was called with ConversionReview v1 for conversions only', (t) => {
    t.ok(reviews.length > 0);
    t.ok(
      reviews.every((r) => r.objects.every((o) => o['apiVersion'] !== r.desiredAPIVersion)),
      'objects already in the desired version are never sent',
    );
    t.ok(
      webhook.seen.every((s) => s.method === 'POST' && s.path === '/convert?timeout=30s'),
      'POST /convert?timeout=30s',
    );
    t.end();
  });
}
