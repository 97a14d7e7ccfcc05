/** Peer identity checks for mesh TLS: SAN parsing, and a real connection to a server of the wrong identity. */
import { X509Certificate } from 'node:crypto';
import { mintCa } from '@loom/ca/testing';
import t from 'tap';
import { credentialsFromPem } from '../../src/identity/credentials.js';
import { CredentialHolder } from '../../src/identity/holder.js';
import { checkPeerIdentity, peerSpiffeId } from '../../src/identity/tls.js';
import { connectionOutcome, startEchoServer } from './support.js';

t.test('peerSpiffeId: exactly one SAN, a spiffe:// URI', (t) => {
  const cases: [string | undefined, string | undefined][] = [
    ['URI:spiffe://cluster.local/ns/shop/sa/web', 'spiffe://cluster.local/ns/shop/sa/web'],
    ['URI:spiffe://cluster.local/ns/shop/sa/web, DNS:web.shop.svc', undefined],
    ['DNS:web.shop.svc, URI:spiffe://cluster.local/ns/shop/sa/web', undefined],
    ['URI:https://example.test/', undefined],
    ['URI:"spiffe://a, b"', undefined],
    ['', undefined],
    [undefined, undefined],
  ];
  for (const [san, expected] of cases) t.equal(peerSpiffeId(san === undefined ? {} : { subjectaltname: san }), expected, String(san));
  t.equal(peerSpiffeId(null), undefined);
  const ca = mintCa();
  t.equal(peerSpiffeId(new X509Certificate(ca.leaf('shop', 'web').certificatePem)), 'spiffe://cluster.local/ns/shop/sa/web', 'X509Certificate');
  t.equal(peerSpiffeId(new X509Certificate(ca.leafFor({ dnsNames: ['localhost'] }).certificatePem)), undefined, 'a DNS-only certificate');
  t.end();
});

t.test('checkPeerIdentity: a string or a predicate; one-line reasons', (t) => {
  const cert = { subjectaltname: 'URI:spiffe://cluster.local/ns/shop/sa/web' } as Parameters<ReturnType<typeof checkPeerIdentity>>[1];
  t.equal(checkPeerIdentity('spiffe://cluster.local/ns/shop/sa/web')('10.0.0.1', cert), undefined);
  t.equal(checkPeerIdentity((id) => id.endsWith('/ns/shop/sa/web'))('10.0.0.1', cert), undefined);
  t.equal(checkPeerIdentity('spiffe://cluster.local/ns/shop/sa/cart')('10.0.0.1', cert)?.message, 'peer is spiffe://cluster.local/ns/shop/sa/web, expected spiffe://cluster.local/ns/shop/sa/cart');
  t.equal(checkPeerIdentity(() => false)('10.0.0.1', cert)?.message, 'peer is spiffe://cluster.local/ns/shop/sa/web, which is not accepted');
  t.equal(
    checkPeerIdentity('x')('10.0.0.1', { subjectaltname: 'DNS:a' } as typeof cert)?.message,
    'peer certificate carries no single SPIFFE ID (subjectAltName DNS:a)',
  );
  t.end();
});

t.test('a client expecting another identity refuses the server after verifying its chain', async (t) => {
  const ca = mintCa();
  const leaf = ca.leaf('shop', 'web');
  const holder = new CredentialHolder();
  holder.install(credentialsFromPem({ keyPem: leaf.keyPem, certChainPem: leaf.certPem, trustBundle: [ca.rootPem], now: Date.now() }));
  const server = await startEchoServer(t, holder);
  const outcome = await connectionOutcome(t, server.port, holder.clientContext(), 'spiffe://cluster.local/ns/shop/sa/cart');
  t.type(outcome, Error);
  t.match(outcome, { message: 'peer is spiffe://cluster.local/ns/shop/sa/web, expected spiffe://cluster.local/ns/shop/sa/cart' });
  t.equal(await connectionOutcome(t, server.port, holder.clientContext(), leaf.spiffeId), 'ok');
});
