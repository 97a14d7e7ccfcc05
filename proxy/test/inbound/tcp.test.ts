/**
 * Opaque TCP through the inbound proxy: `loom.opaque` mesh connections and plaintext bytes are authorized once
 * and relayed to the application; denied ones are reset; audit mode lets would-be denials through; a policy
 * change closes connections it now denies (also while the application connection is opening) and leaves the
 * others alone; idle connections are not cut; on ports declared opaque a silent (server-speaks-first)
 * plaintext client is served without waiting for the detection deadline.
 */
import { once } from 'node:events';
import { connect as netConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { InboundConnection } from '../../src/inbound/connection.js';
import { forwardTcp } from '../../src/inbound/tcp.js';
import { allow, testPolicy } from '../support/policy.js';
import { API, closeOf, freePort, listenOn, meshConnect, plainConnect, revokedWhileDialing, roundTrip, startEchoApp, startInbound, until, WEB } from './support.js';

const policyFor = (options: Parameters<typeof testPolicy>[0] = {}): ReturnType<typeof testPolicy> => testPolicy({ identity: API, ...options });
const tcpRoute = { kind: 'TCPRoute', namespace: 'shop', name: 'db' } as const;

t.test('loom.opaque: bytes relayed both ways, counted on the TCPRoute edge', async (t) => {
  const app = await startEchoApp(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB], ports: [app.port], l4Routes: [tcpRoute] })] }) });
  const socket = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.opaque' });
  t.equal(await roundTrip(socket, 'hello'), 'hello');
  t.equal(await roundTrip(socket, 'x'.repeat(100_000)), 'x'.repeat(100_000), '100 kB echoed');
  const closed = closeOf(socket);
  socket.end();
  t.equal((await closed).how, 'closed', 'a half-close is passed on and the connection ends cleanly');
  await until(() => inbound.proxy.stats().connections === 0, 'the proxy to close its side');
  const total = await inbound.metric('loom_tcp_connections_total');
  t.match(total, /peer_identity="spiffe:\/\/cluster.local\/ns\/shop\/sa\/web",dst_service="",route="shop\/db",tls="true",outcome="success"\} 1/);
  t.match(await inbound.metric('loom_tcp_bytes_total'), /route="shop\/db",tls="true",flow="received"\} \d+/);
});

t.test('a client that half-closes still gets the reply the application sends after the FIN', async (t) => {
  // The application answers only once the request ended (FIN), like a "read to EOF, then reply" protocol.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    let request = '';
    socket.on('data', (chunk: Buffer) => (request += chunk.toString()));
    socket.on('end', () => socket.end(`got ${request}`));
  });
  await listenOn(t, server);
  const inbound = await startInbound(t, { appPort: (server.address() as AddressInfo).port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const socket = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.opaque' });
  socket.allowHalfOpen = true;
  const closed = closeOf(socket);
  socket.end('question');
  const { how, received } = await closed;
  t.equal(received, 'got question');
  t.equal(how, 'closed');
});

t.test('a denied connection is reset before reaching the application', async (t) => {
  const app = await startEchoApp(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: ['spiffe://cluster.local/ns/shop/sa/other'], target: { namespace: 'shop', name: 'only-other' } })] }) });
  const socket = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.opaque' });
  const closed = closeOf(socket);
  socket.write('hello');
  t.equal((await closed).how, 'reset');
  t.equal(app.connections.length, 0, 'the application never saw it');
  t.match(inbound.events('authz.denied')[0], { identity: WEB, trafficTarget: 'shop/only-other', port: app.port });
  t.match(await inbound.metric('loom_authz_denied_total'), /code="source-not-allowed",audit="false"\} 1/);
  await until(() => inbound.proxy.stats().connections === 0, 'the connection to be gone');
  t.match(await inbound.metric('loom_tcp_connections_total'), /route="",tls="true",outcome="failure"\} 1/);
});

t.test('plaintext bytes: reset in strict mode, relayed with allow-unmeshed (TLS not for the mesh included)', async (t) => {
  const app = await startEchoApp(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const refused = await plainConnect(t, inbound.port);
  const closed = closeOf(refused);
  refused.write('\x00\x01binary');
  t.equal((await closed).how, 'reset', 'strict mode: plaintext is reset');

  inbound.apply(policyFor({ mesh: { allowUnmeshed: true }, authorizations: [allow({ sources: [WEB] })] }));
  const allowed = await plainConnect(t, inbound.port);
  t.equal(await roundTrip(allowed, '\x00\x01binary'), '\x00\x01binary');
  // A ClientHello without a mesh ALPN is the client's own TLS to the application: carried as opaque bytes.
  const hello = Buffer.from('160301002e0100002a0303' + '00'.repeat(32) + '000002130101000000', 'hex');
  const tlsClient = await plainConnect(t, inbound.port);
  t.equal(await roundTrip(tlsClient, hello.toString('latin1')), hello.toString('latin1'), 'unmeshed TLS relayed untouched');
  t.match(await inbound.metric('loom_protocol_detect_total'), /result="tls"\} 1/);
});

t.test('a server-speaks-first client (sends nothing) is treated as opaque after the detect timeout', async (t) => {
  const app = await startEchoApp(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ mesh: { allowUnmeshed: true } }), config: { detectTimeoutMs: 50 } });
  const socket = await plainConnect(t, inbound.port);
  await until(() => app.connections.length === 1, 'the application connection');
  t.equal(await roundTrip(socket, 'late'), 'late');
  t.match(await inbound.metric('loom_protocol_detect_total'), /result="timeout"\} 1/);
});

t.test('a policy change resets connections it now denies and keeps the ones still allowed', async (t) => {
  const app = await startEchoApp(t);
  const both = policyFor({ authorizations: [allow({ sources: [WEB, 'spiffe://cluster.local/ns/shop/sa/cart'], target: { namespace: 'shop', name: 'clients' } })] });
  const inbound = await startInbound(t, { appPort: app.port, policy: both });
  const web = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.opaque' });
  const cart = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'cart'), alpn: 'loom.opaque' });
  t.equal(await roundTrip(web, 'a'), 'a');
  t.equal(await roundTrip(cart, 'b'), 'b');

  const cartClosed = closeOf(cart);
  inbound.apply(policyFor({ authorizations: [allow({ sources: [WEB], target: { namespace: 'shop', name: 'clients' } })] }));
  t.equal((await cartClosed).how, 'reset', 'the connection the policy no longer allows is reset');
  t.equal(await roundTrip(web, 'still here'), 'still here', 'the allowed one is untouched');
  const revoked = inbound.events('authz.revoked');
  t.equal(revoked.length, 1);
  t.match(revoked[0], { level: 'info', component: 'inbound', identity: 'spiffe://cluster.local/ns/shop/sa/cart', trafficTarget: 'shop/clients' });
  t.match(await inbound.metric('loom_authz_denied_total'), /peer_identity="spiffe:\/\/cluster.local\/ns\/shop\/sa\/cart"[^}]*code="source-not-allowed",audit="false"\} 1/);
});

t.test('the application refuses: the client connection is reset', async (t) => {
  const inbound = await startInbound(t, { appPort: await freePort(), policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const socket = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.opaque' });
  const closed = closeOf(socket);
  socket.write('x');
  t.equal((await closed).how, 'reset');
  t.match(inbound.events('app.connect_failed')[0], { level: 'debug' });
});

t.test('audit mode: a would-be denied connection is relayed, logged and counted with audit="true"', async (t) => {
  const app = await startEchoApp(t);
  const audited = allow({ sources: ['spiffe://cluster.local/ns/shop/sa/other'], target: { namespace: 'shop', name: 'audited' }, ports: [app.port], audit: true });
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [audited] }) });
  const socket = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.opaque' });
  t.equal(await roundTrip(socket, 'let me in'), 'let me in', 'let through');
  const logged = inbound.events('authz.audit');
  t.equal(logged.length, 1, 'logged once');
  t.match(logged[0], { level: 'info', identity: WEB, trafficTarget: 'shop/audited', port: app.port, reason: /^audit: would deny/ });
  t.equal(inbound.events('authz.denied').length, 0);
  t.match(
    await inbound.metric('loom_authz_denied_total'),
    new RegExp(`peer_identity="spiffe://cluster.local/ns/shop/sa/web",traffic_target="shop/audited",port="${app.port}",code="source-not-allowed",audit="true"\\} 1`),
    'counted on its port (one the policy names), audit="true"',
  );
});

t.test('idle opaque connections are not cut: no idle limit unless tcpIdleTimeoutMs sets one', async (t) => {
  const app = await startEchoApp(t);
  const policy = policyFor({ authorizations: [allow({ sources: [WEB] })] });
  const inbound = await startInbound(t, { appPort: app.port, policy, config: { idleTimeoutMs: 50 } });
  const socket = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.opaque' });
  t.equal(await roundTrip(socket, 'before'), 'before');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(await roundTrip(socket, 'after'), 'after', 'still up after six idle timeouts of HTTP keep-alive');

  const limited = await startInbound(t, { appPort: app.port, policy, proxyOptions: { tcpIdleTimeoutMs: 50 } });
  const cut = await meshConnect(t, limited.port, { ca: limited.ca, leaf: limited.ca.leaf('shop', 'web'), alpn: 'loom.opaque' });
  t.equal(await roundTrip(cut, 'x'), 'x');
  await closeOf(cut);
  t.pass('with tcpIdleTimeoutMs set, an idle connection is closed');
});

t.test('a port declared opaque: a silent plaintext client (server speaks first) is served at once; mesh clients still get mTLS', async (t) => {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.write('220 greetings\r\n');
    socket.pipe(socket);
  });
  await listenOn(t, server);
  const appPort = (server.address() as AddressInfo).port;
  const policy = policyFor({ mesh: { allowUnmeshed: true }, inboundPorts: { [appPort]: 'opaque' }, authorizations: [allow({ sources: [WEB] })] });
  // A detection deadline no test would wait for: the greeting must not depend on it.
  const inbound = await startInbound(t, { appPort, policy, config: { detectTimeoutMs: 600_000 } });
  const plain = await plainConnect(t, inbound.port);
  const greeting = await firstData(plain, 10_000);
  t.equal(greeting, '220 greetings\r\n', 'the application greets the silent plaintext client');
  t.equal(await roundTrip(plain, 'HELO'), 'HELO');

  const mesh = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.opaque' });
  t.equal(await firstData(mesh, 10_000), '220 greetings\r\n', 'a mesh client on the same port: terminated and relayed');
  const detected = await inbound.metric('loom_protocol_detect_total');
  t.match(detected, /direction="inbound",result="timeout"\} 1/);
  t.match(detected, /direction="inbound",result="tls"\} 1/);
  t.match(inbound.events('tls.accepted')[0], { identity: WEB });
});

/** The first chunk `socket` receives (rejects when nothing came within `ms`, or it closed). */
function firstData(socket: Socket, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing received within ${ms} ms`)), ms);
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      resolve(chunk.toString());
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error('closed before anything arrived'));
    });
  });
}

/** Both ends of a loopback TCP connection: `client` (the test's) and `server` (what the proxy accepted). */
async function socketPair(t: Test): Promise<{ client: Socket; server: Socket }> {
  const listener = createServer();
  await listenOn(t, listener);
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = netConnect({ host: '127.0.0.1', port: (listener.address() as AddressInfo).port });
  client.on('error', () => {});
  t.teardown(() => {
    client.destroy();
  });
  const [server] = await accepted;
  server.on('error', () => {});
  return { client, server };
}

t.test('a policy change while the application connection is opening applies to it: the connection is reset', async (t) => {
  const app = await startEchoApp(t);
  // The connection was authorized; the policy changes before the application connection is up.
  const { logger, records, metrics, authz, established, dial } = revokedWhileDialing();
  const { client, server } = await socketPair(t);
  const conn = new InboundConnection({ raw: server, port: app.port, peer: '127.0.0.1:1', identity: null, tls: false, carried: 'opaque' }, metrics);
  const closed = closeOf(client);
  const served = forwardTcp(conn, server, { dial, idleTimeoutMs: 0, authz, established, log: logger });
  await until(() => client.closed, 'the client connection to be closed (it was revoked while connecting)');
  t.equal((await closed).how, 'reset');
  await served;
  t.equal(established.size, 0, 'nothing left tracked');
  await until(() => app.connections.every((c) => c.closed), 'the application connection to be dropped');
  t.match(records.filter((r) => r.event === 'authz.revoked'), [{ reason: /plaintext client refused/ }]);
});
