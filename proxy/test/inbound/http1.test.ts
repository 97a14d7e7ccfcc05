/**
 * HTTP/1 through the inbound proxy: `loom.http1` from a client proxy and plaintext from unmeshed clients,
 * forwarded to an HTTP/1.1 application; malformed requests refused on their own connection; a policy change
 * judges the request in flight again (reset only when it denies it) and closes keep-alive connections of peers
 * it denies outright.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import t from 'tap';
import { allow, httpRoute, testPolicy } from '../support/policy.js';
import { API, closeOf, freePort, meshConnect, plainConnect, rawExchange, startH1App, startInbound, until, WEB, within } from './support.js';

const policyFor = (options: Parameters<typeof testPolicy>[0] = {}): ReturnType<typeof testPolicy> => testPolicy({ identity: API, ...options });

/** Sends one raw HTTP/1.1 request on `socket` and resolves with the response (head + body, by Content-Length). */
function rawRequest(socket: Socket, text: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer): void => {
      received += chunk.toString();
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = received.slice(0, end);
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (received.length - end - 4 < length) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve({ status: Number(head.split(' ')[1]), head, body: received.slice(end + 4, end + 4 + length) });
    };
    const onClose = (): void => reject(new Error(`closed after ${JSON.stringify(received)}`));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(text);
  });
}

/** A plaintext request with node's client (a fresh connection each time). */
function plainGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('loom.http1: requests on one kept-alive mesh connection reach the application intact', async (t) => {
  const app = await startH1App(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const socket = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.http1' });
  const first = await rawRequest(socket, 'POST /items?x=1 HTTP/1.1\r\nHost: api.shop\r\nX-Custom: one\r\nConnection: keep-alive, x-hop\r\nX-Hop: drop me\r\nContent-Length: 5\r\n\r\nhello');
  t.equal(first.status, 200);
  const seen = JSON.parse(first.body) as { method: string; url: string; headers: Record<string, string>; body: string };
  t.equal(seen.method, 'POST');
  t.equal(seen.url, '/items?x=1');
  t.equal(seen.headers.host, 'api.shop');
  t.equal(seen.headers['x-custom'], 'one');
  t.equal(seen.headers['x-hop'], undefined, 'fields named by Connection are hop-by-hop');
  t.equal(seen.body, 'hello');
  const second = await rawRequest(socket, 'GET /chunked HTTP/1.1\r\nHost: api.shop\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  t.equal(second.status, 200, 'the same connection serves the next request');
  t.equal((JSON.parse(second.body) as { body: string }).body, 'abc', 'a chunked body arrives whole');
  t.match(await inbound.metric('loom_requests_total'), /peer_identity="spiffe:\/\/cluster.local\/ns\/shop\/sa\/web"[^}]*tls="true",status_code="200",outcome="success"\} 2/);
  t.match(await inbound.metric('loom_tcp_connections_open'), /tls="true"\} 1/, 'one mesh connection open');
});

t.test('plaintext HTTP/1: refused in strict mode (403), allowed with allow-unmeshed', async (t) => {
  const app = await startH1App(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const refused = await plainGet(inbound.port, '/x');
  t.equal(refused.status, 403);
  t.equal(refused.headers['loom-proxy-error'], 'inbound');
  t.match(refused.headers['loom-denied-reason'], /strict mode requires mTLS/);
  t.equal(app.seen.length, 0);
  t.match(inbound.events('authz.denied')[0], { identity: '', port: app.port });

  inbound.apply(policyFor({ mesh: { allowUnmeshed: true }, authorizations: [allow({ sources: [WEB] })] }));
  const allowed = await plainGet(inbound.port, '/x', { 'x-test': 'yes' });
  t.equal(allowed.status, 200);
  t.equal((JSON.parse(allowed.body) as { headers: Record<string, string> }).headers['x-test'], 'yes');
  const requests = await inbound.metric('loom_requests_total');
  t.match(requests, /peer_identity="",dst_service="",route="",tls="false",status_code="403"/);
  t.match(requests, /peer_identity="",dst_service="",route="",tls="false",status_code="200"/);
  t.match(await inbound.metric('loom_protocol_detect_total'), /direction="inbound",result="http1"\} 2/);
});

t.test('the declared protocol wins over detection on plaintext connections', async (t) => {
  const app = await startH1App(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ mesh: { allowUnmeshed: true }, inboundPorts: { [app.port]: 'http1' } }) });
  // A lowercase method is not detected as HTTP/1, but the port is declared http1: the HTTP server answers it.
  const socket = await plainConnect(t, inbound.port);
  const closed = closeOf(socket);
  socket.write('get / HTTP/1.1\r\nHost: x\r\n\r\n');
  t.match((await closed).received, /^HTTP\/1.1 400 /, 'parsed as HTTP (and refused as malformed), not relayed as bytes');
});

t.test('malformed requests are refused on their own connection; other connections are unaffected', async (t) => {
  const app = await startH1App(t);
  const inbound = await startInbound(t, {
    appPort: app.port,
    policy: policyFor({ mesh: { allowUnmeshed: true } }),
    config: { maxHeaderBytes: 1024, headersTimeoutMs: 300 },
  });
  // A kept-alive connection that stays healthy throughout.
  const healthy = await plainConnect(t, inbound.port);
  t.equal((await rawRequest(healthy, 'GET /before HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200);

  const conflicting = await rawExchange(t, inbound.port, 'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  t.match(conflicting, /^HTTP\/1.1 400 Bad Request\r\n/, 'Content-Length with Transfer-Encoding: 400');
  t.match(conflicting, /loom-proxy-error: inbound/);
  t.match(conflicting, /connection: close/);

  const oversized = await rawExchange(t, inbound.port, `GET /x HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2048)}\r\n\r\n`);
  t.match(oversized, /^HTTP\/1.1 431 /, 'a head over maxHeaderBytes: 431');

  const duplicateLength = await rawExchange(t, inbound.port, 'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd');
  t.match(duplicateLength, /^HTTP\/1.1 400 /, 'conflicting Content-Length values: 400');

  const slowloris = await plainConnect(t, inbound.port);
  const slowClosed = closeOf(slowloris);
  slowloris.write('GET /slow HTTP/1.1\r\nHost: x\r\n');
  const trickle = setInterval(() => slowloris.write('X-More: 1\r\n'), 50);
  const slow = await slowClosed;
  clearInterval(trickle);
  t.match(slow.received, /^HTTP\/1.1 408 /, 'a head trickling in past headersTimeout: 408 and closed');

  t.equal((await rawRequest(healthy, 'GET /after HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200, 'the healthy connection still serves');
  t.same(
    app.seen.map((s) => s.url),
    ['/before', '/after'],
    'no malformed request reached the application',
  );
  t.equal(inbound.events('http.malformed').length, 4, 'each logged once');
  const requests = await inbound.metric('loom_requests_total');
  t.match(requests, /status_code="400",outcome="success"\} 2/);
  t.match(requests, /status_code="431",outcome="success"\} 1/);
  t.match(requests, /status_code="408",outcome="success"\} 1/);
});

t.test('a policy change: a request in flight it still allows completes; the next one meets the new policy', async (t) => {
  const app = await startH1App(t);
  const open = policyFor({ authorizations: [allow({ sources: [WEB] })] });
  const inbound = await startInbound(t, { appPort: app.port, policy: open });
  const socket = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.http1' });
  const held = rawRequest(socket, 'GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => app.seen.length === 1, 'the request to reach the application');
  inbound.apply(policyFor({ authorizations: [allow({ sources: [WEB], http: [httpRoute({ pathRegex: '/hold' })] })] }));
  app.release();
  t.equal((await held).status, 200, 'the in-flight request was not dropped');
  const next = await rawRequest(socket, 'GET /other HTTP/1.1\r\nHost: x\r\n\r\n');
  t.equal(next.status, 403, 'the next request on the same connection is judged by the new policy');
  t.equal(app.seen.length, 1);
  t.equal(inbound.events('authz.revoked').length, 0, 'nothing revoked');
});

t.test('a policy change that denies the request in flight resets it: the connection closes without a response, logged once', async (t) => {
  const app = await startH1App(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ authorizations: [allow({ sources: [WEB] })] }) });
  const socket = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.http1' });
  const closed = closeOf(socket);
  socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => app.seen.length === 1, 'the request to reach the application');
  inbound.apply(policyFor({ authorizations: [allow({ sources: [WEB], http: [httpRoute({ pathRegex: '/other' })] })] }));
  t.equal((await within(closed, 'the connection to close')).received, '', 'no (partial) response: the connection was closed');
  app.release();
  const revoked = inbound.events('authz.revoked');
  t.equal(revoked.length, 1, 'logged once (the peer may still ask for /other: the request alone)');
  t.match(revoked[0], { level: 'info', identity: WEB, method: 'GET', msg: /request reset/ });
  await until(() => inbound.proxy.stats().requestsInFlight === 0, 'the request slot to be released');
  t.match(await inbound.metric('loom_requests_total'), /status_code="0",outcome="failure"\} 1/, 'counted as a failed request');
});

t.test('a policy change that denies a peer outright closes its idle keep-alive connections; allowed peers keep theirs', async (t) => {
  const app = await startH1App(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ mesh: { allowUnmeshed: true }, authorizations: [allow({ sources: [WEB, 'spiffe://cluster.local/ns/shop/sa/cart'] })] }) });
  const web = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'web'), alpn: 'loom.http1' });
  const cart = await meshConnect(t, inbound.port, { ca: inbound.ca, leaf: inbound.ca.leaf('shop', 'cart'), alpn: 'loom.http1' });
  const plain = await plainConnect(t, inbound.port);
  for (const socket of [web, cart, plain]) t.equal((await rawRequest(socket, 'GET /x HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200);
  const webClosed = closeOf(web);
  const plainClosed = closeOf(plain);
  inbound.apply(policyFor({ authorizations: [allow({ sources: ['spiffe://cluster.local/ns/shop/sa/cart'] })] }));
  await within(webClosed, 'the denied mesh connection to close');
  t.pass('the denied mesh peer: closed');
  await within(plainClosed, 'the plaintext connection to close');
  t.pass('the plaintext client, no longer allowed: closed');
  t.equal((await rawRequest(cart, 'GET /y HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200, 'the allowed peer keeps its connection');
  const revoked = inbound.events('authz.revoked');
  t.equal(revoked.length, 2, 'each closed connection logged once');
  t.match(revoked, [{ msg: /connection closed/ }, { msg: /connection closed/ }]);
});

t.test('the application is unreachable: 502 on a connection that stays usable', async (t) => {
  const inbound = await startInbound(t, { appPort: await freePort(), policy: policyFor({ mesh: { allowUnmeshed: true } }) });
  const socket = await plainConnect(t, inbound.port);
  const first = await rawRequest(socket, 'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
  t.equal(first.status, 502);
  t.match(first.body, /the application on port \d+ failed: connect ECONNREFUSED/);
  t.equal((await rawRequest(socket, 'GET /x HTTP/1.1\r\nHost: x\r\n\r\n')).status, 502, 'the client connection survives');
});

t.test('the client goes away mid-response: the application request is abandoned, the slot released', async (t) => {
  const app = await startH1App(t);
  const inbound = await startInbound(t, { appPort: app.port, policy: policyFor({ mesh: { allowUnmeshed: true } }) });
  const socket = await plainConnect(t, inbound.port);
  socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => app.seen.length === 1, 'the request to reach the application');
  t.equal(inbound.proxy.stats().requestsInFlight, 1);
  socket.destroy();
  await until(() => inbound.proxy.stats().requestsInFlight === 0, 'the slot to be released');
  app.release();
  t.match(await inbound.metric('loom_requests_total'), /status_code="0",outcome="failure"\} 1/, 'counted as a failure without status');
});
