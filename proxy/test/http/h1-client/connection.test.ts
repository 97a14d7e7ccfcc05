/**
 * One connection's life, through a pool, against real servers on 127.0.0.1:0 (node:http, and raw `net`
 * servers scripting exact bytes): keep-alive reuse and when a connection is not reused, request bodies
 * streamed (Content-Length or chunked), backpressure on responses, aborts, the one retry of an idempotent
 * request on a reused connection the server had closed, malformed responses.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import { H1_ABORTED, H1_CLOSED, H1_CONNECT_FAILED, H1_INVALID_REQUEST, H1_PARSE, H1_SOCKET, H1Pool, type H1PoolOptions } from '../../../src/http/h1-client/index.js';
import { connectPlain } from '../../../src/transport/connect.js';
import { httpServer, onRequests, rawServer, Recorder, send, until, within } from './support.js';

function pool(t: Test, port: number, options: Partial<H1PoolOptions> = {}): H1Pool {
  const p = new H1Pool({ host: '127.0.0.1', port, connectTimeoutMs: 2_000, ...options });
  t.teardown(() => p.destroy());
  return p;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A body of `size` bytes in 64 KiB chunks, and its bytes. */
function bodyOf(size: number): { stream: () => Readable; bytes: Buffer } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7) % 253;
  return {
    bytes,
    stream: () => {
      let at = 0;
      return new Readable({
        read() {
          if (at >= size) {
            this.push(null);
            return;
          }
          const end = Math.min(size, at + 64 * 1024);
          this.push(bytes.subarray(at, end));
          at = end;
        },
      });
    },
  };
}

t.test('keep-alive: N sequential requests on one connection', async (t) => {
  const app = await httpServer(t, (req, res) => {
    res.setHeader('x-url', req.url ?? '');
    res.end(`hello ${req.url}`);
  });
  const p = pool(t, app.port);
  for (let i = 0; i < 5; i++) {
    const r = await send(p, { path: `/r${i}` });
    t.equal(r.status, 200);
    t.equal(r.body.toString(), `hello /r${i}`);
    t.equal(r.headers['x-url'], `/r${i}`);
    t.equal(r.statusText, 'OK');
    t.strictSame(r.calls.slice(0, 2), ['onRequestStart', 'onResponseStart']);
    t.equal(r.calls.at(-1), 'onResponseEnd');
  }
  t.equal(app.accepted(), 1, 'one connection');
  t.same(p.stats(), { connections: 1, idle: 1, busy: 0, queued: 0 });
});

t.test('Host is added from the address when the caller gives none, kept when it does', async (t) => {
  const hosts: (string | undefined)[] = [];
  const app = await httpServer(t, (req, res) => {
    hosts.push(req.headers.host);
    res.end();
  });
  const p = pool(t, app.port);
  await send(p, { headers: [] });
  await send(p, { headers: ['Host', 'api.shop'] });
  t.same(hosts, [`127.0.0.1:${app.port}`, 'api.shop']);
});

t.test('a close-delimited response: the whole body, then a new connection for the next request', async (t) => {
  const app = await rawServer(t, (socket) => {
    onRequests(socket, () => socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end'));
  });
  const p = pool(t, app.port);
  const first = await send(p);
  t.equal(first.body.toString(), 'until the end');
  t.equal(first.error, null);
  const second = await send(p);
  t.equal(second.body.toString(), 'until the end');
  t.equal(app.accepted(), 2, 'not reused');
});

t.test('Connection: close: every request on a new connection', async (t) => {
  const app = await httpServer(t, (_req, res) => {
    res.setHeader('connection', 'close');
    res.end('bye');
  });
  const p = pool(t, app.port);
  for (let i = 0; i < 3; i++) t.equal((await send(p)).body.toString(), 'bye');
  t.equal(app.accepted(), 3);
  await until(() => p.stats().connections === 0, 'the last connection closed');
});

t.test('HTTP/1.0: closed after the response unless it says keep-alive', async (t) => {
  const app = await rawServer(t, (socket, index) => {
    onRequests(socket, () => socket.write(index === 0 ? 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi' : 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nka'));
  });
  const p = pool(t, app.port);
  t.equal((await send(p)).body.toString(), 'hi');
  t.equal((await send(p)).body.toString(), 'ka');
  t.equal((await send(p)).body.toString(), 'ka');
  t.equal(app.accepted(), 2, 'the HTTP/1.0 connection without keep-alive was not reused; the one with it was');
});

t.test('Keep-Alive: timeout=1 leaves no time: the connection is closed after the response', async (t) => {
  const app = await httpServer(t, (_req, res) => {
    res.setHeader('keep-alive', 'timeout=1');
    res.end('x');
  });
  const p = pool(t, app.port);
  await send(p);
  await send(p);
  t.equal(app.accepted(), 2);
});

t.test('a free connection closes after its idle timeout', async (t) => {
  const app = await httpServer(t, (_req, res) => res.end('x'));
  const p = pool(t, app.port, { keepAliveTimeoutMs: 50 });
  await send(p);
  await until(() => p.stats().connections === 0 && app.open() === 0, 'the idle connection closed');
  t.equal((await send(p)).body.toString(), 'x', 'the next request opens another');
  t.equal(app.accepted(), 2);
});

t.test("the server's Keep-Alive: timeout=2 (less 1 s) shortens a long idle timeout", async (t) => {
  const app = await httpServer(t, (_req, res) => {
    res.setHeader('keep-alive', 'timeout=2');
    res.end('x');
  });
  // Our own timeout (60 s) would outlast the wait below: only the server's (2 s - 1 s) can close it in time.
  const p = pool(t, app.port, { keepAliveTimeoutMs: 60_000 });
  await send(p);
  t.equal(p.stats().idle, 1, 'kept at first');
  await until(() => p.stats().connections === 0 && app.open() === 0, 'the idle connection closed', 5_000);
});

t.test('HEAD with Content-Length: no body read, the connection reused', async (t) => {
  const app = await httpServer(t, (req, res) => {
    res.setHeader('content-length', '11');
    res.end(req.method === 'HEAD' ? undefined : 'hello world');
  });
  const p = pool(t, app.port);
  const head = await send(p, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(head.headers['content-length'], '11');
  t.equal(head.body.length, 0);
  t.equal((await send(p)).body.toString(), 'hello world');
  t.equal(app.accepted(), 1);
});

t.test('1xx responses are skipped; the final one is reported', async (t) => {
  const app = await rawServer(t, (socket) => {
    onRequests(socket, () => socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 4\r\n\r\ndone'));
  });
  const p = pool(t, app.port);
  const r = await send(p);
  t.equal(r.status, 202);
  t.equal(r.body.toString(), 'done');
  t.equal(r.calls.filter((c) => c === 'onResponseStart').length, 1);
});

t.test('trailers of a chunked response reach onResponseEnd', async (t) => {
  const app = await httpServer(t, (_req, res) => {
    res.writeHead(200, { trailer: 'grpc-status' });
    res.write('part');
    res.addTrailers({ 'grpc-status': '0', 'x-t': 'v' });
    res.end();
  });
  const p = pool(t, app.port);
  const r = await send(p);
  t.equal(r.body.toString(), 'part');
  t.match(r.trailers, { 'grpc-status': '0', 'x-t': 'v' });
});

t.test('request bodies: 5 MiB with Content-Length as is, and chunked without', async (t) => {
  const seen: { te: string | undefined; cl: string | undefined; hash: string; length: number }[] = [];
  const app = await httpServer(t, (req, res) => {
    void readBody(req).then((b) => {
      seen.push({ te: req.headers['transfer-encoding'], cl: req.headers['content-length'], hash: sha(b), length: b.length });
      res.end(String(b.length));
    });
  });
  const p = pool(t, app.port);
  const { stream, bytes } = bodyOf(5 * 1024 * 1024);
  const withLength = await send(p, { method: 'POST', headers: ['host', 'h', 'content-length', String(bytes.length)], body: stream() });
  t.equal(withLength.body.toString(), String(bytes.length));
  const chunked = await send(p, { method: 'POST', headers: ['host', 'h'], body: stream() });
  t.equal(chunked.body.toString(), String(bytes.length));
  t.same(seen, [
    { te: undefined, cl: String(bytes.length), hash: sha(bytes), length: bytes.length },
    { te: 'chunked', cl: undefined, hash: sha(bytes), length: bytes.length },
  ]);
  t.equal(app.accepted(), 1, 'both on one connection');
});

t.test('an empty chunked body is sent as its terminating chunk', async (t) => {
  const app = await httpServer(t, (req, res) => {
    void readBody(req).then((b) => res.end(`${req.headers['transfer-encoding']} ${b.length}`));
  });
  const p = pool(t, app.port);
  const r = await send(p, { method: 'POST', body: Readable.from([]) });
  t.equal(r.body.toString(), 'chunked 0');
});

t.test('a body longer than its Content-Length fails the request; nothing extra reaches the server', async (t) => {
  const received: string[] = [];
  const app = await rawServer(t, (socket) => {
    socket.on('data', (d: Buffer) => received.push(d.toString('latin1')));
  });
  const p = pool(t, app.port);
  const r = await send(p, { method: 'PUT', headers: ['content-length', '3'], body: Readable.from([Buffer.from('abc'), Buffer.from('def')]) });
  t.equal(r.error?.code, H1_INVALID_REQUEST);
  t.match(r.error?.message, /longer than its content-length/);
  await until(() => app.open() === 0, 'the connection closed');
  t.notMatch(received.join(''), /def/, 'the extra bytes were not written');
});

t.test('a body shorter than its Content-Length fails the request and closes the connection', async (t) => {
  const app = await rawServer(t, (socket) => socket.resume());
  const p = pool(t, app.port);
  const r = await send(p, { method: 'PUT', headers: ['content-length', '10'], body: Readable.from([Buffer.from('abc')]) });
  t.equal(r.error?.code, H1_INVALID_REQUEST);
  t.match(r.error?.message, /ended before its content-length \(3 of 10 bytes\)/);
  await until(() => app.open() === 0, 'the connection closed');
});

t.test('a server that answers before reading the body: the response arrives, the body is destroyed, the connection closed', async (t) => {
  const app = await rawServer(t, (socket) => {
    onRequests(socket, () => socket.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\n\r\ntoo large'));
  });
  const p = pool(t, app.port);
  let pushed = 0;
  const endless = new Readable({
    read() {
      pushed++;
      setImmediate(() => this.push(Buffer.alloc(1024, 'x')));
    },
  });
  const r = await send(p, { method: 'POST', body: endless });
  t.equal(r.status, 413);
  t.equal(r.body.toString(), 'too large');
  t.ok(endless.destroyed, 'the body was destroyed');
  t.ok(pushed > 0);
  await until(() => p.stats().connections === 0 && app.open() === 0, 'the connection closed');
});

t.test('a body that fails (the client went away) fails the request and closes the connection', async (t) => {
  const app = await rawServer(t, (socket) => socket.resume());
  const p = pool(t, app.port);
  const body = new Readable({ read() {} });
  const recorder = new Recorder();
  p.dispatch({ method: 'POST', path: '/', headers: [], body }, recorder);
  body.push('partial');
  await until(() => app.accepted() === 1, 'the connection');
  body.destroy(new Error('client reset'));
  const r = await within(recorder.done, 'the failure');
  t.equal(r.error?.code, 'LOOM_H1_ABORTED');
  t.match(r.error?.message, /client reset/);
  await until(() => app.open() === 0, 'the connection closed');
});

t.test('response backpressure: while paused, the server is held back; every byte arrives once resumed', async (t) => {
  const chunk = 64 * 1024;
  const chunks = 256; // 16 MiB: well beyond socket buffers
  let written = 0;
  let blocked = false;
  const app = await httpServer(t, (_req, res) => {
    res.writeHead(200, { 'content-length': String(chunk * chunks) });
    const more = (): void => {
      while (written < chunks) {
        const ok = res.write(Buffer.alloc(chunk, written % 251));
        written++;
        if (!ok) {
          blocked = true;
          res.once('drain', () => {
            blocked = false;
            more();
          });
          return;
        }
      }
      res.end();
    };
    more();
  });
  const p = pool(t, app.port);
  const recorder = new Recorder();
  let paused = false;
  recorder.onData = (controller) => {
    if (!paused) {
      paused = true;
      controller.pause();
      t.equal(controller.paused, true);
    }
  };
  p.dispatch({ method: 'GET', path: '/big', headers: [], body: null }, recorder);
  await until(() => paused && blocked, 'the server blocked on a full socket');
  // Give the server every chance to write more if the client were still reading.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const writtenWhilePaused = written;
  const receivedWhilePaused = recorder.received;
  t.ok(writtenWhilePaused < chunks / 2, `the server was held back (${writtenWhilePaused} of ${chunks} chunks written)`);
  t.ok(receivedWhilePaused < chunk * 2, `little was delivered while paused (${receivedWhilePaused} bytes)`);
  recorder.controller!.resume();
  const r = await recorder.done;
  t.equal(r.body.length, chunk * chunks, 'every byte');
  let intact = true;
  for (let i = 0; i < chunks; i++) if (r.body[i * chunk] !== i % 251 || r.body[(i + 1) * chunk - 1] !== i % 251) intact = false;
  t.ok(intact, 'in order');
});

t.test('abort mid-response: onResponseError once with the reason, the socket closed, later calls no-ops', async (t) => {
  const app = await httpServer(t, (_req, res) => {
    res.writeHead(200);
    res.write('first part');
    // ...and never ends.
  });
  const p = pool(t, app.port);
  const recorder = new Recorder();
  const reason = new Error('the client went away');
  recorder.onData = (controller) => {
    controller.abort(reason);
    controller.abort(new Error('again'));
    controller.pause();
    controller.resume();
  };
  p.dispatch({ method: 'GET', path: '/', headers: [], body: null }, recorder);
  const r = await within(recorder.done, 'the abort');
  t.equal(r.error, reason);
  t.equal(recorder.controller?.aborted, true);
  t.equal(recorder.controller?.reason, reason);
  t.same(r.calls, ['onRequestStart', 'onResponseStart', 'onResponseData', 'onResponseError']);
  await until(() => app.open() === 0 && p.stats().connections === 0, 'the connection closed on both sides');
});

t.test('abort in onRequestStart: nothing written, the connection stays free for the next request', async (t) => {
  const requests: string[] = [];
  const app = await httpServer(t, (req, res) => {
    requests.push(req.url ?? '');
    res.end('ok');
  });
  const p = pool(t, app.port);
  await send(p, { path: '/warm' });
  const recorder = new Recorder();
  recorder.onStart = (c) => c.abort(new Error('changed my mind'));
  const aborted = await send(p, { path: '/never' }, recorder);
  t.match(aborted.error?.message, /changed my mind/);
  t.equal((await send(p, { path: '/next' })).body.toString(), 'ok');
  t.same(requests, ['/warm', '/next'], 'the aborted request was never sent');
  t.equal(app.accepted(), 1);
});

t.test('abort after the end is a no-op: no error after onResponseEnd, the connection kept', async (t) => {
  const app = await httpServer(t, (_req, res) => res.end('ok'));
  const p = pool(t, app.port);
  const recorder = new Recorder();
  const r = await send(p, {}, recorder);
  t.equal(r.error, null);
  recorder.controller!.abort(new Error('late'));
  recorder.controller!.pause();
  t.equal(recorder.error, null, 'no error reported');
  t.equal(recorder.controller!.aborted, false);
  t.same(p.stats(), { connections: 1, idle: 1, busy: 0, queued: 0 }, 'the connection is free');
  t.equal((await send(p)).body.toString(), 'ok', 'and carries the next request');
  t.equal(app.accepted(), 1);
});

t.test('the server closes a free connection: it leaves the pool, the next request gets a new one', async (t) => {
  const app = await rawServer(t, (socket, index) => {
    onRequests(socket, () => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${index}`);
      if (index === 0) setImmediate(() => socket.end());
    });
  });
  const p = pool(t, app.port);
  t.equal((await send(p)).body.toString(), '0');
  await until(() => p.stats().connections === 0, 'the closed connection left the pool');
  t.equal((await send(p)).body.toString(), '1');
  t.equal(app.accepted(), 2);
});

t.test('bytes from the server on a free connection: the connection is closed', async (t) => {
  const app = await rawServer(t, (socket, index) => {
    onRequests(socket, () => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${index}`);
      if (index === 0) setImmediate(() => socket.write('HTTP/1.1 200 OK\r\n\r\nunasked'));
    });
  });
  const p = pool(t, app.port);
  t.equal((await send(p)).body.toString(), '0');
  await until(() => p.stats().connections === 0, 'the connection left the pool');
  t.equal((await send(p)).body.toString(), '1');
});

/** A server whose first connection answers one request, then closes when the next request arrives without answering it. */
async function closesOnSecondRequest(t: Test): Promise<{ port: number; accepted: () => number; requests: string[] }> {
  const requests: string[] = [];
  const app = await rawServer(t, (socket, index) => {
    onRequests(socket, (n, received) => {
      requests.push(`${index}:${received.split('\r\n\r\n')[n]!.split(' ')[1]!}`);
      if (index === 0 && n === 1) socket.destroy();
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
  });
  return { port: app.port, accepted: app.accepted, requests };
}

t.test('a reused connection closed under a GET: sent again once on a new connection, and it succeeds', async (t) => {
  const app = await closesOnSecondRequest(t);
  const p = pool(t, app.port);
  t.equal((await send(p, { path: '/one' })).body.toString(), 'ok');
  const retried = await send(p, { path: '/two' });
  t.equal(retried.error, null);
  t.equal(retried.body.toString(), 'ok');
  t.equal(retried.calls.filter((c) => c === 'onRequestStart').length, 1, 'onRequestStart once');
  t.same(app.requests, ['0:/one', '0:/two', '1:/two']);
  t.equal(app.accepted(), 2);
});

t.test('a reused connection closed under a POST with a body: the request fails, not retried', async (t) => {
  const app = await closesOnSecondRequest(t);
  const p = pool(t, app.port);
  t.equal((await send(p, { path: '/one' })).body.toString(), 'ok');
  const failed = await send(p, { method: 'POST', path: '/two', headers: ['content-length', '4'], body: Readable.from([Buffer.from('data')]) });
  t.equal(failed.error?.code, H1_SOCKET);
  t.match(failed.error?.message, new RegExp(`connection to 127\\.0\\.0\\.1:${app.port} .*before a response`));
  t.same(app.requests, ['0:/one', '0:/two']);
  t.equal(app.accepted(), 1, 'no new connection');
});

t.test('a new connection closed under a GET: not retried (the server really failed it)', async (t) => {
  const app = await rawServer(t, (socket) => {
    onRequests(socket, () => socket.destroy());
  });
  const p = pool(t, app.port);
  const r = await send(p);
  t.equal(r.error?.code, H1_SOCKET);
  t.equal(app.accepted(), 1);
});

t.test('the connection lost mid-response: LOOM_H1_SOCKET after the response started', async (t) => {
  const app = await rawServer(t, (socket) => {
    onRequests(socket, () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part');
      setImmediate(() => socket.destroy());
    });
  });
  const p = pool(t, app.port);
  const r = await send(p);
  t.equal(r.status, 200);
  t.equal(r.error?.code, H1_SOCKET);
  t.match(r.error?.message, /before the response ended/);
});

t.test('a malformed response: LOOM_H1_PARSE, the socket closed', async (t) => {
  const app = await rawServer(t, (socket) => {
    onRequests(socket, () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'));
  });
  const p = pool(t, app.port);
  const r = await send(p);
  t.equal(r.error?.code, H1_PARSE);
  t.match(r.error?.message, new RegExp(`^malformed response from 127\\.0\\.0\\.1:${app.port}: both Transfer-Encoding and Content-Length`));
  t.equal(r.status, 0, 'no response reported');
  await until(() => app.open() === 0 && p.stats().connections === 0, 'the connection closed');
});

t.test('a handler that throws in onResponseStart: its request fails with that error, the connection is closed', async (t) => {
  const app = await httpServer(t, (_req, res) => res.end('x'));
  const p = pool(t, app.port);
  const recorder = new Recorder();
  const boom = new Error('handler bug');
  recorder.onResponseStart = () => {
    throw boom;
  };
  const r = await send(p, {}, recorder);
  t.equal(r.error, boom);
  await until(() => p.stats().connections === 0, 'the connection closed');
});

t.test('an invalid request is refused before anything is written', async (t) => {
  const app = await httpServer(t, (_req, res) => res.end('x'));
  const p = pool(t, app.port);
  const r = await send(p, { headers: ['x-a', 'b\r\nx-injected: 1'] });
  t.equal(r.error?.code, H1_INVALID_REQUEST);
  t.equal(r.started, false);
  t.equal(app.accepted(), 0);
});

t.test('many requests through a few connections: every response intact', async (t) => {
  const app = await httpServer(t, (req, res) => {
    void readBody(req).then((b) => res.end(`${req.url} ${b.length}`));
  });
  const p = pool(t, app.port, { maxConnections: 4 });
  const results = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      send(p, i % 2 === 0 ? { path: `/${i}` } : { method: 'POST', path: `/${i}`, headers: ['content-length', String(i)], body: Readable.from([Buffer.alloc(i, 'z')]) }),
    ),
  );
  for (let i = 0; i < results.length; i++) t.equal(results[i]!.body.toString(), `/${i} ${i % 2 === 0 ? 0 : i}`, `request ${i}`);
  t.ok(app.maxOpen() <= 4, `at most 4 connections (${app.maxOpen()})`);
});

t.test('content-length: 0 with a body stream (an HTTP/2 request ended by an empty DATA frame): sent, answered, the connection kept', async (t) => {
  const seen: { cl: string | undefined; te: string | undefined; length: number }[] = [];
  const app = await httpServer(t, (req, res) => {
    void readBody(req).then((b) => {
      seen.push({ cl: req.headers['content-length'], te: req.headers['transfer-encoding'], length: b.length });
      res.end('ok');
    });
  });
  const p = pool(t, app.port);
  const r = await send(p, { method: 'POST', headers: ['content-length', '0'], body: Readable.from([]) });
  t.equal(r.error, null);
  t.equal(r.body.toString(), 'ok');
  const again = await send(p, { method: 'POST', headers: ['content-length', '0'], body: Readable.from([]) });
  t.equal(again.body.toString(), 'ok');
  t.same(seen, [
    { cl: '0', te: undefined, length: 0 },
    { cl: '0', te: undefined, length: 0 },
  ]);
  t.equal(app.accepted(), 1, 'one connection for both');
  const longer = await send(p, { method: 'POST', headers: ['content-length', '0'], body: Readable.from([Buffer.from('x')]) });
  t.equal(longer.error?.code, H1_INVALID_REQUEST, 'a byte beyond content-length: 0 fails the request');
});

/** An asynchronous opener the test settles by hand; `calls` counts the connections it was asked for. */
function heldOpener(): { connect: () => Promise<Socket>; calls: () => number; resolve: (socket: Socket) => void; reject: (err: Error) => void } {
  let settle: { resolve: (socket: Socket) => void; reject: (err: Error) => void } | null = null;
  let calls = 0;
  return {
    connect: () =>
      new Promise<Socket>((resolve, reject) => {
        calls++;
        settle = { resolve, reject };
      }),
    calls: () => calls,
    resolve: (socket) => settle!.resolve(socket),
    reject: (err) => settle!.reject(err),
  };
}

t.test('asynchronous opener: a pool destroyed while it opens resolves once the late socket is closed', async (t) => {
  const app = await rawServer(t, (socket) => socket.resume());
  const opener = heldOpener();
  const p = pool(t, app.port, { connect: opener.connect });
  const recorder = new Recorder();
  p.dispatch({ method: 'GET', path: '/', headers: [], body: null }, recorder);
  await until(() => opener.calls() === 1, 'the opener called');
  const destroyed = p.destroy();
  t.equal((await within(recorder.done, 'the request failed')).error?.code, H1_CLOSED);
  const late = await connectPlain('127.0.0.1', app.port, 2_000);
  opener.resolve(late);
  await within(destroyed, 'destroy() after the late socket');
  await until(() => late.destroyed && app.open() === 0, 'the late socket closed on both sides');
  t.equal(recorder.started, false, 'nothing was written');
});

t.test('asynchronous opener: a pool destroyed while it opens resolves once the opener fails', async (t) => {
  const opener = heldOpener();
  const p = pool(t, 1, { connect: opener.connect });
  const recorder = new Recorder();
  p.dispatch({ method: 'GET', path: '/', headers: [], body: null }, recorder);
  await until(() => opener.calls() === 1, 'the opener called');
  const destroyed = p.destroy();
  opener.reject(new Error('handshake failed'));
  await within(destroyed, 'destroy() after the opener failed');
  t.equal((await recorder.done).error?.code, H1_CLOSED);
});

t.test('asynchronous opener: a request aborted while its connection opens; the late socket is closed and close() resolves', async (t) => {
  const app = await rawServer(t, (socket) => socket.resume());
  const opener = heldOpener();
  const p = pool(t, app.port, { connect: opener.connect });
  const body = new Readable({ read() {} });
  const recorder = new Recorder();
  p.dispatch({ method: 'POST', path: '/', headers: [], body }, recorder);
  await until(() => opener.calls() === 1, 'the opener called');
  body.destroy(new Error('client reset')); // the client went away: the request aborts while connecting
  t.equal((await within(recorder.done, 'the abort')).error?.code, H1_ABORTED);
  t.same(p.stats(), { connections: 0, idle: 0, busy: 0, queued: 0 });
  const late = await connectPlain('127.0.0.1', app.port, 2_000);
  opener.resolve(late);
  await within(p.close(), 'close()');
  await until(() => late.destroyed && app.open() === 0, 'the late socket closed on both sides');
});

t.test('asynchronous opener: a socket closed by the time it is delivered (it failed after its handshake): a connect failure naming why', async (t) => {
  const app = await rawServer(t, (socket) => socket.resume());
  const p = pool(t, app.port, {
    connect: async () => {
      const socket = await connectPlain('127.0.0.1', app.port, 2_000);
      socket.destroy(new Error('alert after the handshake'));
      await new Promise((resolve) => socket.once('close', resolve)); // (`once()` would reject on its 'error')
      return socket;
    },
  });
  const r = await send(p);
  t.equal(r.error?.code, H1_CONNECT_FAILED);
  t.match(r.error?.message, /alert after the handshake/);
  t.equal(r.started, false);
  await within(p.close(), 'close()');
});

t.test('asynchronous opener: a socket failing as it is delivered is counted closed once: destroy() still waits for the other sockets', async (t) => {
  const app = await rawServer(t, (socket) => socket.resume()); // never answers: the first request stays in flight
  let opened = 0;
  let liveClosed = false;
  const p = pool(t, app.port, {
    maxConnections: 2,
    connect: async () => {
      const socket = await connectPlain('127.0.0.1', app.port, 2_000);
      if (opened++ === 0) {
        socket.once('close', () => (liveClosed = true));
        return socket;
      }
      socket.destroy(new Error('alert after the handshake')); // its 'close' is still to come
      return socket;
    },
  });
  const inFlight = new Recorder();
  p.dispatch({ method: 'GET', path: '/held', headers: [], body: null }, inFlight);
  await until(() => inFlight.started, 'the first request written');
  const failed = await send(p);
  t.equal(failed.error?.code, H1_CONNECT_FAILED);
  t.match(failed.error?.message, /alert after the handshake/);
  await new Promise((resolve) => setImmediate(resolve)); // the failed socket's 'close' has been emitted by now
  await within(p.destroy(), 'destroy()');
  t.equal(liveClosed, true, 'destroy() resolved only once the live socket had closed');
  t.equal((await inFlight.done).error?.code, H1_CLOSED);
});

t.test('asynchronous opener that throws instead of rejecting: the request fails as a connect failure, dispatch does not throw', async (t) => {
  const p = pool(t, 1, {
    connect: () => {
      throw new Error('no context');
    },
  });
  const recorder = new Recorder();
  t.doesNotThrow(() => p.dispatch({ method: 'GET', path: '/', headers: [], body: null }, recorder));
  const r = await within(recorder.done, 'the failure');
  t.equal(r.error?.code, H1_CONNECT_FAILED);
  t.match(r.error?.message, /no context/);
  t.same(p.stats(), { connections: 0, idle: 0, busy: 0, queued: 0 });
  await within(p.close(), 'close()');
});
