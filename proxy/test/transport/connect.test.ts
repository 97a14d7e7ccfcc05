/**
 * Opening connections over real sockets: plain TCP with its failure codes, and mesh TLS with certificates from
 * mintCa: the identity check, TLS session resumption with the tickets a connection received, and no tickets kept
 * from a peer that failed the identity check (a resumed session is not checked again).
 */
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { mintCa, type TestCa } from '@loom/ca/testing';
import t, { type Test } from 'tap';
import { credentialsFromPem } from '../../src/identity/credentials.js';
import { CredentialHolder } from '../../src/identity/holder.js';
import { checkPeerIdentity, serverContextOptions } from '../../src/identity/tls.js';
import { CONNECT_TIMEOUT, ConnectError, connectMesh, connectPlain } from '../../src/transport/connect.js';
import { MESH_ALPN } from '../../src/wire.js';

const API = 'spiffe://cluster.local/ns/shop/sa/api';

function holderFor(ca: TestCa, namespace: string, serviceAccount: string): CredentialHolder {
  const leaf = ca.leaf(namespace, serviceAccount);
  const holder = new CredentialHolder();
  holder.install(credentialsFromPem({ keyPem: leaf.keyPem, certChainPem: leaf.certPem, trustBundle: [ca.rootPem], now: Date.now() }));
  return holder;
}

/** A mesh TLS server (tls.Server with the holder's server options, client certificates required); records resumption per connection. */
async function meshServer(t: Test, holder: CredentialHolder): Promise<{ port: number; resumed: boolean[] }> {
  const resumed: boolean[] = [];
  const sockets = new Set<TLSSocket>();
  const server = createTlsServer({ ...holder.contextOptions(), requestCert: true, rejectUnauthorized: true, ALPNProtocols: [...MESH_ALPN] }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    resumed.push(socket.isSessionReused());
    socket.end('hi');
  });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, resumed };
}

/** Reads until the peer closes. */
async function drain(socket: Socket): Promise<void> {
  socket.resume();
  await once(socket, 'close');
}

t.test('connectPlain: connected; refused with the socket error code', async (t) => {
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const socket = await connectPlain('127.0.0.1', port, 1_000);
  t.equal(socket.remotePort, port);
  socket.destroy();
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const refused = await connectPlain('127.0.0.1', port, 1_000).catch((err: unknown) => err);
  t.type(refused, ConnectError);
  t.match(refused, { code: 'ECONNREFUSED', inHandshake: false, message: /^connection to 127\.0\.0\.1:\d+ failed: connect ECONNREFUSED/ });
});

t.test('connectMesh: a peer that never answers the handshake times out with CONNECT_TIMEOUT', async (t) => {
  const sockets = new Set<Socket>();
  const silent = createNetServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const { port } = silent.address() as AddressInfo;
  const client = holderFor(mintCa(), 'shop', 'web');
  const late = await connectMesh({ address: '127.0.0.1', port, alpn: 'loom.h2', secureContext: client.clientContext()!, checkServerIdentity: checkPeerIdentity(API), timeoutMs: 50 }).catch((err: unknown) => err);
  t.match(late, { code: CONNECT_TIMEOUT, inHandshake: true, message: `mesh connection to 127.0.0.1:${port} failed: timed out after 50 ms` });
});

t.test('connectMesh: the session tickets of a connection let the next one resume', async (t) => {
  const ca = mintCa();
  const server = await meshServer(t, holderFor(ca, 'shop', 'api'));
  const client = holderFor(ca, 'shop', 'web');
  let session: Buffer | undefined;
  const options = { address: '127.0.0.1', port: server.port, alpn: 'loom.opaque', secureContext: client.clientContext()!, checkServerIdentity: checkPeerIdentity(API), timeoutMs: 2_000 } as const;
  const first = await connectMesh({ ...options, onSession: (s) => (session = s) });
  t.equal(first.isSessionReused(), false);
  await drain(first);
  t.ok(session, 'a ticket arrived');
  const second = await connectMesh({ ...options, session, onSession: (s) => (session = s) });
  t.equal(second.isSessionReused(), true, 'the second connection resumed');
  await drain(second);
  t.strictSame(server.resumed, [false, true]);
});

t.test('connectMesh: a peer that fails the identity check gives no ticket to resume later', async (t) => {
  const ca = mintCa();
  const impostor = await meshServer(t, holderFor(ca, 'shop', 'impostor'));
  const client = holderFor(ca, 'shop', 'web');
  const sessions: Buffer[] = [];
  const options = { address: '127.0.0.1', port: impostor.port, alpn: 'loom.opaque', secureContext: client.clientContext()!, checkServerIdentity: checkPeerIdentity(API), timeoutMs: 2_000 } as const;
  const refused = await connectMesh({ ...options, onSession: (s) => sessions.push(s) }).catch((err: unknown) => err);
  t.match(refused, { message: /peer is spiffe:\/\/cluster.local\/ns\/shop\/sa\/impostor, expected spiffe:\/\/cluster.local\/ns\/shop\/sa\/api/ });
  // Give a ticket time to arrive had the connection been kept.
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(sessions.length, 0, 'no ticket kept');
});

t.test('the server context options: TLS 1.3 only, resumable', (t) => {
  const ca = mintCa();
  const leaf = ca.leaf('shop', 'api');
  const options = serverContextOptions(credentialsFromPem({ keyPem: leaf.keyPem, certChainPem: leaf.certPem, trustBundle: [ca.rootPem], now: Date.now() }));
  t.match(options, { minVersion: 'TLSv1.3', sessionIdContext: /./, sessionTimeout: 300 });
  t.ok(createSecureContext(options), 'node accepts them');
  t.end();
});
