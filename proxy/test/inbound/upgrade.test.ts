/**
 * Upgrade (WebSocket-style) and CONNECT over `loom.http1`: the request is authorized, reaches the application
 * as sent (authorized path), the application's own 101 comes back, and bytes flow both ways; a denied upgrade
 * gets 403; a policy change that denies the upgrade request closes the tunnel, also one that comes while the
 * application connection is opening.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import t from 'tap';
import { InboundConnection } from '../../src/inbound/connection.js';
import { openTunnel } from '../../src/inbound/upgrade.js';
import { allow, httpRoute, testPolicy } from '../support/policy.js';
import { API, closeOf, listenOn, meshConnect, revokedWhileDialing, roundTrip, startH1App, startInbound, until, WEB } from './support.js';

const policyFor = (options: Parameters<typeof testPolicy>[0] = {}): ReturnType<typeof testPolicy> => testPolicy({ identity: API, ...options });

const upgradeRequest = (path: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: api.shop\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

/** Reads until the end of a response head; resolves with the head and what followed it. */
function readHead(socket: import('node:net').Socket): Promise<{ head: string; rest: string }> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve({ head: received.slice(0, end), rest: received.slice(end + 4) });
    };
    const onClose = (): void => reject(new Error(`closed after ${JSON.stringify(received)}`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

t.test('a WebSocket-style upgrade over loom.http1: the application answers 101 and echoes frames', async (t) => {
  const app = await startH1App(t);
  const policy = policyFor({ authorizations: [allow({ sources: [WEB], http: [httpRoute({ pathRegex: '/ws', methods: ['GET'] })] })] });
  const inbound = await startInbound(t, { appPort: app.port, policy });
  const socket = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.http1' });
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.write(upgradeRequest('/ws/./chat?room=1') + 'early-bytes');
  await until(() => received.includes('\r\n\r\n') && received.endsWith('early-bytes'), 'the 101 and the echoed early bytes');
  const [response] = received.split('\r\n\r\n') as [string];
  t.match(response, /^HTTP\/1.1 101 Switching Protocols/);
  t.match(response, /x-seen-url: \/ws\/chat\?room=1/, 'the application got the normalized path and the query');
  t.pass('bytes sent right after the request head reached the application and came back');
  t.equal(await roundTrip(socket, '\x81\x05hello'), '\x81\x05hello', 'frames flow both ways');
});

t.test('a denied upgrade gets 403 naming the rule and never reaches the application', async (t) => {
  const app = await startH1App(t);
  const policy = policyFor({ authorizations: [allow({ sources: [WEB], target: { namespace: 'shop', name: 'ws-only' }, http: [httpRoute({ pathRegex: '/ws' })] })] });
  const inbound = await startInbound(t, { appPort: app.port, policy });
  const socket = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.http1' });
  const closed = closeOf(socket);
  socket.write(upgradeRequest('/admin'));
  const { received } = await closed;
  t.match(received, /^HTTP\/1.1 403 Forbidden\r\n/);
  t.match(received, /loom-denied-reason: denied: .*shop\/ws-only/);
  t.match(received, /loom-proxy-error: inbound/);
  t.match(received, /\r\n\r\ndenied: .*shop\/ws-only allows HTTP/);
  t.equal(inbound.events('authz.denied').length, 1);
});

t.test('a policy change that denies the upgrade request closes the tunnel', async (t) => {
  const app = await startH1App(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const tunnel = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.http1' });
  const head = readHead(tunnel);
  tunnel.write(upgradeRequest('/ws'));
  await head;
  t.equal(await roundTrip(tunnel, 'ping'), 'ping');
  const other = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.http1' });
  const otherHead = readHead(other);
  other.write(upgradeRequest('/chat'));
  await otherHead;

  const closed = closeOf(tunnel);
  inbound.apply(policyFor({ authorizations: [allow({ sources: [WEB], http: [httpRoute({ pathRegex: '/chat' })] })] }));
  t.equal((await closed).how, 'reset', 'the /ws tunnel is reset');
  t.equal(await roundTrip(other, 'pong'), 'pong', 'the /chat tunnel, still allowed, carries on');
  t.match(inbound.events('authz.revoked')[0], { identity: WEB, method: 'GET' });
});

t.test('CONNECT: authorized on its authority-form target, then a tunnel to the application', async (t) => {
  const app = await startH1App(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const socket = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.http1' });
  const head = readHead(socket);
  socket.write('CONNECT upstream.example:443 HTTP/1.1\r\nHost: upstream.example:443\r\n\r\n');
  const { head: response } = await head;
  t.match(response, /^HTTP\/1.1 200 Connection Established/);
  t.match(response, /x-seen-url: upstream.example:443/, 'the target as sent');
  t.equal(await roundTrip(socket, 'tunnelled'), 'tunnelled');
});

t.test('a policy change while the tunnel connects to the application applies to it: the tunnel is reset', async (t) => {
  const app = await startH1App(t);
  // The tunnel is authorized; the policy changes before the application connection is up.
  const { logger, records, metrics, authz, established, dial } = revokedWhileDialing();
  // A node:http server parses the upgrade request as the inbound proxy's does, and hands it to openTunnel.
  const front = createHttpServer();
  let served: Promise<void> = Promise.resolve();
  front.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    const conn = new InboundConnection({ raw: socket, port: app.port, peer: '127.0.0.1:1', identity: null, tls: false, carried: 'http1' }, metrics);
    served = openTunnel(conn, req, socket, head, { dial, idleTimeoutMs: 0, authz, established, log: logger });
  });
  await listenOn(t, front);
  const client = netConnect({ host: '127.0.0.1', port: (front.address() as AddressInfo).port });
  client.on('error', () => {});
  t.teardown(() => {
    client.destroy();
  });
  await once(client, 'connect');
  const closed = closeOf(client);
  client.write(upgradeRequest('/ws'));
  await until(() => client.closed, 'the tunnel to be closed (it was revoked while connecting)');
  const { how, received } = await closed;
  t.equal(how, 'reset');
  t.equal(received, '', "nothing of the application's answer reached the client");
  await served;
  t.equal(established.size, 0, 'nothing left tracked');
  t.match(records.filter((r) => r.event === 'authz.revoked'), [{ method: 'GET', reason: /plaintext client refused/ }]);
});
