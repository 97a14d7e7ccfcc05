import t, { type Test } from 'tap';
import { X509Certificate, generateKeyPairSync, sign } from 'node:crypto';
import { asn1 as a, algorithmIdentifier, createCsr, generateKeySync, pemDecodeAll, pemEncode, spiffeId, type KeyType, type WorkloadIdentity } from '@loom/shared/identity';
import {
  CertificateAuthority,
  CsrRefused,
  DEFAULT_CLOCK_SKEW_MS,
  DEFAULT_LEAF_LIFETIME_MS,
  MIN_LEAF_LIFETIME_MS,
  describeIdentity,
  parseChain,
  type AuthorityOptions,
} from '../src/authority.js';
import { createRoot, DAY_MS, type Issuer } from '../src/issuer.js';
import type { CaMaterial } from '../src/material.js';
import { mintIntermediate } from '../src/testing/index.js';
import { uriSans, verifyChain } from '../src/verify.js';
import { keyUsageOf } from '../src/x509/certificate.js';
import { KEY_USAGE, OID } from '../src/x509/oids.js';
import { NO_OPENSSL, P256, opensslCsr, opensslVerify } from './support/openssl.js';

const TD = 'cluster.local';
const NOW = Date.UTC(2026, 4, 1, 12, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const caller: WorkloadIdentity = { trustDomain: TD, namespace: 'a', serviceAccount: 'x' };
const CALLER_ID = spiffeId(TD, 'a', 'x');

// ---- fixtures ------------------------------------------------------------------------------------------

/** A root made a day before NOW (so backdating is not clamped), and an authority on it at NOW. */
function authorityFor(issuer: Issuer = createRoot({ trustDomain: TD, now: NOW - DAY_MS }), options: Partial<AuthorityOptions> = {}, bundle?: readonly X509Certificate[]) {
  const material: CaMaterial = { issuer, bundle: bundle ?? [issuer.root] };
  return { issuer, material, authority: new CertificateAuthority(material, { trustDomain: TD, now: () => NOW, ...options }) };
}

const csrFor = (id: string, type: KeyType = 'ec-p256', dnsNames: readonly string[] = []): string => createCsr({ ...generateKeySync(type), uris: [id], dnsNames });

function refusal(t: Test, work: () => unknown, code: CsrRefused['code'], message: string | RegExp, label: string): CsrRefused | undefined {
  try {
    work();
    t.fail(`${label}: issued`);
  } catch (error) {
    t.ok(error instanceof CsrRefused, `${label}: a CsrRefused (${(error as Error).name}: ${(error as Error).message})`);
    if (!(error instanceof CsrRefused)) return undefined;
    t.equal(error.code, code, `${label}: ${code}`);
    t.match(error.message, message, label);
    t.notMatch(error.message, /\n/, `${label}: one line`);
    return error;
  }
  return undefined;
}

// ---- issuing --------------------------------------------------------------------------------------------

t.test('signWorkloadCsr issues a leaf for the caller, as the issue specifies', (t) => {
  const { issuer, authority } = authorityFor();
  const key = generateKeySync();
  const issued = authority.signWorkloadCsr(createCsr({ ...key, uris: [CALLER_ID] }), caller);
  const leaf = new X509Certificate(issued.certificatePem);

  t.same(issued.chain, [issued.certificatePem], 'a root issuer: the chain is the leaf alone');
  t.same(issued.trustBundle, [issuer.pem]);
  t.same(uriSans(leaf), [CALLER_ID], 'exactly the SPIFFE ID');
  t.equal(leaf.subjectAltName, `URI:${CALLER_ID}`, 'and no other SAN');
  t.ok(leaf.publicKey.equals(key.publicKey), "the CSR's key");
  t.equal(issued.serial, leaf.serialNumber);
  t.equal(issued.notBefore.getTime(), NOW - DEFAULT_CLOCK_SKEW_MS, 'backdated by the clock-skew allowance');
  t.equal(DEFAULT_CLOCK_SKEW_MS, 5 * MINUTE);
  t.equal(issued.notAfter.getTime(), NOW + DEFAULT_LEAF_LIFETIME_MS, '24 h from now');
  t.equal(DEFAULT_LEAF_LIFETIME_MS, 24 * HOUR);
  t.equal(Date.parse(leaf.validFrom), issued.notBefore.getTime());
  t.equal(Date.parse(leaf.validTo), issued.notAfter.getTime());
  const life = issued.notAfter.getTime() - issued.notBefore.getTime();
  t.equal(issued.renewAfter.getTime(), issued.notBefore.getTime() + Math.floor((life * 2) / 3), 'renewAfter = notBefore + 2/3 of the life');
  t.same(keyUsageOf(leaf), [KEY_USAGE.digitalSignature]);
  t.same(leaf.keyUsage, [OID.serverAuth, OID.clientAuth]);

  const verified = verifyChain(issued.chain, issued.trustBundle, NOW);
  t.same(verified.identity, caller);
  t.end();
});

t.test('openssl verifies issued leaves for server and client use', { skip: NO_OPENSSL }, (t) => {
  const { authority } = authorityFor();
  const issued = authority.signWorkloadCsr(csrFor(CALLER_ID), caller);
  for (const purpose of ['sslserver', 'sslclient']) {
    const result = opensslVerify(t, issued.trustBundle, issued.chain, NOW, purpose);
    t.equal(result.status, 0, `${purpose}: ${result.out}`);
  }
  t.end();
});

t.test('a CSR made by openssl is signed', { skip: NO_OPENSSL }, (t) => {
  const { authority } = authorityFor();
  const issued = authority.signWorkloadCsr(opensslCsr(t, P256, [`subjectAltName=URI:${CALLER_ID}`]), caller);
  t.same(uriSans(new X509Certificate(issued.certificatePem)), [CALLER_ID]);
  t.end();
});

t.test('accepted key types: P-256, P-384, RSA-2048', (t) => {
  const { authority } = authorityFor();
  for (const type of ['ec-p256', 'ec-p384', 'rsa-2048'] as const) {
    const leaf = new X509Certificate(authority.signWorkloadCsr(csrFor(CALLER_ID, type), caller).certificatePem);
    t.equal(leaf.publicKey.asymmetricKeyType, type.startsWith('ec') ? 'ec' : 'rsa', type);
  }
  t.end();
});

t.test('the injected clock is honoured for every signature', (t) => {
  let clock = NOW;
  const { authority } = authorityFor(undefined, { now: () => clock });
  const first = authority.signWorkloadCsr(csrFor(CALLER_ID), caller);
  clock += 3 * HOUR;
  const second = authority.signWorkloadCsr(csrFor(CALLER_ID), caller);
  t.equal(second.notBefore.getTime() - first.notBefore.getTime(), 3 * HOUR);
  t.equal(second.notAfter.getTime(), clock + DEFAULT_LEAF_LIFETIME_MS);
  t.not(first.serial, second.serial, 'serials differ');
  t.end();
});

t.test('leaf lifetime and clock skew are configurable', (t) => {
  const { authority } = authorityFor(undefined, { leafLifetimeMs: 2 * HOUR, clockSkewMs: MINUTE });
  const issued = authority.signWorkloadCsr(csrFor(CALLER_ID), caller);
  t.equal(issued.notBefore.getTime(), NOW - MINUTE);
  t.equal(issued.notAfter.getTime(), NOW + 2 * HOUR);
  const unskewed = authorityFor(undefined, { clockSkewMs: 0 }).authority.signWorkloadCsr(csrFor(CALLER_ID), caller);
  t.equal(unskewed.notBefore.getTime(), NOW);
  t.end();
});

t.test('a leaf never starts before its issuer', (t) => {
  const young = createRoot({ trustDomain: TD, now: NOW }); // valid from NOW - 1 minute
  const issued = authorityFor(young).authority.signWorkloadCsr(csrFor(CALLER_ID), caller);
  t.equal(issued.notBefore.getTime(), Date.parse(young.certificate.validFrom));
  t.end();
});

t.test("a leaf never outlives its issuer; an issuer about to expire issues nothing", (t) => {
  const ending = createRoot({ trustDomain: TD, now: NOW - DAY_MS, lifetimeMs: DAY_MS + 2 * HOUR }); // expires at NOW + 2 h
  const issued = authorityFor(ending).authority.signWorkloadCsr(csrFor(CALLER_ID), caller);
  t.equal(issued.notAfter.getTime(), NOW + 2 * HOUR, 'clamped to the issuer notAfter');
  t.equal(issued.renewAfter.getTime(), issued.notBefore.getTime() + Math.floor(((issued.notAfter.getTime() - issued.notBefore.getTime()) * 2) / 3));

  const closing = createRoot({ trustDomain: TD, now: NOW - DAY_MS, lifetimeMs: DAY_MS + MIN_LEAF_LIFETIME_MS - 1000 });
  const expiry = new Date(Date.parse(closing.certificate.validTo)).toISOString();
  t.throws(() => authorityFor(closing).authority.signWorkloadCsr(csrFor(CALLER_ID), caller), {
    message: `the issuer expires at ${expiry}: too soon to issue leaves; rotate the CA (loom ca rotate)`,
  });
  const justEnough = createRoot({ trustDomain: TD, now: NOW - DAY_MS, lifetimeMs: DAY_MS + MIN_LEAF_LIFETIME_MS });
  t.equal(authorityFor(justEnough).authority.signWorkloadCsr(csrFor(CALLER_ID), caller).notAfter.getTime(), NOW + MIN_LEAF_LIFETIME_MS, 'exactly 10 minutes left: issued');
  t.end();
});

t.test('an intermediate issuer: leaves carry [leaf, intermediate, ...its chain]', { skip: false }, (t) => {
  const root = createRoot({ trustDomain: TD, now: NOW - DAY_MS });
  const intermediate = mintIntermediate(root, { now: NOW - DAY_MS });
  const { authority } = authorityFor(intermediate);
  const issued = authority.signWorkloadCsr(csrFor(CALLER_ID), caller);
  t.same(issued.chain, [issued.certificatePem, intermediate.pem]);
  t.same(issued.trustBundle, [root.pem], 'the bundle holds the root, not the intermediate');
  t.equal(verifyChain(issued.chain, issued.trustBundle, NOW).root.fingerprint256, root.certificate.fingerprint256);
  if (NO_OPENSSL === false) {
    const result = opensslVerify(t, issued.trustBundle, issued.chain, NOW, 'sslclient');
    t.equal(result.status, 0, result.out);
  }

  const second = mintIntermediate(intermediate, { now: NOW - DAY_MS, name: 'Second level' });
  const deep = authorityFor(second).authority.signWorkloadCsr(csrFor(CALLER_ID), caller);
  t.same(deep.chain, [deep.certificatePem, second.pem, intermediate.pem]);
  t.ok(verifyChain(deep.chain, [root.pem], NOW));
  t.end();
});

// ---- refusals -------------------------------------------------------------------------------------------

t.test('a CSR asking for another identity is refused with PERMISSION_DENIED', (t) => {
  const { authority } = authorityFor();
  const other = spiffeId(TD, 'b', 'y');
  const error = refusal(t, () => authority.signWorkloadCsr(csrFor(other), caller), 'permission-denied', /^token is for ns\/a sa\/x, CSR asks for ns\/b sa\/y$/, 'other ns and sa');
  t.equal(error?.requested, other, 'what was asked for is reported');
  refusal(t, () => authority.signWorkloadCsr(csrFor(spiffeId(TD, 'a', 'y')), caller), 'permission-denied', 'token is for ns/a sa/x, CSR asks for ns/a sa/y', 'other sa');
  refusal(t, () => authority.signWorkloadCsr(csrFor(spiffeId(TD, 'b', 'x')), caller), 'permission-denied', 'token is for ns/a sa/x, CSR asks for ns/b sa/x', 'other ns');
  t.end();
});

t.test('a CSR for another trust domain is refused', (t) => {
  const { authority } = authorityFor();
  refusal(t, () => authority.signWorkloadCsr(csrFor(spiffeId('evil.example', 'a', 'x')), caller), 'permission-denied', 'token is for ns/a sa/x, CSR asks for trust domain "evil.example"', 'other td');
  t.end();
});

t.test('a URI that is not a workload SPIFFE ID is refused, quoted', (t) => {
  const { authority } = authorityFor();
  for (const uri of ['https://example.com/ns/a/sa/x', `${CALLER_ID}/extra`, `spiffe://${TD}/ns/a`, CALLER_ID.toUpperCase()]) {
    refusal(t, () => authority.signWorkloadCsr(csrFor(uri), caller), 'permission-denied', `token is for ns/a sa/x, CSR asks for "${uri}"`, uri);
  }
  t.end();
});

t.test('a caller from another trust domain than the CA is refused', (t) => {
  const { authority } = authorityFor();
  const foreign: WorkloadIdentity = { trustDomain: 'other.example', namespace: 'a', serviceAccount: 'x' };
  refusal(
    t,
    () => authority.signWorkloadCsr(csrFor(spiffeId('other.example', 'a', 'x')), foreign),
    'permission-denied',
    'CSR asks for trust domain "other.example"; this CA issues for "cluster.local" only',
    'foreign caller',
  );
  t.end();
});

t.test('extra SANs are refused with INVALID_ARGUMENT, listing them', (t) => {
  const { authority } = authorityFor();
  refusal(t, () => authority.signWorkloadCsr(csrFor(CALLER_ID, 'ec-p256', ['x.a.svc']), caller), 'invalid-argument', `CSR must ask for exactly one SAN, the SPIFFE ID URI; it asks for URI:${CALLER_ID}, DNS:x.a.svc`, 'DNS');
  const twoUris = createCsr({ ...generateKeySync(), uris: [CALLER_ID, spiffeId(TD, 'kube-system', 'admin')] });
  refusal(t, () => authority.signWorkloadCsr(twoUris, caller), 'invalid-argument', `it asks for URI:${CALLER_ID}, URI:spiffe://cluster.local/ns/kube-system/sa/admin`, 'second URI');
  refusal(t, () => authority.signWorkloadCsr(createCsr({ ...generateKeySync(), uris: [] }), caller), 'invalid-argument', 'it asks for none', 'no SAN');
  t.end();
});

t.test('refusals echo what the CSR asked for bounded: cut, escaped, at most five names', (t) => {
  const { authority } = authorityFor();
  const long = refusal(t, () => authority.signWorkloadCsr(csrFor(spiffeId(TD, 'a', 'w'.repeat(40_000))), caller), 'permission-denied', `token is for ns/a sa/x, CSR asks for ns/a sa/"${'w'.repeat(200)}"…(39800 more characters)`, 'a 40 000-character service account');
  t.ok((long?.message.length ?? Infinity) < 400, 'a short message');
  const uri = `https://example.com/${'u'.repeat(1000)}`;
  refusal(t, () => authority.signWorkloadCsr(csrFor(uri), caller), 'permission-denied', `CSR asks for "${uri.slice(0, 200)}"…(${uri.length - 200} more characters)`, 'a long URI');
  const control = refusal(t, () => authority.signWorkloadCsr(csrFor('spiffe://cluster.local/ns/a\n\u001b[2J/sa/x\u0000'), caller), 'permission-denied', 'CSR asks for ns/"a\\n\\u001b[2J" sa/"x\\u0000"', 'control characters');
  t.ok([...(control?.message ?? '\n')].every((character) => character >= ' '), 'no control character in the message');
  t.match(
    refusal(t, () => authority.signWorkloadCsr(csrFor('x\u0007y'), caller), 'permission-denied', 'CSR asks for "x\\u0007y"', 'a URI with BEL')?.message,
    /^[\x20-\x7e]+$/,
  );
  const dnsNames = Array.from({ length: 40 }, (_, i) => `n${i}.example`);
  refusal(t, () => authority.signWorkloadCsr(csrFor(CALLER_ID, 'ec-p256', dnsNames), caller), 'invalid-argument', `it asks for URI:${CALLER_ID}, DNS:n0.example, DNS:n1.example, DNS:n2.example, DNS:n3.example and 36 more`, '40 DNS names');
  refusal(t, () => authority.signWorkloadCsr(csrFor(CALLER_ID, 'ec-p256', ['a b,c', 'd'.repeat(300)]), caller), 'invalid-argument', `it asks for URI:${CALLER_ID}, DNS:"a b,c", DNS:"${'d'.repeat(200)}"…(100 more characters)`, 'odd DNS names');
  t.end();
});

t.test('extra SANs of every kind from openssl CSRs are refused', { skip: NO_OPENSSL }, (t) => {
  const { authority } = authorityFor();
  const cases: [san: string, listed: string][] = [
    [`URI:${CALLER_ID},IP:10.1.2.3`, 'IP:10.1.2.3'],
    [`URI:${CALLER_ID},email:x@a.example`, 'email:x@a.example'],
    [`URI:${CALLER_ID},RID:1.2.3.4`, '1 other name(s)'],
  ];
  for (const [san, listed] of cases) {
    refusal(t, () => authority.signWorkloadCsr(opensslCsr(t, P256, [`subjectAltName=${san}`]), caller), 'invalid-argument', `it asks for URI:${CALLER_ID}, ${listed}`, san);
  }
  refusal(t, () => authority.signWorkloadCsr(opensslCsr(t, P256, []), caller), 'invalid-argument', 'it asks for none', 'no extensions at all');
  t.end();
});

t.test('requested extensions beyond the SAN are refused, named', { skip: NO_OPENSSL }, (t) => {
  const { authority } = authorityFor();
  refusal(
    t,
    () => authority.signWorkloadCsr(opensslCsr(t, P256, [`subjectAltName=URI:${CALLER_ID}`, 'basicConstraints=critical,CA:TRUE']), caller),
    'invalid-argument',
    'CSR requests extensions Loom does not grant (basicConstraints (2.5.29.19)); request only the SPIFFE ID subjectAltName',
    'CA:TRUE',
  );
  refusal(
    t,
    () => authority.signWorkloadCsr(opensslCsr(t, P256, [`subjectAltName=URI:${CALLER_ID}`, 'keyUsage=keyCertSign', 'nsComment=hello']), caller),
    'invalid-argument',
    'CSR requests extensions Loom does not grant (keyUsage (2.5.29.15), 2.16.840.1.113730.1.13)',
    'keyUsage and an unnamed extension',
  );
  t.end();
});

t.test('keys Loom does not accept are refused', { skip: NO_OPENSSL }, (t) => {
  const { authority } = authorityFor();
  refusal(
    t,
    () => authority.signWorkloadCsr(opensslCsr(t, ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'], [`subjectAltName=URI:${CALLER_ID}`]), caller),
    'invalid-argument',
    'CSR key rsa (1024 bits) is not accepted (use ECDSA P-256 or P-384, or RSA 2048, 3072 or 4096 bits)',
    'RSA-1024',
  );
  refusal(
    t,
    () => authority.signWorkloadCsr(opensslCsr(t, ['-algorithm', 'ed25519'], [`subjectAltName=URI:${CALLER_ID}`]), caller),
    'invalid-argument',
    'CSR key ed25519 is not accepted (use ECDSA P-256 or P-384, or RSA 2048, 3072 or 4096 bits)',
    'Ed25519',
  );
  t.end();
});

t.test('a key on another curve is refused (CSR built without openssl)', (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  const extensions = a.seq([a.seq([a.oid('2.5.29.17'), a.octets(a.der(a.seq([a.implicitPrimitive(6, CALLER_ID)])))])]);
  const info = a.sequenceDer([
    a.smallInteger(0),
    a.seq([]),
    publicKey.export({ type: 'spki', format: 'der' }),
    a.implicitConstructed(0, [a.seq([a.oid('1.2.840.113549.1.9.14'), a.set([extensions])])]),
  ]);
  const pem = pemEncode('CERTIFICATE REQUEST', a.sequenceDer([info, algorithmIdentifier('1.2.840.10045.4.3.2', false), a.bitString(sign('sha256', info, privateKey))]));
  refusal(t, () => authorityFor().authority.signWorkloadCsr(pem, caller), 'invalid-argument', 'CSR key ec (secp256k1) is not accepted (use ECDSA P-256 or P-384, or RSA 2048, 3072 or 4096 bits)', 'secp256k1');
  t.end();
});

t.test('malformed or badly signed CSRs are refused with INVALID_ARGUMENT', (t) => {
  const { authority } = authorityFor();
  refusal(t, () => authority.signWorkloadCsr('', caller), 'invalid-argument', 'expected exactly one "CERTIFICATE REQUEST" PEM block, found no PEM block', 'empty');
  refusal(t, () => authority.signWorkloadCsr('-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n', caller), 'invalid-argument', /^CSR /, 'empty SEQUENCE');
  const der = Buffer.from(pemDecodeAll(csrFor(CALLER_ID))[0]?.der ?? Buffer.alloc(0));
  der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
  refusal(t, () => authority.signWorkloadCsr(pemEncode('CERTIFICATE REQUEST', der), caller), 'invalid-argument', 'CSR signature does not verify against its public key', 'tampered signature');
  t.end();
});

t.test('refusals are checked in order: a malformed request before identity', (t) => {
  const { authority } = authorityFor();
  const both = createCsr({ ...generateKeySync(), uris: [spiffeId(TD, 'b', 'y')], dnsNames: ['extra'] });
  refusal(t, () => authority.signWorkloadCsr(both, caller), 'invalid-argument', 'CSR must ask for exactly one SAN', 'extra SAN and other identity');
  t.end();
});

// ---- issue(), replace(), options ----------------------------------------------------------------------

t.test('issue signs serving certificates with DNS names and a chosen lifetime', (t) => {
  const { authority } = authorityFor();
  const key = generateKeySync();
  const issued = authority.issue(key.publicKey, { uris: [spiffeId(TD, 'loom-system', 'loom-controller')], dnsNames: ['loom-controller.loom-system.svc'] }, HOUR);
  const leaf = new X509Certificate(issued.certificatePem);
  t.equal(leaf.subjectAltName, `DNS:loom-controller.loom-system.svc, URI:${spiffeId(TD, 'loom-system', 'loom-controller')}`);
  t.equal(issued.notAfter.getTime(), NOW + HOUR);
  t.throws(() => authority.issue(key.publicKey, { dnsNames: ['x'] }, MIN_LEAF_LIFETIME_MS - 1), RangeError, 'a lifetime under 10 minutes');
  t.end();
});

t.test('issue signs serving certificates for IP addresses (IPv4, IPv6, v4-mapped); a malformed address is refused', (t) => {
  const { authority } = authorityFor();
  const key = generateKeySync();
  const issued = authority.issue(key.publicKey, { dnsNames: ['kubernetes.default.svc'], ipAddresses: ['127.0.0.1', '10.96.0.1', '::1', 'fd00:10:96::1', '::ffff:10.1.2.3'] }, HOUR);
  const leaf = new X509Certificate(issued.certificatePem);
  t.equal(leaf.subjectAltName, 'DNS:kubernetes.default.svc, IP Address:127.0.0.1, IP Address:10.96.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FD00:10:96:0:0:0:0:1, IP Address:0:0:0:0:0:FFFF:A01:203');
  t.ok(leaf.checkIP('10.96.0.1'), 'node:crypto matches the IPv4 address');
  t.ok(leaf.checkIP('::1'), 'and the IPv6 one');
  t.notOk(leaf.checkIP('10.96.0.2'), 'and no other');
  t.throws(() => authority.issue(key.publicKey, { ipAddresses: ['10.0.0.256'] }, HOUR), /IP address "10\.0\.0\.256" is not an IPv4 or IPv6 address/);
  t.end();
});

t.test('a leaf lifetime under 10 minutes is refused at construction', (t) => {
  const issuer = createRoot({ trustDomain: TD, now: NOW });
  t.throws(() => new CertificateAuthority({ issuer, bundle: [issuer.root] }, { trustDomain: TD, leafLifetimeMs: 9 * MINUTE }), new RangeError('leaf lifetime must be at least 10 minutes'));
  t.throws(() => new CertificateAuthority({ issuer, bundle: [issuer.root] }, { trustDomain: TD, leafLifetimeMs: Number.NaN }), RangeError);
  t.end();
});

t.test('replace swaps the material: later leaves come from the new issuer, with the new bundle', (t) => {
  const { authority, issuer: old } = authorityFor();
  const before = authority.signWorkloadCsr(csrFor(CALLER_ID), caller);
  const next = createRoot({ trustDomain: TD, now: NOW - HOUR });
  const bundleBefore = authority.trustBundle;
  authority.replace({ issuer: next, bundle: [old.root, next.root] });
  t.same(authority.trustBundle, [old.pem, next.pem]);
  t.same(bundleBefore, [old.pem], 'a bundle handed out earlier is not changed');
  t.same(before.trustBundle, [old.pem]);
  t.equal(authority.material.issuer, next);
  const after = authority.signWorkloadCsr(csrFor(CALLER_ID), caller);
  t.equal(verifyChain(after.chain, after.trustBundle, NOW).root.fingerprint256, next.certificate.fingerprint256);
  t.equal(verifyChain(before.chain, after.trustBundle, NOW).root.fingerprint256, old.certificate.fingerprint256, 'old leaves still verify during the overlap');
  t.throws(() => verifyChain(after.chain, [old.pem], NOW), { name: 'ChainError' });
  t.end();
});

t.test('a staged rotation: leaves from the old issuer, bundle old + new', (t) => {
  const old = createRoot({ trustDomain: TD, now: NOW - DAY_MS });
  const next = createRoot({ trustDomain: TD, now: NOW - HOUR });
  const authority = new CertificateAuthority({ issuer: old, next, bundle: [old.root, next.root], rotation: { phase: 'staged', stagedAt: new Date(NOW - HOUR).toISOString() } }, { trustDomain: TD, now: () => NOW });
  const issued = authority.signWorkloadCsr(csrFor(CALLER_ID), caller);
  t.equal(verifyChain(issued.chain, issued.trustBundle, NOW).root.fingerprint256, old.certificate.fingerprint256);
  t.same(issued.trustBundle, [old.pem, next.pem]);
  t.end();
});

t.test('accessors and helpers', (t) => {
  const { authority, material } = authorityFor();
  t.equal(authority.trustDomain, TD);
  t.equal(authority.material, material);
  t.equal(describeIdentity(caller), 'ns/a sa/x');
  const issued = authority.signWorkloadCsr(csrFor(CALLER_ID), caller);
  t.same(
    parseChain(issued.chain).map((cert) => cert.serialNumber),
    [issued.serial],
  );
  const refused = new CsrRefused('permission-denied', 'm', 'spiffe://x');
  t.equal(refused.name, 'CsrRefused');
  t.equal(refused.requested, 'spiffe://x');
  t.end();
});
