import { CA_FILE, SecretClientError, SecretStore, decodeSecretData, encodeMaterial, encodeSecretData, openCa } from '@loom/ca';
import { mintCa } from '@loom/ca/testing';
import { generateKeySync } from '@loom/shared/identity';
import t, { type Test } from 'tap';
import { KubeSecretClient } from '../../src/kube/secrets.js';
import { startFakeKubeApi, status, type FakeKubeApi, type KubeRoute } from '../support/kube-api.js';
import { fakeSecrets, type FakeSecrets } from '../support/secrets-api.js';

async function api(t: Test, options: { readonly namespaces?: readonly string[]; readonly before?: readonly KubeRoute[] } = {}): Promise<{ fake: FakeKubeApi; secrets: FakeSecrets; client: () => KubeSecretClient }> {
  const secrets = fakeSecrets(options.namespaces === undefined ? {} : { namespaces: options.namespaces });
  const fake = await startFakeKubeApi([...(options.before ?? []), ...secrets.routes]);
  t.teardown(() => fake.close());
  return { fake, secrets, client: () => new KubeSecretClient(fake.kubeConfig('token')) };
}

const kindOf = async (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof SecretClientError ? error.kind : `other: ${String(error)}`),
  );

t.test('read: a missing Secret is undefined; an existing one gives its data and resourceVersion', async (t) => {
  const { secrets, client } = await api(t);
  t.equal(await client().read('loom-system', 'loom-ca'), undefined);
  const seeded = secrets.put('loom-system', 'loom-ca', { 'tls.crt': 'eA==' });
  t.strictSame(await client().read('loom-system', 'loom-ca'), { data: { 'tls.crt': 'eA==' }, resourceVersion: seeded.metadata.resourceVersion });
});

t.test('create, then 409 AlreadyExists; replace at the read version, 409 Conflict when stale, 404 when gone', async (t) => {
  const { secrets, client, fake } = await api(t);
  const c = client();
  const created = await c.create('loom-system', 'loom-ca', { 'tls.crt': 'YQ==' });
  const stored = secrets.secrets.get('loom-system/loom-ca');
  t.equal(created.resourceVersion, stored?.metadata.resourceVersion);
  t.strictSame(stored?.metadata.labels, { 'app.kubernetes.io/part-of': 'loom', 'app.kubernetes.io/component': 'ca' });
  t.equal(stored?.type, 'Opaque');

  t.equal(await kindOf(c.create('loom-system', 'loom-ca', { 'tls.crt': 'Yg==' })), 'already-exists', 'a second create');
  const replaced = await c.replace('loom-system', 'loom-ca', { 'tls.crt': 'Yw==' }, created.resourceVersion);
  t.not(replaced.resourceVersion, created.resourceVersion);
  t.strictSame(secrets.secrets.get('loom-system/loom-ca')?.data, { 'tls.crt': 'Yw==' });
  t.equal(await kindOf(c.replace('loom-system', 'loom-ca', { 'tls.crt': 'ZA==' }, created.resourceVersion)), 'conflict', 'a stale resourceVersion');
  t.strictSame(secrets.secrets.get('loom-system/loom-ca')?.data, { 'tls.crt': 'Yw==' }, 'unchanged');
  t.equal(await kindOf(c.replace('loom-system', 'other', { 'tls.crt': 'ZA==' }, '1')), 'not-found');
  const put = fake.requests.find((r) => r.method === 'PUT');
  t.match(put?.body, { metadata: { name: 'loom-ca', namespace: 'loom-system', resourceVersion: created.resourceVersion } }, 'the PUT names the version it read');
});

t.test('the server refusing the PUT for a stale version is a conflict too (a write between our read and our PUT)', async (t) => {
  let writes = 0;
  const { secrets, client } = await api(t, {
    before: [
      {
        method: 'PUT',
        path: /^\/api\/v1\/namespaces\/loom-system\/secrets\/loom-ca$/,
        handler: () => (writes++, status(409, 'Conflict', 'Operation cannot be fulfilled on secrets "loom-ca": the object has been modified; please apply your changes to the latest version and try again')),
      },
    ],
  });
  const seeded = secrets.put('loom-system', 'loom-ca', { 'tls.crt': 'eA==' });
  const error = await client()
    .replace('loom-system', 'loom-ca', { 'tls.crt': 'eQ==' }, seeded.metadata.resourceVersion)
    .catch((e: unknown) => e);
  t.equal(writes, 1);
  t.match(error, { kind: 'conflict', message: /^replace Secret loom-system\/loom-ca: 409 Conflict: Operation cannot be fulfilled/ });
});

t.test('replace keeps the type, labels and other fields of an operator-made kubernetes.io/tls Secret', async (t) => {
  const { secrets, client } = await api(t);
  const seeded = secrets.put('loom-system', 'loom-ca', { 'tls.crt': 'eA==', 'tls.key': 'eQ==' }, { type: 'kubernetes.io/tls', labels: { owner: 'cert-manager' } });
  await client().replace('loom-system', 'loom-ca', { 'tls.crt': 'eA==', 'tls.key': 'eQ==', 'ca.crt': 'eg==' }, seeded.metadata.resourceVersion);
  const after = secrets.secrets.get('loom-system/loom-ca');
  t.equal(after?.type, 'kubernetes.io/tls');
  t.strictSame(after?.metadata.labels, { owner: 'cert-manager' });
  t.equal(after?.metadata.uid, seeded.metadata.uid);
});

t.test('other failures are "failed" with the API server message on one line', async (t) => {
  const { client } = await api(t, {
    namespaces: ['default'],
    before: [{ method: 'GET', path: /\/secrets\/forbidden$/, handler: () => status(403, 'Forbidden', 'secrets "forbidden" is forbidden: User "x" cannot get resource "secrets"') }],
  });
  const forbidden = await client()
    .read('loom-system', 'forbidden')
    .catch((e: unknown) => e);
  t.match(forbidden, { kind: 'failed', message: 'read Secret loom-system/forbidden: 403 Forbidden: secrets "forbidden" is forbidden: User "x" cannot get resource "secrets"' });
  const noNamespace = await client()
    .create('loom-system', 'loom-ca', {})
    .catch((e: unknown) => e);
  t.match(noNamespace, { kind: 'not-found', message: /namespaces "loom-system" not found/ });
});

t.test('an unreachable API server is "failed", one line', async (t) => {
  const { fake } = await api(t);
  const config = fake.kubeConfig('token');
  await fake.close();
  const error = await new KubeSecretClient(config).read('loom-system', 'loom-ca').catch((e: unknown) => e);
  t.match(error, { kind: 'failed', message: new RegExp(`^read Secret loom-system/loom-ca: fetch failed: connect ECONNREFUSED ${config.getCurrentCluster()?.server.replace(/^\w+:\/\//, '').replace(/\./g, '\\.') ?? ''}$`) });
  t.notMatch((error as Error).message, /\n/);
});

// --- The CA's Secret store through the real client ------------------------------------------------------

t.test('persistence: a restart with the same Secret loads the same root', async (t) => {
  const { secrets, client } = await api(t);
  const first = await openCa(new SecretStore(client()), { trustDomain: 'cluster.local', createIfEmpty: true });
  t.equal(first.created, true);
  const secret = secrets.secrets.get('loom-system/loom-ca');
  t.strictSame(Object.keys(secret?.data ?? {}).sort(), [CA_FILE.bundle, CA_FILE.issuerCert, CA_FILE.issuerKey].sort(), 'the Secret holds the CA files');
  t.equal(first.stored.revision, secret?.metadata.resourceVersion, 'revision = resourceVersion');

  const restarted = await openCa(new SecretStore(client()), { trustDomain: 'cluster.local', createIfEmpty: true });
  t.equal(restarted.created, false);
  t.equal(restarted.material.issuer.root.fingerprint256, first.material.issuer.root.fingerprint256, 'same root');
});

t.test('two controllers starting at once against an empty cluster create one root', async (t) => {
  for (let round = 0; round < 3; round++) {
    const { secrets, client } = await api(t);
    const opened = await Promise.all([client(), client()].map((c) => openCa(new SecretStore(c), { trustDomain: 'cluster.local', createIfEmpty: true })));
    t.equal(opened.filter((o) => o.created).length, 1, `round ${round}: one created`);
    t.equal(opened[0]?.material.issuer.root.fingerprint256, opened[1]?.material.issuer.root.fingerprint256, `round ${round}: both use the same root`);
    const stored = decodeSecretData(secrets.secrets.get('loom-system/loom-ca')?.data ?? {});
    t.equal(stored[CA_FILE.issuerCert], opened[0]?.material.issuer.pem, 'and it is the stored one');
    t.equal(secrets.secrets.size, 1, 'one Secret');
  }
});

t.test('a corrupt Secret is a clear startup error and is left untouched', async (t) => {
  const { secrets, client, fake } = await api(t);
  const files = { ...encodeMaterial(mintCa().material), [CA_FILE.issuerKey]: generateKeySync().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  const seeded = secrets.put('loom-system', 'loom-ca', encodeSecretData(files));
  await t.rejects(openCa(new SecretStore(client()), { trustDomain: 'cluster.local', createIfEmpty: true }), {
    name: 'CaOpenError',
    message: /^Secret loom-system\/loom-ca: tls\.key does not match the certificate in tls\.crt \(/,
  });
  t.equal(secrets.secrets.get('loom-system/loom-ca')?.metadata.resourceVersion, seeded.metadata.resourceVersion, 'not rewritten');
  t.strictSame(
    fake.requests.map((r) => r.method),
    ['GET'],
    'only read',
  );
});

t.test('an empty Secret made by an installer is filled, keeping its labels', async (t) => {
  const { secrets, client } = await api(t);
  secrets.put('loom-system', 'loom-ca', {}, { labels: { installer: 'helm' } });
  const opened = await openCa(new SecretStore(client()), { trustDomain: 'cluster.local', createIfEmpty: true });
  t.equal(opened.created, true);
  const secret = secrets.secrets.get('loom-system/loom-ca');
  t.strictSame(secret?.metadata.labels, { installer: 'helm' });
  t.equal(decodeSecretData(secret?.data ?? {})[CA_FILE.issuerCert], opened.material.issuer.pem);
});
