/**
 * All controllers at once, on the local API server as `loom dev` runs it: a Deployment behind a Service becomes
 * ready pods in EndpointSlices; stop() leaves no watch, no scheduled work and no timer (the test process exits).
 */
import { silentLogger } from '@loom/shared/runtime';
import t from 'tap';
import { startLocalApi } from '../../src/api/local.js';
import type { Objects } from '../../src/api/objects.js';
import type { KubeObject } from '../../src/api/store.js';
import { startControllers } from '../../src/controllers/index.js';
import { typesOf, type Types } from '../../src/controllers/kube.js';

function setReady(objects: Objects, types: Types, pod: KubeObject, ip: string): void {
  const status = { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] };
  objects.patch(types.pods, pod.metadata.namespace, pod.metadata.name, 'merge', { status }, 'status');
}

t.test('a Deployment behind a Service, end to end; then stop() leaves nothing running', async (t) => {
  const api = await startLocalApi({ name: 'test', host: '127.0.0.1', log: silentLogger() });
  t.teardown(() => api.close());
  const objects = api.objects;
  const types = typesOf(objects);
  const controllers = startControllers(objects, { log: silentLogger(), apiCaPem: api.caPem, kubernetesService: { serviceCidr: '10.96.0.0/16', address: '127.0.0.1', port: api.port } });
  objects.create(types.deployments, 'default', {
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'app:1', ports: [{ name: 'http', containerPort: 8080 }] }] } },
    },
  });
  objects.create(types.services, 'default', { metadata: { name: 'web' }, spec: { clusterIP: '10.96.0.10', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http', protocol: 'TCP' }] } });
  await controllers.settled();
  const pods = objects.list(types.pods, 'default', {}).items;
  t.equal(pods.length, 2);
  t.ok(process.getActiveResourcesInfo().includes('Timeout'), 'a progress deadline timer is set while the rollout runs');
  pods.forEach((p, i) => setReady(objects, types, p, `10.244.0.${i + 2}`));
  await controllers.settled();

  const status = objects.get(types.deployments, 'default', 'web')['status'] as Record<string, unknown>;
  t.equal(status['availableReplicas'], 2);
  const slices = objects.list(types.endpointSlices, 'default', { labelSelector: 'kubernetes.io/service-name=web' }).items;
  t.equal(slices.length, 1);
  t.strictSame(slices[0]?.['ports'], [{ name: '', port: 8080, protocol: 'TCP' }]);
  t.strictSame(((slices[0]?.['endpoints'] as Record<string, unknown>[]) ?? []).map((e) => e['addresses']), [['10.244.0.2'], ['10.244.0.3']]);
  t.equal(objects.get(types.configMaps, 'default', 'kube-root-ca.crt')['data'] !== undefined, true);
  t.equal(objects.get(types.services, 'default', 'kubernetes')['spec'] !== undefined, true);

  t.notOk(process.getActiveResourcesInfo().includes('Timeout'), 'and cleared once it is complete');
  // A new rollout (its pods never get ready here): progressing again, with a deadline timer.
  objects.patch(types.deployments, 'default', 'web', 'merge', { spec: { template: { metadata: { annotations: { restartedAt: 'now' } } } } }, undefined);
  await controllers.settled();
  t.ok(process.getActiveResourcesInfo().includes('Timeout'), 'a deadline timer again');
  controllers.stop();
  t.notOk(process.getActiveResourcesInfo().includes('Timeout'), 'stop() clears every timer');
  t.notOk(process.getActiveResourcesInfo().includes('Immediate'), 'and every scheduled reconcile');
  const running = objects.list(types.pods, 'default', {}).items;
  objects.delete(types.pods, 'default', running[0]?.metadata.name ?? '');
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.equal(objects.list(types.pods, 'default', {}).items.length, running.length - 1, 'after stop() nothing reacts');
  await controllers.settled();
});
