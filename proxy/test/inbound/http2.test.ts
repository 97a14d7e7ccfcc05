/**
 * `loom.h2` and plaintext h2c through the inbound proxy to real applications: HTTP/1.x clients' requests
 * (`loom-orig-proto`) reach an HTTP/1.1 application intact, HTTP/2 and gRPC-style streams reach an h2c
 * application with trailers and streaming both ways, and authorization, audit and load shedding answer per
 * request with the proxy's own responses. A policy change resets the streams it now denies (long-lived gRPC
 * streams included) and sends GOAWAY to sessions whose peer it denies outright.
 */
import { once } from 'node:events';
import { constants, createServer as createH2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { allow, httpRoute, testPolicy } from '../support/policy.js';
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import { API, freePort, h2Request, listenOn, meshH2, plainH2, startH1App, startH2App, startInbound, until, WEB, within } from './support.js';

const CART = 'spiffe://cluster.local/ns/shop/sa/cart';

/** A gRPC-style bidi stream to the h2 application's `/echo`, kept open: `send` resolves with the echo. */
function openEcho(session: ClientHttp2Session, headers: Record<string, string> = {}): { stream: ClientHttp2Stream; send(text: string): Promise<string>; closed: Promise<number> } {
  const stream = session.request({ ':method': 'POST', ':path': '/echo', 'content-type': 'application/grpc', ...headers }, { endStream: false });
  stream.on('error', () => {});
  const closed = new Promise<number>((resolve) => stream.on('close', () => resolve(stream.rstCode ?? 0)));
  return {
    stream,
    closed,
    send: (text) =>
      new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer): void => {
          stream.off('close', onClose);
          resolve(chunk.toString());
        };
        const onClose = (): void => {
          stream.off('data', onData);
          reject(new Error('the stream closed'));
        };
        stream.once('data', onData);
        stream.once('close', onClose);
        stream.write(text);
      }),
  };
}

const policyFor = (options: Parameters<typeof testPolicy>[0] = {}): ReturnType<typeof testPolicy> => testPolicy({ identity: API, ...options });

t.test('an HTTP/1.1 client request carried over loom.h2 reaches the HTTP/1.1 application intact', async (t) => {
  const app = await startH1App(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const session = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web') });

  const res = await h2Request(
    session,
    { ':method': 'POST', ':path': '/orders/42?verbose=1', ':authority': 'api.shop:8080', 'loom-orig-proto': 'HTTP/1.1', 'content-type': 'text/plain', 'x-request-id': 'abc', cookie: ['a=1', 'b=2'] },
    'hello body',
  );
  t.equal(res.status, 200);
  t.equal(res.headers['x-app'], 'h1', 'the application answered');
  const seen = JSON.parse(res.body) as { method: string; url: string; httpVersion: string; headers: Record<string, string>; body: string };
  t.equal(seen.method, 'POST');
  t.equal(seen.url, '/orders/42?verbose=1', 'path and query as sent');
  t.equal(seen.httpVersion, '1.1');
  t.equal(seen.headers.host, 'api.shop:8080', ':authority became Host');
  t.equal(seen.headers['x-request-id'], 'abc');
  t.equal(seen.headers['content-type'], 'text/plain');
  t.equal(seen.headers.cookie, 'a=1; b=2');
  t.equal(seen.headers['loom-orig-proto'], undefined, 'loom-orig-proto is not forwarded');
  t.equal(seen.body, 'hello body');

  const get = await h2Request(session, { ':path': '/a/./b/../c?x=%2e', 'loom-orig-proto': 'HTTP/1.1' });
  t.equal((JSON.parse(get.body) as { url: string }).url, '/a/c?x=%2e', 'the application gets the normalized (authorized) path, the query as sent');

  const requests = await inbound.metric('loom_requests_total');
  t.match(requests, /loom_requests_total\{[^}]*direction="inbound"[^}]*peer_namespace="shop"[^}]*peer_identity="spiffe:\/\/cluster.local\/ns\/shop\/sa\/web"[^}]*tls="true"[^}]*status_code="200",outcome="success"\} 2/);
});

t.test('gRPC-style bidirectional streaming over loom.h2 to an h2c application, trailers forwarded', async (t) => {
  const app = await startH2App(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const session = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web') });

  const stream = session.request({ ':method': 'POST', ':path': '/echo', 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => {});
  const [headers] = (await once(stream, 'response')) as [Record<string, string>];
  t.equal(headers[':status'], 200);
  t.equal(headers['content-type'], 'application/grpc');
  // Bidi: each message is echoed before the next is sent.
  for (const message of ['one', 'two', 'three']) {
    stream.write(message);
    const [echo] = (await once(stream, 'data')) as [Buffer];
    t.equal(echo.toString(), message, `echoed ${message} while the request is still open`);
  }
  const trailers = once(stream, 'trailers');
  stream.end();
  const [received] = (await trailers) as [Record<string, string>];
  t.equal(received['grpc-status'], '0');
  t.equal(received['x-trailer'], 'done');
  t.equal(received['x-count'], '3', 'the application received three messages');
  await once(stream, 'close');

  const failed = await h2Request(session, { ':method': 'POST', ':path': '/fail', 'content-type': 'application/grpc' }, '');
  t.equal(failed.headers['grpc-status'], '13', 'trailers-only response forwarded');
  t.equal(app.streams.every((h) => h['loom-orig-proto'] === undefined), true);

  const requests = await inbound.metric('loom_requests_total');
  t.match(requests, /status_code="200",outcome="success"\} 1/, 'grpc-status 0 is a success');
  t.match(requests, /status_code="200",outcome="failure"\} 1/, 'grpc-status 13 is a failure');
});

t.test('large bodies stream with backpressure both ways (h2c and HTTP/1.1 applications)', async (t) => {
  const h2app = await startH2App(t);
  const inbound = await startInbound(t, { appPort: h2app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const session = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web') });
  const big = 'x'.repeat(4 * 1024 * 1024);
  const res = await h2Request(session, { ':method': 'POST', ':path': '/echo', 'content-type': 'application/grpc' }, big);
  t.equal(res.body.length, big.length, '4 MiB echoed through the h2c application');
  t.equal(res.trailers?.['grpc-status'], '0');

  const h1app = await startH1App(t);
  inbound.dst = { address: '127.0.0.1', port: h1app.port };
  const session2 = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web') });
  const res2 = await h2Request(session2, { ':method': 'PUT', ':path': '/big', 'loom-orig-proto': 'HTTP/1.1' }, big);
  t.equal((JSON.parse(res2.body) as { body: string }).body.length, big.length, '4 MiB to the HTTP/1.1 application and back');
});

t.test('a reset on either side reaches the other', async (t) => {
  const app = await startH2App(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const session = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web') });

  const early = await h2Request(session, { ':method': 'POST', ':path': '/reset' }, 'x');
  t.equal(early.status, 502, 'reset before any response: the proxy answers 502');
  t.match(early.body, /the application on port \d+ failed/);
  const late = await h2Request(session, { ':method': 'POST', ':path': '/reset-late' }, 'x');
  t.equal(late.status, 200);
  t.equal(late.body, 'partial');
  t.equal(late.rstCode, constants.NGHTTP2_INTERNAL_ERROR, 'reset after the response started: the client sees the reset');

  // The client resets mid-stream (request still open): the application's stream is reset too.
  const stream = session.request({ ':method': 'POST', ':path': '/echo', 'content-type': 'application/grpc' });
  stream.on('error', () => {});
  await once(stream, 'response');
  stream.write('ping');
  await once(stream, 'data');
  stream.destroy(new Error('the client gives up'));
  await until(() => app.closed.some((c) => c.path === '/echo'), 'the application stream to close');
  t.not(app.closed.find((c) => c.path === '/echo')?.rstCode ?? 0, 0, 'the application saw a reset, not a clean end');

  // The client cancels a request it had sent in full while waiting for the response: CANCEL reaches the application.
  const waiting = session.request({ ':method': 'GET', ':path': '/hang' }, { endStream: true });
  waiting.on('error', () => {});
  await once(waiting, 'data');
  waiting.close(constants.NGHTTP2_CANCEL);
  await until(() => app.closed.some((c) => c.path === '/hang'), 'the application stream to close');
  t.equal(app.closed.find((c) => c.path === '/hang')?.rstCode, constants.NGHTTP2_CANCEL, 'the application saw CANCEL');

  await until(() => inbound.proxy.stats().requestsInFlight === 0, 'no request in flight');
  t.match(await inbound.metric('loom_requests_total'), /outcome="failure"/, 'resets are failures');
});

t.test('denied requests get 403 naming the rule; other requests on the same connection still pass', async (t) => {
  const app = await startH1App(t);
  const policy = policyFor({
    authorizations: [allow({ sources: [WEB], target: { namespace: 'shop', name: 'web-to-api' }, http: [httpRoute({ pathRegex: '/public', methods: ['GET'], match: 'public' })] })],
  });
  const inbound = await startInbound(t, { appPort: app.port, policy });
  const session = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web') });

  const ok = await h2Request(session, { ':path': '/public/x', 'loom-orig-proto': 'HTTP/1.1' });
  t.equal(ok.status, 200);
  const denied = await h2Request(session, { ':path': '/admin', 'loom-orig-proto': 'HTTP/1.1' });
  t.equal(denied.status, 403);
  t.equal(denied.headers['loom-proxy-error'], 'inbound');
  t.match(denied.headers['loom-denied-reason'], /web-to-api/);
  t.match(denied.body, /shop\/web-to-api allows HTTP GET \/public only/, 'the body names the rule');
  t.match(denied.body, /GET \/admin/);
  const dotted = await h2Request(session, { ':path': '/public/../admin', 'loom-orig-proto': 'HTTP/1.1' });
  t.equal(dotted.status, 403, 'dot segments cannot escape the allowed prefix');
  t.equal(app.seen.length, 1, 'only the allowed request reached the application');

  const denials = inbound.events('authz.denied');
  t.equal(denials.length, 2, 'each denial logged once');
  t.match(denials[0], { level: 'info', component: 'inbound', identity: WEB, port: app.port, trafficTarget: 'shop/web-to-api' });
  t.match(denials[0]?.reason, /route-not-matched|allows HTTP/);
  t.match(await inbound.metric('loom_authz_denied_total'), /loom_authz_denied_total\{direction="inbound",peer_identity="spiffe:\/\/cluster.local\/ns\/shop\/sa\/web",traffic_target="shop\/web-to-api",port="other",code="route-not-matched",audit="false"\} 2/, 'a port the policy does not name is labelled other');
  const requests = await inbound.metric('loom_requests_total');
  t.match(requests, /route="shop\/routes\/public"[^}]*status_code="200"/, 'the admitted request is on its route');
  t.match(requests, /route=""[^}]*status_code="403",outcome="success"\} 2/, 'denials are counted, not failures');
});

t.test('audit mode lets would-be denials through, logged and counted', async (t) => {
  const app = await startH1App(t);
  const policy = policyFor({ authorizations: [allow({ sources: ['spiffe://cluster.local/ns/other/sa/x'], target: { namespace: 'shop', name: 'audited' }, audit: true })] });
  const inbound = await startInbound(t, { appPort: app.port, policy });
  const session = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web') });
  const res = await h2Request(session, { ':path': '/x', 'loom-orig-proto': 'HTTP/1.1' });
  t.equal(res.status, 200, 'let through');
  t.equal(inbound.events('authz.audit').length, 1);
  t.match(inbound.events('authz.audit')[0]?.reason, /^audit: would deny/);
  t.match(await inbound.metric('loom_authz_denied_total'), /traffic_target="shop\/audited"[^}]*code="source-not-allowed",audit="true"\} 1/);
});

t.test('no policy yet: 503; at the concurrency limit: 503 with retry-after', async (t) => {
  const app = await startH1App(t);
  const inbound = await startInbound(t, { appPort: app.port, config: { maxConcurrentRequests: 1 } });
  const session = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web') });
  const early = await h2Request(session, { ':path': '/x', 'loom-orig-proto': 'HTTP/1.1' });
  t.equal(early.status, 503);
  t.match(early.body, /no policy yet/);

  inbound.apply(policyFor({ authorizations: [allow({ sources: [WEB] })] }));
  const held = h2Request(session, { ':path': '/hold', 'loom-orig-proto': 'HTTP/1.1' });
  await until(() => app.seen.length === 1, 'the held request to reach the application');
  const shed = await h2Request(session, { ':path': '/x', 'loom-orig-proto': 'HTTP/1.1' });
  t.equal(shed.status, 503);
  t.equal(shed.headers['retry-after'], '1');
  t.equal(inbound.proxy.stats().requestsInFlight, 1);
  app.release();
  t.equal((await held).status, 200, 'the admitted request completes');
  t.equal((await h2Request(session, { ':path': '/x', 'loom-orig-proto': 'HTTP/1.1' })).status, 200, 'capacity is back');
  t.match(await inbound.metric('loom_load_shed_total'), /direction="inbound",what="request"\} 1/);
});

t.test('saturated (the overload guard says so): 503 with retry-after before authorization or the application', async (t) => {
  const app = await startH1App(t);
  let shedding = true;
  const inbound = await startInbound(t, { appPort: app.port, overload: { shed: () => shedding }, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const session = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web') });
  const shed = await h2Request(session, { ':path': '/x', 'loom-orig-proto': 'HTTP/1.1' });
  t.equal(shed.status, 503);
  t.equal(shed.headers['retry-after'], '1');
  t.match(shed.body, /overloaded/);
  t.equal(app.seen.length, 0, 'nothing reached the application');
  shedding = false;
  t.equal((await h2Request(session, { ':path': '/x', 'loom-orig-proto': 'HTTP/1.1' })).status, 200, 'served again once the guard lets requests in');
  t.equal(inbound.proxy.stats().requestsInFlight, 0, 'the refused request held no slot');
  t.match(await inbound.metric('loom_load_shed_total'), /direction="inbound",what="request"\} 1/);
});

t.test('plaintext h2c: identity null, refused in strict mode, allowed with allow-unmeshed', async (t) => {
  const app = await startH2App(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const refused = await h2Request(plainH2(t, inbound.port), { ':path': '/x' });
  t.equal(refused.status, 403);
  t.match(refused.body, /plaintext client refused/);

  inbound.apply(policyFor({ mesh: { allowUnmeshed: true }, authorizations: [allow({ sources: [WEB] })] }));
  const allowed = await h2Request(plainH2(t, inbound.port), { ':path': '/x', 'loom-orig-proto': 'HTTP/1.1' });
  t.equal(allowed.status, 200);
  t.equal((JSON.parse(allowed.body) as Record<string, string>)['loom-orig-proto'], undefined, 'plaintext requests always go h2c; the header is dropped');
  t.match(await inbound.metric('loom_requests_total'), /peer_identity=""[^}]*tls="false"[^}]*status_code="200"/);
});

t.test('the application is unreachable: 502', async (t) => {
  const port = await freePort();
  const inbound = await startInbound(t, { appPort: port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const session = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web') });
  const h1 = await h2Request(session, { ':path': '/x', 'loom-orig-proto': 'HTTP/1.1' });
  t.equal(h1.status, 502);
  t.equal(h1.headers['loom-proxy-error'], 'inbound');
  t.match(h1.body, new RegExp(`application on port ${port}`));
  const h2 = await h2Request(session, { ':path': '/x' });
  t.equal(h2.status, 502);
  t.match(await inbound.metric('loom_requests_total'), /status_code="502",outcome="failure"\} 2/);
  t.same(
    inbound.events('app.request_failed').map((r) => [r.level, r.port]),
    [
      ['debug', port],
      ['debug', port],
    ],
    'each failure logged once at debug',
  );
});

t.test('a large h2c response to a client that does not read: the application is held back, every byte arrives', async (t) => {
  const chunkSize = 64 * 1024;
  const chunks = 512; // 32 MiB: more than the windows and socket buffers in between
  let written = 0;
  const app = createH2Server();
  app.on('stream', (stream: ServerHttp2Stream) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 200 });
    const more = (): void => {
      while (written < chunks) {
        const ok = stream.write(Buffer.alloc(chunkSize, written % 251));
        written += 1;
        if (!ok) {
          stream.once('drain', more);
          return;
        }
      }
      stream.end();
    };
    more();
  });
  await listenOn(t, app);
  const inbound = await startInbound(t, { appPort: (app.address() as AddressInfo).port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const session = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web') });
  const stream = session.request({ ':path': '/big' });
  stream.on('error', () => {});
  stream.pause();
  await once(stream, 'response');
  await new Promise((resolve) => setTimeout(resolve, 500));
  const writtenWhileNotReading = written;
  let length = 0;
  let intact = true;
  let offset = 0;
  stream.on('data', (d: Buffer) => {
    for (let i = 0; i < d.length; i += 4096) if (d[i] !== Math.floor((offset + i) / chunkSize) % 251) intact = false;
    offset += d.length;
    length += d.length;
  });
  stream.resume();
  await once(stream, 'end');
  t.equal(length, chunkSize * chunks, 'every byte');
  t.ok(intact, 'in order');
  t.ok(writtenWhileNotReading < chunks / 2, `the application was held back (${writtenWhileNotReading} of ${chunks} chunks written while the client did not read)`);
});

t.test('a policy change resets the streams it now denies, long-lived gRPC streams included; the others carry on', async (t) => {
  const app = await startH2App(t);
  const both = policyFor({ authorizations: [allow({ sources: [WEB], http: [httpRoute({ match: 'keep', headers: { 'x-stream': 'keep' } }), httpRoute({ match: 'drop', headers: { 'x-stream': 'drop' } })] })] });
  const inbound = await startInbound(t, { appPort: app.port, policy: both });
  const session = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web') });
  const keep = openEcho(session, { 'x-stream': 'keep' });
  const drop = openEcho(session, { 'x-stream': 'drop' });
  t.equal(await keep.send('k1'), 'k1');
  t.equal(await drop.send('d1'), 'd1');

  inbound.apply(policyFor({ authorizations: [allow({ sources: [WEB], http: [httpRoute({ match: 'keep', headers: { 'x-stream': 'keep' } })] })] }));
  t.not(await within(drop.closed, 'the denied stream to close'), 0, 'the stream the policy now denies is reset (RST_STREAM)');
  await until(() => app.closed.some((c) => c.rstCode !== 0), "the application's side of it to be reset too");
  t.equal(await keep.send('k2'), 'k2', 'the stream still allowed carries on');
  const trailers = new Promise<Record<string, unknown>>((resolve) => keep.stream.once('trailers', resolve));
  keep.stream.end();
  t.match(await trailers, { 'grpc-status': '0', 'x-count': '2' }, 'and ends normally');
  t.equal(await keep.closed, 0);
  t.notOk(session.closed || session.destroyed, 'the session stays open (the peer may still ask for something)');

  const revoked = inbound.events('authz.revoked');
  t.equal(revoked.length, 1, 'the reset stream logged once; nothing about the connection');
  t.match(revoked[0], { level: 'info', component: 'inbound', identity: WEB, method: 'POST', msg: /request reset: no longer authorized/ });
  t.match(await inbound.metric('loom_authz_denied_total'), /peer_identity="spiffe:\/\/cluster.local\/ns\/shop\/sa\/web"[^}]*code="route-not-matched",audit="false"\} 1/);
  t.match(await inbound.metric('loom_requests_total'), /route="shop\/routes\/drop"[^}]*status_code="200",outcome="failure"\} 1/, 'the reset stream is a failed request');
});

t.test('a policy change that denies a peer outright: its sessions get GOAWAY, its streams in flight are reset; other peers carry on', async (t) => {
  const app = await startH2App(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [CART, WEB] })] }) });
  const idle = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web') });
  t.equal((await h2Request(idle, { ':path': '/x' })).status, 200);
  const busy = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web') });
  const streaming = openEcho(busy);
  t.equal(await streaming.send('one'), 'one');
  const cart = await meshH2(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'cart') });
  const cartStream = openEcho(cart);
  t.equal(await cartStream.send('one'), 'one');
  let cartGoaway = false;
  cart.on('goaway', () => (cartGoaway = true));

  const idleGoaway = once(idle, 'goaway');
  const busyGoaway = once(busy, 'goaway');
  inbound.apply(policyFor({ authorizations: [allow({ sources: [CART] })] }));
  await within(idleGoaway, 'GOAWAY on the idle session');
  t.pass('the idle session of the denied peer got GOAWAY');
  await within(busyGoaway, 'GOAWAY on the busy session');
  t.not(await within(streaming.closed, 'the stream in flight to close'), 0, 'its stream in flight was reset');
  t.equal(await cartStream.send('two'), 'two', 'the peer still allowed carries on');
  t.equal((await h2Request(cart, { ':path': '/y' })).status, 200, 'and opens new streams');
  t.notOk(cartGoaway, 'without GOAWAY');
  await until(() => idle.closed || idle.destroyed, 'the GOAWAY session to close');

  const revoked = inbound.events('authz.revoked');
  t.equal(revoked.filter((r) => r.method === undefined).length, 2, 'each closed session logged once');
  t.equal(revoked.filter((r) => r.method === 'POST').length, 1, 'and the reset stream once');
  t.match(revoked.find((r) => r.method === undefined), { identity: WEB, reason: /source-not-allowed/, msg: /connection closed: no longer authorized/ });
});

t.test('plaintext h2c sessions get GOAWAY when a policy change stops allowing unmeshed clients', async (t) => {
  const app = await startH2App(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ mesh: { allowUnmeshed: true } }) });
  const session = plainH2(t, inbound.port);
  t.equal((await h2Request(session, { ':path': '/x' })).status, 200);
  const goaway = once(session, 'goaway');
  inbound.apply(policyFor({ authorizations: [allow({ sources: [WEB] })] }));
  await within(goaway, 'GOAWAY');
  t.match(inbound.events('authz.revoked')[0], { identity: '', reason: /plaintext client refused/ });
});
