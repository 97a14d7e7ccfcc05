/**
 * ClientHello ALPN parsing (tables over real ClientHellos captured from node's TLS client, and hand-made broken
 * ones), reading a ClientHello off a socket without consuming it, and mesh mTLS termination on an accepted
 * socket with certificates from mintCa, TLS session resumption included.
 */
import { once } from 'node:events';
import { connect as netConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type ConnectionOptions } from 'node:tls';
import { mintCa, type TestCa, type TestLeaf } from '@loom/ca/testing';
import t, { type Test } from 'tap';
import { credentialsFromPem } from '../../src/identity/credentials.js';
import { CredentialHolder } from '../../src/identity/holder.js';
import { checkPeerIdentity } from '../../src/identity/tls.js';
import { connectMesh } from '../../src/transport/connect.js';
import { acceptMeshTls, clientHelloAlpn, MAX_CLIENT_HELLO, offersAny, readClientHello, type MeshTlsResult } from '../../src/transport/tls.js';
import { MESH_ALPN } from '../../src/wire.js';

const API = 'spiffe://cluster.local/ns/shop/sa/api';
const WEB = 'spiffe://cluster.local/ns/shop/sa/web';

/** A credential holder with `leaf` (the contexts the proxy really uses). */
function holderOf(leaf: TestLeaf, ca: TestCa): CredentialHolder {
  const holder = new CredentialHolder();
  holder.install(credentialsFromPem({ keyPem: leaf.keyPem, certChainPem: leaf.certPem, trustBundle: [ca.rootPem], now: Date.now() }));
  return holder;
}

/** Accepted sockets of a plain TCP server on 127.0.0.1:0, handed to `onSocket`. */
async function tcpServer(t: Test, onSocket: (socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

/** The first bytes node's TLS client sends with `options`: a real ClientHello (the capture never answers). */
async function captureClientHello(t: Test, options: ConnectionOptions): Promise<Buffer> {
  let resolveHello!: (hello: Buffer) => void;
  const captured = new Promise<Buffer>((resolve) => (resolveHello = resolve));
  const chunks: Buffer[] = [];
  const port = await tcpServer(t, (socket) => {
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      // Record header + length: the whole first record (node sends the ClientHello in one record).
      if (all.length >= 5 && all.length >= 5 + all.readUInt16BE(3)) resolveHello(all);
    });
  });
  const client = tlsConnect({ host: '127.0.0.1', port, ...options });
  client.on('error', () => {});
  const hello = await captured;
  client.destroy();
  return hello;
}

/** `hello` (one record) re-framed as two handshake records split at `at` bytes into the message. */
function splitRecords(hello: Buffer, at: number): Buffer {
  const message = hello.subarray(5);
  const record = (part: Buffer): Buffer => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, part.length >> 8, part.length & 0xff]), part]);
  return Buffer.concat([record(message.subarray(0, at)), record(message.subarray(at))]);
}

t.test('clientHelloAlpn over real ClientHellos', async (t) => {
  const cases: [string, ConnectionOptions, string[]][] = [
    ['one mesh protocol', { ALPNProtocols: ['loom.h2'] }, ['loom.h2']],
    ['several, in order', { ALPNProtocols: ['loom.opaque', 'loom.http1', 'h2'] }, ['loom.opaque', 'loom.http1', 'h2']],
    ['no ALPN extension', {}, []],
    ['TLS 1.2 client', { ALPNProtocols: ['h2', 'http/1.1'], maxVersion: 'TLSv1.2' }, ['h2', 'http/1.1']],
    ['with SNI and a session id', { ALPNProtocols: ['loom.http1'], servername: 'api.shop.svc.cluster.local' }, ['loom.http1']],
  ];
  for (const [name, options, want] of cases) {
    const hello = await captureClientHello(t, options);
    t.same(clientHelloAlpn(hello), want, name);
    t.same(clientHelloAlpn(splitRecords(hello, 2)), want, `${name}, header split across two records`);
    t.same(clientHelloAlpn(splitRecords(hello, 60)), want, `${name}, body split across two records`);
    t.same(clientHelloAlpn(Buffer.concat([hello, Buffer.from('trailing')])), want, `${name}, with bytes after it`);
  }
});

t.test('clientHelloAlpn on every prefix of a ClientHello: incomplete', async (t) => {
  const hello = await captureClientHello(t, { ALPNProtocols: ['loom.h2'] });
  const split = splitRecords(hello, 40);
  let wrong = 0;
  for (const whole of [hello, split]) {
    for (let n = 0; n < whole.length; n += 1) if (clientHelloAlpn(whole.subarray(0, n)) !== 'incomplete') wrong += 1;
  }
  t.equal(wrong, 0, `all ${hello.length + split.length} proper prefixes are incomplete`);
});

t.test('clientHelloAlpn on what is not a ClientHello', async (t) => {
  const hello = await captureClientHello(t, { ALPNProtocols: ['loom.h2'] });
  const mutate = (offset: number, value: number): Buffer => {
    const copy = Buffer.from(hello);
    copy[offset] = value;
    return copy;
  };
  // Offsets: 5 = handshake type; 43 = session id length (after 5 + 4 + 2 + 32).
  const withAlpnList = (list: Buffer): Buffer => {
    // A minimal ClientHello: version, random, empty session id, one suite, null compression, one ALPN extension.
    const ext = Buffer.concat([Buffer.from([0x00, 0x10, list.length >> 8, list.length & 0xff]), list]);
    const body = Buffer.concat([Buffer.from([0x03, 0x03]), Buffer.alloc(32), Buffer.from([0x00, 0x00, 0x02, 0x13, 0x01, 0x01, 0x00, ext.length >> 8, ext.length & 0xff]), ext]);
    const message = Buffer.concat([Buffer.from([0x01, 0x00, body.length >> 8, body.length & 0xff]), body]);
    return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, message.length >> 8, message.length & 0xff]), message]);
  };
  const cases: [string, Buffer, ReturnType<typeof clientHelloAlpn>][] = [
    ['an HTTP/1 request', Buffer.from('GET / HTTP/1.1\r\n\r\n'), 'not-tls'],
    ['the HTTP/2 preface', Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), 'not-tls'],
    ['an application data record', Buffer.from([0x17, 0x03, 0x03, 0x00, 0x01, 0x00]), 'not-tls'],
    ['SSLv2-style version byte', Buffer.from([0x16, 0x02, 0x00, 0x00, 0x01, 0x01]), 'not-tls'],
    ['an empty record', Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00]), 'not-tls'],
    ['a record longer than 2^14', Buffer.from([0x16, 0x03, 0x01, 0x40, 0x01, 0x01]), 'not-tls'],
    ['a ServerHello', mutate(5, 0x02), 'not-tls'],
    ['a session id running past the message', mutate(43, 0xff), 'not-tls'],
    ['a ClientHello declaring more than the cap', Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, (MAX_CLIENT_HELLO >> 16) & 0xff, 0xff, 0xff]), 'not-tls'],
    ['a well-formed hand-made ALPN list', withAlpnList(Buffer.from([0x00, 0x08, 0x07, ...Buffer.from('loom.h2')])), ['loom.h2']],
    ['an ALPN list length that disagrees with the extension', withAlpnList(Buffer.from([0x00, 0x09, 0x07, ...Buffer.from('loom.h2')])), 'not-tls'],
    ['an ALPN name running past the list', withAlpnList(Buffer.from([0x00, 0x08, 0x09, ...Buffer.from('loom.h2')])), 'not-tls'],
    ['an empty ALPN name', withAlpnList(Buffer.from([0x00, 0x01, 0x00])), 'not-tls'],
    ['a lone 0x16 byte', Buffer.from([0x16]), 'incomplete'],
    ['nothing', Buffer.alloc(0), 'incomplete'],
  ];
  for (const [name, bytes, want] of cases) t.same(clientHelloAlpn(bytes), want, name);
});

t.test('offersAny', (t) => {
  t.equal(offersAny(['h2', 'loom.http1'], MESH_ALPN), true);
  t.equal(offersAny(['h2', 'http/1.1'], MESH_ALPN), false);
  t.equal(offersAny([], MESH_ALPN), false);
  t.end();
});

t.test('readClientHello waits for the whole ClientHello and leaves every byte for the next reader', async (t) => {
  const hello = await captureClientHello(t, { ALPNProtocols: ['loom.opaque'] });
  let resolveResult!: (r: [Awaited<ReturnType<typeof readClientHello>>, Buffer]) => void;
  const result = new Promise<[Awaited<ReturnType<typeof readClientHello>>, Buffer]>((resolve) => (resolveResult = resolve));
  const port = await tcpServer(t, (socket) => {
    void readClientHello(socket, 2_000).then(async (read) => {
      socket.resume();
      const [replayed] = (await once(socket, 'data')) as [Buffer];
      resolveResult([read, replayed]);
    });
  });
  const client = netConnect({ host: '127.0.0.1', port });
  client.on('error', () => {});
  t.teardown(() => {
    client.destroy();
  });
  await once(client, 'connect');
  client.write(hello.subarray(0, 30));
  await new Promise((resolve) => setTimeout(resolve, 30));
  client.write(hello.subarray(30));
  const [read, replayed] = await result;
  t.same(read, { kind: 'hello', alpn: ['loom.opaque'] });
  t.ok(replayed.equals(hello), 'the next reader gets the ClientHello from its first byte');
});

t.test('readClientHello: not TLS, timeout, closed', async (t) => {
  const results: Awaited<ReturnType<typeof readClientHello>>[] = [];
  const port = await tcpServer(t, (socket) => void readClientHello(socket, 100).then((r) => results.push(r)));
  const send = async (bytes: Buffer | null, end: boolean): Promise<void> => {
    const client = netConnect({ host: '127.0.0.1', port });
    client.on('error', () => {});
    t.teardown(() => {
      client.destroy();
    });
    await once(client, 'connect');
    if (bytes !== null) client.write(bytes);
    if (end) client.end();
  };
  await send(Buffer.from('GET / HTTP/1.1\r\n\r\n'), false);
  await send(Buffer.from([0x16, 0x03, 0x01, 0x01, 0x00, 0x01]), false);
  await send(null, true);
  const deadline = Date.now() + 5_000;
  while (results.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  t.same(results.map((r) => r.kind).sort(), ['closed', 'not-tls', 'timeout']);
});

t.test('acceptMeshTls: handshake, client SPIFFE ID and ALPN; refusals with a reason', async (t) => {
  const ca = mintCa();
  const server = ca.leaf('shop', 'api');
  const secureContext = createSecureContext({ key: server.keyPem, cert: server.certPem, ca: [ca.rootPem], minVersion: 'TLSv1.3' });
  const outcomes: MeshTlsResult[] = [];
  const port = await tcpServer(t, (socket) => {
    void acceptMeshTls(socket, { secureContext, alpn: MESH_ALPN, handshakeTimeoutMs: 300 }).then((result) => {
      outcomes.push(result);
      if (result.ok) result.socket.end(`hello ${result.identity} over ${result.alpn}`);
    });
  });
  const connect = async (options: ConnectionOptions): Promise<string> => {
    const client = tlsConnect({ host: '127.0.0.1', port, ca: [ca.rootPem], checkServerIdentity: checkPeerIdentity(API), ...options });
    t.teardown(() => {
      client.destroy();
    });
    let text = '';
    client.on('data', (chunk: Buffer) => (text += chunk.toString()));
    client.on('error', () => {});
    await once(client, 'close');
    return text;
  };
  const web = ca.leaf('shop', 'web');
  t.equal(await connect({ key: web.keyPem, cert: web.certPem, ALPNProtocols: ['loom.http1'] }), 'hello spiffe://cluster.local/ns/shop/sa/web over loom.http1');
  const stranger = mintCa().leaf('shop', 'web');
  t.equal(await connect({ key: stranger.keyPem, cert: stranger.certPem, ALPNProtocols: ['loom.h2'] }), '', 'another CA: refused');
  const noSpiffe = ca.leafFor({ dnsNames: ['web.shop'] });
  t.equal(await connect({ key: noSpiffe.keyPem, cert: noSpiffe.certPem, ALPNProtocols: ['loom.h2'] }), '', 'no SPIFFE ID: refused');

  const silent = netConnect({ host: '127.0.0.1', port });
  silent.on('error', () => {});
  t.teardown(() => {
    silent.destroy();
  });
  await once(silent, 'close');

  t.equal(outcomes.length, 4);
  t.match(outcomes[0], { ok: true, identity: 'spiffe://cluster.local/ns/shop/sa/web', alpn: 'loom.http1' });
  t.match(outcomes[1], { ok: false, reason: 'client certificate refused: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)' });
  t.match(outcomes[2], { ok: false, reason: 'client certificate refused: it carries no single SPIFFE ID' });
  t.match(outcomes[3], { ok: false, reason: 'TLS handshake not finished within 300 ms' });
});

t.test('acceptMeshTls with the proxy’s server context: a resumed session keeps the verified client identity', async (t) => {
  const ca = mintCa();
  const server = holderOf(ca.leaf('shop', 'api'), ca);
  const outcomes: MeshTlsResult[] = [];
  const port = await tcpServer(t, (socket) => {
    void acceptMeshTls(socket, { secureContext: server.serverContext()!, alpn: MESH_ALPN, handshakeTimeoutMs: 2_000 }).then((result) => {
      outcomes.push(result);
      if (result.ok) result.socket.end(result.identity);
    });
  });
  const client = holderOf(ca.leaf('shop', 'web'), ca);
  let session: Buffer | undefined;
  const connectOnce = async (): Promise<[boolean, string]> => {
    const socket = await connectMesh({ address: '127.0.0.1', port, alpn: 'loom.opaque', secureContext: client.clientContext()!, checkServerIdentity: checkPeerIdentity(API), timeoutMs: 2_000, session, onSession: (s) => (session = s) });
    const reused = socket.isSessionReused();
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await once(socket, 'close');
    return [reused, text];
  };
  t.strictSame(await connectOnce(), [false, WEB], 'a full handshake');
  t.ok(session, 'the server issued a ticket');
  t.strictSame(await connectOnce(), [true, WEB], 'resumed; the server still knows who the client is');
  t.match(outcomes, [
    { ok: true, resumed: false, identity: WEB, alpn: 'loom.opaque' },
    { ok: true, resumed: true, identity: WEB, alpn: 'loom.opaque' },
  ]);
});

t.test('acceptMeshTls: a session resumed after the client certificate expired is refused', async (t) => {
  const validForMs = 1_500;
  let clock = Date.now() - 3_600_000 + validForMs;
  const ca = mintCa({ now: () => clock, leafLifetimeMs: 3_600_000 });
  const shortLived = ca.leaf('shop', 'web');
  clock = Date.now();
  const server = holderOf(ca.leaf('shop', 'api'), ca);
  const outcomes: MeshTlsResult[] = [];
  const port = await tcpServer(t, (socket) => {
    void acceptMeshTls(socket, { secureContext: server.serverContext()!, alpn: MESH_ALPN, handshakeTimeoutMs: 2_000 }).then((result) => {
      outcomes.push(result);
      if (result.ok) result.socket.end('ok');
    });
  });
  let session: Buffer | undefined;
  const connectOnce = async (): Promise<boolean> => {
    const socket = tlsConnect({ host: '127.0.0.1', port, key: shortLived.keyPem, cert: shortLived.certPem, ca: [ca.rootPem], minVersion: 'TLSv1.3', ALPNProtocols: ['loom.opaque'], checkServerIdentity: checkPeerIdentity(API), ...(session === undefined ? {} : { session }) });
    let reused = false;
    socket.on('secureConnect', () => (reused = socket.isSessionReused()));
    socket.on('session', (s: Buffer) => (session = s));
    socket.on('error', () => {});
    t.teardown(() => {
      socket.destroy();
    });
    socket.resume();
    await once(socket, 'close');
    return reused;
  };
  t.equal(await connectOnce(), false);
  t.ok(session, 'a ticket while the certificate was valid');
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, validForMs + 200 - (Date.now() - clock))));
  await connectOnce();
  t.equal(outcomes.length, 2);
  t.match(outcomes[1], { ok: false, reason: 'client certificate refused: certificate has expired (resumed session)' });
});

t.test('acceptMeshTls: after the server’s credentials change, sessions issued before are not resumed (a full handshake instead)', async (t) => {
  const ca = mintCa();
  const server = holderOf(ca.leaf('shop', 'api'), ca);
  const outcomes: MeshTlsResult[] = [];
  const port = await tcpServer(t, (socket) => {
    // The context current when the connection arrives, as the inbound proxy takes it.
    void acceptMeshTls(socket, { secureContext: server.serverContext()!, alpn: MESH_ALPN, handshakeTimeoutMs: 2_000 }).then((result) => {
      outcomes.push(result);
      if (result.ok) result.socket.end('ok');
    });
  });
  const client = holderOf(ca.leaf('shop', 'web'), ca);
  let session: Buffer | undefined;
  const connectOnce = async (): Promise<void> => {
    const socket = await connectMesh({ address: '127.0.0.1', port, alpn: 'loom.opaque', secureContext: client.clientContext()!, checkServerIdentity: checkPeerIdentity(API), timeoutMs: 2_000, session, onSession: (s) => (session = s) });
    socket.resume();
    await once(socket, 'close');
  };
  await connectOnce();
  await connectOnce();
  const renewed = ca.leaf('shop', 'api');
  server.install(credentialsFromPem({ keyPem: renewed.keyPem, certChainPem: renewed.certPem, trustBundle: [ca.rootPem], now: Date.now() }));
  await connectOnce();
  t.match(outcomes, [
    { ok: true, resumed: false },
    { ok: true, resumed: true },
    { ok: true, resumed: false, identity: WEB },
  ]);
});
