import t, { type Test } from 'tap';
import { X509Certificate } from 'node:crypto';
import { generateKeySync, parseSpiffeId } from '@loom/shared/identity';
import { createRoot, DAY_MS, type Issuer } from '../src/issuer.js';
import { mintCa, mintIntermediate } from '../src/testing/index.js';
import { ChainError, uriSans, verifyChain } from '../src/verify.js';
import { emptyName, signCertificate } from '../src/x509/certificate.js';

const NOW = Date.UTC(2026, 4, 1, 12, 0, 0);
const HOUR = 3_600_000;
const ID = 'spiffe://cluster.local/ns/shop/sa/cart';

function chainError(t: Test, work: () => unknown, message: string | RegExp, label: string): void {
  try {
    work();
    t.fail(`${label}: verified`);
  } catch (error) {
    t.ok(error instanceof ChainError, `${label}: a ChainError`);
    t.match((error as Error).message, message, label);
  }
}

/** A leaf signed directly (no authority clamping), for validity edge cases. */
function leafFrom(issuer: Issuer, notBefore: number, notAfter: number, uris: readonly string[] = [ID]): string {
  return signCertificate({ subjectDer: emptyName(), publicKey: generateKeySync().publicKey, notBefore: new Date(notBefore), notAfter: new Date(notAfter), isCa: false, uris }, issuer).pem;
}

t.test('a leaf from the CA verifies: its SPIFFE ID, identity, expiry and root', (t) => {
  const ca = mintCa({ now: () => NOW });
  const leaf = ca.leaf('shop', 'cart');
  const verified = verifyChain(leaf.chain, leaf.trustBundle, NOW);
  t.equal(verified.spiffeId, ID);
  t.same(verified.identity, parseSpiffeId(ID));
  t.same(verified.notAfter, leaf.notAfter);
  t.equal(verified.root.fingerprint256, ca.issuer.certificate.fingerprint256);
  const asObjects = verifyChain(
    leaf.chain.map((pem) => new X509Certificate(pem)),
    [ca.issuer.root],
    NOW,
  );
  t.equal(asObjects.spiffeId, ID, 'X509Certificate objects are accepted too');
  t.end();
});

t.test('the clock defaults to now', (t) => {
  const ca = mintCa();
  const leaf = ca.leaf('shop', 'cart');
  t.equal(verifyChain(leaf.chain, leaf.trustBundle).spiffeId, ID);
  t.end();
});

t.test('a leaf via an intermediate verifies; the bundle may hold several roots', (t) => {
  const root = createRoot({ trustDomain: 'cluster.local', now: NOW });
  const intermediate = mintIntermediate(root, { now: NOW });
  const leaf = leafFrom(intermediate, NOW - HOUR, NOW + HOUR);
  const other = createRoot({ trustDomain: 'cluster.local', now: NOW + 1000 });
  const verified = verifyChain([leaf, intermediate.pem], [other.pem, root.pem], NOW);
  t.equal(verified.root.fingerprint256, root.certificate.fingerprint256);
  t.equal(verifyChain([leaf, intermediate.pem, root.pem], [root.pem], NOW).root.fingerprint256, root.certificate.fingerprint256, 'a chain that includes the root');
  t.end();
});

t.test('an expired leaf', (t) => {
  const ca = mintCa({ now: () => NOW });
  const leaf = ca.leaf('shop', 'cart');
  const later = leaf.notAfter.getTime();
  chainError(t, () => verifyChain(leaf.chain, leaf.trustBundle, later), `leaf expired at ${leaf.notAfter.toISOString()} (now ${new Date(later).toISOString()})`, 'at notAfter');
  chainError(t, () => verifyChain(leaf.chain, leaf.trustBundle, later + DAY_MS), 'leaf expired at', 'a day later');
  t.ok(verifyChain(leaf.chain, leaf.trustBundle, later - 1000), 'valid one second before');
  t.end();
});

t.test('a leaf not valid yet', (t) => {
  const ca = mintCa({ now: () => NOW });
  const leaf = ca.leaf('shop', 'cart');
  const early = leaf.notBefore.getTime() - 1000;
  chainError(t, () => verifyChain(leaf.chain, leaf.trustBundle, early), `leaf is not valid before ${leaf.notBefore.toISOString()} (now ${new Date(early).toISOString()})`, 'before notBefore');
  t.ok(verifyChain(leaf.chain, leaf.trustBundle, leaf.notBefore.getTime()), 'valid from notBefore itself');
  t.end();
});

t.test('an expired intermediate or root', (t) => {
  const root = createRoot({ trustDomain: 'cluster.local', now: NOW, lifetimeMs: 2 * DAY_MS });
  const intermediate = mintIntermediate(root, { now: NOW, lifetimeMs: DAY_MS });
  const leaf = leafFrom(intermediate, NOW, NOW + 3 * DAY_MS);
  chainError(t, () => verifyChain([leaf, intermediate.pem], [root.pem], NOW + 1.5 * DAY_MS), /^chain certificate 2 expired at/, 'intermediate');
  const longIntermediate = mintIntermediate(root, { now: NOW, lifetimeMs: 5 * DAY_MS });
  const leaf2 = leafFrom(longIntermediate, NOW, NOW + 3 * DAY_MS);
  chainError(t, () => verifyChain([leaf2, longIntermediate.pem], [root.pem], NOW + 2.5 * DAY_MS), /^root expired at/, 'root');
  t.end();
});

t.test('a wrong root', (t) => {
  const ca = mintCa({ now: () => NOW });
  const other = mintCa({ now: () => NOW });
  const leaf = ca.leaf('shop', 'cart');
  chainError(t, () => verifyChain(leaf.chain, other.authority.trustBundle, NOW), 'chain does not end at a root of the trust bundle', 'other root (same name, other key)');
  chainError(t, () => verifyChain(leaf.chain, [], NOW), 'chain does not end at a root of the trust bundle', 'empty bundle');
  t.end();
});

t.test('a leaf that is a CA', (t) => {
  const root = createRoot({ trustDomain: 'cluster.local', now: NOW });
  const intermediate = mintIntermediate(root, { now: NOW });
  chainError(t, () => verifyChain([intermediate.pem], [root.pem], NOW), 'leaf is a CA certificate', 'intermediate as leaf');
  chainError(t, () => verifyChain([root.pem], [root.pem], NOW), 'leaf is a CA certificate', 'root as leaf');
  t.end();
});

t.test('a broken link', (t) => {
  const root = createRoot({ trustDomain: 'cluster.local', now: NOW });
  const intermediate = mintIntermediate(root, { now: NOW });
  const stranger = mintIntermediate(root, { now: NOW, name: 'Stranger' });
  const leaf = leafFrom(intermediate, NOW - HOUR, NOW + HOUR);
  chainError(t, () => verifyChain([leaf, stranger.pem], [root.pem], NOW), 'chain certificate 2 did not sign the certificate before it', 'wrong intermediate');
  const impostor = mintIntermediate(root, { now: NOW }); // same name as `intermediate`, other key
  chainError(t, () => verifyChain([leaf, impostor.pem], [root.pem], NOW), 'chain certificate 2 did not sign', 'same name, other key');
  chainError(t, () => verifyChain([leaf], [root.pem], NOW), 'chain does not end at a root of the trust bundle', 'intermediate missing');
  const peer = leafFrom(intermediate, NOW - HOUR, NOW + HOUR);
  chainError(t, () => verifyChain([leaf, peer], [root.pem], NOW), 'chain certificate 2 is not a CA', 'a leaf above a leaf');
  t.end();
});

t.test('a leaf must carry exactly one URI SAN', (t) => {
  const ca = mintCa({ now: () => NOW });
  const two = ca.leafFor({ uris: [ID, 'spiffe://cluster.local/ns/shop/sa/admin'] });
  chainError(t, () => verifyChain(two.chain, two.trustBundle, NOW), 'leaf must carry exactly one URI SAN, found 2', 'two URIs');
  const none = ca.leafFor({ dnsNames: ['shop.example'] });
  chainError(t, () => verifyChain(none.chain, none.trustBundle, NOW), 'leaf must carry exactly one URI SAN, found 0', 'DNS only');
  const foreign = ca.leafFor({ uris: ['https://example.com/x'], dnsNames: ['x.example'] });
  const verified = verifyChain(foreign.chain, foreign.trustBundle, NOW);
  t.equal(verified.spiffeId, 'https://example.com/x');
  t.equal(verified.identity, null, 'a URI that is not a workload SPIFFE ID has no identity');
  t.end();
});

t.test('an empty chain', (t) => {
  chainError(t, () => verifyChain([], [], NOW), 'empty certificate chain', 'empty');
  t.end();
});

t.test('uriSans reads the URIs exactly, in order, also with commas and quotes', (t) => {
  const ca = mintCa({ now: () => NOW });
  const odd = ['spiffe://cluster.local/ns/a,b/sa/"c"', 'urn:x:y'];
  const leaf = ca.leafFor({ uris: odd, dnsNames: ['a, URI:spiffe://cluster.local/ns/kube-system/sa/admin'] });
  t.same(uriSans(new X509Certificate(leaf.certificatePem)), odd, 'a DNS name cannot smuggle a URI');
  t.same(uriSans(new X509Certificate(ca.leafFor({ dnsNames: ['a.example'] }).certificatePem)), []);
  t.same(uriSans(ca.issuer.certificate), ['spiffe://cluster.local'], "the root's trust-domain SAN");
  t.end();
});

t.test('ChainError', (t) => {
  t.equal(new ChainError('x').name, 'ChainError');
  t.end();
});
