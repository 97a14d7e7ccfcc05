/** The `kubernetes` Service in `default` and its endpoints: made when asked for, kept, left to no other controller. */
import { silentLogger } from '@loom/shared/runtime';
import t from 'tap';
import { Objects } from '../../src/api/objects.js';
import { Registry } from '../../src/api/registry.js';
import { Store } from '../../src/api/store.js';
import { startControllers } from '../../src/controllers/index.js';
import { typesOf } from '../../src/controllers/kube.js';

const setup = (kubernetesService?: { serviceCidr: string; address: string; port: number }) => {
  const objects = new Objects(new Store(), new Registry());
  const types = typesOf(objects);
  const controllers = startControllers(objects, { log: silentLogger(), apiCaPem: 'PEM', ...(kubernetesService === undefined ? {} : { kubernetesService }) });
  return { objects, types, controllers };
};

t.test('the kubernetes Service points at the API server, and is kept so', async (t) => {
  const { objects, types, controllers } = setup({ serviceCidr: '10.96.0.0/16', address: '10.200.0.1', port: 6443 });
  t.teardown(() => controllers.stop());
  await controllers.settled();
  t.equal(objects.list(types.services, 'default', {}).items.length, 0, 'nothing before the default namespace exists');
  objects.create(types.namespaces, undefined, { metadata: { name: 'default' } });
  await controllers.settled();

  const svc = objects.get(types.services, 'default', 'kubernetes');
  t.strictSame(svc.metadata.labels, { component: 'apiserver', provider: 'kubernetes' });
  t.match(svc['spec'], { type: 'ClusterIP', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] });
  t.equal((svc['spec'] as Record<string, unknown>)['selector'], undefined);
  t.strictSame(objects.get(types.endpoints, 'default', 'kubernetes')['subsets'], [{ addresses: [{ ip: '10.200.0.1' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }]);
  const slice = objects.get(types.endpointSlices, 'default', 'kubernetes');
  t.strictSame(slice.metadata.labels, { 'kubernetes.io/service-name': 'kubernetes' });
  t.match(slice, { addressType: 'IPv4', endpoints: [{ addresses: ['10.200.0.1'], conditions: { ready: true } }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] });
  t.equal(objects.list(types.endpointSlices, 'default', {}).items.length, 1, 'the endpoint controllers add no slice of their own (no selector)');

  objects.delete(types.services, 'default', 'kubernetes');
  objects.patch(types.endpoints, 'default', 'kubernetes', 'merge', { subsets: [{ addresses: [{ ip: '192.0.2.1' }] }] }, undefined);
  objects.delete(types.endpointSlices, 'default', 'kubernetes');
  await controllers.settled();
  t.equal(objects.get(types.services, 'default', 'kubernetes')['spec'] !== undefined, true, 'a deleted Service is made again');
  t.strictSame(objects.get(types.endpoints, 'default', 'kubernetes')['subsets'], [{ addresses: [{ ip: '10.200.0.1' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }], 'changed Endpoints are put back');
  t.equal(objects.get(types.endpointSlices, 'default', 'kubernetes')['addressType'], 'IPv4', 'a deleted slice is made again');

  const rv = objects.store.resourceVersion;
  await controllers.settled();
  t.equal(objects.store.resourceVersion, rv, 'then nothing more is written');
});

t.test('without the option there is no kubernetes Service', async (t) => {
  const { objects, types, controllers } = setup();
  t.teardown(() => controllers.stop());
  objects.create(types.namespaces, undefined, { metadata: { name: 'default' } });
  await controllers.settled();
  t.equal(objects.list(types.services, 'default', {}).items.length, 0);
});
