import t from 'tap';
import { CA_FILE, encodeMaterial } from '../../src/material.js';
import { openCa } from '../../src/open.js';
import { CaStoreConflict } from '../../src/store/index.js';
import { SecretClientError, SecretStore, decodeSecretData, encodeSecretData, type SecretClient, type SecretRecord } from '../../src/store/secret.js';
import { mintCa } from '../../src/testing/index.js';

/** An in-memory Secret API with the API server's rules: one create per name, writes checked against resourceVersion. */
class MemorySecrets implements SecretClient {
  readonly secrets = new Map<string, SecretRecord>();
  readonly calls: string[] = [];
  #version = 100;
  failWith: SecretClientError | undefined;

  read(namespace: string, name: string): Promise<SecretRecord | undefined> {
    this.calls.push(`read ${namespace}/${name}`);
    return this.#answer(() => this.secrets.get(`${namespace}/${name}`));
  }

  create(namespace: string, name: string, data: Readonly<Record<string, string>>): Promise<SecretRecord> {
    this.calls.push(`create ${namespace}/${name}`);
    return this.#answer(() => {
      if (this.secrets.has(`${namespace}/${name}`)) throw new SecretClientError('already-exists', `secrets "${name}" already exists`);
      return this.#put(namespace, name, data);
    });
  }

  replace(namespace: string, name: string, data: Readonly<Record<string, string>>, resourceVersion: string): Promise<SecretRecord> {
    this.calls.push(`replace ${namespace}/${name}@${resourceVersion}`);
    return this.#answer(() => {
      const current = this.secrets.get(`${namespace}/${name}`);
      if (current === undefined) throw new SecretClientError('not-found', `secrets "${name}" not found`);
      if (current.resourceVersion !== resourceVersion) throw new SecretClientError('conflict', 'the object has been modified');
      return this.#put(namespace, name, data);
    });
  }

  #put(namespace: string, name: string, data: Readonly<Record<string, string>>): SecretRecord {
    const record = { data: { ...data }, resourceVersion: String(++this.#version) };
    this.secrets.set(`${namespace}/${name}`, record);
    return record;
  }

  async #answer<T>(work: () => T): Promise<T> {
    await new Promise((resolve) => setImmediate(resolve)); // answers arrive later, as over a network
    if (this.failWith !== undefined) throw this.failWith;
    return work();
  }
}

t.test('data is the CA file names with base64 values; other keys are ignored', (t) => {
  const files = { 'tls.crt': 'cert\n', 'tls.key': 'key ü\n' };
  const data = encodeSecretData(files);
  t.strictSame(data, { 'tls.crt': Buffer.from('cert\n').toString('base64'), 'tls.key': Buffer.from('key ü\n').toString('base64') });
  t.strictSame(decodeSecretData({ ...data, 'other.txt': 'eA==' }), files);
  t.end();
});

t.test('a missing Secret and a Secret without CA keys are empty stores', async (t) => {
  const api = new MemorySecrets();
  const store = new SecretStore(api);
  t.equal(store.description, 'Secret loom-system/loom-ca');
  t.equal(await store.load(), undefined);
  api.secrets.set('loom-system/loom-ca', { data: { unrelated: 'eA==' }, resourceVersion: '7' });
  t.equal(await store.load(), undefined);
});

t.test('create once; a second create adopts the first; revision is the resourceVersion', async (t) => {
  const api = new MemorySecrets();
  const store = new SecretStore(api, 'ns', 'ca');
  const files = encodeMaterial(mintCa().material);
  const first = await store.create(files);
  t.equal(first.created, true);
  t.equal(first.stored.revision, api.secrets.get('ns/ca')?.resourceVersion);
  const second = await store.create(encodeMaterial(mintCa().material));
  t.equal(second.created, false);
  t.strictSame(second.stored, first.stored, 'the existing CA is returned');
  t.strictSame(await store.load(), first.stored);
});

t.test('an existing Secret without a CA (made empty by an installer) is filled', async (t) => {
  const api = new MemorySecrets();
  api.secrets.set('loom-system/loom-ca', { data: {}, resourceVersion: '5' });
  const files = encodeMaterial(mintCa().material);
  const result = await new SecretStore(api).create(files);
  t.equal(result.created, true);
  t.strictSame(decodeSecretData(api.secrets.get('loom-system/loom-ca')?.data ?? {}), files);
  t.ok(api.calls.includes('replace loom-system/loom-ca@5'), 'replaced at the version it read');
});

t.test('two controllers starting at once against one Secret: one root', async (t) => {
  const api = new MemorySecrets();
  const opened = await Promise.all([1, 2, 3].map(() => openCa(new SecretStore(api), { trustDomain: 'cluster.local', createIfEmpty: true })));
  t.equal(opened.filter((o) => o.created).length, 1, 'one created');
  t.equal(new Set(opened.map((o) => o.material.issuer.root.fingerprint256)).size, 1, 'all use the same root');
});

t.test('update: at the expected resourceVersion; stale or deleted → CaStoreConflict', async (t) => {
  const api = new MemorySecrets();
  const store = new SecretStore(api);
  const { stored } = await store.create(encodeMaterial(mintCa().material));
  const next = { ...stored.files, [CA_FILE.rotation]: '{}' };
  const updated = await store.update(next, stored);
  t.not(updated.revision, stored.revision);
  t.strictSame(updated.files, next);
  await t.rejects(store.update(stored.files, stored), CaStoreConflict);
  t.strictSame((await store.load())?.files, next, 'the refused update changed nothing');
  api.secrets.clear();
  await t.rejects(store.update(stored.files, updated), { name: 'CaStoreConflict', message: /was deleted/ });
});

t.test('API failures are CaStoreErrors naming the Secret', async (t) => {
  const api = new MemorySecrets();
  api.failWith = new SecretClientError('failed', '403 Forbidden: secrets "loom-ca" is forbidden');
  const store = new SecretStore(api);
  await t.rejects(store.load(), { name: 'CaStoreError', message: 'Secret loom-system/loom-ca: cannot read it: 403 Forbidden: secrets "loom-ca" is forbidden' });
  await t.rejects(store.create({ 'tls.crt': 'x' }), { name: 'CaStoreError', message: /^Secret loom-system\/loom-ca: cannot create it: 403/ });
  await t.rejects(store.update({ 'tls.crt': 'x' }, { files: {}, revision: '1' }), { name: 'CaStoreError', message: /cannot write it: 403/ });
});
