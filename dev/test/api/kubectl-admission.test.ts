/**
 * Admission webhooks on the local API server, registered and exercised with the real kubectl: a mutating webhook
 * (HTTPS on 127.0.0.1, AdmissionReview v1, a JSONPatch adding a label and an annotation to Pods) limited by a
 * namespaceSelector; a validating webhook that denies; failurePolicy Fail and Ignore against a webhook that is down;
 * and a webhook reached through a Service reference, which the API resolves through the Service's EndpointSlices and
 * verifies as `<service>.<namespace>.svc`.
 */
import { mintCa } from '@loom/ca/testing';
import t, { type Test } from 'tap';
import { caBundleOf, json, kubectlMissing, serviceTo, servingCertificate, startHttps, startKube, type Answer, type Seen } from './support/kube.js';

type Raw = Record<string, unknown>;
const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const record = (v: unknown): Raw => (isRecord(v) ? v : {});

interface ReviewRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  name?: string;
  namespace?: string;
  operation: string;
  userInfo: { username?: string; groups?: string[] };
  object: Raw | null;
  oldObject: Raw | null;
  dryRun: boolean;
}

const requestOf = (seen: Seen): ReviewRequest => record(record(JSON.parse(seen.body))['request']) as unknown as ReviewRequest;
const labelsOf = (o: unknown): Record<string, string> => record(record(record(o)['metadata'])['labels']) as Record<string, string>;

const allowed = (uid: string, extra: Raw = {}): Answer => ({ body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true, ...extra } } });

/** Adds `loom.dev/injected: "true"` and the annotation `loom.dev/injected-by: <by>` (creating the maps when absent). */
function inject(request: ReviewRequest, by: string): Answer {
  const meta = record(record(request.object)['metadata']);
  const ops = [
    isRecord(meta['labels']) ? { op: 'add', path: '/metadata/labels/loom.dev~1injected', value: 'true' } : { op: 'add', path: '/metadata/labels', value: { 'loom.dev/injected': 'true' } },
    isRecord(meta['annotations'])
      ? { op: 'add', path: '/metadata/annotations/loom.dev~1injected-by', value: by }
      : { op: 'add', path: '/metadata/annotations', value: { 'loom.dev/injected-by': by } },
  ];
  return allowed(request.uid, { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') });
}

const DENIAL = 'pods labelled deny=yes are not allowed';

function guard(request: ReviewRequest): Answer {
  if (labelsOf(request.object)['deny'] !== 'yes') return allowed(request.uid);
  return { body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: request.uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: DENIAL } } } };
}

function route(by: string): (seen: Seen) => Answer {
  return (seen) => {
    const request = requestOf(seen);
    if (seen.path.startsWith('/mutate')) return inject(request, by);
    if (seen.path.startsWith('/validate')) return guard(request);
    return { status: 404, body: 'no such webhook' };
  };
}

const pod = (name: string, namespace: string, labels: Record<string, string> = {}): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels: { app: name, ...labels } }, spec: { containers: [{ name: 'app', image: 'busybox', command: ['sleep', 'infinity'] }] } });

const namespace = (name: string, labels: Record<string, string> = {}): string => JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

interface HookSpec {
  readonly name: string;
  readonly clientConfig: Raw;
  readonly operations?: readonly string[];
  readonly failurePolicy?: 'Fail' | 'Ignore';
  readonly namespaceSelector?: Raw;
  readonly objectSelector?: Raw;
}

function configuration(kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration', name: string, hooks: readonly HookSpec[]): string {
  return JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    metadata: { name },
    webhooks: hooks.map((h) => ({
      name: h.name,
      clientConfig: h.clientConfig,
      rules: [{ operations: h.operations ?? ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
      ...(h.namespaceSelector === undefined ? {} : { namespaceSelector: h.namespaceSelector }),
      ...(h.objectSelector === undefined ? {} : { objectSelector: h.objectSelector }),
      failurePolicy: h.failurePolicy ?? 'Fail',
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      timeoutSeconds: 5,
    })),
  });
}

const missing = await kubectlMissing();
if (missing !== null) {
  t.plan(0, missing);
} else {
  const ca = mintCa();
  const caBundle = caBundleOf(ca);
  const hooks = await startHttps(t, servingCertificate(ca, { ipAddresses: ['127.0.0.1'] }), route('url'));
  const viaService = await startHttps(t, servingCertificate(ca, { dnsNames: ['hooks.webhooks.svc'] }), route('service'));
  const url = (path: string, port = hooks.port): Raw => ({ url: `https://127.0.0.1:${port}${path}`, caBundle });
  const kube = await startKube(t);
  const { kubectl, ok, fails } = kube;
  const APPLY = ['apply', '-f', '-'];
  const getPod = async (t: Test, name: string, ns: string): Promise<{ metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } }> =>
    json(await ok(t, ['get', 'pod', name, '-n', ns, '-o', 'json']));
  /** The webhook calls of `server` at `path` since `from`. */
  const callsOf = (seen: readonly Seen[], path: string, from = 0): ReviewRequest[] => seen.slice(from).filter((s) => s.path.startsWith(path)).map(requestOf);

  await ok(t, APPLY, [namespace('injected', { 'loom.dev/inject': 'enabled' }), namespace('plain'), namespace('webhooks')].join('\n'));

  t.test('a mutating webhook with a namespaceSelector mutates pods of labelled namespaces only', async (t) => {
    const registered = await ok(
      t,
      APPLY,
      configuration('MutatingWebhookConfiguration', 'inject', [{ name: 'inject.loom.dev', clientConfig: url('/mutate'), namespaceSelector: { matchLabels: { 'loom.dev/inject': 'enabled' } } }]),
    );
    t.match(registered, 'mutatingwebhookconfiguration.admissionregistration.k8s.io/inject created');

    t.match(await ok(t, APPLY, pod('web', 'injected')), 'pod/web created');
    const mutated = await getPod(t, 'web', 'injected');
    t.equal(mutated.metadata.labels?.['loom.dev/injected'], 'true', 'the label was added');
    t.equal(mutated.metadata.labels?.['app'], 'web', 'the labels of the manifest are kept');
    t.equal(mutated.metadata.annotations?.['loom.dev/injected-by'], 'url', 'the annotation was added');
    const [call, ...more] = callsOf(hooks.seen, '/mutate');
    t.equal(more.length, 0, 'the webhook was called once');
    t.equal(call?.operation, 'CREATE');
    t.equal(call?.namespace, 'injected');
    t.equal(call?.name, 'web');
    t.strictSame(call?.kind, { group: '', version: 'v1', kind: 'Pod' });
    t.strictSame(call?.resource, { group: '', version: 'v1', resource: 'pods' });
    t.equal(call?.userInfo.username, 'kubernetes-admin');
    t.equal(call?.dryRun, false);
    t.equal(labelsOf(call?.object)['app'], 'web', 'the webhook saw the object');

    const before = hooks.seen.length;
    t.match(await ok(t, APPLY, pod('web', 'plain')), 'pod/web created');
    const plain = await getPod(t, 'web', 'plain');
    t.equal(plain.metadata.labels?.['loom.dev/injected'], undefined, 'a pod of an unlabelled namespace is not mutated');
    t.equal(plain.metadata.annotations?.['loom.dev/injected-by'], undefined);
    t.equal(hooks.seen.length, before, 'and the webhook was not called');

    t.match(await ok(t, APPLY, pod('web', 'injected')), 'pod/web unchanged', 'applying the manifest again keeps what the webhook added');
    t.equal(callsOf(hooks.seen, '/mutate', before).length, 0, 'an update is not a CREATE: no call');

    const dry = await ok(t, ['apply', '--dry-run=server', '-o', 'json', '-f', '-'], pod('dry', 'injected'));
    t.equal(json<{ metadata: { labels: Record<string, string> } }>(dry).metadata.labels['loom.dev/injected'], 'true', 'a server dry run is mutated too');
    t.equal(callsOf(hooks.seen, '/mutate', before)[0]?.dryRun, true, 'and the webhook is told it is a dry run');
    t.match(await fails(t, ['get', 'pod', 'dry', '-n', 'injected']), 'pods "dry" not found', 'nothing stored by a dry run');
  });

  t.test('a validating webhook that denies: kubectl prints the webhook\'s message', async (t) => {
    const registered = await ok(t, APPLY, configuration('ValidatingWebhookConfiguration', 'guard', [{ name: 'deny.loom.dev', clientConfig: url('/validate'), operations: ['CREATE', 'UPDATE'] }]));
    t.match(registered, 'validatingwebhookconfiguration.admissionregistration.k8s.io/guard created');

    const denied = await kubectl(APPLY, pod('bad', 'plain', { deny: 'yes' }));
    t.equal(denied.code, 1);
    t.match(denied.stderr, `Error from server (Forbidden): error when creating "STDIN": admission webhook "deny.loom.dev" denied the request: ${DENIAL}`);
    t.match(await fails(t, ['get', 'pod', 'bad', '-n', 'plain']), 'pods "bad" not found');

    const before = hooks.seen.length;
    t.match(await ok(t, APPLY, pod('good', 'injected')), 'pod/good created');
    const validated = callsOf(hooks.seen, '/validate', before)[0];
    t.equal(labelsOf(validated?.object)['loom.dev/injected'], 'true', 'validation sees the mutated object');
    const order = hooks.seen.slice(before).map((s) => s.path.split('?')[0]);
    t.strictSame(order, ['/mutate', '/validate'], 'mutating webhooks run before validating ones');

    const label = await kubectl(['label', 'pod', 'good', '-n', 'injected', 'deny=yes']);
    t.equal(label.code, 1, 'an UPDATE is validated too');
    t.match(label.stderr, `admission webhook "deny.loom.dev" denied the request: ${DENIAL}`);
    t.equal(callsOf(hooks.seen, '/validate', before).at(-1)?.operation, 'UPDATE');
    t.equal(labelsOf(callsOf(hooks.seen, '/validate', before).at(-1)?.oldObject)['deny'], undefined, 'with the old object');
    t.equal((await getPod(t, 'good', 'injected')).metadata.labels?.['deny'], undefined, 'the label was not stored');
  });

  t.test('a webhook that is down: failurePolicy Fail refuses the request, Ignore lets it through', async (t) => {
    const down = await startHttps(t, servingCertificate(ca, { ipAddresses: ['127.0.0.1'] }), () => ({ body: {} }));
    const port = down.port;
    await down.close();
    const hook = (failurePolicy: 'Fail' | 'Ignore'): string =>
      configuration('ValidatingWebhookConfiguration', 'down', [{ name: 'down.loom.dev', clientConfig: url('/validate', port), failurePolicy, objectSelector: { matchLabels: { hook: 'down' } } }]);
    await ok(t, APPLY, hook('Fail'));
    const refused = await kubectl(APPLY, pod('fails', 'plain', { hook: 'down' }));
    t.equal(refused.code, 1);
    t.match(
      refused.stderr,
      `Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling webhook "down.loom.dev": failed to call webhook: Post "https://127.0.0.1:${port}/validate?timeout=5s": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    );
    t.match(await ok(t, APPLY, pod('unselected', 'plain')), 'pod/unselected created', 'the objectSelector leaves other pods alone');

    t.match(await ok(t, ['patch', 'validatingwebhookconfiguration', 'down', '--type=json', '-p', '[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Ignore"}]']), 'patched');
    t.match(await ok(t, APPLY, pod('fails', 'plain', { hook: 'down' })), 'pod/fails created', 'Ignore: the pod is created');
    t.match(await ok(t, ['delete', 'validatingwebhookconfiguration', 'down']), 'deleted');
  });

  t.test('a webhook reached through a Service: EndpointSlice resolution and the <service>.<namespace>.svc name', async (t) => {
    const created = await ok(t, APPLY, serviceTo('webhooks', 'hooks', 443, viaService.port));
    t.match(created, 'service/hooks created');
    t.match(created, 'endpointslice.discovery.k8s.io/hooks-1 created');
    const service = (name: string, path: string): Raw => ({ service: { namespace: 'webhooks', name, path, port: 443 }, caBundle });
    await ok(t, APPLY, configuration('MutatingWebhookConfiguration', 'svc-inject', [{ name: 'svc.loom.dev', clientConfig: service('hooks', '/mutate'), objectSelector: { matchLabels: { via: 'service' } } }]));

    t.match(await ok(t, APPLY, pod('routed', 'plain', { via: 'service' })), 'pod/routed created');
    const routed = await getPod(t, 'routed', 'plain');
    t.equal(routed.metadata.annotations?.['loom.dev/injected-by'], 'service', 'the Service\'s endpoint answered');
    t.equal(viaService.seen.length, 1);
    t.match(viaService.seen[0]?.path ?? '', /^\/mutate\?timeout=5s$/);

    // The same Service name, but the endpoint's certificate names only 127.0.0.1.
    await ok(t, APPLY, serviceTo('webhooks', 'wrongname', 443, hooks.port));
    await ok(t, APPLY, configuration('MutatingWebhookConfiguration', 'svc-wrong', [{ name: 'wrong.loom.dev', clientConfig: service('wrongname', '/mutate'), objectSelector: { matchLabels: { via: 'wrongname' } } }]));
    const wrong = await kubectl(APPLY, pod('wrong', 'plain', { via: 'wrongname' }));
    t.equal(wrong.code, 1);
    t.match(wrong.stderr, 'Internal error occurred: failed calling webhook "wrong.loom.dev": failed to call webhook: Post "https://wrongname.webhooks.svc:443/mutate?timeout=5s": tls: failed to verify certificate: x509: certificate');
    t.match(wrong.stderr, 'x509: certificate is not valid for any names, but wanted to match wrongname.webhooks.svc', 'Go\'s wording for a certificate with IP SANs only');

    await ok(t, ['delete', 'endpointslice', 'hooks-1', '-n', 'webhooks']);
    const noEndpoints = await kubectl(APPLY, pod('orphan', 'plain', { via: 'service' }));
    t.equal(noEndpoints.code, 1);
    t.match(noEndpoints.stderr, 'failed calling webhook "svc.loom.dev": failed to call webhook: Post "https://hooks.webhooks.svc:443/mutate?timeout=5s": no endpoints available for service "hooks"');
    t.equal(viaService.seen.length, 1, 'no call without an endpoint');
  });
}
