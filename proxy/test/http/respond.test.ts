/**
 * The proxy's own responses, as an HTTP/1 and an HTTP/2 client receive them: status, one-line body, the
 * `loom-proxy-error` side, the denial reason header (control characters made safe), `retry-after`, and
 * `connection: close` on request.
 */
import { once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import { connect as h2Connect, createServer as createH2Server, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { headerSafe, respondH1, respondH2, type ProxyResponse, type ProxySide } from '../../src/http/respond.js';

const denial: ProxyResponse = { status: 403, message: 'denied: no TrafficTarget admits it', deniedReason: 'denied: no\r\nTrafficTarget\u0000 admits it' };
const overload: ProxyResponse = { status: 503, message: 'the proxy is at its limit', retryAfterSeconds: 2, close: true };

t.test('headerSafe', (t) => {
  t.equal(headerSafe('a\r\nb\tc\u007f'), 'a  b c ');
  t.equal(headerSafe('x'.repeat(2000)).length, 1024);
  t.end();
});

t.test('respondH1', async (t) => {
  let next: [ProxySide, ProxyResponse] = ['inbound', denial];
  const server = createServer((_req, res) => {
    t.equal(respondH1(res, ...next), true);
    t.equal(respondH1(res, ...next), false, 'a second response on the same exchange is refused');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const get = (): Promise<[IncomingMessage, string]> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve([res, body]));
      });
      req.on('error', reject);
      req.end();
    });
  const [res, body] = await get();
  t.equal(res.statusCode, 403);
  t.equal(body, 'denied: no TrafficTarget admits it\n');
  t.equal(res.headers['loom-proxy-error'], 'inbound');
  t.equal(res.headers['loom-denied-reason'], 'denied: no  TrafficTarget  admits it');
  t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
  t.equal(res.headers['content-length'], String(Buffer.byteLength(body)));

  next = ['outbound', overload];
  const [shed] = await get();
  t.equal(shed.statusCode, 503);
  t.equal(shed.headers['retry-after'], '2');
  t.equal(shed.headers['loom-proxy-error'], 'outbound');
  t.equal(shed.headers.connection, 'close');
  t.equal(shed.headers['loom-denied-reason'], undefined);
});

t.test('respondH2', async (t) => {
  const server = createH2Server();
  server.on('stream', (stream) => {
    t.equal(respondH2(stream, 'inbound', denial), true);
    t.equal(respondH2(stream, 'inbound', denial), false, 'a second response on the same stream is refused');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const session = h2Connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  t.teardown(() => session.close());
  const stream = session.request({ ':path': '/' });
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  let body = '';
  stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
  await once(stream, 'end');
  t.equal(headers[':status'], 403);
  t.equal(headers['loom-proxy-error'], 'inbound');
  t.equal(headers['loom-denied-reason'], 'denied: no  TrafficTarget  admits it');
  t.equal(body, 'denied: no TrafficTarget admits it\n');
});
