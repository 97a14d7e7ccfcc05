/**
 * Opaque TCP through the inbound proxy: `loom.opaque` mesh connections and plaintext bytes are authorized once
 * and relayed to the application; denied ones are reset; a policy change closes connections it now denies and
 * leaves the others alone.
 */
import { createServer, type AddressInfo } from 'node:net';
import t from 'tap';
import { allow, testPolicy } from '../support/policy.js';
import { API, closeOf, freePort, listenOn, meshConnect, plainConnect, roundTrip, startEchoApp, startInbound, until, WEB } from './support.js';

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
