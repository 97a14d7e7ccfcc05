/**
 * The admin server over real sockets on 127.0.0.1: health, metrics, config, the log level at run time,
 * unknown paths and methods, and probe forwarding to a real application (HTTP, HTTPS, TCP), including what
 * happens when the application is down, hangs, redirects or talks too much, and when the prober goes away.
 */
import { networkInterfaces } from 'node:os';
import { mintCa } from '@loom/ca/testing';
import { LOG_LEVELS } from '@loom/shared/runtime';
import { Counter, Registry } from 'prom-client';
import t, { type Test } from 'tap';
import { MAX_PROBE_BODY_BYTES } from '../../src/admin/probe.js';
import { isLoopback, startAdmin, type AdminOptions, type AdminReadiness, type AdminServer } from '../../src/admin/server.js';
import { collectLogs, freePort, type LogRecord } from '../identity/support.js';
import { eventually } from '../policy/support.js';
import { testPolicy } from '../support/policy.js';
import { call, startApp } from './support.js';

interface Harness {
  readonly admin: AdminServer;
  readonly port: number;
  readonly registry: Registry;
  readonly records: LogRecord[];
  readonly state: { ready: AdminReadiness; live: boolean; config: unknown };
  readonly logger: AdminOptions['logger'];
}

async function harness(t: Test, overrides: Partial<AdminOptions> = {}): Promise<Harness> {
  const registry = new Registry();
  const { logger, records } = collectLogs();
  logger.level = 'info';
  const state: Harness['state'] = { ready: { ready: false, reasons: ['no certificate yet', 'no policy yet'] }, live: true, config: null };
  const admin = await startAdmin({
    host: '127.0.0.1',
    port: 0,
    registry,
    logger,
    ready: () => state.ready,
    live: () => state.live,
    config: () => state.config,
    ...overrides,
  });
  t.teardown(() => admin.close());
  return { admin, port: admin.address.port, registry, records, state, logger };
}

t.test('/live and /ready', async (t) => {
  const h = await harness(t);
  t.match(await call(h.port, '/live'), { status: 200, body: 'live\n', headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });
  h.state.live = false;
  t.match(await call(h.port, '/live'), { status: 503, body: 'not live\n' });

  t.match(await call(h.port, '/ready'), { status: 503, body: 'not ready\n- no certificate yet\n- no policy yet\n' });
  h.state.ready = { ready: false, reasons: ['draining'] };
  t.match(await call(h.port, '/ready'), { status: 503, body: 'not ready\n- draining\n' });
  h.state.ready = { ready: true, reasons: [] };
  t.match(await call(h.port, '/ready'), { status: 200, body: 'ready\n' });
  const head = await call(h.port, '/ready', { method: 'HEAD' });
  t.match(head, { status: 200, body: '', headers: { 'content-length': '6' } }, 'HEAD: headers only');
});

t.test('/live defaults to live', async (t) => {
  const admin = await startAdmin({ host: '127.0.0.1', port: 0, registry: new Registry(), logger: collectLogs().logger, ready: () => ({ ready: true, reasons: [] }), config: () => null });
  t.teardown(() => admin.close());
  t.match(await call(admin.address.port, '/live'), { status: 200, body: 'live\n' });
});

t.test('/metrics is the registry in the Prometheus text format', async (t) => {
  const h = await harness(t);
  const counter = new Counter({ name: 'loom_test_total', help: 'a test counter', labelNames: ['kind'], registers: [h.registry] });
  counter.inc({ kind: 'x' }, 3);
  const reply = await call(h.port, '/metrics');
  t.equal(reply.status, 200);
  t.equal(reply.headers['content-type'], h.registry.contentType);
  t.equal(reply.body, await h.registry.metrics());
  t.match(reply.body, /^loom_test_total\{kind="x"\} 3$/m);
});

t.test('/config is the policy in force as JSON, 503 before the first', async (t) => {
  const h = await harness(t);
  t.match(await call(h.port, '/config'), { status: 503, body: 'no policy yet\n' });
  const policy = testPolicy({ inboundPorts: { 8080: 'http1' } });
  h.state.config = policy;
  const reply = await call(h.port, '/config');
  t.equal(reply.status, 200);
  t.equal(reply.headers['content-type'], 'application/json');
  t.strictSame(JSON.parse(reply.body), policy);
});

t.test('/log-level reads and sets the level of the root logger and its children', async (t) => {
  const h = await harness(t);
  const child = h.logger.child({ component: 'inbound' });
  t.match(await call(h.port, '/log-level'), { status: 200, body: 'info\n' });
  child.debug({ event: 'before' }, 'hidden');

  t.match(await call(h.port, '/log-level', { method: 'PUT', body: 'debug\n' }), { status: 200, body: 'debug\n' });
  t.equal(h.logger.level, 'debug');
  child.debug({ event: 'after' }, 'shown');
  t.strictSame(
    h.records.filter((r) => r.event === 'before' || r.event === 'after').map((r) => r.event),
    ['after'],
    'a child created earlier follows the new level',
  );
  t.match(
    h.records.find((r) => r.event === 'admin.log_level'),
    { level: 'info', component: 'admin', from: 'info', to: 'debug' },
  );

  t.match(await call(h.port, '/log-level?level=warn', { method: 'POST' }), { status: 200, body: 'warn\n' });
  t.equal(h.logger.level, 'warn');
  t.match(await call(h.port, '/log-level'), { body: 'warn\n' });

  const bad = await call(h.port, '/log-level', { method: 'PUT', body: 'loud' });
  t.equal(bad.status, 400);
  t.equal(bad.body, `unknown log level "loud"; valid levels: ${LOG_LEVELS.join(', ')}\n`);
  t.equal(h.logger.level, 'warn', 'unchanged');
  t.match(await call(h.port, '/log-level', { method: 'PUT', body: 'd'.repeat(100) }), { status: 413 });
  t.match(await call(h.port, '/log-level', { method: 'PUT', body: '' }), { status: 400, body: /^unknown log level ""/ });
});

t.test('on `::` (the default bind address) it serves IPv6 and IPv4 clients; an IPv4 loopback client may set the level and is logged as IPv4', async (t) => {
  const h = await harness(t, { host: '::' });
  t.equal(h.admin.address.address, '::');
  t.match(await call(h.port, '/live', { host: '::1' }), { status: 200 }, 'IPv6');
  t.match(await call(h.port, '/live', { host: '127.0.0.1' }), { status: 200 }, 'IPv4 (dual-stack)');
  t.match(await call(h.port, '/log-level', { method: 'PUT', body: 'debug', host: '127.0.0.1' }), { status: 200 }, 'loopback, though the socket says ::ffff:127.0.0.1');
  t.match(h.records.find((r) => r.event === 'admin.log_level'), { peer: /^127\.0\.0\.1:\d+$/ });
});

const external = Object.values(networkInterfaces())
  .flat()
  .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address;

t.test('changing the log level from outside the pod is refused', { skip: external === undefined ? 'no non-loopback IPv4 address on this machine' : false }, async (t) => {
  if (external === undefined) return;
  const h = await harness(t, { host: '0.0.0.0' });
  const refused = await call(h.port, '/log-level', { method: 'PUT', body: 'debug', host: external });
  t.equal(refused.status, 403);
  t.match(refused.body, /only be changed from the pod itself/);
  t.equal(h.logger.level, 'info');
  t.match(await call(h.port, '/log-level', { host: external }), { status: 200, body: 'info\n' }, 'reading is fine');

  const open = await harness(t, { host: '0.0.0.0', remoteLogLevel: true });
  t.match(await call(open.port, '/log-level', { method: 'PUT', body: 'debug', host: external }), { status: 200 });
});

t.test('isLoopback', (t) => {
  const cases: [string | undefined, boolean][] = [
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['fe80::1', false],
    ['128.0.0.1', false],
    [undefined, false],
  ];
  for (const [address, expected] of cases) t.equal(isLoopback(address), expected, String(address));
  t.end();
});

t.test('unknown paths are 404, wrong methods 405 with Allow', async (t) => {
  const h = await harness(t);
  const missing = await call(h.port, '/nope');
  t.equal(missing.status, 404);
  t.match(missing.body, /^not found; endpoints: \/live \/ready/);
  t.match(await call(h.port, '/ready', { method: 'POST' }), { status: 405, headers: { allow: 'GET, HEAD' } });
  t.match(await call(h.port, '/log-level', { method: 'DELETE' }), { status: 405, headers: { allow: 'GET, HEAD, PUT, POST' } });
  t.match(await call(h.port, '/probe/http/8080/x', { method: 'POST' }), { status: 405, headers: { allow: 'GET, HEAD' } });
  t.match(await call(h.port, '/probe/http/99999/x'), { status: 400, body: 'probe port "99999" is not a port (1-65535)\n' });
});

t.test('HTTP probes reach the application on loopback with the prober headers and a replaced Host', async (t) => {
  const h = await harness(t);
  const app = await startApp(t);
  const reply = await call(h.port, `/probe/http/${app.port}/healthz?full=1&x=%20y`, {
    headers: { 'user-agent': 'kube-probe/1.31', accept: '*/*', 'x-probe': 'custom', connection: 'keep-alive, x-hop', 'x-hop': 'drop me', host: 'somewhere:15020' },
  });
  t.match(reply, { status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } });
  t.equal(app.seen.length, 1);
  const seen = app.seen[0];
  t.equal(seen?.url, '/healthz?full=1&x=%20y', 'path and query as asked');
  t.equal(seen?.headers.host, `127.0.0.1:${app.port}`, 'Host: the address the prober reached us on, with the application port');
  t.equal(seen?.headers['user-agent'], 'kube-probe/1.31');
  t.equal(seen?.headers['x-probe'], 'custom');
  t.equal(seen?.headers['x-hop'], undefined, 'headers named in Connection are not forwarded');

  t.match(await call(h.port, `/probe/http/${app.port}`), { status: 200 });
  t.equal(app.seen[1]?.url, '/', 'no path means /');
});

t.test('HTTP probes pass on the status, not the redirect, and at most 1 KiB of body', async (t) => {
  const h = await harness(t);
  const app = await startApp(t);
  app.handler = (req, res) => {
    if (req.url === '/fail') {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('database down');
    } else if (req.url === '/moved') {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`"${'x'.repeat(10 * 1024)}"`);
    }
  };
  t.match(await call(h.port, `/probe/http/${app.port}/fail`), { status: 500, body: 'database down' });
  const moved = await call(h.port, `/probe/http/${app.port}/moved`);
  t.equal(moved.status, 302);
  t.equal(moved.headers.location, undefined, 'not followed to the admin port');
  const big = await call(h.port, `/probe/http/${app.port}/big`);
  t.equal(big.status, 200);
  t.equal(big.headers['content-type'], 'application/json');
  t.equal(Buffer.byteLength(big.body), MAX_PROBE_BODY_BYTES);
});

t.test('HTTPS probes do not verify the application certificate', async (t) => {
  const h = await harness(t);
  const app = await startApp(t, mintCa());
  t.match(await call(h.port, `/probe/https/${app.port}/live`), { status: 200, body: 'ok' });
  t.equal(app.seen[0]?.url, '/live');
  t.match(await call(h.port, `/probe/http/${app.port}/live`), { status: 503 }, 'plain HTTP to a TLS port fails');
});

t.test('HTTP probes fail with a reason when the application is down or hangs', async (t) => {
  const h = await harness(t, { probes: { timeoutMs: 300 } });
  const closed = await freePort();
  t.match(await call(h.port, `/probe/http/${closed}/healthz`), { status: 503, body: `probe: http://127.0.0.1:${closed} refused the connection\n` });

  const app = await startApp(t);
  app.handler = () => {}; // never answers
  t.match(await call(h.port, `/probe/http/${app.port}/slow`), { status: 504, body: `probe: no answer from http://127.0.0.1:${app.port} within 300 ms\n` });
  await eventually('the application to see the request abandoned', () => app.abandoned.length === 1);

  app.handler = (_req, res) => {
    res.writeHead(200);
    res.write('partial');
    res.destroy();
  };
  t.match(await call(h.port, `/probe/http/${app.port}/broken`), { status: 503, body: /^probe: http:\/\/127\.0\.0\.1:\d+ failed: / }, 'a body that breaks off');
});

t.test('when the prober goes away, the forwarded request is abandoned at once', async (t) => {
  const h = await harness(t);
  const app = await startApp(t);
  app.handler = () => {};
  const abort = new AbortController();
  const pending = call(h.port, `/probe/http/${app.port}/slow`, { signal: abort.signal });
  await eventually('the application to get the probe', () => app.seen.length === 1);
  abort.abort();
  await t.rejects(pending);
  await eventually('the application to see the request abandoned', () => app.abandoned.length === 1);
});

t.test('TCP probes', async (t) => {
  const h = await harness(t);
  const app = await startApp(t);
  t.match(await call(h.port, `/probe/tcp/${app.port}`), { status: 200, body: `probe: tcp://127.0.0.1:${app.port} accepted the connection\n` });
  const closed = await freePort();
  t.match(await call(h.port, `/probe/tcp/${closed}`), { status: 503, body: `probe: tcp://127.0.0.1:${closed} refused the connection\n` });
  t.match(await call(h.port, `/probe/tcp/${app.port}/x`), { status: 400 });
});

t.test('probes never target the proxy itself', async (t) => {
  const h = await harness(t, { probes: { refusePorts: [15001, 15006] } });
  t.match(await call(h.port, `/probe/http/${h.port}/probe/http/${h.port}/x`), { status: 400, body: `port ${h.port} belongs to the proxy, not the application\n` });
  t.match(await call(h.port, `/probe/tcp/15006`), { status: 400 });
  t.match(await call(h.port, `/probe/http/15001/`), { status: 400 });
});

t.test('close() stops the server; idempotent', async (t) => {
  const h = await harness(t);
  t.match(await call(h.port, '/live'), { status: 200 });
  await Promise.all([h.admin.close(), h.admin.close()]);
  await t.rejects(call(h.port, '/live'), { code: 'ECONNREFUSED' });
});

t.test('start fails cleanly when the port is taken', async (t) => {
  const h = await harness(t);
  await t.rejects(startAdmin({ host: '127.0.0.1', port: h.port, registry: new Registry(), logger: h.logger, ready: () => ({ ready: true, reasons: [] }), config: () => null }), { code: 'EADDRINUSE' });
  await t.rejects(startAdmin({ host: '127.0.0.1', port: 0, registry: new Registry(), logger: h.logger, ready: () => ({ ready: true, reasons: [] }), config: () => null, probes: { timeoutMs: 0 } }), RangeError);
});
