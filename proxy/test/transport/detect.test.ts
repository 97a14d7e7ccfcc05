/**
 * Protocol detection: the classification table, and over real sockets the deadline, the closed case, and the
 * hand-off that lets node's HTTP/1 and HTTP/2 servers read the detected bytes.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, request } from 'node:http';
import { connect as h2Connect, createServer as createH2Server } from 'node:http2';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { classify, detect, handOff, type Detection } from '../../src/transport/detect.js';

t.test('classify', (t) => {
  const cases: [string, Buffer, ReturnType<typeof classify>][] = [
    ['GET request', Buffer.from('GET / HTTP/1.1\r\n'), 'http1'],
    ['PROPFIND (WebDAV)', Buffer.from('PROPFIND /x HTTP/1.1\r\n'), 'http1'],
    ['CONNECT', Buffer.from('CONNECT host:443 HTTP/1.1\r\n'), 'http1'],
    ['a method alone, split before the space: more bytes needed', Buffer.from('GET'), 'incomplete'],
    ['a method cut short', Buffer.from('GE'), 'incomplete'],
    ['POST cut short', Buffer.from('POS'), 'incomplete'],
    ['one letter that starts methods', Buffer.from('P'), 'incomplete'],
    ['a long method cut short', Buffer.from('PROPFI'), 'incomplete'],
    ['the longest method without its space', Buffer.from('PROPPATCH'), 'incomplete'],
    ['"PR": a method or the HTTP/2 preface', Buffer.from('PR'), 'incomplete'],
    ['a method followed by something else', Buffer.from('GETX'), 'opaque'],
    ['a method followed by a line end', Buffer.from('GET\r\n'), 'opaque'],
    ['no method starts so', Buffer.from('PI'), 'opaque'],
    ['lower-case method cut short', Buffer.from('ge'), 'opaque'],
    ['lower-case method', Buffer.from('get / HTTP/1.1\r\n'), 'opaque'],
    ['HTTP/2 preface', Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), 'http2'],
    ['HTTP/2 preface prefix', Buffer.from('PRI * HT'), 'http2'],
    ['"PRI" alone', Buffer.from('PRI'), 'http2'],
    ['TLS handshake record', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), 'tls'],
    ['one 0x16 byte', Buffer.from([0x16]), 'tls'],
    ['0x16 then not version 3', Buffer.from([0x16, 0x02]), 'opaque'],
    ['binary', Buffer.from([0x00, 0x01, 0x02]), 'opaque'],
    ['Redis inline command', Buffer.from('PING\r\n'), 'opaque'],
    ['nothing yet', Buffer.alloc(0), 'incomplete'],
  ];
  for (const [name, bytes, want] of cases) t.equal(classify(bytes), want, name);
  t.end();
});

async function server(t: Test, onSocket: (socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const s = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  });
  return (s.address() as AddressInfo).port;
}

async function client(t: Test, port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  t.teardown(() => {
    socket.destroy();
  });
  await once(socket, 'connect');
  return socket;
}

t.test('detect on sockets: first bytes put back, deadline, closed', async (t) => {
  const results: [Detection, string][] = [];
  const port = await server(t, (socket) => {
    void detect(socket, 100).then(async (d) => {
      let replay = '';
      if (d.kind !== 'timeout' && d.kind !== 'closed') {
        socket.resume();
        replay = ((await once(socket, 'data')) as [Buffer])[0].toString();
      }
      results.push([d, replay]);
    });
  });
  (await client(t, port)).write('POST /x HTTP/1.1\r\n\r\n');
  await client(t, port);
  (await client(t, port)).end();
  const deadline = Date.now() + 5_000;
  while (results.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  const byKind = new Map(results.map(([d, replay]) => [d.kind, replay]));
  t.equal(byKind.get('http1'), 'POST /x HTTP/1.1\r\n\r\n', 'detected bytes are read again by the next reader');
  t.ok(byKind.has('timeout'), 'nothing sent within the deadline: timeout');
  t.ok(byKind.has('closed'), 'closed before sending: closed');
});

t.test('detect waits for more bytes after a method cut short, up to the deadline', async (t) => {
  const results: [Detection, string][] = [];
  const port = await server(t, (socket) => {
    void detect(socket, 300).then(async (d) => {
      socket.resume();
      const replay = ((await once(socket, 'data')) as [Buffer])[0].toString();
      results.push([d, replay]);
    });
  });
  const split = await client(t, port);
  split.write('GE');
  await new Promise((resolve) => setTimeout(resolve, 50));
  split.write('T / HTTP/1.1\r\n\r\n');
  const deadline = Date.now() + 5_000;
  while (results.length < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  t.strictSame(results[0], [{ kind: 'http1' }, 'GET / HTTP/1.1\r\n\r\n'], 'HTTP/1 once the rest arrived; every byte read again by the next reader');
  (await client(t, port)).write('PO');
  while (results.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  t.strictSame(results[1], [{ kind: 'opaque' }, 'PO'], 'nothing more by the deadline: opaque, the bytes kept');
});

t.test('handOff: node HTTP/1 and HTTP/2 servers read the detected bytes', async (t) => {
  const h1 = createHttpServer((req, res) => res.end(`h1 ${req.url ?? ''}`));
  const h2 = createH2Server();
  h2.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200 });
    stream.end(`h2 ${String(headers[':path'])}`);
  });
  const port = await server(t, (socket) => {
    void detect(socket, 1_000).then((d) => {
      if (d.kind === 'http1' || d.kind === 'http2') handOff(d.kind === 'http1' ? h1 : h2, socket, d.kind);
      else socket.destroy();
    });
  });
  const viaH1 = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/one', agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(viaH1, 'h1 /one');
  const session = h2Connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  t.teardown(() => {
    session.destroy();
  });
  const stream = session.request({ ':path': '/two' });
  let body = '';
  stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
  await once(stream, 'end');
  t.equal(body, 'h2 /two');
});
