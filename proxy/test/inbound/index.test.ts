/**
 * The inbound proxy as a whole: which connections it accepts (redirected ones, not direct or looping ones),
 * mTLS termination (client certificates verified against the trust bundle, SPIFFE ID required; TLS sessions of a
 * real outbound proxy resumed), and draining on close.
 */
import { once } from 'node:events';
import { connect as tlsConnect } from 'node:tls';
import { mintCa } from '@loom/ca/testing';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { checkPeerIdentity } from '../../src/identity/tls.js';
import { rawConnect, readUntil, startOutbound, untilClosed, VIP } from '../outbound/support.js';
import { allow, endpoint, service, servicePort, testPolicy } from '../support/policy.js';
import { API, closeOf, h2Request, listenOn, meshConnect, meshH2, plainConnect, startEchoApp, startH1App, startInbound, until, WEB } from './support.js';

/** A plaintext connection, not waiting for `connect` (the proxy may reset it first). */
function open(t: Test, port: number): Socket {
  const socket = netConnect({ host: '127.0.0.1', port });
  t.teardown(() => {
    socket.destroy();
  });
  return socket;
}

const policyFor = (options: Parameters<typeof testPolicy>[0] = {}): ReturnType<typeof testPolicy> => testPolicy({ identity: API, ...options });

t.test('a connection that was not redirected is reset, logged once at info', async (t) => {
  const app = await startEchoApp(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ mesh: { allowUnmeshed: true } }) });
  inbound.dst = null;
  for (let i = 0; i < 2; i += 1) {
    const socket = open(t, inbound.port);
    socket.write('GET / HTTP/1.1\r\n\r\n');
    t.equal((await closeOf(socket)).how, 'reset', `direct connection ${i + 1} reset`);
  }
  const logged = inbound.events('inbound.not_redirected');
  t.same(logged.map((r) => r.level), ['info', 'debug'], 'info the first time, debug afterwards');
  t.equal(app.connections.length, 0);
});

t.test("a connection meant for one of the proxy's own ports is reset (loop prevention)", async (t) => {
  const app = await startEchoApp(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ mesh: { allowUnmeshed: true } }), config: { adminPort: 15020 } });
  for (const port of [inbound.port, 15020]) {
    inbound.dst = { address: '127.0.0.1', port };
    const socket = open(t, inbound.port);
    t.equal((await closeOf(socket)).how, 'reset', `destination port ${port === inbound.port ? 'inbound' : 'admin'}: reset`);
  }
  t.match(inbound.events('inbound.loop')[0], { level: 'info' });
});

t.test('mTLS: a client certificate from another CA is refused at the handshake, logged and counted', async (t) => {
  const app = await startEchoApp(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const stranger = mintCa();
  // The client trusts our CA (so its side of the handshake completes) but presents a leaf of another root.
  const socket = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: stranger.leaf('shop', 'web'), alpn: 'loom.opaque' });
  const closed = closeOf(socket);
  socket.write('hello');
  await closed;
  t.equal(app.connections.length, 0, 'nothing reached the application');
  const refused = inbound.events('tls.refused');
  t.equal(refused.length, 1, 'logged once');
  t.match(refused[0], { level: 'info', component: 'inbound', port: app.port, reason: /client certificate refused: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/ });
  await until(() => inbound.proxy.stats().connections === 0, 'the connection to close');
  t.match(await inbound.metric('loom_tcp_connections_total'), /peer_identity="",dst_service="",route="",tls="true",outcome="failure"\} 1/);
});

t.test('mTLS: an expired client certificate is refused, with the reason', async (t) => {
  let clock = Date.now() - 3 * 86_400_000;
  const ca = mintCa({ now: () => clock, leafLifetimeMs: 3_600_000 });
  const expired = ca.leaf('shop', 'web');
  clock = Date.now();
  const app = await startEchoApp(t);
  const inbound = await startInbound(t, { ca, appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const socket = await meshConnect(t, inbound.port, { ca, leaf: expired, alpn: 'loom.opaque' });
  socket.write('x');
  await closeOf(socket);
  t.match(inbound.events('tls.refused')[0], { reason: 'client certificate refused: certificate has expired (CERT_HAS_EXPIRED)' });
  t.equal(app.connections.length, 0);
});

t.test('mTLS: no client certificate, or one without a SPIFFE ID, is refused', async (t) => {
  const app = await startEchoApp(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const anonymous = tlsConnect({ host: '127.0.0.1', port: inbound.port, ca: [inbound.ca.rootPem], ALPNProtocols: ['loom.opaque'], checkServerIdentity: checkPeerIdentity(API) });
  anonymous.on('error', () => {});
  t.teardown(() => {
    anonymous.destroy();
  });
  await closeOf(anonymous);
  const dnsOnly = inbound.ca.leafFor({ dnsNames: ['web.shop.svc'] });
  const named = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: dnsOnly, alpn: 'loom.opaque' });
  named.write('x');
  await closeOf(named);
  const reasons = inbound.events('tls.refused').map((r) => r.reason);
  t.equal(reasons.length, 2);
  t.match(reasons[0], /TLS handshake failed|client certificate refused/, 'no certificate');
  t.match(reasons[1], /carries no single SPIFFE ID/);
  t.equal(app.connections.length, 0);
});

t.test('mTLS before the proxy holds a certificate: reset, logged', async (t) => {
  const app = await startEchoApp(t);
  const inbound = await startInbound(t, { appPort: app.port, certificate: false, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const socket = tlsConnect({ host: '127.0.0.1', port: inbound.port, ca: [inbound.ca.rootPem], ALPNProtocols: ['loom.h2'], checkServerIdentity: checkPeerIdentity(API) });
  socket.on('error', () => {});
  t.teardown(() => {
    socket.destroy();
  });
  t.equal((await closeOf(socket)).how, 'reset');
  t.match(inbound.events('tls.no_certificate')[0], { level: 'info' });
});

t.test('close drains: in-flight requests finish, new connections are refused, stats go to zero', async (t) => {
  const app = await startH1App(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }), config: { drainTimeoutMs: 5_000 } });
  const session = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web') });
  const h1 = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.http1' });
  const idle = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.http1' });
  const idleClosed = closeOf(idle);
  const overH2 = h2Request(session, { ':path': '/hold', 'loom-orig-proto': 'HTTP/1.1' });
  let h1Response = '';
  h1.on('data', (chunk: Buffer) => (h1Response += chunk.toString()));
  const h1Closed = closeOf(h1);
  h1.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => app.seen.length === 2, 'both requests to reach the application');
  t.same(inbound.proxy.stats(), { connections: 3, requestsInFlight: 2 });

  const closing = inbound.proxy.close();
  await idleClosed;
  t.pass('the idle HTTP/1 connection is closed at once');
  const goaway = once(session, 'goaway');
  await goaway;
  t.pass('the HTTP/2 session got GOAWAY');
  app.release();
  t.equal((await overH2).status, 200, 'the in-flight HTTP/2 request completed');
  await h1Closed;
  t.match(h1Response, /^HTTP\/1.1 200 OK\r\n[^]*connection: close/i, 'the in-flight HTTP/1 request completed, then the connection closed');
  await closing;
  t.same(inbound.proxy.stats(), { connections: 0, requestsInFlight: 0 });
  await t.rejects(plainConnect(t, inbound.port), 'the port no longer accepts');
  await inbound.proxy.close();
  t.pass('close is idempotent');
});

t.test('close destroys what has not finished by drainTimeoutMs', async (t) => {
  const app = await startEchoApp(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }), config: { drainTimeoutMs: 100 } });
  const socket = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.opaque' });
  socket.write('x');
  await until(() => app.connections.length === 1, 'the relay');
  const closed = closeOf(socket);
  await inbound.proxy.close();
  await closed;
  t.pass('the opaque connection was closed at the drain deadline');
});

t.test('mesh connections from an outbound proxy resume their TLS session; the inbound still knows the client on each', async (t) => {
  const ca = mintCa();
  const app = await startEchoApp(t);
  const inbound = await startInbound(t, { ca, appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const upstream = endpoint({ address: '127.0.0.1', port: inbound.port, identity: API });
  const out = await startOutbound(t, {
    ca,
    policy: testPolicy({ outbound: [service({ name: 'db', vips: [VIP.address], ports: [servicePort({ port: VIP.port, protocol: 'opaque', endpoints: [upstream] })] })] }),
  });
  // Opaque connections each open a mesh connection of their own (`loom.opaque`).
  for (const text of ['one', 'two', 'three']) {
    const socket = await rawConnect(t, out.port);
    socket.write(text);
    t.equal(await readUntil(socket, text), text, `${text}: relayed through both proxies`);
    const closed = untilClosed(socket);
    socket.end();
    await closed;
  }
  const accepted = inbound.events('tls.accepted');
  t.match(accepted, [
    { identity: WEB, alpn: 'loom.opaque', resumed: false },
    { identity: WEB, alpn: 'loom.opaque', resumed: true },
    { identity: WEB, alpn: 'loom.opaque', resumed: true },
  ]);
  await until(() => inbound.proxy.stats().connections === 0, 'the connections to close');
  t.match(await inbound.metric('loom_tcp_connections_total'), /peer_identity="spiffe:\/\/cluster.local\/ns\/shop\/sa\/web",dst_service="",route="",tls="true",outcome="success"\} 3/, 'authorized as the client each time');
  t.equal(out.records.filter((r) => r.event === 'endpoint.ejected').length, 0, 'no failed handshake');
  t.match(await inbound.metric('loom_protocol_detect_total'), /direction="inbound",result="tls"\} 3/, 'each mesh connection counted by detection');
});

/** The ClientHello a TLS 1.3 client proxy sends (ALPN `alpn`), captured from a real client. */
async function clientHello(t: Test, alpn: string): Promise<Buffer> {
  const capture = createNetServer();
  await listenOn(t, capture);
  const first = new Promise<Buffer>((resolve) =>
    capture.on('connection', (socket: Socket) => {
      socket.on('error', () => {});
      socket.once('data', (chunk: Buffer) => {
        resolve(chunk);
        socket.destroy();
      });
    }),
  );
  const client = tlsConnect({ host: '127.0.0.1', port: (capture.address() as AddressInfo).port, ALPNProtocols: [alpn], minVersion: 'TLSv1.3', rejectUnauthorized: false });
  client.on('error', () => {});
  t.teardown(() => {
    client.destroy();
  });
  return first;
}

t.test('a client that sends a mesh ClientHello then FIN: every connection counted open is counted closed', async (t) => {
  const app = await startEchoApp(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const hello = await clientHello(t, 'loom.opaque');
  const attempts = 10;
  for (let i = 0; i < attempts; i += 1) {
    const socket = await plainConnect(t, inbound.port);
    const closed = closeOf(socket);
    socket.end(hello);
    await closed;
  }
  await until(() => inbound.events('tls.refused').length === attempts, 'every handshake to be refused');
  await until(() => inbound.proxy.stats().connections === 0, 'the proxy to close every connection');
  t.match(inbound.events('tls.refused')[0], { reason: /closed the connection during the TLS handshake/ });
  t.match(await inbound.metric('loom_tcp_connections_open'), /peer_identity="",dst_service="",route="",tls="true"\} 0/, 'none left open');
  t.match(await inbound.metric('loom_tcp_connections_total'), new RegExp(`peer_identity="",dst_service="",route="",tls="true",outcome="failure"\\} ${attempts}`), 'each counted closed, as a failure');
});
