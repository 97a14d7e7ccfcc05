import t, { type Test } from 'tap';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { generateKeySync, parseSpiffeId } from '@loom/shared/identity';
import { CertificateAuthority } from '../src/authority.js';
import { createRoot, DAY_MS } from '../src/issuer.js';
import { CA_FILE, CaMaterialError, decodeMaterial, encodeMaterial, isEmpty, type CaFiles, type CaMaterial, type RotationRecord } from '../src/material.js';
import { mintCa, mintIntermediate } from '../src/testing/index.js';
import { verifyChain } from '../src/verify.js';
import { NO_OPENSSL, opensslVerify } from './support/openssl.js';

const NOW = Date.UTC(2026, 4, 1, 12, 0, 0);
const HOUR = 3_600_000;
const ID = 'spiffe://cluster.local/ns/shop/sa/cart';

const fingerprints = (certs: readonly X509Certificate[]): string[] => certs.map((cert) => cert.fingerprint256);
const keyPem = (material: CaMaterial['issuer']): string => material.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function refused(t: Test, files: CaFiles, message: string | RegExp, label: string, now = NOW): void {
  try {
    decodeMaterial(files, now);
    t.fail(`${label}: accepted`);
  } catch (error) {
    t.ok(error instanceof CaMaterialError, `${label}: a CaMaterialError (${(error as Error).name})`);
    t.match((error as Error).message, message, label);
  }
}

/** A fresh root's files. */
function rootFiles(now = NOW): { files: Record<string, string>; material: CaMaterial } {
  const issuer = createRoot({ trustDomain: 'cluster.local', now });
  const material: CaMaterial = { issuer, bundle: [issuer.root] };
  return { files: { ...encodeMaterial(material) }, material };
}

/** A rotation in phase staged: next root in the bundle, leaves still from the old issuer. */
function stagedFiles(): { files: Record<string, string>; material: CaMaterial } {
  const issuer = createRoot({ trustDomain: 'cluster.local', now: NOW });
  const next = createRoot({ trustDomain: 'cluster.local', now: NOW + HOUR });
  const rotation: RotationRecord = { phase: 'staged', stagedAt: new Date(NOW + HOUR).toISOString() };
  const material: CaMaterial = { issuer, next, bundle: [issuer.root, next.root], rotation };
  return { files: { ...encodeMaterial(material) }, material };
}

t.test('isEmpty', (t) => {
  t.ok(isEmpty({}));
  t.ok(isEmpty({ 'README': 'unrelated' }), 'files Loom does not use do not count');
  for (const name of Object.values(CA_FILE)) t.notOk(isEmpty({ [name]: '' }), `${name} alone makes the store non-empty`);
  t.end();
});

t.test('encodeMaterial writes the files of a fresh root; decodeMaterial reads them back', (t) => {
  const { files, material } = rootFiles();
  t.same(Object.keys(files).sort(), [CA_FILE.bundle, CA_FILE.issuerCert, CA_FILE.issuerKey].sort());
  t.equal(files[CA_FILE.issuerCert], material.issuer.pem);
  const key = createPrivateKey(files[CA_FILE.issuerKey] ?? '');
  t.equal(key.asymmetricKeyType, 'ec', "the key file holds the issuer's private key (PKCS#8 PEM)");
  t.ok(createPublicKey(key).export({ type: 'spki', format: 'der' }).equals(material.issuer.certificate.publicKey.export({ type: 'spki', format: 'der' })));
  t.equal(files[CA_FILE.bundle], material.issuer.pem, 'the bundle is the root');
  const decoded = decodeMaterial(files, NOW);
  t.equal(decoded.issuer.certificate.fingerprint256, material.issuer.certificate.fingerprint256);
  t.ok(decoded.issuer.privateKey.equals(material.issuer.privateKey), 'same key');
  t.same(fingerprints(decoded.bundle), fingerprints(material.bundle));
  t.equal(decoded.next, undefined);
  t.equal(decoded.rotation, undefined);
  t.same(encodeMaterial(decoded), files, 'encode(decode(files)) = files');
  t.end();
});

t.test('a staged rotation round-trips: next.crt, next.key, rotation.json, bundle old + new', (t) => {
  const { files, material } = stagedFiles();
  t.same(Object.keys(files).sort(), Object.values(CA_FILE).sort());
  t.same(JSON.parse(files[CA_FILE.rotation] ?? ''), material.rotation);
  const decoded = decodeMaterial(files, NOW + HOUR);
  t.equal(decoded.next?.certificate.fingerprint256, material.next?.certificate.fingerprint256);
  t.ok(decoded.next?.privateKey.equals(material.next?.privateKey ?? decoded.issuer.privateKey));
  t.same(decoded.rotation, material.rotation);
  t.same(fingerprints(decoded.bundle), fingerprints(material.bundle), 'bundle order kept');
  t.same(encodeMaterial(decoded), files);
  t.end();
});

t.test('a switched rotation round-trips', (t) => {
  const old = createRoot({ trustDomain: 'cluster.local', now: NOW });
  const issuer = createRoot({ trustDomain: 'cluster.local', now: NOW + HOUR });
  const rotation: RotationRecord = {
    phase: 'switched',
    stagedAt: new Date(NOW + HOUR).toISOString(),
    switchedAt: new Date(NOW + 2 * HOUR).toISOString(),
    retiringRoot: old.certificate.fingerprint256,
    retireAfter: new Date(NOW + 26 * HOUR).toISOString(),
  };
  const files = encodeMaterial({ issuer, bundle: [old.root, issuer.root], rotation });
  const decoded = decodeMaterial(files, NOW + 3 * HOUR);
  t.same(decoded.rotation, rotation);
  t.equal(decoded.next, undefined);
  t.same(fingerprints(decoded.bundle), [old.certificate.fingerprint256, issuer.certificate.fingerprint256]);
  t.end();
});

t.test('without ca.crt the bundle is the issuer root (and the next root)', (t) => {
  const { files, material } = stagedFiles();
  const { [CA_FILE.bundle]: _bundle, ...rest } = files;
  void _bundle;
  const decoded = decodeMaterial(rest, NOW + HOUR);
  t.same(fingerprints(decoded.bundle), fingerprints([material.issuer.root, material.next?.root ?? material.issuer.root]));
  t.end();
});

t.test('ca.crt must contain the roots of the issuers in use', (t) => {
  const { files } = rootFiles();
  const other = createRoot({ trustDomain: 'cluster.local', now: NOW + 1000 });
  refused(t, { ...files, [CA_FILE.bundle]: other.pem }, /^ca\.crt does not contain the root of tls\.crt \("O=Loom cluster\.local, CN=Loom root CA .*"\)$/, 'issuer root missing');
  const staged = stagedFiles();
  refused(t, { ...staged.files, [CA_FILE.bundle]: staged.material.issuer.pem }, /^ca\.crt does not contain the root of next\.crt/, 'next root missing', NOW + HOUR);
  t.end();
});

t.test('ca.crt entries must be self-signed roots', (t) => {
  const ca = mintCa({ now: () => NOW });
  const files = encodeMaterial(ca.material);
  const intermediate = mintIntermediate(ca.issuer, { now: NOW });
  refused(t, { ...files, [CA_FILE.bundle]: ca.rootPem + intermediate.pem }, 'ca.crt: "CN=Loom test intermediate" is not a self-signed root (bundle entries must be roots)', 'intermediate in the bundle');
  const leaf = ca.leaf('shop', 'cart');
  refused(t, { ...files, [CA_FILE.bundle]: ca.rootPem + leaf.certificatePem }, /^ca\.crt: the certificate with serial [0-9A-F]+ \(empty subject\) is not a self-signed root/, 'leaf in the bundle');
  refused(t, { ...files, [CA_FILE.bundle]: '' }, 'ca.crt: no PEM certificate found', 'empty bundle');
  t.end();
});

t.test('incomplete stores', (t) => {
  const { files } = rootFiles();
  const { [CA_FILE.issuerKey]: _key, ...noKey } = files;
  const { [CA_FILE.issuerCert]: _cert, ...noCert } = files;
  void _key;
  void _cert;
  refused(t, noKey, 'CA store is incomplete: tls.key missing (the issuer certificate and its key are both required)', 'no key');
  refused(t, noCert, 'CA store is incomplete: tls.crt missing', 'no certificate');
  refused(t, { [CA_FILE.bundle]: files[CA_FILE.bundle] ?? '' }, 'CA store is incomplete: tls.crt and tls.key missing', 'bundle only');
  t.end();
});

t.test('rotation files must agree with each other', (t) => {
  const staged = stagedFiles();
  const { [CA_FILE.nextCert]: _nextCert, [CA_FILE.nextKey]: _nextKey, ...withoutNext } = staged.files;
  void _nextCert;
  void _nextKey;
  refused(t, withoutNext, 'rotation.json says "staged" but next.crt is missing', 'staged without next.crt', NOW + HOUR);
  const { [CA_FILE.nextKey]: _key, ...noNextKey } = staged.files;
  void _key;
  refused(t, noNextKey, 'next.crt is present without next.key', 'next.crt alone', NOW + HOUR);
  const { [CA_FILE.nextCert]: _cert, ...noNextCert } = staged.files;
  void _cert;
  refused(t, noNextCert, 'next.key is present without next.crt', 'next.key alone', NOW + HOUR);
  const { [CA_FILE.rotation]: _rotation, ...noRotation } = staged.files;
  void _rotation;
  refused(t, noRotation, 'next.crt is present but no rotation is under way (rotation.json missing)', 'next without rotation', NOW + HOUR);
  refused(
    t,
    { ...staged.files, [CA_FILE.nextKey]: staged.files[CA_FILE.issuerKey] ?? '' },
    /^next\.key does not match the certificate in next\.crt/,
    'next key mismatched',
    NOW + HOUR,
  );
  t.end();
});

t.test('rotation.json is validated', (t) => {
  const { files } = rootFiles();
  const shape = 'rotation.json must be {"phase": "staged"|"switched", "stagedAt": <ISO time>, ...}';
  const cases: [text: string, message: string, label: string][] = [
    ['{', 'rotation.json is not valid JSON', 'broken JSON'],
    ['null', shape, 'null'],
    ['[]', shape, 'array'],
    ['{"phase": "done", "stagedAt": "2026-05-01T00:00:00Z"}', shape, 'unknown phase'],
    ['{"phase": "staged", "stagedAt": "yesterday"}', shape, 'bad time'],
    ['{"phase": "staged"}', shape, 'no stagedAt'],
    ['{"phase": "switched", "stagedAt": "2026-05-01T00:00:00Z"}', 'rotation.json in phase "switched" needs switchedAt, retireAfter (ISO times) and retiringRoot', 'switched without details'],
  ];
  for (const [text, message, label] of cases) refused(t, { ...files, [CA_FILE.rotation]: text }, message, label);
  t.end();
});

t.test('several problems are reported together, one per line', (t) => {
  const { files } = rootFiles();
  const other = createRoot({ trustDomain: 'x', now: NOW });
  const broken = { ...files, [CA_FILE.issuerKey]: keyPem(other), [CA_FILE.rotation]: '{', [CA_FILE.nextCert]: other.pem };
  refused(t, broken, /^CA store has 3 problems:\n- tls\.key does not match the certificate in tls\.crt .*\n- next\.crt is present without next\.key\n- rotation\.json is not valid JSON$/, 'three problems');
  t.end();
});

t.test('an expired issuer is a clear error, never replaced', (t) => {
  const { files } = rootFiles();
  refused(t, files, /^tls\.crt: "O=Loom cluster\.local, CN=Loom root CA .*" expired at /, 'expired', NOW + 400 * DAY_MS);
  t.end();
});

t.test('a corrupt certificate or key is a clear error naming the file', (t) => {
  const { files } = rootFiles();
  refused(t, { ...files, [CA_FILE.issuerCert]: 'not a certificate' }, 'tls.crt: no PEM certificate found', 'garbage tls.crt');
  refused(t, { ...files, [CA_FILE.issuerKey]: 'not a key' }, /^tls\.key: not a readable private key/, 'garbage tls.key');
  refused(t, { ...files, [CA_FILE.bundle]: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }, 'ca.crt: certificate 1 is not a valid X.509 certificate', 'garbage ca.crt');
  t.end();
});

// ---- operator-supplied issuers ---------------------------------------------------------------------------

t.test('an operator intermediate: chain in tls.crt, root in ca.crt; leaves carry [leaf, intermediate]', (t) => {
  const root = createRoot({ trustDomain: 'cluster.local', now: NOW });
  const intermediate = mintIntermediate(root, { now: NOW });
  const files: CaFiles = {
    [CA_FILE.issuerCert]: intermediate.pem + root.pem, // as cert-manager writes tls.crt
    [CA_FILE.issuerKey]: keyPem(intermediate),
    [CA_FILE.bundle]: root.pem,
  };
  const material = decodeMaterial(files, NOW);
  t.notOk(material.issuer.isRoot);
  t.equal(material.issuer.root.fingerprint256, root.certificate.fingerprint256);
  t.same(fingerprints(material.bundle), [root.certificate.fingerprint256]);

  const authority = new CertificateAuthority(material, { trustDomain: 'cluster.local', now: () => NOW });
  const issued = authority.issue(generateKeySync().publicKey, { uris: [ID] });
  t.same(issued.chain, [issued.certificatePem, intermediate.pem], 'leaf + intermediate, no root');
  t.same(issued.trustBundle, [root.pem]);
  const verified = verifyChain(issued.chain, issued.trustBundle, NOW);
  t.same(verified.identity, parseSpiffeId(ID));
  if (NO_OPENSSL === false) {
    const result = opensslVerify(t, root.pem, issued.chain, NOW);
    t.equal(result.status, 0, `openssl verify: ${result.out}`);
  }
  t.same(encodeMaterial(material), { ...files, [CA_FILE.issuerCert]: intermediate.pem }, 'encoded without the root in tls.crt');
  t.end();
});

t.test('an operator intermediate whose root is nowhere is refused, naming tls.crt', (t) => {
  const root = createRoot({ trustDomain: 'cluster.local', now: NOW });
  const intermediate = mintIntermediate(root, { now: NOW });
  const files: CaFiles = { [CA_FILE.issuerCert]: intermediate.pem, [CA_FILE.issuerKey]: keyPem(intermediate) };
  refused(t, files, /^tls\.crt: cannot find who issued "CN=Loom test intermediate"/, 'no root');
  refused(t, { ...files, [CA_FILE.bundle]: createRoot({ trustDomain: 'cluster.local', now: NOW + 1000 }).pem }, /^tls\.crt: cannot find who issued/, 'another root in ca.crt');
  t.end();
});

t.test('an operator intermediate with its root only in ca.crt', (t) => {
  const root = createRoot({ trustDomain: 'cluster.local', now: NOW });
  const intermediate = mintIntermediate(root, { now: NOW });
  const second = mintIntermediate(intermediate, { now: NOW, name: 'Second' });
  const files: CaFiles = { [CA_FILE.issuerCert]: second.pem + intermediate.pem, [CA_FILE.issuerKey]: keyPem(second), [CA_FILE.bundle]: root.pem };
  const material = decodeMaterial(files, NOW);
  t.same(material.issuer.intermediates, [intermediate.pem]);
  const issued = new CertificateAuthority(material, { trustDomain: 'cluster.local', now: () => NOW }).issue(generateKeySync().publicKey, { uris: [ID] });
  t.same(issued.chain.slice(1), [second.pem, intermediate.pem], 'leaf, issuer, then the chain up to the root');
  t.ok(verifyChain(issued.chain, [root.pem], NOW));
  t.end();
});

t.test('CaMaterialError', (t) => {
  t.equal(new CaMaterialError('x').name, 'CaMaterialError');
  t.end();
});
