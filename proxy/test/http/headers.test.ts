/**
 * Header conversions (RFC 9110 §7.6.1, RFC 9113 §8.2) as tables, and one round trip through real node:http and
 * node:http2 parsers: what an HTTP/1 application sends, carried as HTTP/2 and turned back into HTTP/1.1, arrives
 * as it was sent minus connection-specific headers.
 */
import { once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { h1RequestToH1, h1RequestToH2, h1ResponseToH1, h1ResponseToH2, h2RequestToH1, h2RequestToH2, h2ResponseToH1, requestHead } from '../../src/http/headers.js';
import { ORIG_PROTO_HEADER } from '../../src/wire.js';

/** Headers as node:http2 delivers them (repeated names as arrays, `:status` a number). */
const incoming = (headers: Record<string, string | string[] | number>): IncomingHttpHeaders => headers as unknown as IncomingHttpHeaders;

t.test('h1RequestToH2: pseudo-headers from the request line and Host, hop-by-hop and Expect dropped, the HTTP version recorded', (t) => {
  const raw = [
    'Host', 'api.shop:8080',
    'Connection', 'keep-alive, X-Hop',
    'X-Hop', 'gone',
    'Keep-Alive', 'timeout=5',
    'Transfer-Encoding', 'chunked',
    'Upgrade', 'h2c',
    'Proxy-Connection', 'keep-alive',
    'Trailer', 'x-sum',
    'TE', 'trailers, deflate',
    'Accept', 'text/html',
    'accept', 'application/json',
    'Cookie', 'a=1',
    'Cookie', 'b=2',
    'Expect', '100-continue',
    'loom-orig-proto', 'HTTP/9',
  ];
  t.strictSame(h1RequestToH2('POST', '/a/b?c=d', '1.1', raw), {
    ':method': 'POST',
    ':scheme': 'http',
    ':path': '/a/b?c=d',
    ':authority': 'api.shop:8080',
    [ORIG_PROTO_HEADER]: 'HTTP/1.1',
    te: 'trailers',
    accept: ['text/html', 'application/json'],
    cookie: 'a=1; b=2',
  });
  t.strictSame(h1RequestToH2('GET', '/', '1.0', ['TE', 'deflate']), { ':method': 'GET', ':scheme': 'http', ':path': '/', [ORIG_PROTO_HEADER]: 'HTTP/1.0' }, 'HTTP/1.0; te without trailers dropped; no Host, no :authority');
  // node:http answered `100 Continue` to the application already: the upstream must not be asked again.
  t.equal(h1RequestToH2('PUT', '/', '1.1', ['Host', 'a', 'expect', '100-continue']).expect, undefined, 'Expect dropped');
  t.end();
});

t.test('h1RequestToH1: Host kept; hop-by-hop, Connection-listed, Expect and loom-orig-proto dropped; order and case kept', (t) => {
  const raw = [
    'Host', 'api.shop',
    'Connection', 'keep-alive, X-Private',
    'X-Private', 'secret',
    'Keep-Alive', 'timeout=5',
    'Transfer-Encoding', 'chunked',
    'TE', 'trailers',
    'Upgrade', 'h2c',
    'Expect', '100-continue',
    'loom-orig-proto', 'HTTP/1.1',
    'Accept', 'a',
    'accept', 'b',
    'Proxy-Connection', 'keep-alive',
    'Trailer', 'x',
    'Cookie', 'x=1',
  ];
  t.strictSame(h1RequestToH1(raw), ['Host', 'api.shop', 'Accept', 'a', 'accept', 'b', 'Cookie', 'x=1']);
  t.strictSame(h1RequestToH1(['Connection', 'close', 'connection', 'X-A', 'X-A', '1', 'X-B', '2']), ['X-B', '2'], 'every Connection field counts');
  t.strictSame(h1RequestToH1([]), []);
  t.end();
});

t.test('h2RequestToH1: :authority becomes Host, pseudo-headers, loom-orig-proto and connection headers dropped', (t) => {
  t.strictSame(
    h2RequestToH1(incoming({ ':method': 'GET', ':path': '/x', ':scheme': 'http', ':authority': 'api.shop', [ORIG_PROTO_HEADER]: 'HTTP/1.1', host: 'other', te: 'trailers', accept: ['a', 'b'], 'x-one': '1' })),
    ['host', 'api.shop', 'accept', 'a', 'accept', 'b', 'x-one', '1'],
  );
  t.strictSame(h2RequestToH1({ ':method': 'GET', ':path': '/' }), [], 'no :authority: no Host');
  t.end();
});

t.test('h2RequestToH2: loom-orig-proto, Host and connection headers dropped; te and pseudo-headers kept; Host as :authority when missing', (t) => {
  t.strictSame(
    h2RequestToH2({ ':method': 'POST', ':path': '/svc/M', ':scheme': 'http', ':authority': 'api.shop', te: 'trailers', 'content-type': 'application/grpc', [ORIG_PROTO_HEADER]: 'HTTP/1.1', connection: 'x', host: 'ignored' }),
    { ':method': 'POST', ':path': '/svc/M', ':scheme': 'http', ':authority': 'api.shop', te: 'trailers', 'content-type': 'application/grpc' },
  );
  t.strictSame(h2RequestToH2({ ':method': 'GET', ':path': '/', host: 'h' }), { ':method': 'GET', ':path': '/', ':authority': 'h' });
  t.end();
});

t.test('responses: h1ResponseToH2 and h1ResponseToH1 drop hop-by-hop and Connection-named headers; h2ResponseToH1 drops pseudo-headers', (t) => {
  // As h1-client parses an HTTP/1 response: lower-case names, repeated fields as arrays.
  const parsed = { 'content-type': 'text/plain', connection: 'close, X-Internal', 'x-internal': '1', 'transfer-encoding': 'chunked', 'set-cookie': ['a=1', 'b=2'], 'content-length': '3', 'keep-alive': 'timeout=5', trailer: 'x-sum' };
  t.strictSame(h1ResponseToH2(200, parsed), { ':status': 200, 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'content-length': '3' });
  t.strictSame(h1ResponseToH1(parsed), ['content-type', 'text/plain', 'set-cookie', 'a=1', 'set-cookie', 'b=2', 'content-length', '3']);
  t.strictSame(h1ResponseToH1(incoming({ connection: ['keep-alive', 'x-a'], 'x-a': '1', 'x-b': '2' })), ['x-b', '2'], 'repeated Connection fields');
  t.strictSame(h2ResponseToH1(incoming({ ':status': 204, 'x-a': '1', 'set-cookie': ['a=1', 'b=2'], connection: 'close' })), ['x-a', '1', 'set-cookie', 'a=1', 'set-cookie', 'b=2']);
  t.end();
});

t.test('requestHead rebuilds a tunnelled request as received', (t) => {
  t.equal(
    requestHead('GET', '/chat?x=1', '1.1', ['Host', 'api.shop', 'Connection', 'Upgrade', 'Upgrade', 'websocket']),
    'GET /chat?x=1 HTTP/1.1\r\nHost: api.shop\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
  );
  t.equal(requestHead('CONNECT', 'db:5432', '1.0', []), 'CONNECT db:5432 HTTP/1.0\r\n\r\n');
  t.end();
});

t.test('an HTTP/1 request survives the trip through HTTP/2 headers and back (real parsers)', async (t) => {
  const seen: IncomingMessage[] = [];
  const app = createServer((req, res) => {
    seen.push(req);
    res.end();
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  t.teardown(() => app.close());
  const front = createServer((req, res) => {
    // h1 → h2 → h1, as the two proxies do.
    const h2 = h1RequestToH2(req.method ?? 'GET', req.url ?? '/', req.httpVersion, req.rawHeaders);
    const back = h2RequestToH1(incoming(h2 as Record<string, string | string[]>));
    const upstream = request({ host: '127.0.0.1', port: (app.address() as AddressInfo).port, method: String(h2[':method']), path: String(h2[':path']), headers: back, agent: false }, (r) => {
      r.resume();
      r.on('end', () => res.end());
    });
    upstream.end();
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  t.teardown(() => front.close());
  await new Promise<void>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: (front.address() as AddressInfo).port, method: 'PATCH', path: '/items/7?x=%2F', headers: { Host: 'api.shop', 'X-Multi': ['1', '2'], Connection: 'close', Cookie: 'a=1' }, agent: false },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end();
  });
  const got = seen[0]!;
  t.equal(got.method, 'PATCH');
  t.equal(got.url, '/items/7?x=%2F');
  t.equal(got.headers.host, 'api.shop');
  t.equal(got.headers['x-multi'], '1, 2');
  t.equal(got.headers.cookie, 'a=1');
  t.equal(got.headers[ORIG_PROTO_HEADER], undefined, 'not passed to the application');
});
