/** Every active namespace has a `default` ServiceAccount and `kube-root-ca.crt`, made again when deleted, put back when changed. */
import { silentLogger } from '@loom/shared/runtime';
import t from 'tap';
import { Objects } from '../../src/api/objects.js';
import { Registry } from '../../src/api/registry.js';
import { Store } from '../../src/api/store.js';
import { startControllers } from '../../src/controllers/index.js';
import { typesOf } from '../../src/controllers/kube.js';
import { ROOT_CA_DESCRIPTION } from '../../src/controllers/namespaces.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

t.test('namespaces get their ServiceAccount and root CA, and keep them', async (t) => {
  const objects = new Objects(new Store(), new Registry());
  const types = typesOf(objects);
  objects.create(types.namespaces, undefined, { metadata: { name: 'default' } });
  const controllers = startControllers(objects, { log: silentLogger(), apiCaPem: PEM });
  t.teardown(() => controllers.stop());
  objects.create(types.namespaces, undefined, { metadata: { name: 'shop' } });
  await controllers.settled();

  for (const ns of ['default', 'shop']) {
    const sa = objects.get(types.serviceAccounts, ns, 'default');
    t.equal(sa.metadata.namespace, ns, `${ns}: default ServiceAccount`);
    const cm = objects.get(types.configMaps, ns, 'kube-root-ca.crt');
    t.strictSame(cm['data'], { 'ca.crt': PEM }, `${ns}: the API server's CA`);
    t.strictSame(cm.metadata.annotations, { 'kubernetes.io/description': ROOT_CA_DESCRIPTION });
  }

  const before = objects.get(types.serviceAccounts, 'shop', 'default').metadata.uid;
  objects.delete(types.serviceAccounts, 'shop', 'default');
  objects.patch(types.configMaps, 'shop', 'kube-root-ca.crt', 'merge', { data: { 'ca.crt': 'tampered', extra: 'x' } }, undefined);
  objects.delete(types.configMaps, 'default', 'kube-root-ca.crt');
  await controllers.settled();
  const again = objects.get(types.serviceAccounts, 'shop', 'default');
  t.not(again.metadata.uid, before, 'a deleted ServiceAccount is made again');
  t.strictSame(objects.get(types.configMaps, 'shop', 'kube-root-ca.crt')['data'], { 'ca.crt': PEM }, 'a changed root CA is put back');
  t.strictSame(objects.get(types.configMaps, 'default', 'kube-root-ca.crt')['data'], { 'ca.crt': PEM }, 'a deleted root CA is made again');

  const rv = objects.store.resourceVersion;
  objects.create(types.configMaps, 'shop', { metadata: { name: 'other' }, data: {} });
  objects.create(types.serviceAccounts, 'shop', { metadata: { name: 'robot' } });
  await controllers.settled();
  t.equal(objects.store.resourceVersion, rv + 2, 'other ConfigMaps and ServiceAccounts change nothing');

  objects.delete(types.namespaces, undefined, 'shop');
  await controllers.settled();
  t.equal(objects.list(types.serviceAccounts, 'shop', {}).items.length + objects.list(types.configMaps, 'shop', {}).items.length, 0, 'a deleted namespace is left empty');

  controllers.stop();
  objects.delete(types.serviceAccounts, 'default', 'default');
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(objects.list(types.serviceAccounts, 'default', {}).items.length, 0, 'after stop() nothing is made');
});

t.test('a namespace being deleted gets nothing', async (t) => {
  const objects = new Objects(new Store(), new Registry());
  const types = typesOf(objects);
  objects.create(types.namespaces, undefined, { metadata: { name: 'going' } });
  objects.patch(types.namespaces, undefined, 'going', 'merge', { status: { phase: 'Terminating' } }, 'status');
  const controllers = startControllers(objects, { log: silentLogger(), apiCaPem: PEM });
  t.teardown(() => controllers.stop());
  await controllers.settled();
  t.equal(objects.list(types.serviceAccounts, 'going', {}).items.length, 0);
  t.equal(objects.list(types.configMaps, 'going', {}).items.length, 0);
});
