/**
 * HTTP/1 → HTTP/1 header forwarding and raw request heads, as tables.
 */
import t from 'tap';
import { plainRequestHeaders, plainResponseHeaders, rawResponse, requestHead } from '../../src/outbound/h1-headers.js';

t.test('request headers to an HTTP/1 upstream: hop-by-hop, Connection-named and expect dropped, the rest in order', (t) => {
  const raw = [
    'Host', 'api.shop',
    'Connection', 'keep-alive, X-Trace-Hop',
    'Keep-Alive', 'timeout=5',
    'X-Trace-Hop', '1',
    'Transfer-Encoding', 'chunked',
    'TE', 'trailers',
    'Upgrade', 'h2c',
    'Expect', '100-continue',
    'Proxy-Connection', 'keep-alive',
    'Accept', 'a',
    'accept', 'b',
    'Cookie', 'x=1',
  ];
  t.strictSame(plainRequestHeaders(raw), ['Host', 'api.shop', 'Accept', 'a', 'accept', 'b', 'Cookie', 'x=1']);
  t.strictSame(plainRequestHeaders([]), []);
  t.end();
});

t.test('response headers from an HTTP/1 upstream: buffers decoded, hop-by-hop dropped, Content-Length kept', (t) => {
  const raw = [Buffer.from('Content-Length'), Buffer.from('5'), Buffer.from('Connection'), Buffer.from('close, x-internal'), Buffer.from('X-Internal'), Buffer.from('1'), Buffer.from('Set-Cookie'), Buffer.from('a=1'), Buffer.from('Set-Cookie'), Buffer.from('b=2'), Buffer.from('Trailer'), Buffer.from('x-sum')];
  t.strictSame(plainResponseHeaders(raw), ['Content-Length', '5', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  t.strictSame(plainResponseHeaders(['Transfer-Encoding', 'chunked', 'X-A', 'é']), ['X-A', 'é']);
  t.end();
});

t.test('the request head of a tunnelled request, as sent', (t) => {
  t.equal(
    requestHead('GET', '/chat?x=1', '1.1', ['Host', 'api.shop', 'Connection', 'Upgrade', 'Upgrade', 'websocket']),
    'GET /chat?x=1 HTTP/1.1\r\nHost: api.shop\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
  );
  t.equal(requestHead('CONNECT', 'db:5432', '1.0', []), 'CONNECT db:5432 HTTP/1.0\r\n\r\n');
  t.end();
});

t.test('raw responses: closing, sized, marked as the outbound proxy’s, header values made safe', (t) => {
  t.equal(rawResponse(400, 'Bad Request', ''), 'HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 0\r\nloom-proxy-error: outbound\r\n\r\n');
  const denied = rawResponse(403, 'Forbidden', 'no', { 'loom-denied-reason': 'a\r\nb' });
  t.match(denied, /content-length: 3\r\n/);
  t.match(denied, /loom-denied-reason: a {2}b\r\n\r\nno\n$/);
  t.end();
});
