/**
 * What makes a Certify response acceptable: real leaves from a throwaway CA (ca/testing), each defect
 * produced the way a broken or hostile controller would produce it.
 */
import { createPublicKey, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { OID, signSelf } from '@loom/ca';
import { caFrom, mintCa, mintIntermediate } from '@loom/ca/testing';
import { asn1, createCsr, generateKeySync, pemEncode, spiffeId, type WorkloadIdentity } from '@loom/shared/identity';
import t from 'tap';
import { acceptCertifyResponse, credentialsFromPem, CredentialsError, parseTrustBundle } from '../../src/identity/credentials.js';

const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' };
const WEB = spiffeId(web.trustDomain, web.namespace, web.serviceAccount);

/** The CA's root re-issued with the same name and key but a validity that ended a day ago. */
function expiredCopyOfRoot(ca: ReturnType<typeof mintCa>): string {
  const now = Date.now();
  return signSelf(
    { subjectDer: ca.issuer.subjectDer, publicKey: createPublicKey(ca.issuer.privateKey), notBefore: new Date(now - 2 * 86_400_000), notAfter: new Date(now - 86_400_000), isCa: true },
    ca.issuer.privateKey,
  ).pem;
}

/** A key and the response a correct controller gives for it. */
function issue(ca = mintCa(), identity: WorkloadIdentity = web) {
  const key = generateKeySync();
  const id = spiffeId(identity.trustDomain, identity.namespace, identity.serviceAccount);
  const issued = ca.authority.signWorkloadCsr(createCsr({ ...key, uris: [id] }), identity);
  const response = { certificateChain: [...issued.chain], trustBundle: [...issued.trustBundle] };
  return { ca, key, issued, response, expectation: { spiffeId: WEB, ...key, now: Date.now() } };
}

/**
 * A copy of an ECDSA-P256-signed certificate with its extensions rewritten by `edit`, signed again by
 * `issuerKey` (what a CA with another certificate profile would issue): everything else stays as issued.
 */
function reissue(pem: string, issuerKey: KeyObject, edit: (extensions: asn1.Asn1[]) => asn1.Asn1[]): string {
  const [tbs, algorithm] = asn1.children(asn1.parseDer(new X509Certificate(pem).raw));
  const wrapper = asn1.children(tbs).find((field) => asn1.isContext(field, 3));
  const extensions = asn1.children(wrapper)[0];
  if (tbs === undefined || algorithm === undefined || extensions === undefined) throw new Error('not a v3 certificate');
  extensions.value = edit(asn1.children(extensions));
  const tbsDer = asn1.der(tbs);
  return pemEncode('CERTIFICATE', asn1.sequenceDer([tbsDer, algorithm, asn1.bitString(sign('sha256', tbsDer, issuerKey))]));
}

const isEku = (extension: asn1.Asn1): boolean => asn1.readOid(asn1.children(extension)[0]) === OID.extKeyUsage;
const ekuOf = (...oids: string[]): asn1.Asn1 => asn1.seq([asn1.oid(OID.extKeyUsage), asn1.octets(asn1.der(asn1.seq(oids.map((oid) => asn1.oid(oid)))))]);

t.test('a correct response becomes credentials describing the leaf', (t) => {
  const { key, issued, response, expectation } = issue();
  const credentials = acceptCertifyResponse(response, expectation);
  const leaf = new X509Certificate(issued.certificatePem);
  t.equal(credentials.spiffeId, WEB);
  t.equal(credentials.serialNumber, leaf.serialNumber);
  t.equal(credentials.notAfter, Date.parse(leaf.validTo));
  t.equal(credentials.notBefore, Date.parse(leaf.validFrom));
  t.strictSame(credentials.chain, issued.chain);
  t.equal(credentials.certChainPem, issued.chain.join(''));
  t.strictSame(credentials.trustBundle, issued.trustBundle);
  t.equal(credentials.keyPem, key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'our key, PKCS#8 PEM');
  t.ok(Object.isFrozen(credentials), 'frozen');
  t.end();
});

t.test('a chain through an intermediate is accepted', (t) => {
  const root = mintCa();
  const intermediate = mintIntermediate(root.issuer);
  const ca = caFrom({ issuer: intermediate, bundle: [root.issuer.root] });
  const { response, expectation } = issue(ca);
  t.equal(response.certificateChain.length, 2, 'leaf + intermediate');
  t.equal(acceptCertifyResponse(response, expectation).chain.length, 2);
  t.end();
});

t.test('defective responses are refused with the first problem named', (t) => {
  const good = issue();
  const other = mintCa();
  const cases: { name: string; response: { certificateChain: string[]; trustBundle: string[] }; now?: number; reason: RegExp }[] = [
    { name: 'no chain', response: { ...good.response, certificateChain: [] }, reason: /no certificate chain/ },
    {
      name: 'a leaf for another identity',
      response: issue(good.ca, { ...web, serviceAccount: 'admin' }).response,
      reason: /^the leaf is for "URI:spiffe:\/\/cluster\.local\/ns\/shop\/sa\/admin", expected exactly "URI:spiffe:\/\/cluster\.local\/ns\/shop\/sa\/web"$/,
    },
    { name: 'a leaf for another key (our identity)', response: issue(good.ca).response, reason: /another public key/ },
    {
      name: 'a leaf with an extra SAN',
      response: { ...good.response, certificateChain: [good.ca.authority.issue(good.key.publicKey, { uris: [WEB], dnsNames: ['web.shop.svc'] }).certificatePem] },
      reason: /expected exactly "URI:spiffe/,
    },
    { name: 'a bundle that does not anchor the chain', response: { ...good.response, trustBundle: [other.rootPem] }, reason: /does not end at a root of the trust bundle/ },
    { name: 'an empty bundle', response: { ...good.response, trustBundle: [] }, reason: /trust bundle is empty/ },
    { name: 'a leaf in the bundle', response: { ...good.response, trustBundle: [...good.issued.chain] }, reason: /trust bundle entry 1 is not a CA certificate/ },
    { name: 'two certificates in one chain entry', response: { ...good.response, certificateChain: [good.issued.chain[0] + good.ca.rootPem] }, reason: /holds 2 certificates, expected 1/ },
    { name: 'garbage', response: { ...good.response, certificateChain: ['not a certificate'] }, reason: /certificate_chain entry 1 must hold PEM certificates only, found no PEM block/ },
    { name: 'the root as the leaf', response: { ...good.response, certificateChain: [good.ca.rootPem] }, reason: /the leaf is a CA certificate/ },
    { name: 'an expired leaf', response: good.response, now: good.issued.notAfter.getTime(), reason: /^the leaf expired at / },
    {
      name: 'a leaf without extended key usage',
      response: { ...good.response, certificateChain: [reissue(good.issued.certificatePem, good.ca.issuer.privateKey, (list) => list.filter((e) => !isEku(e)))] },
      reason: /^the leaf's extended key usage is absent, expected serverAuth and clientAuth$/,
    },
    {
      name: 'a leaf for serverAuth only',
      response: {
        ...good.response,
        certificateChain: [reissue(good.issued.certificatePem, good.ca.issuer.privateKey, (list) => list.map((e) => (isEku(e) ? ekuOf(OID.serverAuth) : e)))],
      },
      reason: /^the leaf's extended key usage is \[serverAuth\], expected serverAuth and clientAuth$/,
    },
    {
      name: 'a leaf for clientAuth only',
      response: {
        ...good.response,
        certificateChain: [reissue(good.issued.certificatePem, good.ca.issuer.privateKey, (list) => list.map((e) => (isEku(e) ? ekuOf(OID.clientAuth) : e)))],
      },
      reason: /^the leaf's extended key usage is \[clientAuth\], expected serverAuth and clientAuth$/,
    },
    {
      name: 'a leaf valid only from more than 5 min after our clock',
      response: good.response,
      now: good.issued.notBefore.getTime() - 5 * 60_000 - 1_000,
      reason: /^the leaf is not valid before \S+, more than 5 min after our clock \(\S+\): clock skew$/,
    },
    {
      name: 'a chain anchored only by an expired root',
      response: { ...good.response, trustBundle: [expiredCopyOfRoot(good.ca)] },
      reason: /^the root anchoring the chain \(.*\) expired at /,
    },
  ];
  for (const c of cases) {
    let thrown: unknown;
    try {
      acceptCertifyResponse(c.response, { ...good.expectation, ...(c.now === undefined ? {} : { now: c.now }) });
    } catch (error) {
      thrown = error;
    }
    t.type(thrown, CredentialsError, c.name);
    t.match((thrown as Error | undefined)?.message, c.reason, `${c.name}: reason`);
    t.notMatch((thrown as Error | undefined)?.message, /\n/, `${c.name}: one line`);
  }
  t.end();
});

t.test('what the new checks still accept: a leaf 5 min ahead, a valid root next to an expired copy, a re-issued leaf', (t) => {
  const good = issue();
  const notBefore = good.issued.notBefore.getTime();
  t.equal(acceptCertifyResponse(good.response, { ...good.expectation, now: notBefore - 5 * 60_000 }).notBefore, notBefore, 'a leaf starting exactly 5 min ahead is accepted');
  t.ok(
    acceptCertifyResponse({ ...good.response, trustBundle: [expiredCopyOfRoot(good.ca), good.ca.rootPem] }, good.expectation),
    'the chain is accepted when one of the roots anchoring it is valid',
  );
  const unchanged = reissue(good.issued.certificatePem, good.ca.issuer.privateKey, (list) => list);
  t.equal(acceptCertifyResponse({ ...good.response, certificateChain: [unchanged] }, good.expectation).spiffeId, WEB, 'a re-issued leaf with the same extensions is accepted');
  t.end();
});

t.test('parseTrustBundle: flattens entries, drops duplicates, refuses empty input', (t) => {
  const a = mintCa();
  const b = mintCa();
  const bundle = parseTrustBundle([a.rootPem + b.rootPem, a.rootPem]);
  t.equal(bundle.pems.length, 2, 'two distinct roots');
  t.strictSame(
    bundle.certificates.map((c) => c.fingerprint256),
    [new X509Certificate(a.rootPem).fingerprint256, new X509Certificate(b.rootPem).fingerprint256],
    'in the order given',
  );
  t.throws(() => parseTrustBundle([]), { name: 'CredentialsError', message: 'trust bundle is empty' });
  const keyPem = generateKeySync().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(); // minted now
  t.throws(() => parseTrustBundle([keyPem]), {
    message: 'trust bundle entry 1 must hold PEM certificates only, found "PRIVATE KEY"',
  });
  t.end();
});

t.test('credentialsFromPem: held material gets the same checks; the identity defaults to the leaf SAN', (t) => {
  const ca = mintCa();
  const leaf = ca.leaf('shop', 'web');
  const credentials = credentialsFromPem({ keyPem: leaf.keyPem, certChainPem: leaf.certPem, trustBundle: [ca.rootPem], now: Date.now() });
  t.equal(credentials.spiffeId, WEB);
  t.equal(credentials.serialNumber, leaf.serial);
  const stranger = ca.leaf('shop', 'web');
  t.throws(() => credentialsFromPem({ keyPem: stranger.keyPem, certChainPem: leaf.certPem, trustBundle: [ca.rootPem], now: Date.now() }), {
    message: 'the leaf certifies another public key than ours',
  });
  t.throws(() => credentialsFromPem({ keyPem: 'nope', certChainPem: leaf.certPem, trustBundle: [ca.rootPem], now: Date.now() }), { name: 'CredentialsError' });
  t.end();
});
