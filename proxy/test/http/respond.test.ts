/**
 * The proxy's own responses, as an HTTP/1 and an HTTP/2 client receive them: status, one-line body, the
 * `loom-proxy-error` side, the denial reason header (control characters made safe), `retry-after`, and
 * `connection: close` on request; the same as raw text for sockets without a response object; and the answer to
 * requests node's parser refuses.
 */
import { once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import { connect as h2Connect, createServer as createH2Server, type IncomingHttpHeaders } from 'node:http2';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import t from 'tap';
import { clientErrorResponse, headerSafe, rawResponse, refuseMalformed, respondH1, respondH2, type ProxyResponse, type ProxySide } from '../../src/http/respond.js';

const denial: ProxyResponse = { status: 403, message: 'denied: no TrafficTarget admits it', deniedReason: 'denied: no\r\nTrafficTarget\u0000 admits it' };
const overload: ProxyResponse = { status: 503, message: 'the proxy is at its limit', retryAfterSeconds: 2, close: true };

t.test('headerSafe', (t) => {
  t.equal(headerSafe('a\r\nb\tc\u007f'), 'a  b c ');
  t.equal(headerSafe('caf\u00e9 \u2603'), 'caf   ', 'printable ASCII only: node refuses some other characters in header values');
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

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

t.test('clientErrorResponse', (t) => {
  const cases: [Error, number | null][] = [
    [withCode('Parse Error: Header overflow', 'HPE_HEADER_OVERFLOW'), 431],
    [withCode('Request timeout', 'ERR_HTTP_REQUEST_TIMEOUT'), 408],
    [withCode('Parse Error: Chunk extensions overflow', 'HPE_CHUNK_EXTENSIONS_OVERFLOW'), 413],
    [withCode("Parse Error: Transfer-Encoding can't be present with Content-Length", 'HPE_INVALID_TRANSFER_ENCODING'), 400],
    [withCode('Parse Error: Duplicate Content-Length', 'HPE_UNEXPECTED_CONTENT_LENGTH'), 400],
    [withCode('Parse Error: Invalid method encountered', 'HPE_INVALID_METHOD'), 400],
    [withCode('read ECONNRESET', 'ECONNRESET'), null],
    [withCode('write EPIPE', 'EPIPE'), null],
  ];
  for (const [err, status] of cases) t.equal(clientErrorResponse(err)?.status ?? null, status, (err as Error & { code: string }).code);
  const parseError = Object.assign(withCode('Parse Error: x', 'HPE_INVALID_CONSTANT'), { reason: 'Expected HTTP/\u0000' });
  t.equal(clientErrorResponse(parseError)?.message, 'malformed HTTP request: Expected HTTP/?', "node's reason, printable");
  t.end();
});

t.test('rawResponse: the same response as text, sized, marked with its side, closing the connection', (t) => {
  t.equal(
    rawResponse('inbound', { status: 403, message: 'denied: because', deniedReason: 'denied:\r\nbecause' }),
    'HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 16\r\nloom-proxy-error: inbound\r\nloom-denied-reason: denied:  because\r\nconnection: close\r\n\r\ndenied: because\n',
  );
  t.equal(
    rawResponse('outbound', { status: 503, message: 'no mesh certificate yet', retryAfterSeconds: 1 }),
    'HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 24\r\nloom-proxy-error: outbound\r\nretry-after: 1\r\nconnection: close\r\n\r\nno mesh certificate yet\n',
  );
  t.match(rawResponse('inbound', { status: 431, message: 'request header fields too large' }), /^HTTP\/1.1 431 Request Header Fields Too Large\r\n/);
  t.match(rawResponse('outbound', { status: 599, message: 'x' }), /^HTTP\/1.1 599 Error\r\n/, 'a status without a reason phrase');
  t.end();
});

t.test('refuseMalformed: answers on the connection unless busy or gone, and closes it', async (t) => {
  const sockets = new Set<Socket>();
  const decided: (ProxyResponse | null)[] = [];
  let busy = false;
  let err: Error = withCode('Parse Error: Header overflow', 'HPE_HEADER_OVERFLOW');
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => decided.push(refuseMalformed(socket, 'outbound', err, busy)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const exchange = async (): Promise<string> => {
    const client = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
    client.on('error', () => {});
    t.teardown(() => {
      client.destroy();
    });
    let received = '';
    client.on('data', (chunk: Buffer) => (received += chunk.toString()));
    client.write('GET / HTTP/1.1\r\n');
    await once(client, 'close');
    return received;
  };
  t.match(await exchange(), /^HTTP\/1.1 431 Request Header Fields Too Large\r\n[^]*loom-proxy-error: outbound\r\n[^]*connection: close\r\n\r\nrequest header fields too large\n$/);
  busy = true;
  t.equal(await exchange(), '', 'another response under way on the connection: nothing written, closed');
  busy = false;
  err = withCode('read ECONNRESET', 'ECONNRESET');
  t.equal(await exchange(), '', 'the client is gone: nothing written, closed');
  t.strictSame(decided.map((r) => r?.status ?? null), [431, 431, null]);
});
