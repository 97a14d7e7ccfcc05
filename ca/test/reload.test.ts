import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createCsr, generateKeySync, spiffeId } from '@loom/shared/identity';
import { createLogger } from '@loom/shared/runtime';
import t from 'tap';
import { CertificateAuthority } from '../src/authority.js';
import { CA_FILE, encodeMaterial } from '../src/material.js';
import { openCa } from '../src/open.js';
import { CaReloader } from '../src/reload.js';
import { applyRotation } from '../src/rotation.js';
import { DirectoryStore } from '../src/store/directory.js';
import { verifyChain } from '../src/verify.js';

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
