import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as a from '../../src/identity/asn1.js';
import { CsrError, OID_EXTENSION_REQUEST, OID_SUBJECT_ALT_NAME, algorithmIdentifier, createCsr, generalNames, parseCsr, readGeneralNames } from '../../src/identity/csr.js';
import { generateKeySync, signatureAlgorithm, type KeyType } from '../../src/identity/keys.js';
import { pemDecodeAll, pemEncode } from '../../src/identity/pem.js';

const ID = 'spiffe://cluster.local/ns/shop/sa/cart';

// ---- openssl as an independent oracle (assertions skipped when it is not installed) ----------------------
const NO_OPENSSL = spawnSync('openssl', ['version']).status === 0 ? false : 'openssl is not on PATH';

/** Runs openssl in a temp dir holding `files`; `read` returns a file openssl wrote there. */
function openssl(t: Test, args: readonly string[], files: Readonly<Record<string, string>> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'loom-csr-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const run = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  return { status: run.status, out: `${run.stdout}${run.stderr}`, read: (name: string) => readFileSync(join(dir, name), 'utf8') };
}

/** A CSR made by openssl from a key it generated (`genpkey` arguments), with the given -addext values. */
function opensslCsr(t: Test, genpkey: readonly string[], addext: readonly string[], subject = '/'): string {
  const key = openssl(t, ['genpkey', ...genpkey, '-out', 'key.pem']);
  t.equal(key.status, 0, key.out);
  const req = openssl(t, ['req', '-new', '-key', 'key.pem', '-subj', subject, ...addext.flatMap((ext) => ['-addext', ext]), '-out', 'req.pem'], {
    'key.pem': key.read('key.pem'),
  });
  t.equal(req.status, 0, req.out);
  return req.read('req.pem');
}

const P256 = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];

// ---- helpers to forge CSRs ---------------------------------------------------------------------------

const derOf = (pem: string): Buffer => pemDecodeAll(pem)[0]?.der ?? Buffer.alloc(0);
const spki = (key: KeyObject): Buffer => key.export({ type: 'spki', format: 'der' });

/** A CSR with arbitrary requested extensions (each [oid, value DER]), signed by `key`. */
function handmadeCsr(type: KeyType, extensions: readonly (readonly [string, Buffer])[]): string {
  const { privateKey, publicKey } = generateKeySync(type);
  const requested = a.seq(extensions.map(([oid, value]) => a.seq([a.oid(oid), a.octets(value)])));
  const info = a.sequenceDer([a.smallInteger(0), a.seq([]), spki(publicKey), a.implicitConstructed(0, [a.seq([a.oid(OID_EXTENSION_REQUEST), a.set([requested])])])]);
  const algorithm = signatureAlgorithm(type);
  const signature = sign(algorithm.digest, info, privateKey);
  return pemEncode('CERTIFICATE REQUEST', a.sequenceDer([info, algorithmIdentifier(algorithm.oid, algorithm.nullParams), a.bitString(signature)]));
}

/** The CSR's info, algorithm and signature DER, for re-assembling altered requests. */
function partsOf(pem: string): { info: Buffer; algorithm: Buffer; signature: Buffer } {
  const der = derOf(pem);
  const outer = a.tlvSpan(der, 0);
  const info = a.tlvSpan(der, outer.contentStart);
  const algorithm = a.tlvSpan(der, info.end);
  const signature = a.tlvSpan(der, algorithm.end);
  return { info: der.subarray(info.start, info.end), algorithm: der.subarray(algorithm.start, algorithm.end), signature: der.subarray(signature.start, signature.end) };
}

function refusal(t: Test, pem: string, message: string | RegExp, label: string): void {
  try {
    parseCsr(pem);
    t.fail(`${label}: accepted`);
  } catch (error) {
    t.ok(error instanceof CsrError, `${label}: a CsrError`);
    t.match((error as Error).message, message, label);
    t.notMatch((error as Error).message, /\n/, `${label}: one line`);
  }
}

// ---- round trips ------------------------------------------------------------------------------------

for (const type of ['ec-p256', 'ec-p384', 'rsa-2048'] as const) {
  t.test(`createCsr/parseCsr round trip with ${type}`, (t) => {
    const key = generateKeySync(type);
    const pem = createCsr({ ...key, uris: [ID] });
    t.match(pem, /^-----BEGIN CERTIFICATE REQUEST-----\n[\s\S]+\n-----END CERTIFICATE REQUEST-----\n$/);
    const csr = parseCsr(pem);
    t.equal(csr.keyType, type);
    t.same(spki(csr.publicKey), spki(key.publicKey), 'the public key is the one the CSR was made for');
    t.same(csr.sans, { uris: [ID], dnsNames: [], ipAddresses: [], emails: [], others: 0 });
    t.same(csr.otherExtensions, []);
    t.equal(csr.subjectDer.toString('hex'), '3000', 'empty subject');
    t.end();
  });

  t.test(`openssl accepts our ${type} CSR`, { skip: NO_OPENSSL }, (t) => {
    const pem = createCsr({ ...generateKeySync(type), uris: [ID], dnsNames: ['cart.shop.svc'] });
    const verified = openssl(t, ['req', '-in', 'req.pem', '-verify', '-noout', '-text'], { 'req.pem': pem });
    t.equal(verified.status, 0, verified.out);
    t.match(verified.out, /verify OK/i);
    t.match(verified.out, `URI:${ID}`);
    t.match(verified.out, 'DNS:cart.shop.svc');
    t.match(verified.out, /Version: 1 \(0x0\)/);
    t.end();
  });
}

t.test('createCsr carries DNS names and several URIs when asked', (t) => {
  const csr = parseCsr(createCsr({ ...generateKeySync(), uris: [ID, 'spiffe://cluster.local/ns/x/sa/y'], dnsNames: ['a.example', 'b.example'] }));
  t.same(csr.sans.uris, [ID, 'spiffe://cluster.local/ns/x/sa/y']);
  t.same(csr.sans.dnsNames, ['a.example', 'b.example']);
  t.end();
});

t.test('names outside ASCII (IA5String) are refused, not written as Latin-1 bytes', (t) => {
  const key = generateKeySync();
  t.throws(() => createCsr({ ...key, uris: ['spiffe://cluster.local/ns/café/sa/x'] }), {
    name: 'CsrError',
    message: 'URI "spiffe://cluster.local/ns/café/sa/x" has characters outside ASCII (an IA5String); percent-encode or punycode it',
  });
  t.throws(() => createCsr({ ...key, uris: [ID], dnsNames: ['bücher.example'] }), { name: 'CsrError', message: /^DNS name "bücher\.example" has characters outside ASCII/ });
  t.throws(() => generalNames([`spiffe://td/ns/a/sa/${'é'.repeat(300)}`], []), { name: 'CsrError', message: /…\(120 more characters\) has characters outside ASCII/ }, 'the name is cut');
  t.throws(() => generalNames(['spiffe://td/\u{1F600}'], []), { name: 'CsrError' }, 'astral characters');
  t.same(readGeneralNames(a.der(generalNames(['spiffe://td/ns/a/sa/b~%C3%A9'], ['xn--bcher-kva.example']))), { uris: ['spiffe://td/ns/a/sa/b~%C3%A9'], dnsNames: ['xn--bcher-kva.example'], ipAddresses: [], emails: [], others: 0 }, 'ASCII round-trips');
  t.end();
});

t.test('createCsr refuses a key Loom does not accept', (t) => {
  const ed = generateKeyPairSync('ed25519');
  t.throws(() => createCsr({ ...ed, uris: [ID] }), new CsrError('unsupported key ed25519'));
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
  t.throws(() => createCsr({ ...small, uris: [ID] }), { name: 'CsrError', message: 'unsupported key rsa (1024 bits)' });
  t.end();
});

t.test('a CSR made by openssl parses, with every kind of SAN reported', { skip: NO_OPENSSL }, (t) => {
  const pem = opensslCsr(t, P256, [`subjectAltName=URI:${ID},DNS:a.example,IP:10.0.0.1,IP:2001:db8::1,email:ops@example.com,URI:https://example.com/x`]);
  const csr = parseCsr(pem);
  t.equal(csr.keyType, 'ec-p256');
  t.same(csr.sans.uris, [ID, 'https://example.com/x']);
  t.same(csr.sans.dnsNames, ['a.example']);
  t.same(csr.sans.ipAddresses, ['10.0.0.1', '2001:0db8:0000:0000:0000:0000:0000:0001']);
  t.same(csr.sans.emails, ['ops@example.com']);
  t.equal(csr.sans.others, 0);
  t.same(csr.otherExtensions, []);
  t.end();
});

t.test('openssl CSRs: other name kinds are counted, other extensions and attributes listed', { skip: NO_OPENSSL }, (t) => {
  const pem = opensslCsr(
    t,
    P256,
    [`subjectAltName=URI:${ID},RID:1.2.3.4,otherName:1.2.3.4;UTF8:hello`, 'basicConstraints=critical,CA:TRUE', 'keyUsage=keyCertSign'],
    '/CN=cart',
  );
  const csr = parseCsr(pem);
  t.same(csr.sans.uris, [ID]);
  t.equal(csr.sans.others, 2, 'registeredID and otherName counted');
  t.same(csr.otherExtensions, ['2.5.29.19', '2.5.29.15']);
  t.not(csr.subjectDer.toString('hex'), '3000', 'the subject is read (and never copied into a leaf)');
  t.end();
});

t.test('an openssl CSR without extensions has no SANs', { skip: NO_OPENSSL }, (t) => {
  const csr = parseCsr(opensslCsr(t, P256, [], '/CN=only-a-name'));
  t.same(csr.sans, { uris: [], dnsNames: [], ipAddresses: [], emails: [], others: 0 });
  t.same(csr.otherExtensions, []);
  t.end();
});

t.test('keys Loom does not accept still parse, with no key type (the CA refuses them)', { skip: NO_OPENSSL }, (t) => {
  const rsa1024 = parseCsr(opensslCsr(t, ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'], [`subjectAltName=URI:${ID}`]));
  t.equal(rsa1024.keyType, undefined);
  t.equal(rsa1024.publicKey.asymmetricKeyDetails?.modulusLength, 1024);
  const ed25519 = parseCsr(opensslCsr(t, ['-algorithm', 'ed25519'], [`subjectAltName=URI:${ID}`]));
  t.equal(ed25519.keyType, undefined);
  t.equal(ed25519.publicKey.asymmetricKeyType, 'ed25519');
  t.same(ed25519.sans.uris, [ID]);
  t.end();
});

// ---- tampering ---------------------------------------------------------------------------------------

for (const type of ['ec-p256', 'rsa-2048'] as const) {
  t.test(`a ${type} CSR with a flipped byte in its signature does not verify`, (t) => {
    const der = derOf(createCsr({ ...generateKeySync(type), uris: [ID] }));
    for (const back of [1, 8, 20]) {
      const tampered = Buffer.from(der);
      tampered[tampered.length - back] = (tampered[tampered.length - back] ?? 0) ^ 0x01;
      refusal(t, pemEncode('CERTIFICATE REQUEST', tampered), 'CSR signature does not verify against its public key', `byte -${back}`);
    }
    t.end();
  });

  t.test(`a ${type} CSR with a flipped byte in its request info does not verify`, (t) => {
    const der = derOf(createCsr({ ...generateKeySync(type), uris: [ID] }));
    const at = der.indexOf('shop');
    t.ok(at > 0);
    const tampered = Buffer.from(der);
    tampered[at] = 'S'.charCodeAt(0); // asks for ns/Shop: a different identity under the same signature
    refusal(t, pemEncode('CERTIFICATE REQUEST', tampered), 'CSR signature does not verify against its public key', 'SAN changed');
    t.end();
  });
}

t.test('a signature from another key does not verify', (t) => {
  const mine = partsOf(createCsr({ ...generateKeySync(), uris: [ID] }));
  const other = partsOf(createCsr({ ...generateKeySync(), uris: [ID] }));
  refusal(t, pemEncode('CERTIFICATE REQUEST', a.sequenceDer([mine.info, mine.algorithm, other.signature])), 'does not verify', 'swapped signature');
  t.end();
});

t.test('a signature algorithm that does not belong to the key is refused', (t) => {
  const rsa = partsOf(createCsr({ ...generateKeySync('rsa-2048'), uris: [ID] }));
  const labelledEcdsa = a.sequenceDer([rsa.info, algorithmIdentifier('1.2.840.10045.4.3.2', false), rsa.signature]);
  refusal(t, pemEncode('CERTIFICATE REQUEST', labelledEcdsa), 'CSR signature algorithm 1.2.840.10045.4.3.2 is not supported for its rsa (2048 bits) key', 'RSA labelled ECDSA');
  const ec = partsOf(createCsr({ ...generateKeySync(), uris: [ID] }));
  const sha1 = a.sequenceDer([ec.info, algorithmIdentifier('1.2.840.10045.4.1', false), ec.signature]);
  refusal(t, pemEncode('CERTIFICATE REQUEST', sha1), 'CSR signature algorithm 1.2.840.10045.4.1 is not supported', 'ecdsa-with-SHA1');
  const missing = a.sequenceDer([ec.info, a.seq([]), ec.signature]);
  refusal(t, pemEncode('CERTIFICATE REQUEST', missing), 'CSR signature algorithm (missing) is not supported', 'no algorithm');
  t.end();
});

t.test('a signature BIT STRING with unused bits is refused', (t) => {
  const ec = partsOf(createCsr({ ...generateKeySync(), uris: [ID] }));
  const signature = a.content(a.parseDer(ec.signature)) ?? Buffer.alloc(0);
  const odd = a.sequenceDer([ec.info, ec.algorithm, a.bitString(signature.subarray(1), 1)]);
  refusal(t, pemEncode('CERTIFICATE REQUEST', odd), 'CSR signature is not a whole-byte BIT STRING', 'unused bits');
  t.end();
});

// ---- malformed input ---------------------------------------------------------------------------------

t.test('malformed CSRs are CsrErrors with clear one-line messages', (t) => {
  const good = createCsr({ ...generateKeySync(), uris: [ID] });
  const der = derOf(good);
  const cases: [pem: string, message: string | RegExp, label: string][] = [
    ['', 'expected exactly one "CERTIFICATE REQUEST" PEM block, found no PEM block', 'empty'],
    ['garbage', 'found no PEM block', 'garbage'],
    [good + good, 'found "CERTIFICATE REQUEST", "CERTIFICATE REQUEST"', 'two blocks'],
    [good.replace(/CERTIFICATE REQUEST/g, 'CERTIFICATE'), 'found "CERTIFICATE"', 'wrong label'],
    [good.replace(/-----END[^\n]*\n$/, ''), 'found an unterminated PEM block', 'no END line'],
    [good.repeat(8), 'found "CERTIFICATE REQUEST", "CERTIFICATE REQUEST", "CERTIFICATE REQUEST", "CERTIFICATE REQUEST", "CERTIFICATE REQUEST" and 3 more', 'eight blocks'],
    [good.replace(/CERTIFICATE REQUEST/g, 'X'.repeat(100)), `found "${'X'.repeat(40)}"…(60 more characters)`, 'a long label'],
    [good.replace('-----END CERTIFICATE REQUEST', '-----END CERTIFICATE'), /^CSR is not valid PEM: PEM block "BEGIN CERTIFICATE REQUEST" ends with "END CERTIFICATE"$/, 'mismatched END'],
    [good.replace(/\n[A-Za-z0-9+/]{4}/, '\n!!!!'), 'CSR is not valid PEM: PEM block "CERTIFICATE REQUEST" is not base64', 'not base64'],
    [pemEncode('CERTIFICATE REQUEST', Buffer.concat([der, Buffer.of(0)])), 'CSR has trailing bytes after the request', 'trailing bytes'],
    [pemEncode('CERTIFICATE REQUEST', der.subarray(0, der.length - 10)), /^CSR is not a valid PKCS#10 request: truncated DER$/, 'truncated'],
    [pemEncode('CERTIFICATE REQUEST', Buffer.alloc(0)), /^CSR is not a valid PKCS#10 request: /, 'empty DER'],
    [pemEncode('CERTIFICATE REQUEST', Buffer.from('3003020100', 'hex')), 'CSR does not have the PKCS#10 structure', 'a SEQUENCE of one INTEGER'],
    [pemEncode('CERTIFICATE REQUEST', Buffer.from('300430050201', 'hex')), /^CSR is not a valid PKCS#10 request: truncated DER$/, 'inner TLV overruns'],
  ];
  for (const [pem, message, label] of cases) refusal(t, pem, message, label);
  t.end();
});

t.test('a CSR whose version is not v1 (0) is refused', (t) => {
  const { privateKey, publicKey } = generateKeySync();
  const info = a.sequenceDer([a.smallInteger(1), a.seq([]), spki(publicKey)]);
  const pem = pemEncode('CERTIFICATE REQUEST', a.sequenceDer([info, algorithmIdentifier('1.2.840.10045.4.3.2', false), a.bitString(sign('sha256', info, privateKey))]));
  refusal(t, pem, 'CSR version is not PKCS#10 v1', 'version 2');
  t.end();
});

t.test('a CSR whose public key cannot be read is refused', (t) => {
  const { privateKey } = generateKeySync();
  const info = a.sequenceDer([a.smallInteger(0), a.seq([]), a.seq([a.seq([a.oid('1.2.840.10045.2.1'), a.oid('1.2.840.10045.3.1.7')]), a.bitString(Buffer.of(4, 1, 2))])]);
  const pem = pemEncode('CERTIFICATE REQUEST', a.sequenceDer([info, algorithmIdentifier('1.2.840.10045.4.3.2', false), a.bitString(sign('sha256', info, privateKey))]));
  refusal(t, pem, 'CSR public key is not readable', 'bad point');
  t.end();
});

t.test('a CSR requesting subjectAltName twice reports the names of both', (t) => {
  const first = a.der(generalNames([ID], []));
  const second = a.der(generalNames(['spiffe://cluster.local/ns/kube-system/sa/admin'], ['evil.example']));
  const csr = parseCsr(handmadeCsr('ec-p256', [[OID_SUBJECT_ALT_NAME, first], [OID_SUBJECT_ALT_NAME, second]]));
  t.same(csr.sans.uris, [ID, 'spiffe://cluster.local/ns/kube-system/sa/admin']);
  t.same(csr.sans.dnsNames, ['evil.example']);
  t.end();
});

t.test('a subjectAltName that is not GeneralNames is refused', (t) => {
  refusal(t, handmadeCsr('ec-p256', [[OID_SUBJECT_ALT_NAME, a.der(a.nullValue())]]), 'subjectAltName is not a SEQUENCE', 'NULL SAN');
  refusal(t, handmadeCsr('ec-p256', [[OID_SUBJECT_ALT_NAME, Buffer.from('30ff', 'hex')]]), /^CSR is not a valid PKCS#10 request: /, 'truncated SAN');
  t.end();
});

t.test('readGeneralNames', (t) => {
  const names = a.der(
    a.seq([
      a.implicitPrimitive(6, ID),
      a.implicitPrimitive(2, 'a.example'),
      a.implicitPrimitive(1, 'x@example.com'),
      a.implicitPrimitive(7, Buffer.of(192, 168, 0, 1)),
      a.implicitPrimitive(7, Buffer.of(1, 2, 3)),
      a.implicitPrimitive(8, a.der(a.oid('1.2.3')).subarray(2)),
      a.implicitConstructed(4, [a.seq([])]),
    ]),
  );
  t.same(readGeneralNames(names), {
    uris: [ID],
    dnsNames: ['a.example'],
    emails: ['x@example.com'],
    ipAddresses: ['192.168.0.1', '<3-byte address>'],
    others: 2,
  });
  t.same(readGeneralNames(a.der(a.seq([]))), { uris: [], dnsNames: [], ipAddresses: [], emails: [], others: 0 });
  t.end();
});

t.test('CsrError', (t) => {
  const error = new CsrError('x');
  t.equal(error.name, 'CsrError');
  t.ok(error instanceof Error);
  t.end();
});
