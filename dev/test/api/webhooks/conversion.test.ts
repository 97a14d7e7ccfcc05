/** Custom resources converted through a real conversion webhook (an HTTPS server on 127.0.0.1), and without one. */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mintCa } from '@loom/ca/testing';
import { silentLogger } from '@loom/shared/runtime';
import t, { type Test } from 'tap';
import { ApiError } from '../../../src/api/status.js';
import type { KubeObject } from '../../../src/api/store.js';
import { convertObjects, type ConversionOptions } from '../../../src/api/webhooks/conversion.js';
import { HANG, reviewServer } from './support.js';

const ca = mintCa();
const caBundle = Buffer.from(ca.rootPem).toString('base64');

interface ConversionReview {
  apiVersion: string;
  kind: string;
  request: { uid: string; desiredAPIVersion: string; objects: KubeObject[] };
}
type Handler = (review: ConversionReview) => unknown;

async function converter(t: Test, handlers: Record<string, Handler>): Promise<{ port: number; calls: ConversionReview[] }> {
  const server = await reviewServer<ConversionReview>(t, ca, 'conv.webhooks.svc', handlers, () => ({}));
  return {
    port: server.port,
    get calls() {
      return server.calls.map((c) => c.review);
    },
  };
}

const crd = (conversion?: unknown): KubeObject => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    names: { kind: 'Widget', plural: 'widgets' },
    scope: 'Namespaced',
    versions: [
      { name: 'v1', served: true, storage: true },
      { name: 'v1alpha1', served: true, storage: false },
    ],
    ...(conversion === undefined ? {} : { conversion }),
  },
});
const viaWebhook = (path: string, extra: Record<string, unknown> = {}): KubeObject =>
  crd({ strategy: 'Webhook', webhook: { clientConfig: { service: { namespace: 'webhooks', name: 'conv', path }, caBundle }, conversionReviewVersions: ['v1'], ...extra } });

/** v1alpha1 has `spec.size` as a string, v1 as a number. */
const widget = (name: string, version: 'v1alpha1' | 'v1', extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: `example.com/${version}`,
  kind: 'Widget',
  metadata: { name, namespace: 'shop', uid: `uid-of-${name}`, resourceVersion: '7', generation: 2, labels: { app: 'shop' } },
  spec: { size: version === 'v1' ? 3 : '3' },
  ...extra,
});

/** A correct webhook: v1alpha1 → v1 (size to a number), everything else kept. */
const convert = (o: KubeObject, to: string): KubeObject => ({ ...o, apiVersion: to, spec: { size: Number((o['spec'] as { size: string }).size) } });
const answer = (review: ConversionReview, objects: unknown[], extra: Record<string, unknown> = {}): unknown => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'ConversionReview',
  response: { uid: review.request.uid, convertedObjects: objects, result: { status: 'Success' }, ...extra },
});
const good: Handler = (r) => answer(r, r.request.objects.map((o) => convert(o, r.request.desiredAPIVersion)));

function options(port: number, extra: Partial<ConversionOptions> = {}): ConversionOptions {
  let n = 0;
  return {
    resolveService: (namespace, name, servicePort) => Promise.resolve(namespace === 'webhooks' && name === 'conv' && servicePort === 443 ? { host: '127.0.0.1', port } : undefined),
    log: silentLogger(),
    uid: () => `uid-${++n}`,
    ...extra,
  };
}

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('the conversion succeeded');
}

t.test('the webhook converts the objects not yet in the desired version; order and the others are kept', async (t) => {
  const server = await converter(t, { '/convert': good });
  const objects = [widget('a', 'v1alpha1'), widget('b', 'v1'), widget('c', 'v1alpha1')];
  const snapshot = structuredClone(objects);
  const converted = await convertObjects(viaWebhook('/convert'), objects, 'example.com/v1', options(server.port));
  t.strictSame(converted, [widget('a', 'v1'), widget('b', 'v1'), widget('c', 'v1')]);
  t.strictSame(objects, snapshot, 'the arguments are not changed');
  t.equal(server.calls.length, 1, 'one review for all of them');
  const review = server.calls[0];
  t.strictSame([review?.apiVersion, review?.kind, review?.request.uid, review?.request.desiredAPIVersion], ['apiextensions.k8s.io/v1', 'ConversionReview', 'uid-1', 'example.com/v1']);
  t.strictSame(
    review?.request.objects.map((o) => o.metadata.name),
    ['a', 'c'],
    'only the objects in another version are sent',
  );

  t.strictSame(await convertObjects(viaWebhook('/convert'), [widget('b', 'v1')], 'example.com/v1', options(server.port)), [widget('b', 'v1')]);
  t.equal(server.calls.length, 1, 'nothing to convert: no call');
});

t.test('strategy None (the default) changes only apiVersion', async (t) => {
  for (const definition of [crd(), crd({ strategy: 'None' })]) {
    const converted = await convertObjects(definition, [widget('a', 'v1alpha1')], 'example.com/v1', options(1));
    t.strictSame(converted, [{ ...widget('a', 'v1alpha1'), apiVersion: 'example.com/v1' }]);
  }
});

t.test("metadata: only labels and annotations come from the webhook; name, namespace and uid may not change", async (t) => {
  const server = await converter(t, {
    '/meddle': (r) =>
      answer(
        r,
        r.request.objects.map((o) => ({
          ...convert(o, r.request.desiredAPIVersion),
          metadata: { ...o.metadata, resourceVersion: '999', generation: 99, labels: { app: 'shop', converted: 'yes' }, annotations: { 'example.com/from': 'v1alpha1' } },
        })),
      ),
    '/drop-labels': (r) => answer(r, r.request.objects.map((o) => ({ ...convert(o, r.request.desiredAPIVersion), metadata: { name: o.metadata.name, namespace: 'shop', uid: o.metadata.uid } }))),
    '/rename': (r) => answer(r, r.request.objects.map((o) => ({ ...convert(o, r.request.desiredAPIVersion), metadata: { ...o.metadata, name: `${o.metadata.name}-renamed` } }))),
    '/move': (r) => answer(r, r.request.objects.map((o) => ({ ...convert(o, r.request.desiredAPIVersion), metadata: { ...o.metadata, namespace: 'elsewhere' } }))),
    '/new-uid': (r) => answer(r, r.request.objects.map((o) => ({ ...convert(o, r.request.desiredAPIVersion), metadata: { ...o.metadata, uid: 'fresh' } }))),
    '/bad-label': (r) => answer(r, r.request.objects.map((o) => ({ ...convert(o, r.request.desiredAPIVersion), metadata: { ...o.metadata, labels: { 'bad label!': 'x' } } }))),
    '/no-metadata': (r) => answer(r, r.request.objects.map((o) => ({ apiVersion: r.request.desiredAPIVersion, kind: o['kind'], spec: {} }))),
  });
  const [meddled] = await convertObjects(viaWebhook('/meddle'), [widget('a', 'v1alpha1')], 'example.com/v1', options(server.port));
  t.strictSame(
    meddled?.metadata,
    { name: 'a', namespace: 'shop', uid: 'uid-of-a', resourceVersion: '7', generation: 2, labels: { app: 'shop', converted: 'yes' }, annotations: { 'example.com/from': 'v1alpha1' } },
    'resourceVersion and generation restored, labels and annotations taken',
  );
  const [dropped] = await convertObjects(viaWebhook('/drop-labels'), [widget('a', 'v1alpha1')], 'example.com/v1', options(server.port));
  t.strictSame(dropped?.metadata, { name: 'a', namespace: 'shop', uid: 'uid-of-a', resourceVersion: '7', generation: 2 }, 'labels the webhook dropped are dropped');

  const what = 'conversion webhook for example.com/v1alpha1, Kind=Widget';
  const cases: [string, KubeObject[], string][] = [
    ['/rename', [widget('a', 'v1alpha1')], `${what} returned invalid object: must have the same name: a != a-renamed`],
    ['/rename', [widget('a', 'v1'), widget('b', 'v1alpha1')], 'conversion webhook for example.com/v1alpha1, Kind=WidgetList returned invalid converted object at index 0: must have the same name: b != b-renamed'],
    ['/move', [widget('a', 'v1alpha1')], `${what} returned invalid object: must have the same namespace: shop != elsewhere`],
    ['/new-uid', [widget('a', 'v1alpha1')], `${what} returned invalid object: must have the same UID: uid-of-a != fresh`],
    ['/no-metadata', [widget('a', 'v1alpha1')], `${what} returned invalid object: must have the same name: a != `],
  ];
  for (const [path, objects, message] of cases) {
    const err = await refusal(convertObjects(viaWebhook(path), objects, 'example.com/v1', options(server.port)));
    t.strictSame([err.code, err.reason, err.message], [500, '', message], path);
  }
  const err = await refusal(convertObjects(viaWebhook('/bad-label'), [widget('a', 'v1alpha1')], 'example.com/v1', options(server.port)));
  t.match(err.message, /^conversion webhook for example\.com\/v1alpha1, Kind=Widget returned invalid metadata: metadata\.labels: Invalid value: "bad label!": /);
});

t.test('answers apiextensions-apiserver refuses', async (t) => {
  const server = await converter(t, {
    '/wrong-uid': (r) => ({ ...(good(r) as object), response: { uid: 'nope', convertedObjects: [], result: { status: 'Success' } } }),
    '/too-few': (r) => answer(r, []),
    '/too-many': (r) => answer(r, [...r.request.objects, ...r.request.objects].map((o) => convert(o, r.request.desiredAPIVersion))),
    '/wrong-version': (r) => answer(r, r.request.objects.map((o) => convert(o, 'example.com/v2'))),
    '/wrong-kind': (r) => answer(r, r.request.objects.map((o) => ({ ...convert(o, r.request.desiredAPIVersion), kind: 'Gadget' }))),
    '/failed': (r) => answer(r, [], { result: { status: 'Failure', message: 'cannot convert size "3"' } }),
    '/failed-quietly': (r) => answer(r, [], { result: {} }),
    '/no-response': () => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview' }),
    '/no-kind': (r) => ({ response: { uid: r.request.uid, result: { status: 'Success' }, convertedObjects: [] } }),
    '/slow': () => HANG,
  });
  const what = 'conversion webhook for example.com/v1alpha1, Kind=Widget';
  const cases: [string, string, Record<string, unknown>?, Partial<ConversionOptions>?][] = [
    ['/wrong-uid', `${what} failed: expected response.uid="uid-1", got "nope"`],
    ['/too-few', `${what} returned 0 objects, expected 1`],
    ['/too-many', `${what} returned 2 objects, expected 1`],
    ['/wrong-version', `${what} returned invalid object at index 0: invalid groupVersion (expected example.com/v1, received example.com/v2)`],
    ['/wrong-kind', `${what} returned invalid object at index 0: invalid kind (expected Widget, received Gadget)`],
    ['/failed', `${what} failed: cannot convert size "3"`],
    ['/failed-quietly', `${what} failed: response.result.status was '', not 'Success'`],
    ['/no-response', `${what} failed: no response provided`],
    ['/no-kind', `${what} failed: expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got /, Kind=`],
    ['/good', `${what} failed: no supported conversion review versions`, { conversionReviewVersions: ['v2'] }],
    ['/slow', `${what} failed: Post "https://conv.webhooks.svc:443/slow?timeout=1s": context deadline exceeded`, {}, { timeoutSeconds: 1 }],
    ['/good', `${what} failed: webhook configuration must have either service or URL`, { clientConfig: {} }],
  ];
  for (const [path, message, extra, opts] of cases) {
    const err = await refusal(convertObjects(viaWebhook(path, extra), [widget('a', 'v1alpha1')], 'example.com/v1', options(server.port, opts)));
    t.strictSame([err.code, err.message], [500, message], path);
  }

  const dead = createHttpServer();
  await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
  const { port } = dead.address() as AddressInfo;
  await new Promise<void>((resolve) => dead.close(() => resolve()));
  const err = await refusal(convertObjects(viaWebhook('/convert'), [widget('a', 'v1alpha1')], 'example.com/v1', options(port)));
  t.equal(err.message, `${what} failed: Post "https://conv.webhooks.svc:443/convert?timeout=30s": dial tcp 127.0.0.1:${port}: connect: connection refused`, 'a dead port (and the default timeout)');
});

t.test('a webhook accepting only ConversionReview v1beta1 is asked in v1beta1', async (t) => {
  const server = await converter(t, {
    '/old': (r) => ({ response: { convertedObjects: r.request.objects.map((o) => convert(o, r.request.desiredAPIVersion)), result: { status: 'Success' } } }),
  });
  const converted = await convertObjects(viaWebhook('/old', { conversionReviewVersions: ['v1beta1'] }), [widget('a', 'v1alpha1')], 'example.com/v1', options(server.port));
  t.strictSame(converted, [widget('a', 'v1')]);
  t.equal(server.calls[0]?.apiVersion, 'apiextensions.k8s.io/v1beta1');
});
