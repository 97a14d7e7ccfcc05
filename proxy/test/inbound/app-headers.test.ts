/** Header conversions to and from an HTTP/1.1 application (pure). */
import t from 'tap';
import { h1RequestToH1, h1ResponseToH1, h1ResponseToH2Headers, requestHead } from '../../src/inbound/app-headers.js';

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
  ];
  t.same(h1RequestToH1(raw), ['Host', 'api.shop', 'Accept', 'a', 'accept', 'b']);
  t.same(h1RequestToH1([]), []);
  t.end();
});

t.test('h1ResponseToH2Headers and h1ResponseToH1', (t) => {
  const headers = { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], connection: 'keep-alive, x-hop', 'x-hop': 'y', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', 'x-app': 'v' };
  t.same(h1ResponseToH2Headers(201, headers), { ':status': 201, 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'x-app': 'v' });
  t.same(h1ResponseToH1(headers), ['content-type', 'text/plain', 'set-cookie', 'a=1', 'set-cookie', 'b=2', 'x-app', 'v']);
  t.end();
});

t.test('requestHead rebuilds the request as received', (t) => {
  t.equal(
    requestHead('GET', '/ws?x=1', '1.1', ['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'websocket']),
    'GET /ws?x=1 HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
  );
  t.end();
});
