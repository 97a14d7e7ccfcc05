import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { httpGet, runConstantRate } from '../../src/proxy/http1-load.js';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

t.test('offers the rate over the connections and times every answer from its due time', async (t) => {
  let requests = 0;
  const sockets = new Set<string>();
  const server = createServer((req, res) => {
    requests += 1;
    sockets.add(`${req.socket.remotePort}`);
    res.end('x'.repeat(1024));
  });
  const port = await listen(server);
  t.teardown(() => server.close());
  const r = await runConstantRate({ host: '127.0.0.1', port, rate: 400, connections: 4, seconds: 0.5, drainSeconds: 2 });
  t.equal(r.sent, 200, '400 req/s for 0.5 s');
  t.equal(r.ok, 200);
  t.equal(requests, 200, 'the server saw each request once');
  t.equal(sockets.size, 4, 'over 4 keep-alive connections');
  t.equal(r.failed + r.unanswered + r.shed + r.otherStatus, 0);
  t.equal(r.seconds, 0.5);
  t.ok(r.latency.p50Ms > 0 && r.latency.p99Ms >= r.latency.p50Ms && r.latency.maxMs >= r.latency.p99Ms, 'latency percentiles in order');
  t.ok(Number.isFinite(r.sendLag.p99Ms), 'send lag reported');
});

t.test('counts 503s as shed, and requests lost to a closing server as failed, then reconnects', async (t) => {
  let n = 0;
  const server = createServer((req, res) => {
    n += 1;
    if (n % 2 === 0) res.writeHead(503, { 'retry-after': '1' }).end('overloaded');
    else if (n === 5) req.socket.destroy();
    else res.end('ok');
  });
  const port = await listen(server);
  t.teardown(() => server.close());
  const r = await runConstantRate({ host: '127.0.0.1', port, rate: 200, connections: 1, seconds: 0.1, drainSeconds: 2 });
  t.equal(r.sent, 20);
  t.ok(r.shed >= 8, `503s counted as shed (${r.shed})`);
  t.ok(r.failed >= 1, `the request whose connection was destroyed is failed (${r.failed})`);
  t.equal(r.ok + r.shed + r.failed + r.unanswered + r.otherStatus, 20, 'every request accounted for once');
});

t.test('a server that never answers leaves requests unanswered after the drain time', async (t) => {
  const server = createServer(() => undefined);
  const port = await listen(server);
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const r = await runConstantRate({ host: '127.0.0.1', port, rate: 100, connections: 2, seconds: 0.1, drainSeconds: 0.2 });
  t.equal(r.sent, 10);
  t.equal(r.unanswered, 10);
  t.equal(r.ok, 0);
  t.ok(Number.isNaN(r.latency.p50Ms), 'no latency without answers');
});

t.test('cannot connect: a clear error', async (t) => {
  const server = createServer();
  const port = await listen(server);
  server.close();
  await t.rejects(runConstantRate({ host: '127.0.0.1', port, rate: 10, connections: 1, seconds: 0.1, drainSeconds: 0.1 }), /cannot connect/);
});

t.test('httpGet: status and body length', async (t) => {
  const server = createServer((_req, res) => res.end('hello'));
  const port = await listen(server);
  t.teardown(() => server.close());
  t.same(await httpGet('127.0.0.1', port), { status: 200, bytes: 5 });
});
