/**
 * EndpointSlices and Endpoints from Services and Pods, against a real store: which pods are listed and how (ready,
 * not ready, published anyway), named target ports resolved per pod, slices per port set and of at most 100
 * endpoints, the placeholder slice, labels and owners, updates in place without churn, selectorless Services left
 * alone, everything gone with the Service.
 */
import { silentLogger } from '@loom/shared/runtime';
import t, { type Test } from 'tap';
import { Objects } from '../../src/api/objects.js';
import { Registry } from '../../src/api/registry.js';
import { Store, type KubeObject } from '../../src/api/store.js';
import { startControllers } from '../../src/controllers/index.js';
import { typesOf, type Types } from '../../src/controllers/kube.js';

const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function cluster(t: Test) {
  const objects = new Objects(new Store(), new Registry());
  const types = typesOf(objects);
  objects.create(types.namespaces, undefined, { metadata: { name: 'shop' } });
  const controllers = startControllers(objects, { log: silentLogger(), apiCaPem: 'PEM' });
  t.teardown(() => controllers.stop());
  return { objects, types, controllers };
}

type Cluster = ReturnType<typeof cluster>;

function setStatus(objects: Objects, types: Types, name: string, status: Record<string, unknown>): void {
  objects.patch(types.pods, 'shop', name, 'merge', { status }, 'status');
}

interface PodSpec {
  labels?: Record<string, string>;
  http?: number;
  ip?: string;
  ready?: boolean;
  phase?: string;
  node?: string;
}

function pod(c: Cluster, name: string, p: PodSpec): KubeObject {
  const ports = [...(p.http === undefined ? [] : [{ name: 'http', containerPort: p.http }]), { name: 'dns', containerPort: 53, protocol: 'UDP' }];
  c.objects.create(c.types.pods, 'shop', { metadata: { name, labels: p.labels ?? { app: 'web' } }, spec: { ...(p.node === undefined ? {} : { nodeName: p.node }), containers: [{ name: 'app', image: 'app:1', ports }] } });
  const status: Record<string, unknown> = { phase: p.phase ?? 'Running', conditions: [{ type: 'Ready', status: p.ready === true ? 'True' : 'False' }] };
  if (p.ip !== undefined) status['podIP'] = p.ip;
  setStatus(c.objects, c.types, name, status);
  return c.objects.get(c.types.pods, 'shop', name);
}

const service = (name: string, spec: Record<string, unknown>) => ({ metadata: { name, namespace: 'shop', labels: { team: 'a' } }, spec });
const WEB = { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }, { name: 'metrics', port: 9090, targetPort: 9090, protocol: 'TCP' }] };

const slicesOf = (c: Cluster, svc: string): KubeObject[] =>
  c.objects
    .list(c.types.endpointSlices, 'shop', { labelSelector: `kubernetes.io/service-name=${svc}` })
    .items.sort((a, b) => JSON.stringify(a['ports']).localeCompare(JSON.stringify(b['ports'])));
const ips = (slice: KubeObject): string[] => (slice['endpoints'] as Record<string, unknown>[]).map((e) => (e['addresses'] as string[]).join());

t.test('a Service with a selector: slices and Endpoints list its pods with their resolved ports', async (t) => {
  const c = cluster(t);
  const a = pod(c, 'a', { http: 8080, ip: '10.244.0.2', ready: true, node: 'node-1' });
  pod(c, 'b', { http: 8081, ip: '10.244.0.3' });
  pod(c, 'c', { http: 8080 }); // no IP yet
  pod(c, 'd', { http: 8080, ip: '10.244.0.5', ready: true, labels: { app: 'other' } });
  pod(c, 'e', { http: 8080, ip: '10.244.0.6', phase: 'Succeeded' });
  pod(c, 'f', { ip: '10.244.0.10', ready: true }); // no port named http
  const svc = c.objects.create(c.types.services, 'shop', service('web', WEB));
  await c.controllers.settled();

  const slices = slicesOf(c, 'web');
  t.equal(slices.length, 3, 'one slice per set of resolved ports');
  for (const s of slices) {
    t.match(s.metadata.name, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    t.strictSame(s.metadata.labels, { team: 'a', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    t.strictSame(s.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    t.equal(s['addressType'], 'IPv4');
  }
  t.strictSame(
    slices.map((s) => s['ports']),
    [
      [
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: 'metrics', port: 9090, protocol: 'TCP' },
      ],
      [
        { name: 'http', port: 8081, protocol: 'TCP' },
        { name: 'metrics', port: 9090, protocol: 'TCP' },
      ],
      [{ name: 'metrics', port: 9090, protocol: 'TCP' }],
    ],
  );
  t.strictSame(slices[0]?.['endpoints'], [
    { addresses: ['10.244.0.2'], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: 'shop', name: 'a', uid: a.metadata.uid }, nodeName: 'node-1' },
  ]);
  t.strictSame(rec((slices[1]?.['endpoints'] as unknown[])[0])['conditions'], { ready: false, serving: false, terminating: false }, 'a pod not ready is listed as not ready');
  t.strictSame(ips(slices[2] as KubeObject), ['10.244.0.10']);

  const endpoints = c.objects.get(c.types.endpoints, 'shop', 'web');
  t.strictSame(endpoints.metadata.labels, { team: 'a' });
  t.equal(endpoints.metadata.ownerReferences, undefined, 'Endpoints carry no owner, as in Kubernetes');
  t.strictSame(endpoints['subsets'], [
    {
      addresses: [{ ip: '10.244.0.2', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'shop', name: 'a', uid: a.metadata.uid } }],
      ports: [
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: 'metrics', port: 9090, protocol: 'TCP' },
      ],
    },
    {
      notReadyAddresses: [{ ip: '10.244.0.3', targetRef: { kind: 'Pod', namespace: 'shop', name: 'b', uid: c.objects.get(c.types.pods, 'shop', 'b').metadata.uid } }],
      ports: [
        { name: 'http', port: 8081, protocol: 'TCP' },
        { name: 'metrics', port: 9090, protocol: 'TCP' },
      ],
    },
    { addresses: [{ ip: '10.244.0.10', targetRef: { kind: 'Pod', namespace: 'shop', name: 'f', uid: c.objects.get(c.types.pods, 'shop', 'f').metadata.uid } }], ports: [{ name: 'metrics', port: 9090, protocol: 'TCP' }] },
  ]);

  // b becomes ready: updated in place, under the same names.
  const names = slices.map((s) => s.metadata.name);
  setStatus(c.objects, c.types, 'b', { conditions: [{ type: 'Ready', status: 'True' }] });
  await c.controllers.settled();
  t.strictSame(
    slicesOf(c, 'web').map((s) => s.metadata.name),
    names,
    'slices are updated, not replaced',
  );
  t.strictSame(rec((slicesOf(c, 'web')[1]?.['endpoints'] as unknown[])[0])['conditions'], { ready: true, serving: true, terminating: false });
  t.strictSame(
    (c.objects.get(c.types.endpoints, 'shop', 'web')['subsets'] as Record<string, unknown>[]).map((s) => Object.keys(s).sort().join()),
    ['addresses,ports', 'addresses,ports', 'addresses,ports'],
  );

  // Changes that do not matter write nothing.
  const rv = c.objects.store.resourceVersion;
  c.objects.patch(c.types.pods, 'shop', 'd', 'merge', { metadata: { labels: { app: 'other', x: 'y' } } }, undefined);
  c.objects.patch(c.types.services, 'shop', 'web', 'merge', { metadata: { annotations: { note: 'n' } } }, undefined);
  await c.controllers.settled();
  t.equal(c.objects.store.resourceVersion, rv + 2, 'no churn: nothing else was written');

  // A pod leaves; a pod's IP changes.
  c.objects.delete(c.types.pods, 'shop', 'f');
  setStatus(c.objects, c.types, 'a', { podIP: '10.244.0.20' });
  await c.controllers.settled();
  t.strictSame(
    slicesOf(c, 'web').map(ips),
    [['10.244.0.20'], ['10.244.0.3']],
  );
  t.equal((c.objects.get(c.types.endpoints, 'shop', 'web')['subsets'] as unknown[]).length, 2);

  // What a user deletes comes back.
  c.objects.delete(c.types.endpointSlices, 'shop', names[0] ?? '');
  c.objects.delete(c.types.endpoints, 'shop', 'web');
  await c.controllers.settled();
  t.strictSame(slicesOf(c, 'web').map(ips), [['10.244.0.20'], ['10.244.0.3']], 'a deleted slice is made again');
  t.equal((c.objects.get(c.types.endpoints, 'shop', 'web')['subsets'] as unknown[]).length, 2, 'deleted Endpoints are made again');

  // The Service goes: so do its slices (owner) and Endpoints (this controller).
  c.objects.delete(c.types.services, 'shop', 'web');
  await c.controllers.settled();
  t.equal(slicesOf(c, 'web').length, 0);
  t.equal(c.objects.list(c.types.endpoints, 'shop', {}).items.length, 0);
});

t.test('publishNotReadyAddresses, headless Services, the placeholder slice, numbered targetPorts', async (t) => {
  const c = cluster(t);
  pod(c, 'a', { http: 8080, ip: '10.244.0.2' });
  c.objects.create(c.types.services, 'shop', service('published', { ...WEB, publishNotReadyAddresses: true }));
  c.objects.create(c.types.services, 'shop', service('db', { clusterIP: 'None', selector: { app: 'web' } }));
  c.objects.create(c.types.services, 'shop', service('empty', { selector: { app: 'nothing' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] }));
  c.objects.create(c.types.services, 'shop', service('dns', { selector: { app: 'web' }, ports: [{ port: 53, targetPort: 'dns', protocol: 'UDP' }] }));
  await c.controllers.settled();

  const published = slicesOf(c, 'published');
  t.strictSame(rec((published[0]?.['endpoints'] as unknown[])[0])['conditions'], { ready: true, serving: false, terminating: false }, 'published: ready, though not serving');
  t.ok('addresses' in rec((c.objects.get(c.types.endpoints, 'shop', 'published')['subsets'] as unknown[])[0]), 'published: in addresses');

  const headless = slicesOf(c, 'db');
  t.equal(headless.length, 1);
  t.equal(headless[0]?.metadata.labels?.['service.kubernetes.io/headless'], '');
  t.strictSame(headless[0]?.['ports'], [], 'a headless Service without ports: endpoints without ports');
  t.equal(c.objects.get(c.types.endpoints, 'shop', 'db').metadata.labels?.['service.kubernetes.io/headless'], '');
  t.strictSame(c.objects.get(c.types.endpoints, 'shop', 'db')['subsets'], [{ notReadyAddresses: [{ ip: '10.244.0.2', targetRef: rec(rec((headless[0]?.['endpoints'] as unknown[])[0])['targetRef']) }] }]);

  const empty = slicesOf(c, 'empty');
  t.equal(empty.length, 1, 'no pods: one placeholder slice');
  t.strictSame(empty[0]?.['endpoints'], []);
  t.equal(empty[0]?.['ports'], undefined);
  t.equal(c.objects.get(c.types.endpoints, 'shop', 'empty')['subsets'], undefined);

  t.strictSame(slicesOf(c, 'dns')[0]?.['ports'], [{ name: '', port: 53, protocol: 'UDP' }], 'a named UDP port resolves through the container port of that protocol');
});

t.test('Services without a selector are the user\'s; large Services split into slices of 100', async (t) => {
  const c = cluster(t);
  c.objects.create(c.types.services, 'shop', service('external', { ports: [{ port: 5432, protocol: 'TCP' }] }));
  c.objects.create(c.types.endpoints, 'shop', { metadata: { name: 'external' }, subsets: [{ addresses: [{ ip: '192.0.2.7' }], ports: [{ port: 5432 }] }] });
  for (let i = 0; i < 101; i++) pod(c, `p${i}`, { http: 8080, ip: `10.244.1.${i + 1}`, ready: true });
  c.objects.create(c.types.services, 'shop', service('web', WEB));
  await c.controllers.settled();
  t.equal(slicesOf(c, 'external').length, 0, 'no slices for a selectorless Service');
  t.strictSame(c.objects.get(c.types.endpoints, 'shop', 'external')['subsets'], [{ addresses: [{ ip: '192.0.2.7' }], ports: [{ port: 5432 }] }], 'its Endpoints untouched');
  const sizes = slicesOf(c, 'web').map((s) => (s['endpoints'] as unknown[]).length).sort((x, y) => x - y);
  t.strictSame(sizes, [1, 100]);
  t.equal((rec((c.objects.get(c.types.endpoints, 'shop', 'web')['subsets'] as unknown[])[0])['addresses'] as unknown[]).length, 101);
  c.objects.delete(c.types.services, 'shop', 'external');
  await c.controllers.settled();
  t.equal(c.objects.list(c.types.endpoints, 'shop', { fieldSelector: 'metadata.name=external' }).items.length, 0, 'Endpoints of a deleted Service go, as in Kubernetes');
});
