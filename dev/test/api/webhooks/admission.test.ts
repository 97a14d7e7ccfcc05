/**
 * Admission webhooks called for real: HTTPS servers on 127.0.0.1 play the webhooks, count their calls and answer
 * with patches, denials, nonsense or nothing at all.
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mintCa } from '@loom/ca/testing';
import { createLogger } from '@loom/shared/runtime';
import t, { type Test } from 'tap';
import { ApiError } from '../../../src/api/status.js';
import type { KubeObject } from '../../../src/api/store.js';
import { Admission, type AdmissionAttributes, type AdmissionOptions } from '../../../src/api/webhooks/admission.js';
import { AdmissionError } from '../../../src/api/webhooks/errors.js';
import { HANG, reviewServer } from './support.js';

const ca = mintCa();
const caBundle = Buffer.from(ca.rootPem).toString('base64');
const otherBundle = Buffer.from(mintCa().rootPem).toString('base64');

type Review = { apiVersion: string; kind: string; request: Record<string, unknown> & { uid: string; object: KubeObject | null; oldObject: KubeObject | null } };
/** A handler answers with a whole AdmissionReview (any JSON, or a promise of it), or HANG: no answer until the test ends. */
type Handler = (review: Review, path: string) => unknown;

interface Webhooks {
  readonly port: number;
  /** Every request, by path. */
  readonly calls: { path: string; review: Review }[];
  count(path: string): number;
}

/** One HTTPS server for the webhooks of a test (`hook.webhooks.svc`), dispatching by path. */
async function webhooks(t: Test, handlers: Record<string, Handler>): Promise<Webhooks> {
  const server = await reviewServer<Review>(t, ca, 'hook.webhooks.svc', handlers, (path) => ({ error: `no handler for ${path}` }));
  return { ...server, count: (path) => server.calls.filter((c) => c.path === path).length };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

const allow = (review: Review, extra: Record<string, unknown> = {}): unknown => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  response: { uid: review.request.uid, allowed: true, ...extra },
});
const patch = (review: Review, ops: unknown[], extra: Record<string, unknown> = {}): unknown => allow(review, { patchType: 'JSONPatch', patch: b64(ops), ...extra });
const deny = (review: Review, status?: unknown, extra: Record<string, unknown> = {}): unknown => allow(review, { allowed: false, ...(status === undefined ? {} : { status }), ...extra });
const addLabel = (key: string, value: string) => (review: Review) => patch(review, [{ op: 'add', path: `/metadata/labels/${key.replace('/', '~1')}`, value }]);

/** A webhook entry calling `path` on the test server, for pods by default. */
const hook = (name: string, path: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name,
  clientConfig: { service: { namespace: 'webhooks', name: 'hook', path }, caBundle },
  rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
  sideEffects: 'None',
  admissionReviewVersions: ['v1'],
  ...extra,
});
const configuration = (kind: 'Mutating' | 'Validating', name: string, ...hooks: Record<string, unknown>[]): KubeObject => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: `${kind}WebhookConfiguration`,
  metadata: { name },
  webhooks: hooks,
});

const NAMESPACES: Record<string, Record<string, string>> = { shop: { inject: 'enabled' }, plain: {} };

interface Setup {
  readonly admission: Admission;
  readonly logs: Record<string, unknown>[];
}

function setup(port: number, configs: { mutating?: KubeObject[]; validating?: KubeObject[] }, extra: Partial<AdmissionOptions> = {}): Setup {
  const logs: Record<string, unknown>[] = [];
  const log = createLogger({ name: 'test', level: 'debug', destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) } });
  let uids = 0;
  const admission = new Admission({
    configurations: () => ({ mutating: configs.mutating ?? [], validating: configs.validating ?? [] }),
    namespaceLabels: (ns) => NAMESPACES[ns],
    resolveService: (namespace, name, servicePort) => Promise.resolve(namespace === 'webhooks' && name === 'hook' && servicePort === 443 ? { host: '127.0.0.1', port } : undefined),
    log,
    uid: () => `uid-${++uids}`,
    ...extra,
  });
  return { admission, logs };
}

const pod = (labels: Record<string, string> = { app: 'web' }, namespace = 'shop'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace, labels },
  spec: { containers: [{ name: 'app', image: 'web' }] },
});

const createPod = (object: KubeObject = pod(), extra: Partial<AdmissionAttributes> = {}): AdmissionAttributes & { object: KubeObject } => ({
  operation: 'CREATE',
  group: '',
  version: 'v1',
  resource: 'pods',
  kind: 'Pod',
  namespace: object.metadata.namespace ?? 'shop',
  name: 'web',
  object,
  dryRun: false,
  userInfo: { username: 'alice', uid: 'u-1', groups: ['devs', 'system:authenticated'] },
  namespaced: true,
  ...extra,
});

const deletePod = (): AdmissionAttributes => {
  const { object, ...rest } = createPod();
  return { ...rest, operation: 'DELETE', oldObject: object };
};

/** The ApiError a promise rejects with. */
async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('the request was admitted');
}

t.test("a mutating webhook's JSONPatch is applied, and it is asked exactly as Kubernetes asks", async (t) => {
  const server = await webhooks(t, { '/inject': (r) => patch(r, [{ op: 'add', path: '/metadata/labels/injected', value: 'true' }], { warnings: ['injected a sidecar', 'injected a sidecar'] }) });
  const { admission } = setup(server.port, { mutating: [configuration('Mutating', 'injector', hook('inject.loom.test', '/inject'))] });
  const attrs = createPod();
  const result = await admission.mutate(attrs);
  t.strictSame(result.object.metadata.labels, { app: 'web', injected: 'true' });
  t.strictSame(result.warnings, ['injected a sidecar'], 'warnings, each once');
  t.strictSame(attrs.object.metadata.labels, { app: 'web' }, 'the request object is not changed');
  t.equal(server.calls.length, 1);
  const review = server.calls[0]?.review;
  t.equal(review?.apiVersion, 'admission.k8s.io/v1');
  t.equal(review?.kind, 'AdmissionReview');
  t.strictSame(review?.request, {
    uid: 'uid-1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    requestKind: { group: '', version: 'v1', kind: 'Pod' },
    requestResource: { group: '', version: 'v1', resource: 'pods' },
    name: 'web',
    namespace: 'shop',
    operation: 'CREATE',
    userInfo: { username: 'alice', uid: 'u-1', groups: ['devs', 'system:authenticated'] },
    object: pod(),
    oldObject: null,
    dryRun: false,
    options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
  });
});

t.test('which requests reach a webhook: rules, namespaceSelector, objectSelector, exempt kinds, matchPolicy', async (t) => {
  const server = await webhooks(t, { '/hook': (r) => allow(r) });
  const inject = { namespaceSelector: { matchLabels: { inject: 'enabled' } } };
  const cases: [string, Record<string, unknown>, AdmissionAttributes, boolean, Partial<AdmissionOptions>?][] = [
    ['a pod in a selected namespace', inject, createPod(), true],
    ['a pod in a namespace without the label', inject, createPod(pod({ app: 'web' }, 'plain')), false],
    ['a Namespace being created: its own labels (selected)', { ...inject, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['namespaces'] }] }, namespaceCreate('new', { inject: 'enabled' }), true],
    ['a Namespace being created: its own labels (not selected)', { ...inject, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['namespaces'] }] }, namespaceCreate('shop', {}), false],
    [
      'a cluster-scoped object is never excluded by namespaceSelector',
      { ...inject, rules: [{ operations: ['CREATE'], apiGroups: ['rbac.authorization.k8s.io'], apiVersions: ['v1'], resources: ['clusterroles'] }] },
      clusterRoleCreate(),
      true,
    ],
    ['objectSelector on the new object', { objectSelector: { matchLabels: { app: 'web' } } }, createPod(), true],
    ['objectSelector on neither object', { objectSelector: { matchLabels: { app: 'db' } } }, createPod(), false],
    ['objectSelector on the old object', { objectSelector: { matchLabels: { app: 'db' } } }, createPod(pod(), { operation: 'UPDATE', oldObject: pod({ app: 'db' }) }), true],
    ['objectSelector DoesNotExist', { objectSelector: { matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] } }, createPod(pod({ skip: 'yes' })), false],
    ['another operation', { rules: [{ operations: ['UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }] }, createPod(), false],
    ['a subresource its rules do not list', {}, createPod(pod(), { operation: 'UPDATE', subresource: 'status' }), false],
    ['pods/status', { rules: [{ operations: ['UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods/status'] }] }, createPod(pod(), { operation: 'UPDATE', subresource: 'status' }), true],
    ['scope Cluster for a pod', { rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'], scope: 'Cluster' }] }, createPod(), false],
    [
      'a webhook configuration is never sent to webhooks',
      { rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }] },
      configCreate(),
      false,
    ],
    [
      'matchPolicy Equivalent: the rules list another served version',
      { rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1beta1'], resources: ['pods'] }] },
      createPod(),
      true,
      { versions: () => ['v1', 'v1beta1'] },
    ],
    [
      'matchPolicy Exact: only the version asked for',
      { matchPolicy: 'Exact', rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1beta1'], resources: ['pods'] }] },
      createPod(),
      false,
      { versions: () => ['v1', 'v1beta1'] },
    ],
  ];
  for (const [name, extra, attrs, called, options] of cases) {
    const before = server.calls.length;
    const { admission } = setup(server.port, { mutating: [configuration('Mutating', 'm', hook('m.loom.test', '/hook', extra))], validating: [configuration('Validating', 'v', hook('v.loom.test', '/hook', extra))] }, options);
    await admission.mutate(attrs);
    await admission.validate(attrs);
    t.equal(server.calls.length - before, called ? 2 : 0, name);
  }

  const { admission } = setup(server.port, { mutating: [configuration('Mutating', 'm', hook('m.loom.test', '/hook', { rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1beta1'], resources: ['pods'] }] }))] }, { versions: () => ['v1', 'v1beta1'] });
  const before = server.calls.length;
  await admission.mutate(createPod());
  const review = server.calls[before]?.review.request;
  t.strictSame([review?.['kind'], review?.['requestKind'], review?.object?.['apiVersion']], [{ group: '', version: 'v1beta1', kind: 'Pod' }, { group: '', version: 'v1', kind: 'Pod' }, 'v1beta1'], 'Equivalent: the object is sent in the matched version');
});

function namespaceCreate(name: string, labels: Record<string, string>): AdmissionAttributes {
  return { operation: 'CREATE', group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', name, object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }, dryRun: false, userInfo: { username: 'alice', groups: [] }, namespaced: false };
}

function clusterRoleCreate(): AdmissionAttributes {
  return {
    operation: 'CREATE',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterroles',
    kind: 'ClusterRole',
    name: 'reader',
    object: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'reader' } },
    dryRun: false,
    userInfo: { username: 'alice', groups: [] },
    namespaced: false,
  };
}

function configCreate(): AdmissionAttributes {
  const object = configuration('Mutating', 'new', hook('x.loom.test', '/hook'));
  return { operation: 'CREATE', group: 'admissionregistration.k8s.io', version: 'v1', resource: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', name: 'new', object, dryRun: false, userInfo: { username: 'alice', groups: [] }, namespaced: false };
}

t.test('a Namespace being deleted is selected by its stored labels; a missing namespace is a 404 when the rules match', async (t) => {
  const server = await webhooks(t, { '/hook': (r) => allow(r) });
  const rules = [{ operations: ['DELETE'], apiGroups: [''], apiVersions: ['v1'], resources: ['namespaces'] }];
  const { admission } = setup(server.port, { validating: [configuration('Validating', 'v', hook('v.loom.test', '/hook', { rules, namespaceSelector: { matchLabels: { inject: 'enabled' } } }))] });
  const deleting = (name: string): AdmissionAttributes => ({
    operation: 'DELETE',
    group: '',
    version: 'v1',
    resource: 'namespaces',
    kind: 'Namespace',
    name,
    oldObject: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
    dryRun: false,
    userInfo: { username: 'alice', groups: [] },
    namespaced: false,
  });
  await admission.validate(deleting('shop'));
  t.equal(server.count('/hook'), 1, 'shop carries the label');
  t.equal(server.calls[0]?.review.request['namespace'], 'shop', "a Namespace's request namespace is its name");
  await admission.validate(deleting('plain'));
  t.equal(server.count('/hook'), 1, 'plain does not');
  const missing = await refusal(admission.validate(deleting('ghost')));
  t.strictSame([missing.code, missing.reason, missing.message], [404, 'NotFound', 'namespaces "ghost" not found']);

  const pods = setup(server.port, { validating: [configuration('Validating', 'v', hook('v.loom.test', '/hook', { namespaceSelector: { matchLabels: { inject: 'enabled' } } }))] });
  await pods.admission.validate(createPod(pod({}, 'ghost'), { operation: 'DELETE' }));
  t.pass('a request the rules do not cover ignores the missing namespace');
});

t.test('a denial carries the webhook status and its message, as ToStatusErr shapes it', async (t) => {
  const statuses: Record<string, unknown> = {
    '/forbidden': { code: 403, reason: 'Forbidden', message: 'privileged pods are not allowed' },
    '/nocode': { message: 'name is reserved' },
    '/reason': { reason: 'PolicyViolation' },
    '/nothing': undefined,
    '/lowcode': { code: 200, status: 'Success', message: 'looks fine to me' },
    '/invalid': { code: 422, reason: 'Invalid', message: 'spec.replicas: Invalid value', details: { name: 'web', kind: 'pods', causes: [{ field: 'spec.replicas', message: 'too many' }] } },
  };
  const handlers: Record<string, Handler> = {};
  for (const [path, status] of Object.entries(statuses)) handlers[path] = (r) => deny(r, status, { warnings: [`warned by ${path}`] });
  const server = await webhooks(t, handlers);
  const expected: [string, number, string, string][] = [
    ['/forbidden', 403, 'Forbidden', 'admission webhook "deny.loom.test" denied the request: privileged pods are not allowed'],
    ['/nocode', 400, 'BadRequest', 'admission webhook "deny.loom.test" denied the request: name is reserved'],
    ['/reason', 400, 'BadRequest', 'admission webhook "deny.loom.test" denied the request: PolicyViolation'],
    ['/nothing', 400, 'BadRequest', 'admission webhook "deny.loom.test" denied the request without explanation'],
    ['/lowcode', 400, 'BadRequest', 'admission webhook "deny.loom.test" denied the request: looks fine to me'],
    ['/invalid', 422, 'Invalid', 'admission webhook "deny.loom.test" denied the request: spec.replicas: Invalid value'],
  ];
  for (const [path, code, reason, message] of expected) {
    for (const kind of ['Mutating', 'Validating'] as const) {
      const { admission } = setup(server.port, { [kind === 'Mutating' ? 'mutating' : 'validating']: [configuration(kind, 'deny', hook('deny.loom.test', path))] });
      const err = await refusal(kind === 'Mutating' ? admission.mutate(createPod()) : admission.validate(createPod()));
      t.strictSame([err.code, err.reason, err.message], [code, reason, message], `${kind} ${path}`);
      t.ok(err instanceof AdmissionError && err.warnings.includes(`warned by ${path}`), `${kind} ${path}: the warnings come with the error`);
      if (path === '/invalid') t.strictSame(err.details?.causes, [{ message: 'too many', field: 'spec.replicas' }], 'the details are kept');
    }
  }
});

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const srv = createHttpServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

t.test('failurePolicy: Fail refuses the request with a 500, Ignore skips the webhook (a dead port, a wrong caBundle, a broken configuration)', async (t) => {
  const dead = await deadPort();
  const server = await webhooks(t, { '/hook': addLabel('reached', 'yes') });
  const problems: [string, Record<string, unknown>, number, string][] = [
    ['a dead port', {}, dead, `failed to call webhook: Post "https://hook.webhooks.svc:443/hook?timeout=10s": dial tcp 127.0.0.1:${dead}: connect: connection refused`],
    [
      'a caBundle that did not sign the certificate',
      { clientConfig: { service: { namespace: 'webhooks', name: 'hook', path: '/hook' }, caBundle: otherBundle } },
      server.port,
      'failed to call webhook: Post "https://hook.webhooks.svc:443/hook?timeout=10s": tls: failed to verify certificate: x509: certificate signed by unknown authority',
    ],
    ['no clientConfig', { clientConfig: undefined }, server.port, 'could not get REST client: webhook configuration must have either service or URL'],
    [
      'a caBundle that is not PEM',
      { clientConfig: { service: { namespace: 'webhooks', name: 'hook', path: '/hook' }, caBundle: Buffer.from('nope').toString('base64') } },
      server.port,
      'could not get REST client: unable to load root certificates: unable to parse bytes as PEM block',
    ],
    ['no AdmissionReview version it knows', { admissionReviewVersions: ['v2'] }, server.port, 'could not create admission objects: webhook does not accept known AdmissionReview versions (v1, v1beta1)'],
  ];
  for (const [name, extra, port, reason] of problems) {
    const failing = setup(port, { mutating: [configuration('Mutating', 'm', hook('fail.loom.test', '/hook', extra))], validating: [configuration('Validating', 'v', hook('fail.loom.test', '/hook', extra))] });
    for (const run of [() => failing.admission.mutate(createPod()), () => failing.admission.validate(createPod())]) {
      const err = await refusal(run());
      t.strictSame([err.code, err.reason, err.message], [500, 'InternalError', `Internal error occurred: failed calling webhook "fail.loom.test": ${reason}`], `${name}, Fail`);
    }
    const ignoring = setup(port, {
      mutating: [configuration('Mutating', 'm', hook('fail.loom.test', '/hook', { ...extra, failurePolicy: 'Ignore' }))],
      validating: [configuration('Validating', 'v', hook('fail.loom.test', '/hook', { ...extra, failurePolicy: 'Ignore' }))],
    });
    const result = await ignoring.admission.mutate(createPod());
    t.strictSame(result.object, pod(), `${name}, Ignore: the object is unchanged`);
    await ignoring.admission.validate(createPod());
    t.equal(ignoring.logs.filter((l) => l['event'] === 'webhook.failed_open').length, 2, `${name}, Ignore: logged`);
  }
  t.equal(server.calls.length, 0, 'the webhook server was never reached');
});

t.test('timeoutSeconds is honoured', async (t) => {
  const server = await webhooks(t, { '/slow': () => HANG });
  const { admission } = setup(server.port, { mutating: [configuration('Mutating', 'm', hook('slow.loom.test', '/slow', { timeoutSeconds: 1 }))] });
  const started = Date.now();
  const err = await refusal(admission.mutate(createPod()));
  const elapsed = Date.now() - started;
  t.equal(err.message, 'Internal error occurred: failed calling webhook "slow.loom.test": failed to call webhook: Post "https://hook.webhooks.svc:443/slow?timeout=1s": context deadline exceeded');
  t.ok(elapsed >= 900 && elapsed < 4000, `about a second (${elapsed} ms)`);
});

t.test('reinvocationPolicy IfNeeded: an earlier webhook is called once more when a later one changed the object', async (t) => {
  const server = await webhooks(t, {
    '/first': (r) => patch(r, [{ op: 'add', path: '/metadata/annotations', value: { 'first/saw': Object.keys(r.request.object?.metadata.labels ?? {}).sort().join(',') } }]),
    '/second': addLabel('second', 'yes'),
    '/quiet': (r) => allow(r),
  });
  const run = async (first: Record<string, unknown>, second: string): Promise<KubeObject> => {
    const before = server.calls.length;
    const { admission } = setup(server.port, { mutating: [configuration('Mutating', 'b-second', hook('second.loom.test', second)), configuration('Mutating', 'a-first', hook('first.loom.test', '/first', first))] });
    const { object } = await admission.mutate(createPod());
    t.comment(server.calls.slice(before).map((c) => c.path).join(' '));
    return object;
  };
  let before = server.calls.length;
  let object = await run({ reinvocationPolicy: 'IfNeeded' }, '/second');
  t.strictSame(
    server.calls.slice(before).map((c) => c.path),
    ['/first', '/second', '/first'],
    'configurations by name; the first is called again after the second changed the object',
  );
  t.strictSame(object.metadata.annotations, { 'first/saw': 'app,second' }, "the second call saw the second webhook's label");

  before = server.calls.length;
  object = await run({}, '/second');
  t.strictSame(
    server.calls.slice(before).map((c) => c.path),
    ['/first', '/second'],
    'reinvocationPolicy Never (the default): called once',
  );
  t.strictSame(object.metadata.annotations, { 'first/saw': 'app' });

  before = server.calls.length;
  await run({ reinvocationPolicy: 'IfNeeded' }, '/quiet');
  t.strictSame(
    server.calls.slice(before).map((c) => c.path),
    ['/first', '/quiet'],
    'nothing changed after it: not called again',
  );
});

t.test('validating webhooks are called at once; the first refusal in calling order decides', async (t) => {
  // Each webhook answers only once the other one has been asked: called one after the other, they would time out.
  const arrived: Record<string, () => void> = {};
  const asked = (path: string): Promise<void> => new Promise((resolve) => (arrived[path] = resolve));
  let aAsked = asked('/a');
  let bAsked = asked('/b');
  const server = await webhooks(t, {
    '/a': async (r) => {
      arrived['/a']?.();
      await bAsked;
      return allow(r, { warnings: ['from a'] });
    },
    '/b': async (r) => {
      arrived['/b']?.();
      await aAsked;
      return allow(r, { warnings: ['from b'] });
    },
    '/slow-deny': async (r) => {
      await sleep(300);
      return deny(r, { message: 'slow says no' });
    },
    '/fast-deny': (r) => deny(r, { message: 'fast says no' }),
  });
  const allowing = setup(server.port, {
    validating: [configuration('Validating', 'a', hook('a.loom.test', '/a', { timeoutSeconds: 2 })), configuration('Validating', 'b', hook('b.loom.test', '/b', { timeoutSeconds: 2 }))],
  });
  t.strictSame((await allowing.admission.validate(createPod())).warnings, ['from a', 'from b'], 'both answered; warnings in calling order');
  aAsked = asked('/a');
  bAsked = asked('/b');
  const reversed = setup(server.port, {
    validating: [configuration('Validating', 'a', hook('b.loom.test', '/b', { timeoutSeconds: 2 })), configuration('Validating', 'b', hook('a.loom.test', '/a', { timeoutSeconds: 2 }))],
  });
  t.strictSame((await reversed.admission.validate(createPod())).warnings, ['from b', 'from a']);

  const denying = setup(server.port, { validating: [configuration('Validating', 'a', hook('slow.loom.test', '/slow-deny')), configuration('Validating', 'b', hook('fast.loom.test', '/fast-deny'))] });
  const err = await refusal(denying.admission.validate(createPod()));
  t.equal(err.message, 'admission webhook "slow.loom.test" denied the request: slow says no', 'the first in order, though it answered last');
  t.ok(denying.logs.some((l) => l['event'] === 'webhook.rejected'), 'the other refusal is logged');
});

t.test('dry runs: webhooks with side effects refuse them, the others are told', async (t) => {
  const server = await webhooks(t, { '/hook': (r) => allow(r) });
  const dryRun = createPod(pod(), { dryRun: true });
  for (const sideEffects of ['Some', 'Unknown']) {
    for (const failurePolicy of ['Fail', 'Ignore']) {
      const { admission } = setup(server.port, { mutating: [configuration('Mutating', 'm', hook('effects.loom.test', '/hook', { sideEffects, failurePolicy }))] });
      const err = await refusal(admission.mutate(dryRun));
      t.strictSame([err.code, err.reason, err.message], [400, 'BadRequest', 'admission webhook "effects.loom.test" does not support dry run'], `sideEffects ${sideEffects}, failurePolicy ${failurePolicy}`);
    }
  }
  t.equal(server.calls.length, 0, 'not called');
  const missing = setup(server.port, { validating: [configuration('Validating', 'v', hook('nil.loom.test', '/hook', { sideEffects: undefined }))] });
  t.equal((await refusal(missing.admission.validate(dryRun))).message, 'Internal error occurred: failed calling webhook "nil.loom.test": Webhook SideEffects is nil');
  for (const sideEffects of ['None', 'NoneOnDryRun']) {
    const { admission } = setup(server.port, { validating: [configuration('Validating', 'v', hook('ok.loom.test', '/hook', { sideEffects }))] });
    await admission.validate(dryRun);
  }
  t.strictSame(
    server.calls.map((c) => [c.review.request['dryRun'], c.review.request['options']]),
    [
      [true, { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', dryRun: ['All'] }],
      [true, { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', dryRun: ['All'] }],
    ],
  );
});

t.test('answers Kubernetes refuses', async (t) => {
  const server = await webhooks(t, {
    '/wrong-uid': (r) => ({ ...(allow(r) as object), response: { uid: 'someone-else', allowed: true } }),
    '/no-kind': (r) => ({ response: { uid: r.request.uid, allowed: true } }),
    '/no-response': () => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }),
    '/patch-no-type': (r) => allow(r, { patch: b64([{ op: 'add', path: '/metadata/labels/x', value: 'y' }]) }),
    '/type-no-patch': (r) => allow(r, { patchType: 'JSONPatch' }),
    '/merge-patch': (r) => allow(r, { patchType: 'MergePatch', patch: b64([{ op: 'add', path: '/metadata/labels/x', value: 'y' }]) }),
    '/not-a-patch': (r) => allow(r, { patchType: 'JSONPatch', patch: Buffer.from('{nope').toString('base64') }),
    '/allowed-string': (r) => allow(r, { allowed: 'yes' }),
  });
  const cases: [string, string][] = [
    ['/wrong-uid', 'received invalid webhook response: expected response.uid="uid-1", got "someone-else"'],
    ['/no-kind', 'received invalid webhook response: expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got /, Kind='],
    ['/no-response', 'received invalid webhook response: webhook response was absent'],
    ['/patch-no-type', 'received invalid webhook response: webhook returned response.patch but not response.patchType'],
    ['/type-no-patch', 'received invalid webhook response: webhook returned response.patchType but not response.patch'],
    ['/merge-patch', 'unsupported patch type "MergePatch"'],
    ['/allowed-string', 'failed to call webhook: json: cannot unmarshal string into Go struct field AdmissionResponse.response.allowed of type bool'],
  ];
  for (const [path, reason] of cases) {
    const { admission } = setup(server.port, { mutating: [configuration('Mutating', 'm', hook('odd.loom.test', path))] });
    t.equal((await refusal(admission.mutate(createPod()))).message, `Internal error occurred: failed calling webhook "odd.loom.test": ${reason}`, path);
  }
  const { admission } = setup(server.port, { mutating: [configuration('Mutating', 'm', hook('odd.loom.test', '/not-a-patch'))] });
  t.match((await refusal(admission.mutate(createPod()))).message, /^Internal error occurred: failed calling webhook "odd\.loom\.test": received undecodable patch in webhook response: /);

  const validating = setup(server.port, { validating: [configuration('Validating', 'v', hook('odd.loom.test', '/patch-no-type'))] });
  t.equal(
    (await refusal(validating.admission.validate(createPod()))).message,
    'Internal error occurred: failed calling webhook "odd.loom.test": received invalid webhook response: validating webhook may not return response.patch',
  );
});

t.test('an AdmissionReview v1beta1 webhook is asked in v1beta1', async (t) => {
  const server = await webhooks(t, { '/old': () => ({ response: { allowed: true, patch: b64([{ op: 'add', path: '/metadata/labels/old', value: 'yes' }]) } }) });
  const { admission } = setup(server.port, { mutating: [configuration('Mutating', 'm', hook('old.loom.test', '/old', { admissionReviewVersions: ['v1beta1', 'v1'] }))] });
  const { object } = await admission.mutate(createPod());
  t.equal(server.calls[0]?.review.apiVersion, 'admission.k8s.io/v1beta1', 'the first version it lists');
  t.equal(object.metadata.labels?.['old'], 'yes', 'no uid or patchType checked, as Kubernetes does for v1beta1');
});

t.test('patches that cannot be applied fail the request whatever the failurePolicy', async (t) => {
  const server = await webhooks(t, {
    '/bad-path': (r) => patch(r, [{ op: 'remove', path: '/spec/nothing' }]),
    '/rename': (r) => patch(r, [{ op: 'replace', path: '/metadata/name', value: 'other' }]),
    '/move': (r) => patch(r, [{ op: 'replace', path: '/metadata/namespace', value: 'elsewhere' }]),
    '/rekind': (r) => patch(r, [{ op: 'replace', path: '/kind', value: 'Service' }]),
    '/label': addLabel('x', 'y'),
  });
  const cases: [string, AdmissionAttributes, RegExp | string][] = [
    ['/bad-path', createPod(), /^Internal error occurred: json patch operation 0 \(remove "\/spec\/nothing"\): /],
    ['/rename', createPod(), 'Internal error occurred: admission webhook "patch.loom.test" attempted to change metadata.name from "web" to "other", which is not supported'],
    ['/move', createPod(), 'Internal error occurred: admission webhook "patch.loom.test" attempted to change metadata.namespace from "shop" to "elsewhere", which is not supported'],
    ['/rekind', createPod(), `Internal error occurred: admission webhook "patch.loom.test" attempted to change the object's kind from "Pod" to "Service", which is not supported`],
    [
      '/label',
      deletePod(),
      'Internal error occurred: admission webhook "patch.loom.test" attempted to modify the object, which is not supported for this operation',
    ],
  ];
  for (const [path, attrs, message] of cases) {
    const rules = [{ operations: ['*'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }];
    const { admission } = setup(server.port, { mutating: [configuration('Mutating', 'm', hook('patch.loom.test', path, { failurePolicy: 'Ignore', rules }))] });
    const err = await refusal(attrs.object === undefined ? admission.mutateWithoutObject(attrs) : admission.mutate(attrs));
    t.equal(err.code, 500, path);
    if (typeof message === 'string') t.equal(err.message, message, path);
    else t.match(err.message, message, path);
  }
});

t.test('matchConditions are not evaluated: the webhook is called and a warning logged once', async (t) => {
  const server = await webhooks(t, { '/hook': (r) => allow(r) });
  const { admission, logs } = setup(server.port, { validating: [configuration('Validating', 'v', hook('cel.loom.test', '/hook', { matchConditions: [{ name: 'not-system', expression: "!request.userInfo.username.startsWith('system:')" }] }))] });
  await admission.validate(createPod());
  await admission.validate(createPod());
  t.equal(server.count('/hook'), 2);
  t.equal(logs.filter((l) => l['event'] === 'webhook.match_conditions_ignored').length, 1);
});

t.test('a malformed selector fails a request its rules cover with a 500', async (t) => {
  const server = await webhooks(t, { '/hook': (r) => allow(r) });
  const { admission } = setup(server.port, { validating: [configuration('Validating', 'v', hook('sel.loom.test', '/hook', { objectSelector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } }))] });
  const err = await refusal(admission.validate(createPod()));
  t.equal(err.code, 500);
  t.match(err.message, /^Internal error occurred: objectSelector\.matchExpressions\[0\]\.operator: Invalid value: "Near"/);
  await admission.validate(createPod(pod(), { operation: 'DELETE' }));
  t.equal(server.calls.length, 0, 'a request its rules do not cover is not affected');
});

t.test('a deletion goes to mutating webhooks too: object null, the stored object as oldObject; they may refuse it', async (t) => {
  const server = await webhooks(t, { '/allow': (r) => allow(r, { warnings: ['deleting web'] }), '/deny': (r) => deny(r, { code: 403, message: 'web is protected' }) });
  const rules = [{ operations: ['DELETE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }];
  const allowing = setup(server.port, { mutating: [configuration('Mutating', 'm', hook('del.loom.test', '/allow', { rules }))] });
  t.strictSame(await allowing.admission.mutateWithoutObject(deletePod()), { warnings: ['deleting web'] });
  const request = server.calls[0]?.review.request;
  t.strictSame([request?.['operation'], request?.object, request?.oldObject, request?.['options']], ['DELETE', null, pod(), { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1' }]);
  await t.rejects(allowing.admission.mutate(deletePod()), TypeError, 'mutate needs an object');

  const denying = setup(server.port, { mutating: [configuration('Mutating', 'm', hook('del.loom.test', '/deny', { rules }))] });
  const err = await refusal(denying.admission.mutateWithoutObject(deletePod()));
  t.strictSame([err.code, err.message], [403, 'admission webhook "del.loom.test" denied the request: web is protected']);
});
