import t, { type Test } from 'tap';
import { X509Certificate, type KeyObject } from 'node:crypto';
import { generateKeySync } from '@loom/shared/identity';
import { DAY_MS, DEFAULT_ROOT_LIFETIME_MS, ISSUER_CLOCK_SKEW_MS, IssuerError, createRoot, loadIssuer, readCertificates, type Issuer, type LoadIssuerInput } from '../src/issuer.js';
import { uriSans } from '../src/verify.js';
import { emptyName, keyIdentifier, nameDer, signCertificate, subjectDerOf, subjectKeyIdentifierOf } from '../src/x509/certificate.js';
import { corruptExtension, mintCa, mintIntermediate } from '../src/testing/index.js';
import { NO_OPENSSL, opensslDir } from './support/openssl.js';

const NOW = Date.UTC(2026, 4, 1, 12, 0, 0);
const HOUR = 3_600_000;
const ID = 'spiffe://cluster.local/ns/shop/sa/cart';

// ---- openssl as an independent oracle -----------------------------------------------------------------

/**
 * An operator PKI made by openssl: a root and an intermediate (pathlen 0) whose subjectKeyIdentifier is
 * `skid` (hex) rather than a hash of its key, as some CAs compute it. Validity from the real clock.
 */
function operatorPki(t: Test, skid = '0102030405060708') {
  const w = opensslDir(t);
  w.must('ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', 'root.key');
  w.must('req', '-x509', '-new', '-key', 'root.key', '-subj', '/C=US/O=Operator, Inc./CN=Operator Root', '-days', '30', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'root.pem');
  w.must('ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', 'int.key');
  w.must('req', '-new', '-key', 'int.key', '-subj', '/C=US/O=Operator, Inc./CN=Operator Intermediate', '-out', 'int.csr');
  w.write('ext.cnf', `[v3]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=${skid}\nauthorityKeyIdentifier=keyid:always\n`);
  w.must('x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '4660', '-days', '10', '-extfile', 'ext.cnf', '-extensions', 'v3', '-out', 'int.pem');
  return { w, rootPem: w.read('root.pem'), intPem: w.read('int.pem'), intKey: w.read('int.key'), rootKey: w.read('root.key') };
}

// ---- helpers -------------------------------------------------------------------------------------------

const keyPem = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }).toString();

function input(issuer: Issuer, overrides: Partial<LoadIssuerInput> = {}): LoadIssuerInput {
  return { certPem: issuer.pem, keyPem: keyPem(issuer.privateKey), roots: [], certSource: 'tls.crt', keySource: 'tls.key', now: NOW, ...overrides };
}

function refused(t: Test, work: () => unknown, message: string | RegExp, label: string): void {
  try {
    work();
    t.fail(`${label}: accepted`);
  } catch (error) {
    t.ok(error instanceof IssuerError, `${label}: an IssuerError`);
    t.match((error as Error).message, message, label);
    t.notMatch((error as Error).message, /\n/, `${label}: one line`);
  }
}

/** A leaf for ID signed by `issuer`, PEM. */
function leafPem(issuer: Issuer, now = NOW): string {
  return signCertificate(
    { subjectDer: emptyName(), publicKey: generateKeySync().publicKey, notBefore: new Date(now - 60_000), notAfter: new Date(now + HOUR), isCa: false, uris: [ID] },
    issuer,
  ).pem;
}

// ---- createRoot ----------------------------------------------------------------------------------------

t.test('createRoot: a self-signed P-256 root valid for a year, named after the trust domain and time', (t) => {
  const root = createRoot({ trustDomain: 'example.org', now: NOW });
  t.equal(root.keyType, 'ec-p256');
  t.ok(root.isRoot);
  t.same(root.intermediates, []);
  t.equal(root.root.fingerprint256, root.certificate.fingerprint256);
  t.equal(root.pem, root.certificate.toString());
  t.ok(root.certificate.ca);
  t.ok(root.certificate.checkIssued(root.certificate) && root.certificate.verify(root.certificate.publicKey), 'self-signed');
  t.equal(Date.parse(root.certificate.validFrom), NOW - 60_000, 'backdated a minute');
  t.equal(Date.parse(root.certificate.validTo), NOW + DEFAULT_ROOT_LIFETIME_MS);
  t.equal(DEFAULT_ROOT_LIFETIME_MS, 365 * DAY_MS);
  t.match(root.certificate.subject, /^O=Loom example\.org\nCN=Loom root CA 2026-05-01T12:00:00Z [0-9a-f]{8}$/);
  t.same(uriSans(root.certificate), ['spiffe://example.org']);
  t.ok(root.certificate.checkPrivateKey(root.privateKey), 'the key belongs to the certificate');
  t.same(root.subjectDer, subjectDerOf(root.certificate));
  t.same(root.keyIdentifier, subjectKeyIdentifierOf(root.certificate));
  t.same(root.keyIdentifier, keyIdentifier(root.certificate.publicKey));
  t.end();
});

t.test('createRoot: key type and lifetime', (t) => {
  for (const keyType of ['ec-p384', 'rsa-2048'] as const) {
    const root = createRoot({ trustDomain: 'td', keyType, lifetimeMs: 10 * DAY_MS, now: NOW });
    t.equal(root.keyType, keyType);
    t.equal(Date.parse(root.certificate.validTo), NOW + 10 * DAY_MS);
  }
  const defaultNow = createRoot({ trustDomain: 'td' });
  t.ok(Math.abs(Date.parse(defaultNow.certificate.validFrom) + 60_000 - Date.now()) < 60_000, 'now defaults to the clock');
  t.end();
});

t.test('two roots have distinct subjects, even made in the same second, and do not vouch for each other', { skip: NO_OPENSSL }, (t) => {
  const old = createRoot({ trustDomain: 'cluster.local', now: NOW });
  const next = createRoot({ trustDomain: 'cluster.local', now: NOW + 1000 });
  t.not(old.certificate.subject, next.certificate.subject);
  t.not(createRoot({ trustDomain: 'cluster.local', now: NOW }).certificate.subject, old.certificate.subject, 'same second');
  const w = opensslDir(t);
  w.write('old.pem', old.pem);
  w.write('leaf.pem', leafPem(next, NOW + HOUR));
  const cross = w.run('verify', '-attime', String((NOW + HOUR) / 1000), '-CAfile', 'old.pem', 'leaf.pem');
  t.not(cross.status, 0, 'a leaf of the new root does not verify against the old one');
  w.write('both.pem', old.pem + next.pem);
  const both = w.run('verify', '-attime', String((NOW + HOUR) / 1000), '-CAfile', 'both.pem', 'leaf.pem');
  t.equal(both.status, 0, `the bundle old + new verifies it: ${both.stderr}`);
  t.end();
});

// ---- loadIssuer: success ------------------------------------------------------------------------------

t.test('loadIssuer reads back a root Loom created', (t) => {
  const root = createRoot({ trustDomain: 'cluster.local', now: NOW });
  const loaded = loadIssuer(input(root));
  t.equal(loaded.certificate.fingerprint256, root.certificate.fingerprint256);
  t.ok(loaded.isRoot);
  t.same(loaded.intermediates, []);
  t.equal(loaded.keyType, 'ec-p256');
  t.same(loaded.subjectDer, root.subjectDer);
  t.same(loaded.keyIdentifier, root.keyIdentifier);
  t.end();
});

t.test('loadIssuer accepts PKCS#8, SEC1 and PKCS#1 keys', (t) => {
  const ec = createRoot({ trustDomain: 'td', now: NOW });
  const sec1 = ec.privateKey.export({ type: 'sec1', format: 'pem' }).toString();
  t.match(sec1, /BEGIN EC PRIVATE KEY/);
  t.ok(loadIssuer(input(ec, { keyPem: sec1 })).isRoot);
  const rsa = createRoot({ trustDomain: 'td', now: NOW, keyType: 'rsa-2048' });
  const pkcs1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  t.match(pkcs1, /BEGIN RSA PRIVATE KEY/);
  t.equal(loadIssuer(input(rsa, { keyPem: pkcs1 })).keyType, 'rsa-2048');
  t.end();
});

t.test('loadIssuer: an intermediate with its chain in the file, or its root among the roots', (t) => {
  const root = createRoot({ trustDomain: 'td', now: NOW });
  const intermediate = mintIntermediate(root, { now: NOW });
  t.notOk(intermediate.isRoot);
  t.same(intermediate.intermediates, []);
  t.equal(intermediate.root.fingerprint256, root.certificate.fingerprint256);

  const withRootInFile = loadIssuer(input(intermediate, { certPem: intermediate.pem + root.pem }));
  t.equal(withRootInFile.root.fingerprint256, root.certificate.fingerprint256, 'root taken from the file');
  t.same(withRootInFile.intermediates, [], 'the root is not an intermediate');
  const withRootAside = loadIssuer(input(intermediate, { roots: [createRoot({ trustDomain: 'td', now: NOW }).certificate, root.certificate] }));
  t.equal(withRootAside.root.fingerprint256, root.certificate.fingerprint256, 'the right root is picked among several');

  const second = mintIntermediate(intermediate, { now: NOW, name: 'Second level' });
  t.same(second.intermediates, [intermediate.pem], 'two levels: the first intermediate is carried');
  const shuffled = loadIssuer(input(second, { certPem: second.pem + root.pem + intermediate.pem }));
  t.same(shuffled.intermediates, [intermediate.pem], 'chain order in the file does not matter');
  t.equal(shuffled.root.fingerprint256, root.certificate.fingerprint256);
  t.end();
});

t.test('an operator intermediate made by openssl: leaves carry its own key identifier and verify', { skip: NO_OPENSSL }, (t) => {
  const pki = operatorPki(t);
  const now = Date.now();
  const issuer = loadIssuer({ certPem: pki.intPem + pki.rootPem, keyPem: pki.intKey, roots: [], certSource: 'tls.crt', keySource: 'tls.key', now });
  t.notOk(issuer.isRoot);
  t.equal(issuer.keyIdentifier.toString('hex'), '0102030405060708', "the issuer's subjectKeyIdentifier as written in its certificate");
  t.same(issuer.subjectDer, subjectDerOf(new X509Certificate(pki.intPem)));

  const leaf = leafPem(issuer, now);
  const leafCert = new X509Certificate(leaf);
  t.ok(leafCert.checkIssued(issuer.certificate), 'name and key identifier chain to the issuer');
  pki.w.write('leaf.pem', leaf);
  const verified = pki.w.run('verify', '-x509_strict', '-CAfile', 'root.pem', '-untrusted', 'int.pem', 'leaf.pem');
  t.equal(verified.status, 0, `openssl verify: ${verified.stdout}${verified.stderr}`);
  t.end();
});

t.test('an operator RSA root made by openssl (PKCS#1 key, PrintableString names) issues verifiable leaves', { skip: NO_OPENSSL }, (t) => {
  const w = opensslDir(t);
  w.must('genrsa', '-traditional', '-out', 'root.key', '2048');
  w.must('req', '-x509', '-new', '-key', 'root.key', '-subj', '/C=US/O=Operator/CN=RSA Root', '-days', '3', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'root.pem');
  const now = Date.now();
  const issuer = loadIssuer({ certPem: w.read('root.pem'), keyPem: w.read('root.key'), roots: [], certSource: 'tls.crt', keySource: 'tls.key', now });
  t.ok(issuer.isRoot);
  t.equal(issuer.keyType, 'rsa-2048');
  w.write('leaf.pem', leafPem(issuer, now));
  const verified = w.run('verify', '-x509_strict', '-CAfile', 'root.pem', 'leaf.pem');
  t.equal(verified.status, 0, `${verified.stdout}${verified.stderr}`);
  t.end();
});

// ---- loadIssuer: refusals ------------------------------------------------------------------------------

t.test('loadIssuer: a key that does not match the certificate names both files', (t) => {
  const root = createRoot({ trustDomain: 'td', now: NOW });
  refused(t, () => loadIssuer(input(root, { keyPem: keyPem(generateKeySync().privateKey) })), /^tls\.key does not match the certificate in tls\.crt \("O=Loom td, CN=Loom root CA .*"\)$/, 'mismatch');
  refused(
    t,
    () => loadIssuer(input(root, { keyPem: keyPem(generateKeySync().privateKey), certSource: 'next.crt', keySource: 'next.key' })),
    /^next\.key does not match the certificate in next\.crt/,
    'names the files it was given',
  );
  t.end();
});

t.test('loadIssuer: a certificate that is not a CA', (t) => {
  const ca = mintCa({ now: () => NOW });
  const leaf = ca.leaf('shop', 'cart');
  refused(t, () => loadIssuer(input(ca.issuer, { certPem: leaf.certificatePem, keyPem: leaf.keyPem })), `tls.crt: the certificate with serial ${new X509Certificate(leaf.certificatePem).serialNumber} (empty subject) is not a CA certificate (basicConstraints CA:FALSE)`, 'leaf');
  t.end();
});

t.test('loadIssuer: a CA certificate whose keyUsage does not allow signing certificates', { skip: NO_OPENSSL }, (t) => {
  const w = opensslDir(t);
  w.must('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-subj', '/CN=No Sign', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,cRLSign');
  refused(
    t,
    () => loadIssuer({ certPem: w.read('c.pem'), keyPem: w.read('k.pem'), roots: [], certSource: 'tls.crt', keySource: 'tls.key', now: Date.now() }),
    'tls.crt: "CN=No Sign" may not sign certificates (its keyUsage lacks keyCertSign)',
    'no keyCertSign',
  );
  t.end();
});

t.test('loadIssuer: a key type Loom cannot sign with names the key file', { skip: NO_OPENSSL }, (t) => {
  const w = opensslDir(t);
  w.must('req', '-x509', '-newkey', 'ed25519', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-subj', '/CN=Edwards', '-days', '2');
  refused(
    t,
    () => loadIssuer({ certPem: w.read('c.pem'), keyPem: w.read('k.pem'), roots: [], certSource: 'tls.crt', keySource: 'tls.key', now: Date.now() }),
    'tls.key: issuer key ed25519 is not supported (use EC P-256/P-384 or RSA 2048-4096)',
    'ed25519',
  );
  t.end();
});

t.test('loadIssuer: an expired issuer, and an issuer whose chain has expired', (t) => {
  const root = createRoot({ trustDomain: 'td', now: NOW, lifetimeMs: DAY_MS });
  refused(t, () => loadIssuer(input(root, { now: NOW + 2 * DAY_MS })), /^tls\.crt: "O=Loom td, CN=Loom root CA .*" expired at 2026-05-02T12:00:00\.000Z$/, 'expired root');
  refused(t, () => loadIssuer(input(root, { now: NOW + DAY_MS })), 'expired at', 'expired at the very second of notAfter');

  const intermediate = mintIntermediate(root, { now: NOW, lifetimeMs: 10 * DAY_MS });
  refused(t, () => loadIssuer(input(intermediate, { certPem: intermediate.pem + root.pem, now: NOW + 2 * DAY_MS })), /^tls\.crt: "O=Loom td, CN=Loom root CA .*" expired at/, 'root in the file expired');
  refused(t, () => loadIssuer(input(intermediate, { roots: [root.certificate], now: NOW + 2 * DAY_MS })), /^tls\.crt: "O=Loom td, CN=Loom root CA .*" expired at/, 'root in the bundle expired');
  t.end();
});

t.test('loadIssuer: an issuer, or a certificate of its chain, not valid yet (beyond clock skew) is refused', (t) => {
  const future = createRoot({ trustDomain: 'td', now: NOW + DAY_MS });
  refused(
    t,
    () => loadIssuer(input(future)),
    /^tls\.crt: "O=Loom td, CN=Loom root CA .*" is not valid before 2026-05-02T11:59:00\.000Z \(now 2026-05-01T12:00:00\.000Z\): every leaf it anchors would start in the future/,
    'a root valid from tomorrow',
  );
  // createRoot backdates by a minute: made 5 minutes ahead, it starts 4 minutes ahead, within the skew.
  const soon = createRoot({ trustDomain: 'td', now: NOW + ISSUER_CLOCK_SKEW_MS });
  t.ok(loadIssuer(input(soon)).isRoot, 'a few minutes ahead is clock skew, accepted');
  const later = createRoot({ trustDomain: 'td', now: NOW + ISSUER_CLOCK_SKEW_MS + 61_000 });
  refused(t, () => loadIssuer(input(later)), 'is not valid before', 'just beyond the skew');

  // An intermediate valid now, under a root valid from tomorrow: the root in the file, or in the bundle.
  const key = generateKeySync();
  const intermediate = signCertificate(
    { subjectDer: nameDer([['2.5.4.3', 'Now intermediate']]), publicKey: key.publicKey, notBefore: new Date(NOW - HOUR), notAfter: new Date(NOW + 10 * DAY_MS), isCa: true },
    future,
  );
  const rootPattern = /^tls\.crt: "O=Loom td, CN=Loom root CA .*" is not valid before 2026-05-02T11:59:00\.000Z/;
  refused(t, () => loadIssuer({ ...input(future), certPem: intermediate.pem + future.pem, keyPem: keyPem(key.privateKey) }), rootPattern, 'root in the file');
  refused(t, () => loadIssuer({ ...input(future), certPem: intermediate.pem, keyPem: keyPem(key.privateKey), roots: [future.certificate] }), rootPattern, 'root in the bundle');
  t.end();
});

t.test('loadIssuer: a malformed extension OpenSSL parses is an IssuerError naming the file, not a crash', (t) => {
  const root = createRoot({ trustDomain: 'td', now: NOW });
  refused(
    t,
    () => loadIssuer(input(root, { certPem: corruptExtension(root.pem, 'keyUsage') })),
    /^tls\.crt: the keyUsage extension of "O=Loom td, CN=Loom root CA [^"]+" is malformed \(.+\)$/,
    'keyUsage BIT STRING longer than its extension',
  );
  const intermediate = mintIntermediate(root, { now: NOW });
  refused(
    t,
    () => loadIssuer(input(intermediate, { certPem: corruptExtension(intermediate.pem, 'keyUsage') + root.pem, certSource: 'next.crt' })),
    /^next\.crt: the keyUsage extension of "CN=Loom test intermediate" is malformed/,
    'an intermediate',
  );
  t.end();
});

t.test('loadIssuer: a chain gap (an intermediate without its root anywhere)', (t) => {
  const root = createRoot({ trustDomain: 'td', now: NOW });
  const intermediate = mintIntermediate(root, { now: NOW });
  refused(
    t,
    () => loadIssuer(input(intermediate, { roots: [createRoot({ trustDomain: 'td', now: NOW + 5000 }).certificate] })),
    /^tls\.crt: cannot find who issued "CN=Loom test intermediate" \(issuer "O=Loom td, CN=Loom root CA .*"\); append its chain to the certificate file or add its root to the trust bundle$/,
    'gap',
  );
  const second = mintIntermediate(intermediate, { now: NOW });
  refused(t, () => loadIssuer(input(second, { certPem: second.pem, roots: [root.certificate] })), 'cannot find who issued "CN=Loom test intermediate"', 'middle link missing');
  t.end();
});

t.test('loadIssuer: unreadable files', (t) => {
  const root = createRoot({ trustDomain: 'td', now: NOW });
  refused(t, () => loadIssuer(input(root, { certPem: '' })), 'tls.crt: no PEM certificate found', 'empty certificate file');
  refused(t, () => loadIssuer(input(root, { certPem: keyPem(root.privateKey) })), 'tls.crt: no PEM certificate found', 'a key in the certificate file');
  refused(t, () => loadIssuer(input(root, { certPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' })), 'tls.crt: certificate 1 is not a valid X.509 certificate', 'not a certificate');
  refused(t, () => loadIssuer(input(root, { certPem: `${root.pem}-----BEGIN CERTIFICATE-----\n*\n-----END CERTIFICATE-----\n` })), 'tls.crt: PEM block "CERTIFICATE" is not base64', 'bad base64');
  refused(t, () => loadIssuer(input(root, { keyPem: '' })), /^tls\.key: not a readable private key \(.+\)$/, 'empty key');
  refused(t, () => loadIssuer(input(root, { keyPem: root.pem })), /^tls\.key: not a readable private key/, 'a certificate as the key');
  const encrypted = root.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
  refused(t, () => loadIssuer(input(root, { keyPem: encrypted })), /^tls\.key: not a readable private key/, 'an encrypted key');
  t.end();
});

t.test('readCertificates', (t) => {
  const a = createRoot({ trustDomain: 'a', now: NOW });
  const b = createRoot({ trustDomain: 'b', now: NOW });
  t.same(
    readCertificates(`# bundle\n${a.pem}\n${b.pem}`, 'ca.crt').map((cert) => cert.fingerprint256),
    [a.certificate.fingerprint256, b.certificate.fingerprint256],
  );
  t.throws(() => readCertificates('', 'ca.crt'), new IssuerError('ca.crt: no PEM certificate found'));
  t.throws(() => readCertificates(`${a.pem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`, 'ca.crt'), new IssuerError('ca.crt: certificate 2 is not a valid X.509 certificate'));
  t.end();
});

t.test('IssuerError', (t) => {
  t.equal(new IssuerError('x').name, 'IssuerError');
  t.end();
});
