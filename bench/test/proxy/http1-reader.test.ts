import t from 'tap';
import { Http1ResponseReader, parseResponseHead } from '../../src/proxy/http1-reader.js';

const collect = (): { reader: Http1ResponseReader; seen: [number, boolean][] } => {
  const seen: [number, boolean][] = [];
  return { reader: new Http1ResponseReader((status, close) => seen.push([status, close])), seen };
};

const response = (status: number, body: string, headers = ''): string => `HTTP/1.1 ${status} X\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}\r\n${body}`;

t.test('parseResponseHead reads status, length, chunking and close, whatever the header case', (t) => {
  const cases: [string, string, { status: number; contentLength: number; chunked: boolean; close: boolean }][] = [
    ['nginx', 'HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 1024\r\nConnection: keep-alive', { status: 200, contentLength: 1024, chunked: false, close: false }],
    ['lower-case (from HTTP/2)', 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 12\r\nretry-after: 1\r\nconnection: close', { status: 503, contentLength: 12, chunked: false, close: true }],
    ['chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked', { status: 200, contentLength: -1, chunked: true, close: false }],
    ['HTTP/1.0 closes by default', 'HTTP/1.0 200 OK\r\nContent-Length: 1', { status: 200, contentLength: 1, chunked: false, close: true }],
    ['HTTP/1.0 keep-alive', 'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1', { status: 200, contentLength: 1, chunked: false, close: false }],
  ];
  for (const [name, head, expected] of cases) t.same(parseResponseHead(head), expected, name);
  t.throws(() => parseResponseHead('SSH-2.0-OpenSSH'), /not an HTTP\/1\.x response/);
  t.throws(() => parseResponseHead('HTTP/1.1 abc'), /bad status line/);
  t.end();
});

t.test('pipelined responses in one chunk, and split at every byte', (t) => {
  const bytes = Buffer.from(response(200, 'x'.repeat(1024)) + response(503, 'overloaded', 'Retry-After: 1\r\n') + response(200, ''));
  const whole = collect();
  whole.reader.push(bytes);
  t.same(whole.seen, [[200, false], [503, false], [200, false]], 'one chunk');
  const split = collect();
  for (let i = 0; i < bytes.length; i++) split.reader.push(bytes.subarray(i, i + 1));
  t.same(split.seen, whole.seen, 'byte by byte');
  t.end();
});

t.test('chunked bodies with trailers', (t) => {
  const bytes = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: y\r\n\r\n' + response(204, ''));
  for (const size of [1, 3, 7, bytes.length]) {
    const { reader, seen } = collect();
    for (let i = 0; i < bytes.length; i += size) reader.push(bytes.subarray(i, i + size));
    t.same(seen, [[200, false], [204, false]], `chunks of ${size}`);
  }
  t.end();
});

t.test('a body delimited by the close completes at end()', (t) => {
  const { reader, seen } = collect();
  reader.push(Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nsome body'));
  t.same(seen, []);
  t.equal(reader.end(), true);
  t.same(seen, [[200, true]]);
  t.equal(reader.end(), false, 'nothing more to complete');
  t.end();
});

t.test('garbage is refused', (t) => {
  const { reader } = collect();
  t.throws(() => reader.push(Buffer.from('NOT HTTP\r\n\r\n')), /not an HTTP\/1\.x response/);
  t.end();
});
