/**
 * The pool's bounds and lifecycle against real servers on 127.0.0.1:0: at most `maxConnections` sockets, the
 * wait queue (FIFO, bounded: LOOM_H1_QUEUE_FULL beyond it), connect failures, `close()` letting requests in
 * flight and waiting finish, `destroy()` failing them, and the error codes callers decide on.
 */
import type { ServerResponse } from 'node:http';
import t, { type Test } from 'tap';
import {
  H1_CLOSED,
  H1_CONNECT_FAILED,
  H1_CONNECT_TIMEOUT,
  H1_QUEUE_FULL,
  H1ClientError,
  H1Pool,
  isConnectFailure,
  type H1PoolOptions,
} from '../../../src/http/h1-client/index.js';
import { upstreamFailure } from '../../../src/inbound/errors.js';
import { httpServer, Recorder, send, until, within, type Outcome } from './support.js';
import { freePort } from '../../support/wait.js';

function pool(t: Test, port: number, options: Partial<H1PoolOptions> = {}): H1Pool {
  const p = new H1Pool({ host: '127.0.0.1', port, connectTimeoutMs: 2_000, ...options });
  t.teardown(() => p.destroy());
  return p;
}

/** A server that holds every response until `release()`; `held()` counts those waiting. */
async function slowServer(t: Test): Promise<{ port: number; held: () => number; release: () => void; accepted: () => number; open: () => number; maxOpen: () => number; order: string[] }> {
  const waiting: ServerResponse[] = [];
  const order: string[] = [];
  let releasing = false;
  const app = await httpServer(t, (req, res) => {
    order.push(req.url ?? '');
    if (releasing) res.end(req.url);
    else waiting.push(res);
  });
  return {
    port: app.port,
    held: () => waiting.length,
    release: () => {
      releasing = true;
      for (const res of waiting.splice(0)) res.end(res.req.url);
    },
    accepted: app.accepted,
    open: app.open,
    maxOpen: app.maxOpen,
    order,
  };
}


function dispatch(p: H1Pool, path: string): Promise<Outcome> {
  const recorder = new Recorder();
  p.dispatch({ method: 'GET', path, headers: [], body: null }, recorder);
  return within(recorder.done, `the response to ${path}`);
}

t.test('maxConnections: at most N sockets; the others wait in order and all complete', async (t) => {
  const app = await slowServer(t);
  const p = pool(t, app.port, { maxConnections: 2 });
  const results = Array.from({ length: 6 }, (_, i) => dispatch(p, `/${i}`));
  await until(() => app.held() === 2, 'two requests at the server');
  t.same(p.stats(), { connections: 2, idle: 0, busy: 2, queued: 4 });
  app.release();
  const outcomes = await Promise.all(results);
  t.same(
    outcomes.map((o) => o.body.toString()),
    ['/0', '/1', '/2', '/3', '/4', '/5'],
  );
  t.equal(app.maxOpen(), 2, 'never more than two connections');
  t.equal(app.accepted(), 2, 'the queued requests took the freed connections');
  t.same(app.order.slice(0, 2).sort(), ['/0', '/1']);
  t.same(app.order.slice(2), ['/2', '/3', '/4', '/5'], 'first come, first served');
  t.same(p.stats(), { connections: 2, idle: 2, busy: 0, queued: 0 });
});

t.test('beyond maxQueued: refused at once with LOOM_H1_QUEUE_FULL; the rest complete', async (t) => {
  const app = await slowServer(t);
  const p = pool(t, app.port, { maxConnections: 1, maxQueued: 2 });
  const admitted = [dispatch(p, '/a'), dispatch(p, '/b'), dispatch(p, '/c')];
  const refused = await dispatch(p, '/d');
  t.equal(refused.error?.code, H1_QUEUE_FULL);
  t.type(refused.error, H1ClientError);
  t.match(refused.error?.message, new RegExp(`^too many requests to 127\\.0\\.0\\.1:${app.port}: 1 connections busy and 2 requests waiting$`));
  t.equal(refused.started, false);
  t.equal(isConnectFailure(refused.error), false, 'not a connect failure (no ejection)');
  t.match(upstreamFailure(refused.error, app.port), { status: 503, retryAfterSeconds: 1 }, 'the inbound side answers 503 with retry-after');
  await until(() => app.held() === 1, 'the first request at the server');
  app.release();
  t.same(
    (await Promise.all(admitted)).map((o) => o.body.toString()),
    ['/a', '/b', '/c'],
  );
});

t.test('connection refused: LOOM_H1_CONNECT_FAILED naming the address; a connect failure', async (t) => {
  const port = await freePort();
  const p = pool(t, port);
  const r = await dispatch(p, '/');
  t.equal(r.error?.code, H1_CONNECT_FAILED);
  t.match(r.error?.message, new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
  t.equal(r.started, false, 'onRequestStart never called');
  t.equal(isConnectFailure(r.error), true);
  t.match(upstreamFailure(r.error, port), { status: 502 });
  t.same(p.stats(), { connections: 0, idle: 0, busy: 0, queued: 0 });
});

t.test('connect failures with requests waiting: each gets its own attempt, all fail, nothing left behind', async (t) => {
  const port = await freePort();
  const p = pool(t, port, { maxConnections: 1 });
  const outcomes = await Promise.all(Array.from({ length: 4 }, (_, i) => dispatch(p, `/${i}`)));
  t.same(
    outcomes.map((o) => o.error?.code),
    Array.from({ length: 4 }, () => H1_CONNECT_FAILED),
  );
  t.same(p.stats(), { connections: 0, idle: 0, busy: 0, queued: 0 });
});

t.test('a connect timeout maps to 504 and counts as a connect failure', (t) => {
  const err = new H1ClientError(H1_CONNECT_TIMEOUT, '127.0.0.1:1', 'connection to 127.0.0.1:1 timed out after 5 ms');
  t.equal(isConnectFailure(err), true);
  t.match(upstreamFailure(err, 1), { status: 504, message: 'the application on port 1 timed out: connection to 127.0.0.1:1 timed out after 5 ms' });
  t.end();
});

t.test('close(): requests in flight and waiting finish; new ones are refused; then every socket closes', async (t) => {
  const app = await slowServer(t);
  const p = pool(t, app.port, { maxConnections: 1 });
  const inFlight = dispatch(p, '/in-flight');
  const waiting = dispatch(p, '/waiting');
  await until(() => app.held() === 1, 'the first request at the server');
  let closed = false;
  const closing = p.close().then(() => {
    closed = true;
  });
  const refused = await dispatch(p, '/late');
  t.equal(refused.error?.code, H1_CLOSED);
  t.match(refused.error?.message, /are closing/);
  t.equal(closed, false, 'not closed while requests remain');
  app.release();
  t.equal((await inFlight).body.toString(), '/in-flight');
  t.equal((await waiting).body.toString(), '/waiting');
  await within(closing, 'close()');
  t.same(p.stats(), { connections: 0, idle: 0, busy: 0, queued: 0 });
  await until(() => app.open() === 0, 'the server saw the connection close');
  t.equal(await p.close().then(() => 'again'), 'again', 'idempotent');
});

t.test('close() with only free connections closes them at once', async (t) => {
  const app = await httpServer(t, (_req, res) => res.end('x'));
  const p = pool(t, app.port);
  await Promise.all([dispatch(p, '/1'), dispatch(p, '/2')]);
  t.equal(p.stats().idle, 2);
  await within(p.close(), 'close()');
  await until(() => app.open() === 0, 'the server saw both close');
});

t.test('destroy(): everything in flight and waiting fails now with LOOM_H1_CLOSED', async (t) => {
  const app = await slowServer(t);
  const p = pool(t, app.port, { maxConnections: 1 });
  const inFlight = dispatch(p, '/in-flight');
  const waiting = dispatch(p, '/waiting');
  await until(() => app.held() === 1, 'the first request at the server');
  await within(p.destroy(), 'destroy()');
  const outcomes = await Promise.all([inFlight, waiting]);
  t.same(
    outcomes.map((o) => o.error?.code),
    [H1_CLOSED, H1_CLOSED],
  );
  t.match(outcomes[0].error?.message, /are destroyed/);
  t.equal((await dispatch(p, '/after')).error?.code, H1_CLOSED, 'later requests refused');
  await until(() => app.open() === 0, 'the server saw the connection close');
  await within(p.destroy(), 'destroy() again');
});

t.test('a response paused by its handler holds its connection; others use other connections', async (t) => {
  const app = await httpServer(t, (req, res) => res.end(`${req.url} body`));
  const p = pool(t, app.port, { maxConnections: 2 });
  const recorder = new Recorder();
  recorder.onStart = (c) => c.pause();
  p.dispatch({ method: 'GET', path: '/paused', headers: [], body: null }, recorder);
  await until(() => app.accepted() === 1 && recorder.started, 'the paused request sent');
  t.equal((await send(p, { path: '/other' })).body.toString(), '/other body');
  t.equal(recorder.status, 0, 'the paused response not read');
  recorder.controller!.resume();
  t.equal((await recorder.done).body.toString(), '/paused body');
});

t.test('refusals are reported after dispatch returns, never from inside it', async (t) => {
  const p = new H1Pool({ host: '127.0.0.1', port: 1, connectTimeoutMs: 1_000 });
  await p.close();
  const recorder = new Recorder();
  p.dispatch({ method: 'GET', path: '/', headers: [], body: null }, recorder);
  t.equal(recorder.error, null, 'not yet');
  t.equal((await recorder.done).error?.code, H1_CLOSED);
  const invalid = new Recorder();
  const open = pool(t, 1);
  open.dispatch({ method: 'BAD METHOD', path: '/', headers: [], body: null }, invalid);
  t.equal(invalid.error, null, 'not yet');
  t.match((await invalid.done).error?.message, /invalid method/);
});

t.test('an IPv6 address is bracketed in messages and the Host field', async (t) => {
  const p = pool(t, 1, { host: '::1' });
  t.equal(p.address, '[::1]:1');
  const r = await dispatch(p, '/');
  t.match(r.error?.message, /::1/);
});
