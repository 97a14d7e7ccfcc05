/**
 * The outbound proxy under hostile or ending conditions: malformed HTTP/1 from the application (conflicting
 * Content-Length and Transfer-Encoding, oversized heads, slowloris heads) is refused on its own connection
 * while another connection keeps working; `close()` keeps serving the application (new connections included)
 * until its connections are gone or the drain budget is spent.
 */
import { Agent } from 'node:http';
import { mintCa } from '@loom/ca/testing';
import type { Endpoint } from '@loom/shared/policy';
import t from 'tap';
import { MAX_PIPELINED } from '../../src/outbound/requests.js';
import { endpoint, service, servicePort, testPolicy } from '../support/policy.js';
import { echoHandler, h1, h2Client, readAll, rawConnect, rawOpen, startMeshServer, startOutbound, until, untilClosed, VIP, type MeshServer } from './support.js';

const meshed = (server: MeshServer): Endpoint => endpoint({ address: '127.0.0.1', port: server.port, identity: server.identity });
const policyFor = (endpoints: readonly Endpoint[]) => testPolicy({ outbound: [service({ name: 'api', vips: [VIP.address], ports: [servicePort({ port: VIP.port, endpoints })] })] });

t.test('malformed HTTP/1 is refused on its own connection; another connection is not affected', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)]), config: { maxHeaderBytes: 2048, headersTimeoutMs: 300 } });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  t.equal((await h1(out.port, { agent })).status, 200, 'a healthy keep-alive connection');

  const smuggle = await rawConnect(t, out.port);
  const smuggled = untilClosed(smuggle);
  smuggle.write('POST /echo HTTP/1.1\r\nHost: api.shop\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: api.shop\r\n\r\n');
  const conflict = await smuggled;
  t.match(conflict.data, /^HTTP\/1\.1 400 Bad Request\r\n/, 'Content-Length with Transfer-Encoding: 400');
  t.match(conflict.data, /loom-proxy-error: outbound/);

  const big = await rawConnect(t, out.port);
  const bigOutcome = untilClosed(big);
  big.write(`GET /echo HTTP/1.1\r\nHost: api.shop\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`);
  t.match((await bigOutcome).data, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/, 'oversized head: 431');

  const slow = await rawConnect(t, out.port);
  const slowOutcome = untilClosed(slow);
  slow.write('GET /echo HTTP/1.1\r\nHost: api.shop\r\n');
  const drip = setInterval(() => slow.write('X-Drip: 1\r\n'), 50);
  t.teardown(() => clearInterval(drip));
  t.match((await slowOutcome).data, /^HTTP\/1\.1 408 Request Timeout\r\n/, 'a head that never completes: 408');
  clearInterval(drip);

  t.equal((await h1(out.port, { agent })).status, 200, 'the healthy connection still works');
  t.equal(server.streams.length, 2, 'only the healthy requests reached the endpoint');
  t.notOk(server.streams.some((h) => h[':path'] === '/admin'), 'nothing was smuggled');
});

t.test('close(): the application is served until it closes its connections, new ones included; then the proxy stops', async (t) => {
  const ca = mintCa();
  let release: () => void = () => {};
  const server = await startMeshServer(t, {
    ca,
    onStream: (stream, headers, peer) => {
      if (headers[':path'] !== '/hold') return echoHandler(stream, headers, peer);
      release = () => {
        stream.respond({ ':status': 200 });
        stream.end('done');
      };
    },
  });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)]) });
  const idleAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => idleAgent.destroy());
  t.equal((await h1(out.port, { agent: idleAgent })).status, 200, 'an idle keep-alive connection exists');
  const inFlight = h1(out.port, { path: '/hold' });
  await until(() => server.streams.length === 2);
  let closed = false;
  const closing = out.proxy.close({ drainMs: 30_000 }).then(() => (closed = true));

  const fresh = await h1(out.port);
  t.equal(fresh.status, 200, 'a new connection during the drain is accepted and served');
  const reused = await h1(out.port, { agent: idleAgent });
  t.equal(reused.status, 200, 'the idle keep-alive connection still works');
  t.not(reused.headers.connection, 'close', 'and stays open');
  release();
  const res = await inFlight;
  t.equal(res.status, 200);
  t.equal(res.body, 'done', 'the request in flight finished');
  t.notOk(closed, 'still serving while the application holds a connection');

  idleAgent.destroy(); // the application exits: its connections close
  await closing;
  t.strictSame(out.proxy.stats(), { connections: 0, requests: 0, endpoints: 0, passthrough: 0, sessions: 0 });
  t.equal((await untilClosed(rawOpen(t, out.port))).error, 'ECONNREFUSED', 'stopped only once the application had no connection left');
});

t.test('close() destroys what is still running once the drain budget is spent', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca, onStream: () => {} });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)]), config: { drainTimeoutMs: 100 } });
  const stuck = h1(out.port, { path: '/never' }).then(
    () => 'answered',
    () => 'cut',
  );
  await until(() => server.streams.length === 1);
  await out.proxy.close(); // the budget: cfg.drainTimeoutMs
  t.equal(await stuck, 'cut', 'the request that never finished was cut at the deadline');
});

t.test('a saturated proxy refuses new requests at once: 503 with retry-after, counted, nothing sent upstream', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca });
  // A scripted shedder: refuses the 2nd and 4th requests.
  let asked = 0;
  const overload = { shed: (): boolean => ++asked % 2 === 0 };
  // Protocol detection on the port, so the same listener takes HTTP/1 and HTTP/2 (prior knowledge).
  const policy = testPolicy({ outbound: [service({ name: 'api', vips: [VIP.address], ports: [servicePort({ port: VIP.port, protocol: 'detect', endpoints: [meshed(server)] })] })] });
  const out = await startOutbound(t, { ca, policy, overload });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());

  t.equal((await h1(out.port, { agent })).status, 200, 'admitted');
  const refused = await h1(out.port, { agent, method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(100_000) });
  t.equal(refused.status, 503, 'refused while saturated');
  t.equal(refused.headers['retry-after'], '1');
  t.equal(refused.headers['loom-proxy-error'], 'outbound');
  t.match(refused.body, /overloaded/);
  t.equal((await h1(out.port, { agent })).status, 200, 'the same keep-alive connection serves the next request (the refused body was discarded)');

  const session = await h2Client(t, out.port);
  const stream = session.request({ ':method': 'GET', ':path': '/echo', ':authority': 'api.shop' });
  const [headers, body] = await Promise.all([new Promise<Record<string, unknown>>((resolve) => stream.once('response', resolve)), readAll(stream)]);
  t.equal(headers[':status'], 503, 'HTTP/2 requests are refused the same way');
  t.equal(headers['retry-after'], '1');
  t.match(body, /overloaded/);

  t.equal(server.streams.length, 2, 'refused requests never reached the endpoint');
  t.match(await out.metric('loom_load_shed_total'), /loom_load_shed_total\{direction="outbound",what="request"\} 2/);
  t.match(await out.metric('loom_requests_total'), /status_code="503",outcome="failure"\} 2/, 'and counted as failed requests (503)');
});

t.test('an application pipelining more than MAX_PIPELINED requests on one connection gets 503 for the excess, in order', async (t) => {
  const ca = mintCa();
  const held: (() => void)[] = [];
  const server = await startMeshServer(t, {
    ca,
    onStream: (stream) => {
      stream.resume();
      held.push(() => {
        if (stream.destroyed) return;
        stream.respond({ ':status': 200 });
        stream.end('ok');
      });
    },
  });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)]) });
  const socket = await rawConnect(t, out.port);
  const total = MAX_PIPELINED + 8;
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.write(Array.from({ length: total }, (_, i) => `GET /p/${i} HTTP/1.1\r\nHost: api.shop\r\n\r\n`).join(''));
  await until(() => held.length === MAX_PIPELINED, 5_000);
  for (const release of held) release();
  await until(() => (text.match(/^HTTP\/1\.1 /gm) ?? []).length === total, 5_000);
  const statuses = [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
  t.strictSame(statuses, [...Array<number>(MAX_PIPELINED).fill(200), ...Array<number>(8).fill(503)], 'the first MAX_PIPELINED served, the rest refused, answers in request order');
  t.equal(server.streams.length, MAX_PIPELINED, 'refused requests never reached the endpoint');
  t.match(text, /more than 32 requests in flight on one connection/);
  socket.write('GET /after HTTP/1.1\r\nHost: api.shop\r\n\r\n');
  await until(() => held.length === MAX_PIPELINED + 1, 5_000);
  held[MAX_PIPELINED]!();
  await until(() => (text.match(/^HTTP\/1\.1 /gm) ?? []).length === total + 1, 5_000);
  t.match(text.slice(text.lastIndexOf('HTTP/1.1 ')), /^HTTP\/1\.1 200/, 'once answered, the connection takes requests again');
});
