/** Probe attempts against real listeners on loopback, and the Prober's thresholds with a short second. */
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { servingMaterial } from '../../../src/api/tls.js';
import { probeOnce, Prober, resolvePort, type ProbeResult, type ProbeTarget } from '../../../src/node/pods/probes.js';
import type { Probe, ProbeHandler } from '../../../src/node/pods/spec.js';

async function listen(t: Test, server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const target = (ports: ProbeTarget['ports'] = []): ProbeTarget => ({
  podIP: '127.0.0.1',
  ports,
  exec: (command) => Promise.resolve({ ok: command[0] === 'true', message: command[0] === 'true' ? '' : 'it said no' }),
});

const http = (port: number | string, path = '/', headers: [string, string][] = [], scheme: 'HTTP' | 'HTTPS' = 'HTTP'): ProbeHandler => ({ kind: 'http', scheme, port, path, headers });

t.test('httpGet: 2xx and 3xx succeed, others fail with the status; headers and the User-Agent go along', async (t) => {
  let seen: IncomingHttpHeaders = {};
  const server = createHttpServer((req, res) => {
    seen = req.headers;
    const code = Number(req.url?.slice(1));
    res.writeHead(code, code === 302 ? { location: 'http://elsewhere.invalid/' } : {});
    if (req.url === '/200') res.write('streaming, never ends');
    else res.end();
  });
  const port = await listen(t, server);
  const cases: [number, ProbeResult][] = [
    [200, { ok: true, message: '' }],
    [204, { ok: true, message: '' }],
    [302, { ok: true, message: '' }],
    [399, { ok: true, message: '' }],
    [400, { ok: false, message: 'HTTP probe failed with statuscode: 400' }],
    [503, { ok: false, message: 'HTTP probe failed with statuscode: 503' }],
  ];
  for (const [code, expected] of cases) t.strictSame(await probeOnce(http(port, `/${code}`, [['X-Custom', 'yes'], ['Host', 'example.test']]), target(), 1000), expected, String(code));
  t.match(seen, { 'user-agent': 'kube-probe/1.32', 'x-custom': 'yes', host: 'example.test', accept: '*/*' });
  t.strictSame(await probeOnce(http('web', '/200'), target([{ name: 'web', containerPort: port }]), 1000), { ok: true, message: '' }, 'a named port');
});

t.test('httpGet failures: refused, timeout, unknown named port', async (t) => {
  const closed = await closedPort();
  t.strictSame(await probeOnce(http(closed), target(), 1000), { ok: false, message: `Get "http://127.0.0.1:${closed}/": dial tcp 127.0.0.1:${closed}: connect: connection refused` });
  const silent = createTcpServer((socket) => socket.resume());
  const port = await listen(t, silent);
  const slow = await probeOnce(http(port, '/x'), target(), 100);
  t.match(slow, { ok: false, message: `Get "http://127.0.0.1:${port}/x": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
  t.strictSame(await probeOnce(http('admin'), target([{ name: 'web', containerPort: 1 }]), 1000), { ok: false, message: `couldn't find port: admin in ["web"]` });
  t.equal(resolvePort(8080, []), 8080);
});

t.test('httpGet over HTTPS does not verify the certificate', async (t) => {
  const tls = servingMaterial(['127.0.0.1']);
  const server = createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => res.end('ok'));
  const port = await listen(t, server);
  t.strictSame(await probeOnce(http(port, '/', [], 'HTTPS'), target(), 2000), { ok: true, message: '' });
});

t.test('tcpSocket, exec and unsupported handlers', async (t) => {
  const port = await listen(t, createTcpServer((s) => s.end()));
  t.strictSame(await probeOnce({ kind: 'tcp', port }, target(), 1000), { ok: true, message: '' });
  const closed = await closedPort();
  t.strictSame(await probeOnce({ kind: 'tcp', port: closed }, target(), 1000), { ok: false, message: `dial tcp 127.0.0.1:${closed}: connect: connection refused` });
  t.strictSame(await probeOnce({ kind: 'exec', command: ['true'] }, target(), 1000), { ok: true, message: '' });
  t.strictSame(await probeOnce({ kind: 'exec', command: ['false'] }, target(), 1000), { ok: false, message: 'it said no' });
  t.strictSame(await probeOnce({ kind: 'unsupported', what: 'gRPC probes' }, target(), 1000), { ok: false, message: 'gRPC probes are not supported by the local cluster' });
});

const probe = (more: Partial<Probe> = {}): Probe => ({
  handler: { kind: 'exec', command: [] },
  initialDelaySeconds: 0,
  periodSeconds: 1,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
  ...more,
});

/** Runs a Prober over scripted results (one per attempt, then the last repeats) until `attempts` were made. */
async function scripted(kind: 'Startup' | 'Readiness' | 'Liveness', p: Probe, results: boolean[], attempts: number): Promise<{ changes: boolean[]; failures: number; made: number }> {
  const changes: boolean[] = [];
  let failures = 0;
  let made = 0;
  // The Prober's timers are unref'd: this one keeps the test alive meanwhile.
  const alive = setInterval(() => {}, 1000);
  await new Promise<void>((resolve) => {
    const prober: Prober = new Prober({
      kind,
      probe: p,
      secondMs: 5,
      attempt: () => {
        const ok = results[Math.min(made, results.length - 1)] ?? false;
        made++;
        if (made >= attempts) setImmediate(() => {
          prober.stop();
          resolve();
        });
        return Promise.resolve({ ok, message: ok ? '' : `failure ${made}` });
      },
      onResult: (ok) => changes.push(ok),
      onFailure: () => failures++,
    });
    prober.start();
  });
  clearInterval(alive);
  return { changes, failures, made };
}

t.test('Prober thresholds, table', async (t) => {
  const cases: [string, 'Startup' | 'Readiness' | 'Liveness', Partial<Probe>, boolean[], number, boolean[]][] = [
    ['readiness: ready after the first success', 'Readiness', {}, [true], 3, [true]],
    ['readiness: successThreshold 3', 'Readiness', { successThreshold: 3 }, [true, true, false, true, true, true], 6, [true]],
    ['readiness: unready after failureThreshold failures in a row', 'Readiness', { failureThreshold: 2 }, [true, false, true, false, false, false], 6, [true, false]],
    ['liveness starts healthy: failures below the threshold change nothing', 'Liveness', { failureThreshold: 3 }, [false, false, true, false, false, true], 6, []],
    ['liveness: unhealthy after failureThreshold', 'Liveness', { failureThreshold: 2 }, [true, false, false], 3, [false]],
    ['startup: started on the first success, then it stops probing', 'Startup', {}, [false, true], 2, [true]],
    ['startup: failureThreshold failures say it failed', 'Startup', { failureThreshold: 2 }, [false], 2, [false]],
  ];
  for (const [what, kind, p, results, attempts, changes] of cases) {
    const got = await scripted(kind, probe(p), results, attempts);
    t.strictSame(got.changes, changes, what);
    t.equal(got.failures, results.slice(0, attempts).filter((r) => !r).length + Math.max(0, attempts - results.length) * (results.at(-1) === false ? 1 : 0), `${what}: every failed attempt reported`);
  }
});

t.test('initialDelaySeconds and periodSeconds', async (t) => {
  const times: number[] = [];
  const started = Date.now();
  const alive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(alive));
  await new Promise<void>((resolve) => {
    const prober: Prober = new Prober({
      kind: 'Liveness',
      probe: probe({ initialDelaySeconds: 10, periodSeconds: 4 }),
      secondMs: 10,
      attempt: () => {
        times.push(Date.now() - started);
        if (times.length === 3) {
          prober.stop();
          resolve();
        }
        return Promise.resolve({ ok: true, message: '' });
      },
      onResult: () => {},
      onFailure: () => {},
    });
    prober.start();
  });
  t.ok((times[0] ?? 0) >= 95, `first attempt after the initial delay (${times[0]} ms)`);
  t.ok((times[2] ?? 0) - (times[0] ?? 0) >= 75, `then every period (${times.join(', ')})`);
});
