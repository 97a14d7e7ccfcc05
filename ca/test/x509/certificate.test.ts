import t from 'tap';
import { X509Certificate, createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { asn1 as a, generateKeySync, type KeyType } from '@loom/shared/identity';
import {
  emptyName,
  extensionValue,
  keyIdentifier,
  keyUsageOf,
  nameDer,
  randomSerial,
  signCertificate,
  signSelf,
  subjectDerOf,
  subjectKeyIdentifierOf,
  type CertificateTemplate,
  type SigningIssuer,
} from '../../src/x509/certificate.js';
import { KEY_USAGE, OID } from '../../src/x509/oids.js';
import { NO_OPENSSL, openssl, opensslVerify } from '../support/openssl.js';

const ID = 'spiffe://cluster.local/ns/shop/sa/cart';
const NOW = Date.UTC(2026, 4, 1, 12, 0, 0);
const HOUR = 3_600_000;

// ---- a test-side reading of extensions, with their criticality -----------------------------------------

interface Extension {
  readonly critical: boolean;
  readonly value: Buffer;
}

function extensionsOf(certificate: X509Certificate): Map<string, Extension> {
  const tbs = a.children(a.parseDer(certificate.raw))[0];
  const wrapper = a.children(tbs).find((field) => a.isContext(field, 3));
  const map = new Map<string, Extension>();
  for (const extension of a.children(a.children(wrapper)[0])) {
    const parts = a.children(extension);
    const critical = parts.length === 3 && a.content(parts[1])?.[0] === 0xff;
    map.set(a.readOid(parts[0]) ?? '?', { critical, value: a.content(parts[parts.length - 1]) ?? Buffer.alloc(0) });
  }
  return map;
}

/** The TBSCertificate fields' DER (version, serial, signature, issuer, validity, subject, spki, extensions). */
function tbsFields(certificate: X509Certificate): Buffer[] {
  const der = certificate.raw;
  const tbs = a.tlvSpan(der, a.tlvSpan(der, 0).contentStart);
  const fields: Buffer[] = [];
  for (let offset = tbs.contentStart; offset < tbs.end; ) {
    const span = a.tlvSpan(der, offset);
    fields.push(der.subarray(span.start, span.end));
    offset = span.end;
  }
  return fields;
}

// ---- fixtures ------------------------------------------------------------------------------------------

function root(type: KeyType = 'ec-p256', name = 'Test root', lifetimeMs = 365 * 24 * HOUR, now = NOW) {
  const key = generateKeySync(type);
  const subjectDer = nameDer([
    [OID.organization, 'Loom'],
    [OID.commonName, name],
  ]);
  const signed = signSelf({ subjectDer, publicKey: key.publicKey, notBefore: new Date(now - 60_000), notAfter: new Date(now + lifetimeMs), isCa: true }, key.privateKey);
  const issuer: SigningIssuer = { subjectDer, privateKey: key.privateKey, keyIdentifier: keyIdentifier(key.publicKey) };
  return { ...signed, key, issuer };
}

function leafTemplate(publicKey: KeyObject, overrides: Partial<CertificateTemplate> = {}): CertificateTemplate {
  return {
    subjectDer: emptyName(),
    publicKey,
    notBefore: new Date(NOW - 5 * 60_000),
    notAfter: new Date(NOW + 24 * HOUR),
    isCa: false,
    uris: [ID],
    ...overrides,
  };
}

// ---- leaves --------------------------------------------------------------------------------------------

t.test('a workload leaf carries exactly what the issue asks for', (t) => {
  const ca = root();
  const key = generateKeySync();
  const leaf = signCertificate(leafTemplate(key.publicKey), ca.issuer).certificate;

  t.equal(leaf.subject ?? '', '', 'empty subject');
  t.equal(tbsFields(leaf)[5]?.toString('hex'), '3000', 'the subject is an empty SEQUENCE');
  t.equal(leaf.subjectAltName, `URI:${ID}`, 'the SPIFFE ID is the only SAN');
  t.equal(leaf.issuer, ca.certificate.subject);
  t.ok(leaf.checkIssued(ca.certificate) && leaf.verify(ca.certificate.publicKey), 'issued and signed by the root');
  t.notOk(leaf.ca, 'not a CA');
  t.equal(Date.parse(leaf.validFrom), NOW - 5 * 60_000);
  t.equal(Date.parse(leaf.validTo), NOW + 24 * HOUR);
  t.same(leaf.keyUsage, [OID.serverAuth, OID.clientAuth], 'extended key usage: server and client auth');

  const extensions = extensionsOf(leaf);
  t.same([...extensions.keys()].sort(), [OID.basicConstraints, OID.keyUsage, OID.extKeyUsage, OID.subjectAltName, OID.subjectKeyIdentifier, OID.authorityKeyIdentifier].sort(), 'no other extension');
  t.same(extensions.get(OID.subjectAltName), { critical: true, value: a.der(a.seq([a.implicitPrimitive(6, ID)])) }, 'SAN critical (empty subject, RFC 5280 4.2.1.6)');
  t.same(extensions.get(OID.basicConstraints), { critical: true, value: Buffer.from('3000', 'hex') }, 'basicConstraints CA:FALSE');
  t.same(keyUsageOf(leaf), [KEY_USAGE.digitalSignature], 'keyUsage: digitalSignature only for an EC key');
  t.equal(extensions.get(OID.keyUsage)?.critical, true, 'keyUsage critical');
  t.equal(extensions.get(OID.extKeyUsage)?.critical, false);
  t.same(subjectKeyIdentifierOf(leaf), keyIdentifier(key.publicKey));
  t.same(
    extensions.get(OID.authorityKeyIdentifier)?.value,
    a.der(a.seq([a.implicitPrimitive(0, keyIdentifier(ca.key.publicKey))])),
    'authorityKeyIdentifier = the issuer key identifier, keyIdentifier form only',
  );
  t.end();
});

t.test('openssl reads the leaf as the issue describes it', { skip: NO_OPENSSL }, (t) => {
  const ca = root();
  const leaf = signCertificate(leafTemplate(generateKeySync().publicKey), ca.issuer);
  const text = openssl(t, ['x509', '-in', 'leaf.pem', '-noout', '-text'], { 'leaf.pem': leaf.pem });
  t.equal(text.status, 0, text.out);
  t.match(text.out, /Version: 3 \(0x2\)/);
  t.match(text.out, /Subject: *\n/);
  t.match(text.out, /X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster\.local\/ns\/shop\/sa\/cart\s*\n/);
  t.match(text.out, /X509v3 Key Usage: critical\s+Digital Signature\s*\n/);
  t.match(text.out, /X509v3 Extended Key Usage: *\s+TLS Web Server Authentication, TLS Web Client Authentication/);
  t.match(text.out, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
  t.match(text.out, /Signature Algorithm: ecdsa-with-SHA256/);
  const akid = /X509v3 Authority Key Identifier: *\s+(?:keyid:)?([0-9A-F:]+)/.exec(text.out)?.[1];
  t.equal(akid?.replace(/:/g, '').toLowerCase(), keyIdentifier(ca.key.publicKey).toString('hex'));
  t.end();
});

for (const purpose of ['sslserver', 'sslclient']) {
  t.test(`openssl verify accepts the leaf against its root (-x509_strict, -purpose ${purpose})`, { skip: NO_OPENSSL }, (t) => {
    const ca = root();
    const leaf = signCertificate(leafTemplate(generateKeySync().publicKey), ca.issuer);
    const result = opensslVerify(t, ca.pem, [leaf.pem], NOW, purpose);
    t.equal(result.status, 0, result.out);
    t.match(result.out, /leaf\.pem: OK/);
    t.end();
  });
}

t.test('openssl verify refuses the leaf against another root and outside its validity', { skip: NO_OPENSSL }, (t) => {
  const ca = root();
  const leaf = signCertificate(leafTemplate(generateKeySync().publicKey), ca.issuer);
  const other = opensslVerify(t, root().pem, [leaf.pem], NOW);
  t.not(other.status, 0, 'same subject name, other key');
  t.not(opensslVerify(t, ca.pem, [leaf.pem], NOW + 25 * HOUR).status, 0, 'expired');
  t.not(opensslVerify(t, ca.pem, [leaf.pem], NOW - HOUR).status, 0, 'not yet valid');
  t.end();
});

t.test('leaves for RSA keys also allow keyEncipherment; every issuer key type signs', { skip: NO_OPENSSL }, (t) => {
  for (const issuerType of ['ec-p256', 'ec-p384', 'rsa-2048'] as const) {
    const ca = root(issuerType);
    for (const leafType of ['ec-p256', 'rsa-2048'] as const) {
      const leaf = signCertificate(leafTemplate(generateKeySync(leafType).publicKey), ca.issuer);
      t.same(keyUsageOf(leaf.certificate), leafType === 'rsa-2048' ? [KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment] : [KEY_USAGE.digitalSignature]);
      const result = opensslVerify(t, ca.pem, [leaf.pem], NOW, 'sslserver');
      t.equal(result.status, 0, `${issuerType} issuer, ${leafType} leaf: ${result.out}`);
    }
    const text = openssl(t, ['x509', '-in', 'root.pem', '-noout', '-text'], { 'root.pem': ca.pem });
    const expected = { 'ec-p256': 'ecdsa-with-SHA256', 'ec-p384': 'ecdsa-with-SHA384', 'rsa-2048': 'sha256WithRSAEncryption' }[issuerType];
    t.match(text.out, `Signature Algorithm: ${expected}`, `${issuerType} signs with ${expected}`);
  }
  t.end();
});

t.test('serials are random, positive and at most 20 octets', (t) => {
  const ca = root();
  const key = generateKeySync();
  const serials = new Set<string>();
  for (let i = 0; i < 20; i += 1) {
    const { certificate } = signCertificate(leafTemplate(key.publicKey), ca.issuer);
    const serialField = tbsFields(certificate)[1] ?? Buffer.alloc(0);
    t.equal(serialField[0], 0x02, 'an INTEGER');
    t.ok((serialField[2] ?? 0x80) < 0x80, 'positive (top bit clear)');
    t.ok((serialField[1] ?? 99) <= 20, 'at most 20 octets');
    serials.add(certificate.serialNumber);
  }
  t.equal(serials.size, 20, 'two leaves never share a serial');
  t.end();
});

t.test('randomSerial: 16 bytes, positive, no redundant leading zero', (t) => {
  for (let i = 0; i < 200; i += 1) {
    const serial = randomSerial();
    t.equal(serial.length, 16);
    if ((serial[0] ?? 0) >= 0x80 || serial[0] === 0) t.fail(`bad first byte ${serial[0]}`);
  }
  t.pass('200 serials checked');
  t.end();
});

t.test('an explicit serial is used as given', (t) => {
  const ca = root();
  const leaf = signCertificate(leafTemplate(generateKeySync().publicKey, { serial: Buffer.of(0x00, 0x00, 0xbe, 0xef) }), ca.issuer).certificate;
  t.equal(leaf.serialNumber.toUpperCase().replace(/^0+/, ''), 'BEEF');
  t.end();
});

t.test('a leaf with DNS names and a subject keeps the SAN non-critical', (t) => {
  const ca = root();
  const leaf = signCertificate(
    leafTemplate(generateKeySync().publicKey, { subjectDer: nameDer([[OID.commonName, 'loom-controller']]), dnsNames: ['loom-controller.loom-system.svc'] }),
    ca.issuer,
  ).certificate;
  t.equal(leaf.subjectAltName, `DNS:loom-controller.loom-system.svc, URI:${ID}`);
  t.equal(extensionsOf(leaf).get(OID.subjectAltName)?.critical, false);
  t.equal(leaf.subject, 'CN=loom-controller');
  t.end();
});

t.test('a leaf with no names has no SAN extension', (t) => {
  const ca = root();
  const leaf = signCertificate(leafTemplate(generateKeySync().publicKey, { uris: [] }), ca.issuer).certificate;
  t.equal(leaf.subjectAltName, undefined);
  t.equal(extensionValue(leaf, OID.subjectAltName), undefined);
  t.end();
});

t.test('signCertificate refuses a signing key Loom does not support', (t) => {
  const ed = generateKeyPairSync('ed25519');
  t.throws(() => signCertificate(leafTemplate(generateKeySync().publicKey), { subjectDer: emptyName(), privateKey: ed.privateKey, keyIdentifier: Buffer.alloc(20) }), {
    message: 'unsupported signing key ed25519',
  });
  t.end();
});

// ---- CA certificates ------------------------------------------------------------------------------------

t.test('a self-signed CA: CA:TRUE, keyCertSign and cRLSign, key identifiers', (t) => {
  const ca = root();
  const cert = ca.certificate;
  t.ok(cert.ca);
  t.ok(cert.checkIssued(cert) && cert.verify(cert.publicKey), 'self-signed');
  t.equal(cert.subject, 'O=Loom\nCN=Test root');
  const extensions = extensionsOf(cert);
  t.same(extensions.get(OID.basicConstraints), { critical: true, value: Buffer.from('30030101ff', 'hex') }, 'CA:TRUE, no path length');
  t.same(keyUsageOf(cert), [KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]);
  t.equal(extensions.get(OID.keyUsage)?.critical, true);
  t.notOk(extensions.has(OID.extKeyUsage), 'no EKU on a CA');
  t.same(subjectKeyIdentifierOf(cert), keyIdentifier(ca.key.publicKey));
  t.end();
});

t.test('a CA with a path length', { skip: NO_OPENSSL }, (t) => {
  const ca = root();
  const key = generateKeySync();
  const intermediate = signCertificate(
    { subjectDer: nameDer([[OID.commonName, 'Intermediate']]), publicKey: key.publicKey, notBefore: new Date(NOW - HOUR), notAfter: new Date(NOW + 48 * HOUR), isCa: true, pathLength: 0 },
    ca.issuer,
  );
  t.same(extensionsOf(intermediate.certificate).get(OID.basicConstraints)?.value, Buffer.from('30060101ff020100', 'hex'));
  const text = openssl(t, ['x509', '-in', 'c.pem', '-noout', '-text'], { 'c.pem': intermediate.pem });
  t.match(text.out, /CA:TRUE, pathlen:0/);
  t.match(text.out, /Certificate Sign, CRL Sign/);

  const leaf = signCertificate(leafTemplate(generateKeySync().publicKey), { subjectDer: subjectDerOf(intermediate.certificate), privateKey: key.privateKey, keyIdentifier: keyIdentifier(key.publicKey) });
  const result = opensslVerify(t, ca.pem, [leaf.pem, intermediate.pem], NOW, 'sslclient');
  t.equal(result.status, 0, `leaf via intermediate: ${result.out}`);
  const missing = opensslVerify(t, ca.pem, [leaf.pem], NOW);
  t.not(missing.status, 0, 'without the intermediate the leaf does not verify');
  t.end();
});

// ---- names, key identifiers ------------------------------------------------------------------------------

t.test('nameDer and emptyName', (t) => {
  t.equal(emptyName().toString('hex'), '3000');
  const name = nameDer([
    [OID.organization, 'Loom'],
    [OID.commonName, 'Zürich CA'],
  ]);
  const ca = root();
  const cert = signSelf({ subjectDer: name, publicKey: ca.key.publicKey, notBefore: new Date(NOW), notAfter: new Date(NOW + HOUR), isCa: true }, ca.key.privateKey).certificate;
  t.equal(cert.subject, 'O=Loom\nCN=Zürich CA', 'UTF8String values, in order');
  t.same(subjectDerOf(cert), name);
  t.end();
});

t.test('subjectDerOf returns the exact subject bytes, also of certificates made by openssl', { skip: NO_OPENSSL }, (t) => {
  const made = openssl(t, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem',
    '-subj', '/C=US/ST=Some State/O=Operator, Inc./CN=Operator CA', '-days', '2',
  ]);
  t.equal(made.status, 0, made.out);
  const cert = new X509Certificate(made.read('c.pem'));
  const fields = tbsFields(cert);
  t.same(subjectDerOf(cert), fields[5], 'the subject field, byte for byte');
  t.same(subjectDerOf(cert), fields[3], 'a self-signed certificate: equal to its issuer field');
  t.end();
});

t.test('keyIdentifier is RFC 5280 method 1, as openssl computes it', { skip: NO_OPENSSL }, (t) => {
  for (const algorithm of [['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], ['-newkey', 'rsa:2048']]) {
    const made = openssl(t, ['req', '-x509', ...algorithm, '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-subj', '/CN=x', '-days', '1', '-addext', 'subjectKeyIdentifier=hash']);
    t.equal(made.status, 0, made.out);
    const cert = new X509Certificate(made.read('c.pem'));
    t.same(keyIdentifier(cert.publicKey), subjectKeyIdentifierOf(cert), algorithm.join(' '));
  }
  t.end();
});

t.test('keyIdentifier is the SHA-1 of the subjectPublicKey bits', (t) => {
  const { publicKey } = generateKeySync();
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // For P-256 the key bits are the last 65 bytes (uncompressed point) of the SPKI.
  t.same(keyIdentifier(publicKey), createHash('sha1').update(spki.subarray(spki.length - 65)).digest());
  t.end();
});

// ---- validity encoding around 2050 -----------------------------------------------------------------------

t.test('validity: UTCTime through 2049, GeneralizedTime from 2050, read back by node and openssl', (t) => {
  const ca = root();
  const cases = [
    { notAfter: Date.UTC(2049, 11, 31, 23, 59, 59), tag: 0x17 },
    { notAfter: Date.UTC(2050, 0, 1, 0, 0, 0), tag: 0x18 },
    { notAfter: Date.UTC(2099, 5, 30, 12, 0, 0), tag: 0x18 },
  ];
  for (const { notAfter, tag } of cases) {
    const signed = signCertificate(leafTemplate(generateKeySync().publicKey, { notAfter: new Date(notAfter + 999) }), ca.issuer);
    const validity = tbsFields(signed.certificate)[4] ?? Buffer.alloc(0);
    const notBeforeTag = validity[2];
    const notAfterTag = validity[2 + 2 + (validity[3] ?? 0)];
    t.equal(notBeforeTag, 0x17, 'notBefore (2026) is a UTCTime');
    t.equal(notAfterTag, tag, `notAfter ${new Date(notAfter).toISOString()} is a ${tag === 0x17 ? 'UTCTime' : 'GeneralizedTime'}`);
    t.equal(Date.parse(signed.certificate.validTo), notAfter, 'node reads it back (milliseconds dropped)');
    if (NO_OPENSSL === false) {
      const end = openssl(t, ['x509', '-in', 'c.pem', '-noout', '-enddate'], { 'c.pem': signed.pem });
      t.equal(Date.parse(end.out.trim().replace(/^notAfter=/, '')), notAfter, `openssl reads ${end.out.trim()}`);
    }
  }
  t.end();
});

t.test('a root valid past 2050 verifies a leaf with openssl', { skip: NO_OPENSSL }, (t) => {
  const ca = root('ec-p256', 'Long root', 40 * 365 * 24 * HOUR);
  t.ok(Date.parse(ca.certificate.validTo) > Date.UTC(2050, 0, 1));
  const leaf = signCertificate(leafTemplate(generateKeySync().publicKey, { notAfter: new Date(Date.UTC(2051, 0, 1)) }), ca.issuer);
  t.equal(opensslVerify(t, ca.pem, [leaf.pem], NOW).status, 0, 'now');
  const late = opensslVerify(t, ca.pem, [leaf.pem], Date.UTC(2050, 6, 1));
  t.equal(late.status, 0, `in 2050: ${late.out}`);
  t.end();
});

// ---- extension readers ------------------------------------------------------------------------------------

t.test('extensionValue, subjectKeyIdentifierOf and keyUsageOf on certificates without them', { skip: NO_OPENSSL }, (t) => {
  const made = openssl(t, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-subj', '/CN=bare', '-days', '1',
    '-addext', 'subjectKeyIdentifier=none', '-addext', 'authorityKeyIdentifier=none', '-addext', 'basicConstraints=critical,CA:TRUE',
  ]);
  t.equal(made.status, 0, made.out);
  const cert = new X509Certificate(made.read('c.pem'));
  t.equal(subjectKeyIdentifierOf(cert), undefined);
  t.equal(keyUsageOf(cert), undefined);
  t.equal(extensionValue(cert, OID.subjectAltName), undefined);
  t.same(extensionValue(cert, OID.basicConstraints), Buffer.from('30030101ff', 'hex'));
  t.end();
});

t.test('keyUsageOf reads every bit openssl sets', { skip: NO_OPENSSL }, (t) => {
  const made = openssl(t, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-subj', '/CN=ku', '-days', '1',
    '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign,decipherOnly',
  ]);
  t.equal(made.status, 0, made.out);
  t.same(keyUsageOf(new X509Certificate(made.read('c.pem'))), [0, 2, 5, 8], 'decipherOnly is bit 8, in the second byte');
  t.end();
});
