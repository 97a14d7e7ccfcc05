/**
 * Deployments against a real store: ReplicaSets and pods appear, scale, roll over on a template change (RollingUpdate
 * and Recreate), old ReplicaSets are pruned, and the status is what `kubectl rollout status` needs to finish — once a
 * pod runner (simulated here: it marks every new pod Running and Ready) has made the pods ready.
 */
import { silentLogger } from '@loom/shared/runtime';
import t, { type Test } from 'tap';
import { builtInStrategy } from '../../src/api/defaults.js';
import { Objects } from '../../src/api/objects.js';
import { Registry } from '../../src/api/registry.js';
import { Store, type KubeObject } from '../../src/api/store.js';
import { startControllers } from '../../src/controllers/index.js';
import { typesOf, type Types } from '../../src/controllers/kube.js';

interface Cluster {
  readonly objects: Objects;
  readonly types: Types;
  /** Waits (bounded) until `check` holds. */
  until(check: () => boolean, what: string): Promise<void>;
  /** Waits until nothing is left to do: controllers quiet, runner idle. */
  settle(): Promise<void>;
}

/**
 * A store whose objects get the built-in kinds' defaults and validation (as the API server wires them), the
 * controllers and (unless `runner` is false) a pod runner that makes every new pod ready.
 */
function cluster(t: Test, options: { runner?: boolean } = {}): Cluster {
  const store = new Store();
  const objects = new Objects(store, new Registry(), { strategy: builtInStrategy({ serviceCidr: '10.96.0.0/16', services: () => store.list('/services') }) });
  const types = typesOf(objects);
  objects.create(types.namespaces, undefined, { metadata: { name: 'shop' } });
  const controllers = startControllers(objects, { log: silentLogger(), apiCaPem: 'PEM' });
  let queued = 0;
  let ip = 0;
  const stopRunner =
    options.runner === false
      ? () => {}
      : objects.store.watch('/pods', objects.store.resourceVersion, (e) => {
          if (e.type !== 'ADDED') return;
          queued++;
          setImmediate(() => {
            queued--;
            try {
              ready(objects, types, e.object, `10.244.0.${++ip}`);
            } catch {
              // deleted meanwhile
            }
          });
        });
  t.teardown(() => {
    stopRunner();
    controllers.stop();
  });
  const until = async (check: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 10_000;
    for (let i = 0; i < 20_000 && Date.now() < deadline; i++) {
      if (check()) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    t.fail(`timed out waiting for ${what}`);
  };
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      await controllers.settled();
      if (queued === 0) return;
    }
  };
  return { objects, types, until, settle };
}

/** What the pod runner writes when a pod's containers are up and its probes pass (a merge patch of /status). */
function ready(objects: Objects, types: Types, pod: KubeObject, podIP: string): void {
  const patch = { status: { phase: 'Running', podIP, podIPs: [{ ip: podIP }], conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] } };
  objects.patch(types.pods, pod.metadata.namespace, pod.metadata.name, 'merge', patch, 'status');
}

const deploymentBody = (replicas: number, image: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name: 'web', namespace: 'shop', annotations: { team: 'a', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image, ports: [{ name: 'http', containerPort: 8080 }] }] } },
    ...extra,
  },
});

const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** kubectl's rollout status verdict (pkg/polymorphichelpers/rollout_status.go), on the stored Deployment. */
function rolloutStatus(d: KubeObject): string {
  const spec = rec(d['spec']);
  const status = rec(d['status']);
  const n = (v: unknown): number => (typeof v === 'number' ? v : 0);
  if (n(d.metadata['generation']) > n(status['observedGeneration'])) return 'Waiting for deployment spec update to be observed...';
  const progressing = (status['conditions'] as Record<string, unknown>[] | undefined)?.find((c) => c['type'] === 'Progressing');
  if (progressing?.['reason'] === 'ProgressDeadlineExceeded') return `deployment "${d.metadata.name}" exceeded its progress deadline`;
  if (n(status['updatedReplicas']) < n(spec['replicas'])) return `${n(status['updatedReplicas'])} out of ${n(spec['replicas'])} new replicas have been updated`;
  if (n(status['replicas']) > n(status['updatedReplicas'])) return `${n(status['replicas']) - n(status['updatedReplicas'])} old replicas are pending termination`;
  if (n(status['availableReplicas']) < n(status['updatedReplicas'])) return `${n(status['availableReplicas'])} of ${n(status['updatedReplicas'])} updated replicas are available`;
  return 'successfully rolled out';
}

function state(c: Cluster) {
  const d = c.objects.get(c.types.deployments, 'shop', 'web');
  const replicaSets = c.objects.list(c.types.replicaSets, 'shop', {}).items;
  const pods = c.objects.list(c.types.pods, 'shop', {}).items;
  return { d, replicaSets, pods };
}

t.test('a Deployment makes a ReplicaSet and its pods, and reports a finished rollout once they are ready', async (t) => {
  const c = cluster(t, { runner: false });
  c.objects.create(c.types.deployments, 'shop', deploymentBody(3, 'app:1'));
  await c.settle();
  const initial = state(c);
  const pods = initial.pods;
  let { d, replicaSets } = initial;
  t.equal(replicaSets.length, 1);
  const rs = replicaSets[0] as KubeObject;
  const hash = rs.metadata.labels?.['pod-template-hash'] ?? '';
  t.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  t.equal(rs.metadata.name, `web-${hash}`);
  t.strictSame(rs.metadata.labels, { app: 'web', 'pod-template-hash': hash });
  t.strictSame(rs.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  t.strictSame(rec(rs['spec'])['selector'], { matchLabels: { app: 'web', 'pod-template-hash': hash } });
  t.equal(rs.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
  t.equal(rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], '3');
  t.equal(rs.metadata.annotations?.['deployment.kubernetes.io/max-replicas'], '4');
  t.equal(rs.metadata.annotations?.['team'], 'a', "the Deployment's annotations are copied ...");
  t.equal(rs.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined, '... but not last-applied-configuration');
  t.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');

  t.equal(pods.length, 3);
  for (const pod of pods) {
    t.match(pod.metadata.name, new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
    t.strictSame(pod.metadata.labels, { app: 'web', 'pod-template-hash': hash });
    t.strictSame(pod.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name, uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  }
  const waiting = rec(d['status']);
  t.equal(waiting['replicas'], 3);
  t.equal(waiting['updatedReplicas'], 3);
  t.equal(waiting['unavailableReplicas'], 3);
  t.equal(waiting['availableReplicas'], undefined, 'zero counts are left out, as Kubernetes does');
  t.equal(rolloutStatus(d), '0 of 3 updated replicas are available');
  const conditions = () => (rec(state(c).d['status'])['conditions'] as Record<string, unknown>[]).map((x) => [x['type'], x['status'], x['reason']]);
  t.strictSame(conditions(), [
    ['Available', 'False', 'MinimumReplicasUnavailable'],
    ['Progressing', 'True', 'ReplicaSetUpdated'],
  ]);

  pods.forEach((pod, i) => ready(c.objects, c.types, pod, `10.244.0.${i + 1}`));
  await c.settle();
  ({ d, replicaSets } = state(c));
  t.strictSame(d['status'], {
    observedGeneration: 1,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
    availableReplicas: 3,
    conditions: rec(d['status'])['conditions'],
  });
  t.strictSame(conditions(), [
    ['Available', 'True', 'MinimumReplicasAvailable'],
    ['Progressing', 'True', 'NewReplicaSetAvailable'],
  ]);
  const progressing = (rec(d['status'])['conditions'] as Record<string, unknown>[])[1];
  t.equal(progressing?.['message'], `ReplicaSet "${rs.metadata.name}" has successfully progressed.`);
  t.equal(rolloutStatus(d), 'successfully rolled out');
  t.strictSame(rec(replicaSets[0]?.['status']), { replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: rec(replicaSets[0]?.metadata)['generation'] });

  const rv = c.objects.store.resourceVersion;
  c.objects.patch(c.types.deployments, 'shop', 'web', 'merge', { metadata: { labels: { touched: 'yes' } } }, undefined);
  await c.settle();
  t.equal(c.objects.store.resourceVersion, rv + 1, 'a change that needs nothing writes nothing (no churn)');
});

t.test('scaling up and down; the pods deleted first are the not-ready ones', async (t) => {
  const c = cluster(t, { runner: false });
  c.objects.create(c.types.deployments, 'shop', deploymentBody(2, 'app:1'));
  await c.settle();
  for (const pod of state(c).pods) ready(c.objects, c.types, pod, '10.244.0.9');
  await c.settle();
  c.objects.patch(c.types.deployments, 'shop', 'web', 'merge', { spec: { replicas: 5 } }, undefined);
  await c.settle();
  const scaled = state(c);
  let { d, pods } = scaled;
  const replicaSets = scaled.replicaSets;
  t.equal(replicaSets.length, 1, 'scaling makes no new ReplicaSet');
  t.equal(rec(replicaSets[0]?.['spec'])['replicas'], 5);
  t.equal(pods.length, 5);
  t.equal(rolloutStatus(d), '2 of 5 updated replicas are available');
  const readyNames = pods.filter((p) => rec(p['status'])['podIP'] !== undefined).map((p) => p.metadata.name);
  t.equal(readyNames.length, 2);

  c.objects.patch(c.types.deployments, 'shop', 'web', 'merge', { spec: { replicas: 2 } }, undefined);
  await c.settle();
  ({ d, pods } = state(c));
  t.strictSame(pods.map((p) => p.metadata.name).sort(), [...readyNames].sort(), 'the not-ready pods went first');
  t.equal(rolloutStatus(d), 'successfully rolled out');

  c.objects.patch(c.types.deployments, 'shop', 'web', 'merge', { spec: { replicas: 0 } }, undefined);
  await c.settle();
  ({ d, pods } = state(c));
  t.equal(pods.length, 0, 'scaled to zero');
  t.strictSame(rec(d['status'])['replicas'], undefined);
  t.equal(rolloutStatus(d), 'successfully rolled out');
});

t.test('a template change rolls over to a new ReplicaSet (RollingUpdate); old ones are pruned past revisionHistoryLimit', async (t) => {
  const c = cluster(t);
  c.objects.create(c.types.deployments, 'shop', deploymentBody(3, 'app:1', { revisionHistoryLimit: 1 }));
  await c.until(() => rolloutStatus(state(c).d) === 'successfully rolled out', 'the first rollout');
  const first = state(c).replicaSets[0] as KubeObject;

  c.objects.patch(c.types.deployments, 'shop', 'web', 'merge', { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2', ports: [{ name: 'http', containerPort: 8080 }] }] } } } }, undefined);
  t.equal(rolloutStatus(c.objects.get(c.types.deployments, 'shop', 'web')), 'Waiting for deployment spec update to be observed...');
  // Mid-rollout, never fewer than desired - maxUnavailable available, never more than desired + maxSurge pods.
  let maxPods = 0;
  let minAvailable = Infinity;
  const seen = c.objects.store.watch('/pods', c.objects.store.resourceVersion, () => {
    const s = state(c);
    maxPods = Math.max(maxPods, s.pods.length);
    minAvailable = Math.min(minAvailable, s.pods.filter((p) => rec(p['status'])['podIP'] !== undefined).length);
  });
  await c.until(() => rolloutStatus(state(c).d) === 'successfully rolled out' && state(c).pods.length === 3, 'the second rollout');
  seen();
  t.ok(maxPods <= 4, `at most desired + maxSurge pods at once (saw ${maxPods})`);
  t.ok(minAvailable >= 2, `at least desired - maxUnavailable ready pods throughout (saw ${minAvailable})`);
  await c.settle();
  const rolled = state(c);
  const pods = rolled.pods;
  let { d, replicaSets } = rolled;
  const second = replicaSets.find((rs) => rs.metadata.uid !== first.metadata.uid) as KubeObject;
  t.equal(replicaSets.length, 2);
  t.equal(second.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
  t.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
  t.equal(rec(replicaSets.find((rs) => rs.metadata.uid === first.metadata.uid)?.['spec'])['replicas'], 0, 'the old ReplicaSet is scaled to 0 and kept');
  t.ok(pods.every((p) => p.metadata.labels?.['pod-template-hash'] === second.metadata.labels?.['pod-template-hash']), 'every pod is of the new template');

  c.objects.patch(c.types.deployments, 'shop', 'web', 'merge', { spec: { template: { metadata: { labels: { app: 'web', v: '3' } } } } }, undefined);
  await c.until(() => rolloutStatus(state(c).d) === 'successfully rolled out' && state(c).pods.length === 3, 'the third rollout');
  await c.settle();
  ({ replicaSets } = state(c));
  t.equal(replicaSets.length, 2, 'revisionHistoryLimit 1: the current ReplicaSet and one old one');
  t.notOk(
    replicaSets.some((rs) => rs.metadata.uid === first.metadata.uid),
    'the oldest is gone',
  );

  // Back to the first template: its ReplicaSet is made again and numbered as the newest revision.
  c.objects.patch(c.types.deployments, 'shop', 'web', 'merge', { spec: { template: { metadata: { labels: { app: 'web', v: null } } } } }, undefined);
  await c.until(() => rolloutStatus(state(c).d) === 'successfully rolled out' && state(c).pods.length === 3, 'the rollback');
  await c.settle();
  ({ d, replicaSets } = state(c));
  const current = replicaSets.find((rs) => rec(rs['spec'])['replicas'] === 3) as KubeObject;
  t.equal(current.metadata.name, second.metadata.name, 'the ReplicaSet of the same template is reused');
  t.equal(current.metadata.annotations?.['deployment.kubernetes.io/revision'], '4');
  t.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '4');

  c.objects.delete(c.types.deployments, 'shop', 'web');
  await c.settle();
  t.equal(c.objects.list(c.types.pods, 'shop', {}).items.length + c.objects.list(c.types.replicaSets, 'shop', {}).items.length, 0, 'deleting the Deployment deletes its ReplicaSets and pods');
});

t.test('Recreate: the old pods are gone before the new ones come', async (t) => {
  const c = cluster(t);
  c.objects.create(c.types.deployments, 'shop', deploymentBody(2, 'app:1', { strategy: { type: 'Recreate' } }));
  await c.until(() => rolloutStatus(state(c).d) === 'successfully rolled out', 'the first rollout');
  const firstHash = state(c).pods[0]?.metadata.labels?.['pod-template-hash'];
  let mixed = false;
  const seen = c.objects.store.watch('/pods', c.objects.store.resourceVersion, () => {
    const hashes = new Set(state(c).pods.map((p) => p.metadata.labels?.['pod-template-hash']));
    if (hashes.size > 1) mixed = true;
  });
  c.objects.patch(c.types.deployments, 'shop', 'web', 'merge', { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2' }] } } } }, undefined);
  await c.until(() => rolloutStatus(state(c).d) === 'successfully rolled out' && state(c).pods.length === 2, 'the second rollout');
  seen();
  t.notOk(mixed, 'old and new pods never ran together');
  t.ok(state(c).pods.every((p) => p.metadata.labels?.['pod-template-hash'] !== firstHash));
});

t.test('a rollout that does not progress exceeds its deadline', async (t) => {
  const c = cluster(t, { runner: false });
  c.objects.create(c.types.deployments, 'shop', deploymentBody(1, 'app:1', { progressDeadlineSeconds: 1 }));
  await c.settle();
  t.equal(rolloutStatus(state(c).d), '0 of 1 updated replicas are available');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && rolloutStatus(state(c).d) !== 'deployment "web" exceeded its progress deadline') await new Promise((r) => setTimeout(r, 50));
  t.equal(rolloutStatus(state(c).d), 'deployment "web" exceeded its progress deadline');
  const progressing = (rec(state(c).d['status'])['conditions'] as Record<string, unknown>[]).find((x) => x['type'] === 'Progressing');
  t.equal(progressing?.['status'], 'False');
  t.match(String(progressing?.['message']), /^ReplicaSet "web-[a-z0-9]+" has timed out progressing\.$/);

  for (const pod of state(c).pods) ready(c.objects, c.types, pod, '10.244.0.7');
  await c.settle();
  t.equal(rolloutStatus(state(c).d), 'successfully rolled out', 'ready pods finish it after all');
});
