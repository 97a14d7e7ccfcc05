/**
 * Connections the outbound proxy carries as bytes, over real sockets: opaque TCP to meshed endpoints
 * (`loom.opaque`) and unmeshed ones, protocol detection, passthrough and denial of destinations outside the
 * policy, connections that must be refused (not redirected, loops), and HTTP/1 Upgrade tunnels (`loom.http1`).
 */
import { mintCa } from '@loom/ca/testing';
import type { AppProtocol, Endpoint } from '@loom/shared/policy';
import t from 'tap';
import { endpoint, service, servicePort, testPolicy } from '../support/policy.js';
import { closedPort, rawConnect, rawOpen, readUntil, waitForMetric, startMeshServer, startOutbound, startPlainHttp, startTcpEcho, untilClosed, upgradeEcho, VIP, type MeshServer } from './support.js';
import { createServer as createHttpServer } from 'node:http';
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';

const meshed = (server: MeshServer): Endpoint => endpoint({ address: '127.0.0.1', port: server.port, identity: server.identity, pod: { namespace: 'shop', name: 'db-0' } });

const policyFor = (endpoints: readonly Endpoint[], protocol: AppProtocol) =>
  testPolicy({ outbound: [service({ name: 'db', vips: [VIP.address], ports: [servicePort({ port: VIP.port, protocol, endpoints })] })] });

t.test('opaque TCP to a meshed endpoint over loom.opaque, counted on the edge when it closes', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)], 'opaque') });
  const socket = await rawConnect(t, out.port);
  socket.write('ping');
  t.equal(await readUntil(socket, 'ping'), 'ping');
  socket.write('pong');
  await readUntil(socket, 'pong');
  const closed = untilClosed(socket);
  socket.end();
  t.equal((await closed).error, undefined, 'closed cleanly');
  t.strictSame(server.alpns, ['loom.opaque']);
  t.equal(server.raw, 'pingpong');
  const total = await waitForMetric(out, 'loom_tcp_connections_total', /dst_service="shop\/db",route="",tls="true",outcome="success"} 1/);
  t.match(total, /peer_identity="spiffe:\/\/cluster.local\/ns\/shop\/sa\/api"/);
  t.match(await out.metric('loom_tcp_bytes_total'), /tls="true",flow="received"} 8/);
});

t.test('undeclared protocol: HTTP/1 bytes are served as HTTP, other bytes relayed as TCP; detection is counted', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)], 'detect') });
  const http = await rawConnect(t, out.port);
  http.write('GET /echo HTTP/1.1\r\nHost: db.shop\r\nConnection: close\r\n\r\n');
  const answer = await untilClosed(http);
  t.match(answer.data, /^HTTP\/1\.1 200 OK/);
  t.match(answer.data, /"loom-orig-proto":"HTTP\/1.1"/);
  const opaque = await rawConnect(t, out.port);
  opaque.write('\u0000\u0001binary');
  t.equal(await readUntil(opaque, 'binary'), '\u0000\u0001binary');
  t.strictSame(server.alpns, ['loom.h2', 'loom.opaque']);
  const detected = await out.metric('loom_protocol_detect_total');
  t.match(detected, /direction="outbound",result="http1"} 1/);
  t.match(detected, /direction="outbound",result="opaque"} 1/);
});

t.test('a client that sends nothing within the detection deadline is relayed as TCP (server-speaks-first)', async (t) => {
  const greeter = createHttpServer();
  greeter.on('connection', (socket: Socket) => socket.end('220 hello\r\n'));
  greeter.listen(0, '127.0.0.1');
  await once(greeter, 'listening');
  t.teardown(() => greeter.close());
  const port = (greeter.address() as AddressInfo).port;
  const out = await startOutbound(t, { policy: policyFor([endpoint({ address: '127.0.0.1', port, identity: null })], 'detect'), config: { detectTimeoutMs: 50 } });
  const socket = await rawConnect(t, out.port);
  t.equal((await untilClosed(socket)).data, '220 hello\r\n');
  t.match(await out.metric('loom_protocol_detect_total'), /result="timeout"} 1/);
});

t.test('unknown destinations: passthrough in plain TCP to where the application meant to connect', async (t) => {
  const echo = await startTcpEcho(t);
  const destinations = new Map([['127.0.0.2', { address: '127.0.0.1', port: echo.port }]]);
  const out = await startOutbound(t, { policy: testPolicy(), destinations });
  const socket = await rawConnect(t, out.port, '127.0.0.2');
  socket.write('hello');
  t.equal(await readUntil(socket, 'hello'), 'hello');
  const closed = untilClosed(socket);
  socket.end();
  await closed;
  t.match(await waitForMetric(out, 'loom_tcp_connections_total', /dst_service="",route="",tls="false",outcome="success"} 1/), /peer_identity="",dst_service="",route="",tls="false",outcome="success"} 1/);
});

t.test('before the first policy: everything passes through', async (t) => {
  const echo = await startTcpEcho(t);
  const destinations = new Map([['127.0.0.3', { address: '127.0.0.1', port: echo.port }]]);
  const out = await startOutbound(t, { destinations });
  const socket = await rawConnect(t, out.port, '127.0.0.3');
  socket.write('early');
  t.equal(await readUntil(socket, 'early'), 'early');
});

t.test('unknown destinations with outboundUnknown: deny are reset, logged once at info and counted', async (t) => {
  const echo = await startTcpEcho(t);
  const destinations = new Map([['127.0.0.4', { address: '127.0.0.1', port: echo.port }]]);
  const out = await startOutbound(t, { policy: testPolicy({ mesh: { outboundUnknown: 'deny' } }), destinations });
  const socket = rawOpen(t, out.port, '127.0.0.4');
  const outcome = untilClosed(socket);
  socket.write('let me in');
  const { data, error } = await outcome;
  t.equal(data, '');
  t.equal(error, 'ECONNRESET', 'reset');
  t.equal(echo.received, '', 'nothing reached the destination');
  const denials = out.records.filter((r) => r.event === 'outbound.denied');
  t.equal(denials.length, 1);
  t.equal(denials[0]?.level, 'info');
  t.equal(denials[0]?.component, 'outbound');
  t.match(denials[0]?.reason, /127\.0\.0\.1:\d+ is not a destination of the mesh policy, and unknown destinations are denied/);
  t.match(await out.metric('loom_authz_denied_total'), /code="unknown-destination",audit="false"} 1/);
});

t.test('denials of unknown destinations on many ports make one metric series (port="other")', async (t) => {
  const destinations = new Map<string, { address: string; port: number }>();
  const out = await startOutbound(t, { policy: testPolicy({ mesh: { outboundUnknown: 'deny' } }), destinations });
  for (let i = 0; i < 20; i++) {
    destinations.set('127.0.0.7', { address: '192.0.2.1', port: 20_000 + i });
    t.equal((await untilClosed(rawOpen(t, out.port, '127.0.0.7'))).error, 'ECONNRESET');
  }
  const text = await out.metric('loom_authz_denied_total');
  t.equal(text.split('\n').filter((l) => l.includes('direction="outbound"')).length, 1, 'one series');
  t.match(text, /port="other",code="unknown-destination",audit="false"} 20/);
});

t.test('connections that were not redirected, and loops back into the proxy, are reset', async (t) => {
  const destinations = new Map<string, { address: string; port: number } | null>([['127.0.0.5', null]]);
  const out = await startOutbound(t, { policy: testPolicy(), destinations });
  destinations.set('127.0.0.6', { address: '127.0.0.1', port: out.port });
  for (let i = 0; i < 2; i++) {
    t.equal((await untilClosed(rawOpen(t, out.port, '127.0.0.5'))).error, 'ECONNRESET', 'not redirected: reset');
  }
  t.equal(out.records.filter((r) => r.event === 'connection.direct' && r.level === 'warn').length, 1, 'warned once');
  t.equal((await untilClosed(rawOpen(t, out.port, '127.0.0.6'))).error, 'ECONNRESET', 'loop: reset');
  t.equal(out.records.filter((r) => r.event === 'connection.loop').length, 1);
});

t.test('TCP: a refusing endpoint is ejected and another one tried; with none left the connection is reset', async (t) => {
  const echo = await startTcpEcho(t);
  const refusing = await closedPort();
  const out = await startOutbound(t, {
    policy: policyFor([endpoint({ address: '127.0.0.1', port: refusing, identity: null }), endpoint({ address: '127.0.0.1', port: echo.port, identity: null })], 'opaque'),
  });
  for (let i = 0; i < 4; i++) {
    const socket = await rawConnect(t, out.port);
    socket.write(`n${i}`);
    t.equal(await readUntil(socket, `n${i}`), `n${i}`, `connection ${i} reached the working endpoint`);
    socket.destroy();
  }
  t.ok(out.records.filter((r) => r.event === 'endpoint.ejected').length <= 1, 'the refusing endpoint was tried at most once');

  out.apply(policyFor([endpoint({ address: '127.0.0.1', port: refusing, identity: null })], 'opaque'));
  t.equal((await untilClosed(rawOpen(t, out.port))).error, 'ECONNRESET');
});

t.test('an Upgrade request is tunnelled to a meshed endpoint over loom.http1, then bytes flow both ways', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca, http1: upgradeEcho() });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)], 'http1') });
  const socket = await rawConnect(t, out.port);
  socket.write('GET /chat?room=1 HTTP/1.1\r\nHost: db.shop\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly');
  const head = await readUntil(socket, 'EARLY');
  t.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  t.match(head, /x-path: \/chat\?room=1\r\n/, 'the request head reached the server as sent');
  socket.write('more');
  await readUntil(socket, 'MORE');
  t.strictSame(server.alpns, ['loom.http1']);
  const closed = untilClosed(socket);
  socket.end();
  await closed;
});

t.test('an Upgrade request to an unmeshed endpoint is tunnelled in plain TCP', async (t) => {
  const plain = upgradeEcho();
  plain.listen(0, '127.0.0.1');
  await once(plain, 'listening');
  t.teardown(() => {
    plain.closeAllConnections();
    plain.close();
  });
  const port = (plain.address() as AddressInfo).port;
  const out = await startOutbound(t, { policy: policyFor([endpoint({ address: '127.0.0.1', port, identity: null })], 'http1') });
  const socket = await rawConnect(t, out.port);
  socket.write('GET /ws HTTP/1.1\r\nHost: db.shop\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  t.match(await readUntil(socket, '\r\n\r\n'), /^HTTP\/1\.1 101 /);
  socket.write('frame');
  await readUntil(socket, 'FRAME');
  t.pass('bytes flow after the upgrade');
});

t.test('an Upgrade request whose endpoints all refuse gets a 502 on its connection', async (t) => {
  const refusing = await closedPort();
  const out = await startOutbound(t, { policy: policyFor([endpoint({ address: '127.0.0.1', port: refusing, identity: null })], 'http1') });
  const socket = await rawConnect(t, out.port);
  socket.write('GET /ws HTTP/1.1\r\nHost: db.shop\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  const { data } = await untilClosed(socket);
  t.match(data, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
  t.match(data, /loom-proxy-error: outbound\r\n/);
});

t.test('plain HTTP/1 keeps working on a connection next to a tunnel', async (t) => {
  const plain = await startPlainHttp(t);
  const out = await startOutbound(t, { policy: policyFor([endpoint({ address: '127.0.0.1', port: plain.port, identity: null })], 'http1') });
  const socket = await rawConnect(t, out.port);
  socket.write('GET /a HTTP/1.1\r\nHost: db.shop\r\n\r\n');
  t.match(await readUntil(socket, '"url":"/a"'), /^HTTP\/1\.1 200 OK/);
  t.equal(plain.requests, 1);
});

t.test('a CONNECT request is tunnelled like an upgrade', async (t) => {
  const upstream = createNetServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (head: Buffer) => {
      socket.write(`HTTP/1.1 200 Connection Established\r\nx-request-line: ${head.toString().split('\r\n')[0] ?? ''}\r\n\r\n`);
      socket.on('data', (d: Buffer) => socket.write(d));
    });
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  t.teardown(() => upstream.close());
  const port = (upstream.address() as AddressInfo).port;
  const out = await startOutbound(t, { policy: policyFor([endpoint({ address: '127.0.0.1', port, identity: null })], 'http1') });
  const socket = await rawConnect(t, out.port);
  socket.write('CONNECT db.shop:5432 HTTP/1.1\r\nHost: db.shop:5432\r\n\r\n');
  const head = await readUntil(socket, '\r\n\r\n');
  t.match(head, /^HTTP\/1\.1 200 Connection Established\r\nx-request-line: CONNECT db.shop:5432 HTTP\/1.1\r\n/);
  socket.write('tunnelled');
  await readUntil(socket, 'tunnelled');
  t.pass('bytes flow through the tunnel');
});
