import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generateKeySync } from '@loom/shared/identity';
import { createLogger } from '@loom/shared/runtime';
import t, { type Test } from 'tap';
import { CA_FILE, encodeMaterial } from '../src/material.js';
import { CaOpenError, checkTrustDomain, claimedTrustDomains, openCa } from '../src/open.js';
import { DirectoryStore } from '../src/store/directory.js';
import { uriSans } from '../src/verify.js';
import { nameDer, signSelf } from '../src/x509/certificate.js';
import { OID } from '../src/x509/oids.js';
import { corruptExtension, mintCa, mintIntermediate } from '../src/testing/index.js';

function tempStore(t: Test): DirectoryStore {
  const dir = mkdtempSync(join(tmpdir(), 'loom-ca-open-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return new DirectoryStore(dir);
}

const keyPem = (key: ReturnType<typeof generateKeySync>['privateKey']): string => key.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Every file of the store, to check a failed open wrote nothing. */
const snapshot = (store: DirectoryStore): Record<string, string> => {
  const files: Record<string, string> = {};
  for (const name of Object.values(CA_FILE)) {
    try {
      files[name] = readFileSync(join(store.dir, name), 'utf8');
    } catch {
      // absent
    }
  }
  return files;
};

t.test('an empty store: an error unless asked to create; then a root for the trust domain, kept across restarts', async (t) => {
  const store = tempStore(t);
  await t.rejects(openCa(store, { trustDomain: 'cluster.local' }), { name: 'CaOpenError', kind: 'empty', message: `${store.description} holds no CA` });

  const lines: string[] = [];
  const logger = createLogger({ name: 'test', destination: new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }) });
  const first = await openCa(store, { trustDomain: 'example.org', createIfEmpty: true, logger });
  t.equal(first.created, true);
  t.strictSame(uriSans(first.material.issuer.root), ['spiffe://example.org']);
  t.equal(first.material.issuer.keyType, 'ec-p256');
  t.strictSame(first.material.bundle.map((root) => root.fingerprint256), [first.material.issuer.root.fingerprint256]);
  t.match(JSON.parse(lines[0] ?? '{}'), { component: 'ca', event: 'ca.created', store: store.description });

  const again = await openCa(store, { trustDomain: 'example.org', createIfEmpty: true });
  t.equal(again.created, false, 'a restart does not create');
  t.equal(again.material.issuer.root.fingerprint256, first.material.issuer.root.fingerprint256, 'same root');
  t.equal(again.stored.revision, first.stored.revision);
});

t.test('a key that does not match its certificate is an error naming the store and the files, never a new root', async (t) => {
  const store = tempStore(t);
  const ca = mintCa();
  await store.create({ ...encodeMaterial(ca.material), [CA_FILE.issuerKey]: keyPem(generateKeySync().privateKey) });
  const before = snapshot(store);
  await t.rejects(openCa(store, { trustDomain: 'cluster.local', createIfEmpty: true }), {
    name: 'CaOpenError',
    kind: 'invalid',
    message: new RegExp(`^${store.description.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: tls\\.key does not match the certificate in tls\\.crt \\("O=Loom`),
  });
  t.strictSame(snapshot(store), before, 'nothing was written');
});

t.test('unusable files: each problem named, on one line', async (t) => {
  const cases: { name: string; files: (ca: ReturnType<typeof mintCa>) => Record<string, string>; message: RegExp }[] = [
    { name: 'garbage certificate', files: (ca) => ({ ...encodeMaterial(ca.material), [CA_FILE.issuerCert]: 'not pem' }), message: /: tls\.crt: no PEM certificate found/ },
    { name: 'garbage key', files: (ca) => ({ ...encodeMaterial(ca.material), [CA_FILE.issuerKey]: 'nope' }), message: /: tls\.key: not a readable private key/ },
    { name: 'certificate without key', files: (ca) => ({ [CA_FILE.issuerCert]: ca.issuer.pem }), message: /: CA store is incomplete: tls\.key missing/ },
    {
      name: 'two problems',
      files: (ca) => ({ ...encodeMaterial(ca.material), [CA_FILE.issuerKey]: 'nope', [CA_FILE.rotation]: '{' }),
      message: /: CA store has 2 problems: tls\.key: not a readable private key.*; rotation\.json is not valid JSON$/,
    },
  ];
  for (const c of cases) {
    const store = tempStore(t);
    await store.create(c.files(mintCa()));
    const error = await openCa(store, { trustDomain: 'cluster.local', createIfEmpty: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(error, CaOpenError, c.name);
    t.match((error as Error).message, c.message, c.name);
    t.notMatch((error as Error).message, /\n/, `${c.name}: one line`);
  }
});

t.test('a CA for another trust domain is refused', async (t) => {
  const store = tempStore(t);
  await store.create(encodeMaterial(mintCa({ trustDomain: 'other.example' }).material));
  await t.rejects(openCa(store, { trustDomain: 'cluster.local' }), {
    name: 'CaOpenError',
    kind: 'trust-domain',
    foundTrustDomain: 'other.example',
    message: /the CA certificate "O=Loom other\.example, CN=Loom root CA .*" is for trust domain "other\.example", not the configured "cluster\.local"$/,
  });
});

t.test('an operator-supplied root without a SPIFFE SAN opens for the configured trust domain', async (t) => {
  const store = tempStore(t);
  const { privateKey, publicKey } = generateKeySync();
  const now = Date.now();
  const root = signSelf({ subjectDer: nameDer([[OID.commonName, 'Corp root']]), publicKey, notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000), isCa: true }, privateKey);
  await store.create({ [CA_FILE.issuerCert]: root.pem, [CA_FILE.issuerKey]: keyPem(privateKey) });
  const opened = await openCa(store, { trustDomain: 'mesh.example' });
  t.equal(opened.material.issuer.certificate.subject, 'CN=Corp root');
  t.equal(opened.created, false);
});

t.test("an operator-supplied intermediate with its chain in tls.crt: its root's SPIFFE SAN must match", async (t) => {
  const store = tempStore(t);
  const root = mintCa({ trustDomain: 'corp.example' });
  const intermediate = mintIntermediate(root.issuer, { name: 'Corp mesh issuer' });
  // As an operator writes it: the intermediate then the root in tls.crt, no ca.crt.
  await store.create({ [CA_FILE.issuerCert]: intermediate.pem + root.issuer.pem, [CA_FILE.issuerKey]: keyPem(intermediate.privateKey) });
  const refused = await openCa(store, { trustDomain: 'mesh.example' }).catch((e: unknown) => e);
  t.match(refused, { kind: 'trust-domain', foundTrustDomain: 'corp.example' });
  const ok = await openCa(store, { trustDomain: 'corp.example' });
  t.equal(ok.material.issuer.isRoot, false);
  t.equal(ok.material.issuer.certificate.subject, 'CN=Corp mesh issuer');
  t.strictSame(ok.material.bundle.map((r) => r.fingerprint256), [root.issuer.root.fingerprint256], 'the root from tls.crt is the bundle');
});

t.test('a malformed certificate in the store is an "invalid" CaOpenError naming the store and the file', async (t) => {
  const store = tempStore(t);
  const files = encodeMaterial(mintCa().material);
  await store.create({ ...files, [CA_FILE.issuerCert]: corruptExtension(files[CA_FILE.issuerCert] ?? '', 'keyUsage') });
  const before = snapshot(store);
  await t.rejects(openCa(store, { trustDomain: 'cluster.local' }), {
    name: 'CaOpenError',
    kind: 'invalid',
    message: new RegExp(`^directory ${store.dir}: tls\\.crt: the keyUsage extension of "O=Loom cluster\\.local, CN=Loom root CA [^"]+" is malformed \\(.+\\)$`),
  });
  t.strictSame(snapshot(store), before, 'nothing written');
});

t.test('checkTrustDomain: unreadable SPIFFE names are "invalid", naming the store and the file', (t) => {
  const ca = mintCa();
  const corrupt = new X509Certificate(corruptExtension(ca.issuer.pem, 'subjectAltName'));
  const issuer = { ...ca.issuer, certificate: corrupt, root: corrupt };
  t.throws(() => claimedTrustDomains({ issuer, bundle: [corrupt] }), { name: 'CaOpenError', kind: 'invalid', message: /^tls\.crt: the subjectAltName extension of "O=Loom cluster\.local, CN=[^"]+" is malformed/ });
  const store = { description: 'Secret loom-system/loom-ca' };
  t.throws(() => checkTrustDomain(store, { issuer, bundle: [corrupt] }, 'cluster.local'), { name: 'CaOpenError', kind: 'invalid', message: /^Secret loom-system\/loom-ca: tls\.crt: the subjectAltName extension/ });
  const next = mintCa().issuer;
  t.throws(
    () => checkTrustDomain(store, { issuer: ca.issuer, next: { ...next, certificate: corrupt, root: corrupt }, bundle: [ca.issuer.root], rotation: { phase: 'staged', stagedAt: new Date().toISOString() } }, 'cluster.local'),
    { kind: 'invalid', message: /: next\.crt: the subjectAltName extension/ },
    'the staged issuer names next.crt',
  );
  t.doesNotThrow(() => checkTrustDomain(store, ca.material, 'cluster.local'));
  t.throws(() => checkTrustDomain(store, ca.material, 'other.example'), { name: 'CaOpenError', kind: 'trust-domain', foundTrustDomain: 'cluster.local' });
  t.end();
});
