/**
 * ReplicaSets against a real store: pods made from the template and replaced when deleted, surplus deleted least
 * useful first, status counts (fully labelled, ready, available after minReadySeconds), a ReplicaFailure condition
 * when pods cannot be made, and pods created through an asynchronous creator (an admission pipeline) exactly once.
 */
import { silentLogger } from '@loom/shared/runtime';
import t, { type Test } from 'tap';
import { Objects } from '../../src/api/objects.js';
import { Registry } from '../../src/api/registry.js';
import { Store, type KubeObject } from '../../src/api/store.js';
import { startControllers, type ControllersOptions } from '../../src/controllers/index.js';
import { typesOf, type Types } from '../../src/controllers/kube.js';
import { deletionOrder } from '../../src/controllers/replicasets.js';

const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function cluster(t: Test, options: Partial<ControllersOptions> = {}) {
  const objects = new Objects(new Store(), new Registry());
  const types = typesOf(objects);
  objects.create(types.namespaces, undefined, { metadata: { name: 'shop' } });
  const controllers = startControllers(objects, { log: silentLogger(), apiCaPem: 'PEM', ...options });
  t.teardown(() => controllers.stop());
  const until = async (check: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (check()) return;
      await new Promise<void>((resolve) => setTimeout(resolve, 2));
    }
    t.fail(`timed out waiting for ${what}`);
  };
  return { objects, types, controllers, until };
}

/** A status change, as the pod runner writes it (a merge patch of /status). */
function setStatus(objects: Objects, types: Types, pod: KubeObject, status: Record<string, unknown>): void {
  objects.patch(types.pods, pod.metadata.namespace, pod.metadata.name, 'merge', { status }, 'status');
}

const readyStatus = (at: string, ip = '10.244.0.2') => ({ phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: at }] });

const replicaSet = (replicas: number, extra: Record<string, unknown> = {}) => ({
  metadata: { name: 'web', namespace: 'shop' },
  spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web', tier: 'front' }, annotations: { note: 'x' } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } }, ...extra },
});

t.test('a ReplicaSet keeps its pods: made from the template, replaced when deleted, the surplus deleted', async (t) => {
  const c = cluster(t);
  const rs = c.objects.create(c.types.replicaSets, 'shop', replicaSet(3));
  await c.controllers.settled();
  let pods = c.objects.list(c.types.pods, 'shop', {}).items;
  t.equal(pods.length, 3);
  for (const pod of pods) {
    t.match(pod.metadata.name, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    t.strictSame(pod.metadata.labels, { app: 'web', tier: 'front' });
    t.strictSame(pod.metadata.annotations, { note: 'x' });
    t.strictSame(pod.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    t.strictSame(rec(pod['spec'])['containers'], [{ name: 'app', image: 'app:1' }]);
  }
  t.strictSame(c.objects.get(c.types.replicaSets, 'shop', 'web')['status'], { replicas: 3, fullyLabeledReplicas: 3, observedGeneration: 1 });

  const [first, second] = pods as [KubeObject, KubeObject];
  c.objects.delete(c.types.pods, 'shop', first.metadata.name);
  await c.controllers.settled();
  pods = c.objects.list(c.types.pods, 'shop', {}).items;
  t.equal(pods.length, 3, 'a deleted pod is replaced');
  t.notOk(pods.some((p) => p.metadata.name === first.metadata.name));

  c.objects.patch(c.types.pods, 'shop', second.metadata.name, 'merge', { metadata: { labels: { tier: null } } }, undefined);
  setStatus(c.objects, c.types, second, readyStatus('2024-01-01T00:00:00Z'));
  await c.controllers.settled();
  t.strictSame(c.objects.get(c.types.replicaSets, 'shop', 'web')['status'], { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 1, availableReplicas: 1, observedGeneration: 1 }, 'a pod that lost a template label still counts, but not as fully labelled');

  c.objects.patch(c.types.replicaSets, 'shop', 'web', 'merge', { spec: { replicas: 1 } }, undefined);
  await c.controllers.settled();
  pods = c.objects.list(c.types.pods, 'shop', {}).items;
  t.strictSame(
    pods.map((p) => p.metadata.name),
    [second.metadata.name],
    'the ready pod is the one kept',
  );
  t.strictSame(c.objects.get(c.types.replicaSets, 'shop', 'web')['status'], { replicas: 1, readyReplicas: 1, availableReplicas: 1, observedGeneration: 2 });

  c.objects.delete(c.types.replicaSets, 'shop', 'web');
  await c.controllers.settled();
  t.equal(c.objects.list(c.types.pods, 'shop', {}).items.length, 0, 'its pods go with it');
});

t.test('the pods deleted first: unscheduled, pending, not ready, ready the shortest, restarted most, newest', (t) => {
  const pod = (name: string, o: { node?: string; phase?: string; readySince?: string; restarts?: number; created?: string }): KubeObject => ({
    metadata: { name, creationTimestamp: o.created ?? '2024-01-01T00:00:00Z' },
    spec: o.node === undefined ? {} : { nodeName: o.node },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.readySince === undefined ? {} : { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: o.readySince }] }),
      ...(o.restarts === undefined ? {} : { containerStatuses: [{ restartCount: o.restarts }] }),
    },
  });
  const cases: [string, KubeObject, KubeObject][] = [
    ['unscheduled before scheduled', pod('a', { phase: 'Pending' }), pod('b', { node: 'n', phase: 'Pending' })],
    ['pending before running', pod('a', { node: 'n', phase: 'Pending' }), pod('b', { node: 'n' })],
    ['not ready before ready', pod('a', { node: 'n' }), pod('b', { node: 'n', readySince: '2024-01-01T00:00:00Z' })],
    ['ready more recently first', pod('a', { node: 'n', readySince: '2024-01-02T00:00:00Z' }), pod('b', { node: 'n', readySince: '2024-01-01T00:00:00Z' })],
    ['more restarts first', pod('a', { node: 'n', restarts: 3 }), pod('b', { node: 'n', restarts: 1 })],
    ['newer first', pod('a', { node: 'n', created: '2024-01-02T00:00:00Z' }), pod('b', { node: 'n', created: '2024-01-01T00:00:00Z' })],
  ];
  for (const [name, doomed, kept] of cases) {
    t.ok(deletionOrder(doomed, kept) < 0, name);
    t.ok(deletionOrder(kept, doomed) > 0, `${name} (reversed)`);
  }
  t.end();
});

t.test('availableReplicas waits for minReadySeconds, without any further change', async (t) => {
  const c = cluster(t);
  c.objects.create(c.types.replicaSets, 'shop', replicaSet(1, { minReadySeconds: 1 }));
  await c.controllers.settled();
  const [pod] = c.objects.list(c.types.pods, 'shop', {}).items as [KubeObject];
  setStatus(c.objects, c.types, pod, readyStatus(new Date().toISOString()));
  await c.controllers.settled();
  const status = () => rec(c.objects.get(c.types.replicaSets, 'shop', 'web')['status']);
  t.equal(status()['readyReplicas'], 1);
  t.equal(status()['availableReplicas'], undefined, 'ready, not yet available');
  await c.until(() => status()['availableReplicas'] === 1, 'availability');
  t.equal(status()['availableReplicas'], 1);
});

t.test('when pods cannot be made, a ReplicaFailure condition says why', async (t) => {
  const c = cluster(t);
  c.objects.create(c.types.replicaSets, 'shop', replicaSet(0));
  await c.controllers.settled();
  c.objects.patch(c.types.namespaces, undefined, 'shop', 'merge', { status: { phase: 'Terminating' } }, 'status');
  c.objects.patch(c.types.replicaSets, 'shop', 'web', 'merge', { spec: { replicas: 2 } }, undefined);
  await c.controllers.settled();
  t.equal(c.objects.list(c.types.pods, 'shop', {}).items.length, 0);
  const conditions = rec(c.objects.get(c.types.replicaSets, 'shop', 'web')['status'])['conditions'] as Record<string, unknown>[];
  t.equal(conditions.length, 1);
  t.match(conditions[0], {
    type: 'ReplicaFailure',
    status: 'True',
    reason: 'FailedCreate',
    message: /^pods "web-[a-z0-9]{5}" is forbidden: unable to create new content in namespace shop because it is being terminated$/,
  });
});

t.test('an asynchronous pod creator (admission webhooks) is awaited: each pod made once, its mutations kept', async (t) => {
  let calls = 0;
  const late: { objects?: Objects } = {};
  const c = cluster(t, {
    createPod: async (namespace, body) => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      const spec = rec(body['spec']);
      const injected = { ...body, spec: { ...spec, containers: [...(spec['containers'] as unknown[]), { name: 'sidecar', image: 'proxy:1' }] } };
      if (late.objects === undefined) throw new Error('no objects');
      return late.objects.create(typesOf(late.objects).pods, namespace, injected);
    },
  });
  late.objects = c.objects;
  c.objects.create(c.types.replicaSets, 'shop', replicaSet(3));
  // Changes while the creations are under way must not make more.
  await c.controllers.settled();
  c.objects.patch(c.types.replicaSets, 'shop', 'web', 'merge', { metadata: { labels: { poke: '1' } } }, undefined);
  await c.until(() => c.objects.list(c.types.pods, 'shop', {}).items.length === 3, 'three pods');
  await new Promise((resolve) => setTimeout(resolve, 60));
  await c.controllers.settled();
  const pods = c.objects.list(c.types.pods, 'shop', {}).items;
  t.equal(pods.length, 3);
  t.equal(calls, 3, 'no pod was asked for twice');
  t.ok(pods.every((p) => (rec(p['spec'])['containers'] as Record<string, unknown>[]).some((x) => x['name'] === 'sidecar')), 'what the creator added is there');

  const failing = cluster(t, { createPod: () => Promise.reject(new Error('admission webhook "inject.loom.dev" denied the request: no')) });
  failing.objects.create(failing.types.replicaSets, 'shop', replicaSet(1));
  const condition = () => (rec(failing.objects.get(failing.types.replicaSets, 'shop', 'web')['status'])['conditions'] as Record<string, unknown>[] | undefined)?.[0];
  await failing.until(() => condition() !== undefined, 'the failure condition');
  t.match(condition(), { type: 'ReplicaFailure', reason: 'FailedCreate', message: 'admission webhook "inject.loom.dev" denied the request: no' });
});
