import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createCsr, generateKeySync, spiffeId } from '@loom/shared/identity';
import { createLogger } from '@loom/shared/runtime';
import t from 'tap';
import { CertificateAuthority } from '../src/authority.js';
import { CA_FILE, encodeMaterial, type CaFiles } from '../src/material.js';
import { openCa } from '../src/open.js';
import { CaReloader } from '../src/reload.js';
import { applyRotation } from '../src/rotation.js';
import { DirectoryStore } from '../src/store/directory.js';
import type { CaStore, StoredCa } from '../src/store/index.js';
import { corruptExtension, mintCa } from '../src/testing/index.js';
import { uriSans, verifyChain } from '../src/verify.js';

const TD = 'cluster.local';
const ROTATION = { trustDomain: TD, leafLifetimeMs: 86_400_000, clockSkewMs: 300_000 };

function logCollector(): { lines: () => Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ name: 'test', level: 'debug', destination });
  return { logger, lines: () => chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const sign = (authority: CertificateAuthority): string[] => {
  const key = generateKeySync();
  return [...authority.signWorkloadCsr(createCsr({ ...key, uris: [spiffeId(TD, 'ns', 'sa')] }), { trustDomain: TD, namespace: 'ns', serviceAccount: 'sa' }).chain];
};

t.test('a running authority follows rotation steps written to the store, and skips unusable content', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loom-ca-reload-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new DirectoryStore(dir);
  const opened = await openCa(store, { trustDomain: TD, createIfEmpty: true });
  const authority = new CertificateAuthority(opened.material, { trustDomain: TD });
  const { logger, lines } = logCollector();
  const reloads: number[] = [];
  const reloader = new CaReloader({ store, authority, loaded: opened.stored, logger, onReload: (material) => reloads.push(material.bundle.length) });
  const oldRoot = opened.material.issuer.root;

  t.same(await reloader.check(), { result: 'unchanged' }, 'nothing to do while the store is unchanged');

  // `loom ca rotate` (stage) in another process: the bundle grows, the old issuer keeps signing.
  const staged = applyRotation(opened.material, Date.now(), ROTATION);
  const afterStage = await store.update(encodeMaterial(staged), opened.stored);
  t.match(await reloader.check(), { result: 'reloaded', revision: afterStage.revision });
  t.equal(authority.trustBundle.length, 2, 'the new root is distributed');
  t.equal(verifyChain(sign(authority), [oldRoot]).root.fingerprint256, oldRoot.fingerprint256, 'leaves still chain to the old root');

  // switch: new leaves chain to the new root.
  const switched = applyRotation(staged, Date.now(), ROTATION);
  await store.update(encodeMaterial(switched), afterStage);
  t.match(await reloader.check(), { result: 'reloaded' });
  const newRoot = switched.issuer.root;
  t.not(newRoot.fingerprint256, oldRoot.fingerprint256);
  t.equal(verifyChain(sign(authority), authority.trustBundle).root.fingerprint256, newRoot.fingerprint256, 'leaves now chain to the new root');
  t.same(reloads, [2, 2], 'onReload ran once per new revision');

  // someone writes a key that does not match: skipped, logged once, old material kept.
  writeFileSync(join(dir, CA_FILE.issuerKey), generateKeySync().privateKey.export({ type: 'pkcs8', format: 'pem' }));
  t.match(await reloader.check(), { result: 'invalid', reason: /tls\.key does not match the certificate in tls\.crt/ });
  t.match(await reloader.check(), { result: 'invalid' });
  t.equal(lines().filter((line) => line['event'] === 'ca.reload_invalid').length, 1, 'an unusable revision is logged once');
  t.equal(verifyChain(sign(authority), authority.trustBundle).root.fingerprint256, newRoot.fingerprint256, 'still signing with the last good issuer');
  t.equal(lines().filter((line) => line['event'] === 'ca.reloaded').length, 2);
});

/** A store whose content the test sets; `load` can be made to fail. */
function memoryStore(initial: StoredCa) {
  let current: StoredCa | undefined = initial;
  const store: CaStore = {
    description: 'memory store',
    load: () => Promise.resolve(current),
    create: () => Promise.reject(new Error('not used')),
    update: () => Promise.reject(new Error('not used')),
  };
  return { store, set: (files: unknown, revision: string) => void (current = { files: files as CaFiles, revision }) };
}

const opened = (ca: ReturnType<typeof mintCa>): StoredCa => ({ files: encodeMaterial(ca.material), revision: 'r1' });

t.test('a malformed certificate, or any failure to decode, is "invalid" (logged once), never a rejection', async (t) => {
  const ca = mintCa({ trustDomain: TD });
  const { store, set } = memoryStore(opened(ca));
  const authority = new CertificateAuthority(ca.material, { trustDomain: TD });
  const { logger, lines } = logCollector();
  const reloader = new CaReloader({ store, authority, loaded: opened(ca), logger });
  const files = encodeMaterial(mintCa({ trustDomain: TD }).material);

  set({ ...files, [CA_FILE.issuerCert]: corruptExtension(files[CA_FILE.issuerCert] ?? '', 'keyUsage') }, 'r2');
  t.match(await reloader.check(), { result: 'invalid', revision: 'r2', reason: /^memory store: tls\.crt: the keyUsage extension of .* is malformed/ });
  t.match(await reloader.check(), { result: 'invalid', revision: 'r2' });
  set(null, 'r3');
  t.match(await reloader.check(), { result: 'invalid', revision: 'r3', reason: /^memory store: cannot decode the CA: / }, 'not even a set of files');
  t.equal(lines().filter((line) => line['event'] === 'ca.reload_invalid').length, 2, 'once per revision');
  t.equal(authority.material, ca.material, 'the authority keeps its material');
});

t.test('a store switched to another trust domain is "invalid"; the authority keeps signing for its own', async (t) => {
  const ca = mintCa({ trustDomain: TD });
  const { store, set } = memoryStore(opened(ca));
  const authority = new CertificateAuthority(ca.material, { trustDomain: TD });
  const reloader = new CaReloader({ store, authority, loaded: opened(ca) });
  set(encodeMaterial(mintCa({ trustDomain: 'evil.example' }).material), 'r2');
  t.match(await reloader.check(), { result: 'invalid', reason: /^memory store: the CA certificate "O=Loom evil\.example, CN=[^"]+" is for trust domain "evil\.example", not the configured "cluster\.local"$/ });
  t.equal(authority.material, ca.material);
  t.same(uriSans(authority.material.issuer.root), [`spiffe://${TD}`]);
});

t.test('onReload failures, thrown or rejected, are logged; the reload stands', async (t) => {
  const ca = mintCa({ trustDomain: TD });
  const { store, set } = memoryStore(opened(ca));
  const authority = new CertificateAuthority(ca.material, { trustDomain: TD });
  const { logger, lines } = logCollector();
  let calls = 0;
  const reloader = new CaReloader({
    store,
    authority,
    loaded: opened(ca),
    logger,
    onReload: (material) => {
      calls += 1;
      if (material.bundle.length === 2) throw new Error('listener bug');
      return Promise.reject(new Error('async listener bug'));
    },
  });
  const staged = applyRotation(ca.material, Date.now(), ROTATION);
  set(encodeMaterial(staged), 'r2');
  t.match(await reloader.check(), { result: 'reloaded', revision: 'r2' }, 'a throwing listener');
  t.equal(authority.trustBundle.length, 2, 'swapped in');
  set(encodeMaterial(mintCa({ trustDomain: TD }).material), 'r3');
  t.match(await reloader.check(), { result: 'reloaded', revision: 'r3' }, 'a rejecting listener');
  for (let i = 0; i < 100 && lines().filter((line) => line['event'] === 'ca.reload_listener_failed').length < 2; i++) await new Promise((resolve) => setImmediate(resolve));
  t.equal(calls, 2);
  t.match(
    lines().filter((line) => line['event'] === 'ca.reload_listener_failed'),
    [{ reason: 'listener bug' }, { reason: 'async listener bug' }],
  );
});

t.test('polling survives unusable content and failing listeners', async (t) => {
  const ca = mintCa({ trustDomain: TD });
  const { store, set } = memoryStore(opened(ca));
  const authority = new CertificateAuthority(ca.material, { trustDomain: TD });
  const { logger, lines } = logCollector();
  const reloader = new CaReloader({ store, authority, loaded: opened(ca), logger, intervalMs: 5, onReload: () => Promise.reject(new Error('listener bug')) });
  t.teardown(() => reloader.stop());
  const files = encodeMaterial(mintCa({ trustDomain: TD }).material);
  set({ ...files, [CA_FILE.issuerCert]: corruptExtension(files[CA_FILE.issuerCert] ?? '', 'keyUsage') }, 'r2');
  reloader.start();
  const seen = async (event: string): Promise<boolean> => {
    for (let i = 0; i < 400 && !lines().some((line) => line['event'] === event); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    return lines().some((line) => line['event'] === event);
  };
  t.ok(await seen('ca.reload_invalid'), 'the malformed revision is reported by the poll');
  set(files, 'r3');
  t.ok(await seen('ca.reload_listener_failed'), 'the next good revision is loaded; the listener failure logged');
  t.equal(authority.material.issuer.certificate.fingerprint256, new X509Certificate(files[CA_FILE.issuerCert] ?? '').fingerprint256);
});
