import t, { type Test } from 'tap';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { keyTypeOf, parseSpiffeId } from '@loom/shared/identity';
import { createRoot } from '../src/issuer.js';
import { caFrom, corruptExtension, mintCa, mintIntermediate, type TestLeaf } from '../src/testing/index.js';
import { uriSans, verifyChain } from '../src/verify.js';

const NOW = Date.UTC(2026, 4, 1, 12, 0, 0);
const HOUR = 3_600_000;

// ---- a real mTLS exchange on 127.0.0.1 ---------------------------------------------------------------------

interface Side {
  readonly leaf: TestLeaf;
  readonly ca: readonly string[];
}

/**
 * Starts a TLS server that requires a client certificate and answers with the URI SANs it saw, connects a
 * client, and resolves with what each side saw of the other. Rejects when the handshake fails.
 */
async function mtls(t: Test, server: Side, client: Side & { readonly servername?: string; readonly checkHost?: boolean }): Promise<{ serverSaw: string; clientSaw: string[] }> {
  const tlsServer = tls.createServer(
    { key: server.leaf.keyPem, cert: server.leaf.certPem, ca: [...server.ca], requestCert: true, rejectUnauthorized: true },
    (socket) => {
      socket.on('error', () => socket.destroy());
      const peer = socket.getPeerX509Certificate();
      socket.end(`accepted ${peer === undefined ? '' : uriSans(peer).join(',')}`);
    },
  );
  tlsServer.on('tlsClientError', () => undefined); // refused clients are the client's failure to observe
  tlsServer.listen(0, '127.0.0.1');
  await once(tlsServer, 'listening');
  t.teardown(() => tlsServer.close());
  const { port } = tlsServer.address() as AddressInfo;

  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      key: client.leaf.keyPem,
      cert: client.leaf.certPem,
      ca: [...client.ca],
      servername: client.servername ?? 'localhost',
      // Workload certificates carry a SPIFFE ID, not a host name: the mesh checks the ID itself.
      ...(client.checkHost === true ? {} : { checkServerIdentity: () => undefined }),
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('handshake timed out')));
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const peer = socket.getPeerX509Certificate();
      socket.destroy();
      // With TLS 1.3 the client's handshake ends before the server has checked the client certificate:
      // only the server's answer proves it accepted this client.
      if (!data.startsWith('accepted ')) reject(new Error(`the server closed the connection without accepting it (received "${data}")`));
      else resolve({ serverSaw: data.slice('accepted '.length), clientSaw: peer === undefined ? [] : uriSans(peer) });
    });
    socket.on('close', () => reject(new Error(`closed before the answer (received "${data}")`)));
  });
}

// ---- mintCa -----------------------------------------------------------------------------------------------

t.test('mintCa: a root, its material and an authority for cluster.local', (t) => {
  const ca = mintCa();
  t.equal(ca.trustDomain, 'cluster.local');
  t.equal(ca.authority.trustDomain, 'cluster.local');
  t.ok(ca.issuer.isRoot);
  t.equal(ca.rootPem, ca.issuer.pem);
  t.equal(ca.material.issuer, ca.issuer);
  t.same(ca.material.bundle.map((cert) => cert.fingerprint256), [ca.issuer.certificate.fingerprint256]);
  t.same(ca.authority.trustBundle, [ca.rootPem]);
  t.end();
});

t.test('mintCa options: trust domain, key type, clock, lifetimes', (t) => {
  const ca = mintCa({ trustDomain: 'example.org', keyType: 'ec-p384', now: () => NOW, leafLifetimeMs: 2 * HOUR, rootLifetimeMs: 10 * HOUR });
  t.equal(ca.issuer.keyType, 'ec-p384');
  t.equal(Date.parse(ca.issuer.certificate.validTo), NOW + 10 * HOUR);
  t.same(uriSans(ca.issuer.certificate), ['spiffe://example.org']);
  const leaf = ca.leaf('ns1', 'sa1');
  t.equal(leaf.spiffeId, 'spiffe://example.org/ns/ns1/sa/sa1');
  t.equal(leaf.notAfter.getTime(), NOW + 2 * HOUR);
  t.same(verifyChain(leaf.chain, leaf.trustBundle, NOW).identity, parseSpiffeId(leaf.spiffeId));
  t.end();
});

t.test('leaf(): a workload leaf through the CSR path, with its key', (t) => {
  const ca = mintCa();
  const leaf = ca.leaf('shop', 'cart');
  t.equal(leaf.spiffeId, 'spiffe://cluster.local/ns/shop/sa/cart');
  t.equal(leaf.certPem, leaf.chain.join(''));
  t.equal(leaf.certPem, leaf.certificatePem, 'a root CA: the chain is the leaf');
  const cert = new X509Certificate(leaf.certificatePem);
  t.ok(cert.checkPrivateKey(leaf.privateKey), 'privateKey belongs to the leaf');
  t.ok(cert.checkPrivateKey(createPrivateKey(leaf.keyPem)), 'keyPem too');
  t.equal(keyTypeOf(leaf.privateKey), 'ec-p256');
  t.same(uriSans(cert), [leaf.spiffeId]);
  t.same(leaf.trustBundle, [ca.rootPem]);
  t.equal(keyTypeOf(ca.leaf('shop', 'cart', 'rsa-2048').privateKey), 'rsa-2048', 'key type option');
  t.end();
});

t.test('leafFor(): arbitrary SANs, bypassing the CSR checks', (t) => {
  const ca = mintCa();
  const server = ca.leafFor({ dnsNames: ['localhost'] });
  t.equal(server.spiffeId, '', 'no URI');
  t.equal(new X509Certificate(server.certificatePem).subjectAltName, 'DNS:localhost');
  const both = ca.leafFor({ uris: ['spiffe://cluster.local/ns/loom-system/sa/loom'], dnsNames: ['loom.loom-system.svc'] }, 'ec-p384');
  t.equal(both.spiffeId, 'spiffe://cluster.local/ns/loom-system/sa/loom');
  t.equal(keyTypeOf(both.privateKey), 'ec-p384');
  t.end();
});

// ---- intermediates -------------------------------------------------------------------------------------

t.test('mintIntermediate and caFrom: an operator-style intermediate CA', (t) => {
  const root = createRoot({ trustDomain: 'cluster.local' });
  const intermediate = mintIntermediate(root);
  t.notOk(intermediate.isRoot);
  t.ok(intermediate.certificate.ca);
  t.equal(intermediate.root, root.root);
  t.ok(intermediate.certificate.checkIssued(root.certificate));
  t.equal(intermediate.certificate.subject, 'CN=Loom test intermediate');
  const named = mintIntermediate(intermediate, { name: 'Team CA', lifetimeMs: 2 * 86_400_000 });
  t.equal(named.certificate.subject, 'CN=Team CA');
  t.same(named.intermediates, [intermediate.pem]);

  const ca = caFrom({ issuer: named, bundle: [root.root] }, { trustDomain: 'example.org' });
  t.equal(ca.rootPem, root.pem);
  const leaf = ca.leaf('shop', 'cart');
  t.same(leaf.chain, [leaf.certificatePem, named.pem, intermediate.pem]);
  t.equal(leaf.certPem, leaf.chain.join(''));
  t.equal(verifyChain(leaf.chain, [ca.rootPem]).spiffeId, 'spiffe://example.org/ns/shop/sa/cart');
  t.end();
});

// ---- real TLS --------------------------------------------------------------------------------------------

t.test('two workload leaves complete mTLS and each sees the other’s SPIFFE ID', async (t) => {
  const ca = mintCa();
  const server = ca.leaf('shop', 'cart');
  const client = ca.leaf('web', 'frontend');
  const seen = await mtls(t, { leaf: server, ca: server.trustBundle }, { leaf: client, ca: client.trustBundle });
  t.equal(seen.serverSaw, client.spiffeId);
  t.same(seen.clientSaw, [server.spiffeId]);
});

t.test('mTLS through an intermediate: the chain is sent, the root alone is trusted', async (t) => {
  const root = createRoot({ trustDomain: 'cluster.local' });
  const ca = caFrom({ issuer: mintIntermediate(root), bundle: [root.root] });
  const server = ca.leaf('shop', 'cart');
  const client = ca.leaf('web', 'frontend', 'rsa-2048');
  t.equal(server.chain.length, 2);
  const seen = await mtls(t, { leaf: server, ca: [root.pem] }, { leaf: client, ca: [root.pem] });
  t.equal(seen.serverSaw, client.spiffeId);
  t.same(seen.clientSaw, [server.spiffeId]);
});

t.test('a server certificate for localhost passes the default host name check', async (t) => {
  const ca = mintCa();
  const server = ca.leafFor({ dnsNames: ['localhost'] });
  const client = ca.leaf('web', 'frontend');
  const seen = await mtls(t, { leaf: server, ca: ca.authority.trustBundle }, { leaf: client, ca: ca.authority.trustBundle, servername: 'localhost', checkHost: true });
  t.equal(seen.serverSaw, client.spiffeId);
});

t.test('a client leaf from another CA is refused by the server', async (t) => {
  const ca = mintCa();
  const stranger = mintCa();
  const server = ca.leaf('shop', 'cart');
  const client = stranger.leaf('web', 'frontend');
  await t.rejects(mtls(t, { leaf: server, ca: ca.authority.trustBundle }, { leaf: client, ca: ca.authority.trustBundle }), /without accepting it|ECONNRESET|alert/);
});

t.test('a server leaf from another CA is refused by the client', async (t) => {
  const ca = mintCa();
  const stranger = mintCa();
  const server = stranger.leaf('shop', 'cart');
  const client = ca.leaf('web', 'frontend');
  // The server sends its chain up to its root (OpenSSL completes it from the server's trust store).
  await t.rejects(mtls(t, { leaf: server, ca: [ca.rootPem, stranger.rootPem] }, { leaf: client, ca: ca.authority.trustBundle }), {
    code: /^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/,
  });
});

t.test('corruptExtension: OpenSSL still parses the certificate; the extension no longer reads', (t) => {
  const ca = mintCa();
  for (const extension of ['keyUsage', 'subjectAltName', 'subjectKeyIdentifier'] as const) {
    const pem = corruptExtension(ca.rootPem, extension);
    const cert = new X509Certificate(pem);
    t.equal(cert.subject, ca.issuer.certificate.subject, `${extension}: parses`);
    t.not(cert.fingerprint256, ca.issuer.certificate.fingerprint256, `${extension}: changed`);
  }
  t.throws(() => uriSans(new X509Certificate(corruptExtension(ca.rootPem, 'subjectAltName'))), 'the SAN does not read');
  t.throws(() => corruptExtension(mintIntermediate(ca.issuer).pem, 'subjectAltName'), { message: 'the certificate has no subjectAltName extension' });
  t.end();
});
