/**
 * What makes a Certify response acceptable: real leaves from a throwaway CA (ca/testing), each defect
 * produced the way a broken or hostile controller would produce it.
 */
import { X509Certificate } from 'node:crypto';
import { caFrom, mintCa, mintIntermediate } from '@loom/ca/testing';
import { createCsr, generateKeySync, spiffeId, type WorkloadIdentity } from '@loom/shared/identity';
import t from 'tap';
import { acceptCertifyResponse, credentialsFromPem, CredentialsError, parseTrustBundle } from '../../src/identity/credentials.js';

const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' };
const WEB = spiffeId(web.trustDomain, web.namespace, web.serviceAccount);

/** A key and the response a correct controller gives for it. */
function issue(ca = mintCa(), identity: WorkloadIdentity = web) {
  const key = generateKeySync();
  const id = spiffeId(identity.trustDomain, identity.namespace, identity.serviceAccount);
  const issued = ca.authority.signWorkloadCsr(createCsr({ ...key, uris: [id] }), identity);
  const response = { certificateChain: [...issued.chain], trustBundle: [...issued.trustBundle] };
  return { ca, key, issued, response, expectation: { spiffeId: WEB, ...key, now: Date.now() } };
}

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
  t.throws(() => parseTrustBundle(['-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n']), {
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
