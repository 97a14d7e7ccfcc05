/**
 * The outbound proxy's HTTP path over real sockets and real mesh TLS: HTTP/1 and HTTP/2 (gRPC-like) application
 * requests carried to a hand-written server proxy over `loom.h2`, plaintext to unmeshed endpoints, identity
 * checks, failures, trailers, resets and cancellation, and connection reuse.
 */
import { once } from 'node:events';
import { Agent, createServer as createHttpServer, request } from 'node:http';
import { constants as h2, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { mintCa } from '@loom/ca/testing';
import type { AppProtocol, Endpoint } from '@loom/shared/policy';
import t from 'tap';
import { endpoint, service, servicePort, testPolicy } from '../support/policy.js';
import { API, echoHandler, h1, h2Client, rawConnect, readAll, readUntil, spiffe, startMeshServer, startOutbound, startPlainH2, startPlainHttp, until, VIP, waitForMetric, WEB, type MeshServer } from './support.js';

const meshed = (server: MeshServer, identity = spiffe(API)): Endpoint =>
  endpoint({ address: '127.0.0.1', port: server.port, identity, pod: { namespace: 'shop', name: 'api-0' } });

const policyFor = (endpoints: readonly Endpoint[], protocol: AppProtocol = 'http1') =>
  testPolicy({ outbound: [service({ name: 'api', vips: [VIP.address], ports: [servicePort({ port: VIP.port, protocol, endpoints })] })] });

interface Echo {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: string;
  readonly peer?: string;
}

t.test('an HTTP/1 request reaches a meshed endpoint over loom.h2: loom-orig-proto, converted headers, body, our identity', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)]) });
  const res = await h1(out.port, {
    method: 'POST',
    path: '/echo?q=1',
    headers: { 'x-custom': 'kept', connection: 'keep-alive, x-hop', 'x-hop': 'dropped', 'content-type': 'text/plain' },
    body: ['hel', 'lo'],
  });
  t.equal(res.status, 200);
  t.equal(res.headers['x-served-by'], 'mesh', 'the response headers come back');
  const echo = JSON.parse(res.body) as Echo;
  t.equal(echo.method, 'POST');
  t.equal(echo.path, '/echo?q=1');
  t.equal(echo.body, 'hello', 'the body streamed through');
  t.equal(echo.peer, spiffe(WEB), 'the server proxy saw our mesh certificate');
  t.equal(echo.headers['loom-orig-proto'], 'HTTP/1.1', 'the application spoke HTTP/1.1');
  t.equal(echo.headers[':authority'], 'api.shop', 'Host became :authority');
  t.equal(echo.headers['x-custom'], 'kept');
  t.equal(echo.headers['x-hop'], undefined, 'headers named by Connection are hop-by-hop');
  t.equal(echo.headers.connection, undefined);
  t.strictSame(server.alpns, ['loom.h2']);
  const requests = await out.metric('loom_requests_total');
  t.match(requests, /direction="outbound",peer_namespace="shop",peer_workload="",peer_identity="spiffe:\/\/cluster.local\/ns\/shop\/sa\/api",dst_service="shop\/api",route="",tls="true",status_code="200",outcome="success"} 1/);
});

t.test('trailers reach an HTTP/1 client that asked for them (te: trailers), and only then', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)]) });
  const asked = await h1(out.port, { path: '/trailers', headers: { te: 'trailers' } });
  t.equal(asked.body, 'payload');
  t.equal(asked.trailers['x-checksum'], 'abc');
  const notAsked = await h1(out.port, { path: '/trailers' });
  t.equal(notAsked.body, 'payload');
  t.equal(notAsked.trailers['x-checksum'], undefined);
});

t.test('an HTTP/2 (gRPC-like) application: bidirectional streaming and trailers over loom.h2, without loom-orig-proto', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)], 'grpc') });
  const client = await h2Client(t, out.port);
  const stream = client.request({ ':method': 'POST', ':path': '/stream', 'content-type': 'application/grpc', te: 'trailers' });
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  t.equal(headers[':status'], 200);
  t.equal(headers['content-type'], 'application/grpc');
  const trailers = once(stream, 'trailers') as Promise<[IncomingHttpHeaders]>;
  stream.write('one');
  t.equal(await nextData(stream), 'ONE', 'the first message came back before the request ended');
  stream.write('two');
  t.equal(await nextData(stream), 'TWO');
  stream.end();
  const [got] = await trailers;
  t.equal(got['grpc-status'], '0');
  t.equal(got['grpc-message'], 'done');
  t.equal(server.streams[0]?.['loom-orig-proto'], undefined, 'no loom-orig-proto for HTTP/2 applications');
  t.equal(server.streams[0]?.te, 'trailers');
  await closed(stream);
  t.match(await out.metric('loom_requests_total'), /dst_service="shop\/api",route="",tls="true",status_code="200",outcome="success"} 1/);
});

function closed(stream: ClientHttp2Stream): Promise<void> {
  return new Promise((resolve) => stream.once('close', resolve));
}

function nextData(stream: ClientHttp2Stream): Promise<string> {
  return new Promise((resolve) => stream.once('data', (d: Buffer) => resolve(d.toString())));
}

t.test('an undeclared port: an HTTP/2 preface is detected and served as HTTP/2', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)], 'detect') });
  const client = await h2Client(t, out.port);
  const stream = client.request({ ':path': '/echo', 'x-h2': 'yes' });
  stream.end();
  const echo = JSON.parse(await readAll(stream)) as Echo;
  t.equal(echo.headers['x-h2'], 'yes');
  t.equal(echo.headers['loom-orig-proto'], undefined, 'carried as HTTP/2');
  t.match(await out.metric('loom_protocol_detect_total'), /direction="outbound",result="http2"} 1/);
});

t.test('a gRPC status in the trailers decides the outcome', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, {
    ca,
    onStream: (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '14', 'grpc-message': 'unavailable' }));
      stream.end();
    },
  });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)], 'grpc') });
  const client = await h2Client(t, out.port);
  const stream = client.request({ ':method': 'POST', ':path': '/svc/Method', 'content-type': 'application/grpc' });
  stream.end();
  const [trailers] = (await once(stream, 'trailers')) as [IncomingHttpHeaders];
  t.equal(trailers['grpc-status'], '14');
  await closed(stream);
  t.match(await out.metric('loom_requests_total'), /status_code="200",outcome="failure"} 1/);
});

t.test('an upstream reset mid-response resets the application: RST_STREAM for HTTP/2, a cut connection for HTTP/1', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)], 'http2') });
  const client = await h2Client(t, out.port);
  const stream = client.request({ ':path': '/reset' });
  stream.on('error', () => {});
  stream.resume();
  stream.end();
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  t.equal(headers[':status'], 200);
  await closed(stream);
  t.equal(stream.rstCode, h2.NGHTTP2_INTERNAL_ERROR, 'the reset code of the upstream reached the application');

  out.apply(policyFor([meshed(server)], 'http1'));
  const cut = await h1(out.port, { path: '/reset' }).then(
    () => 'completed',
    (err: NodeJS.ErrnoException) => err.code ?? err.message,
  );
  t.not(cut, 'completed', 'the HTTP/1 response did not complete normally');
  t.match(await out.metric('loom_requests_total'), /status_code="200",outcome="failure"} 2/);
});

t.test('the upstream connection lost mid-response: the HTTP/2 application sees a reset, not an end; the HTTP/1 one a cut connection', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, {
    ca,
    onStream: (stream) => {
      stream.respond({ ':status': 200 });
      // The server proxy goes away mid-body (its process dies, its connection drops).
      stream.write('partial', () => setTimeout(() => stream.session?.destroy(), 20));
    },
  });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)], 'http2') });
  const client = await h2Client(t, out.port);
  const stream = client.request({ ':path': '/lost' });
  let ended = false;
  let error: string | undefined;
  stream.on('end', () => (ended = true));
  stream.on('error', (err: NodeJS.ErrnoException) => (error = err.code));
  stream.resume();
  stream.end();
  await closed(stream);
  t.equal(ended, false, 'the truncated response did not end normally');
  t.equal(error, 'ERR_HTTP2_STREAM_ERROR', 'the application got an error');
  t.equal(stream.rstCode, h2.NGHTTP2_INTERNAL_ERROR);

  out.apply(policyFor([meshed(server)], 'http1'));
  const cut = await h1(out.port, { path: '/lost' }).then(
    () => 'completed',
    (err: NodeJS.ErrnoException) => err.code ?? err.message,
  );
  t.not(cut, 'completed', 'the HTTP/1 response did not complete normally');
  t.match(await waitForMetric(out, 'loom_requests_total', /status_code="200",outcome="failure"} 2/), /status_code="200",outcome="failure"} 2/, 'both counted as failures');
});

t.test('an application that cancels its stream cancels the upstream stream', async (t) => {
  const ca = mintCa();
  let upstreamClosed: (code: number) => void = () => {};
  const closed = new Promise<number>((resolve) => (upstreamClosed = resolve));
  const server = await startMeshServer(t, {
    ca,
    onStream: (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.write('first');
      stream.on('close', () => upstreamClosed(stream.rstCode ?? -1));
    },
  });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)], 'grpc') });
  const client = await h2Client(t, out.port);
  const stream = client.request({ ':method': 'POST', ':path': '/svc/Watch', 'content-type': 'application/grpc' });
  stream.on('error', () => {});
  t.equal(await nextData(stream), 'first');
  stream.close(h2.NGHTTP2_CANCEL);
  t.equal(await closed, h2.NGHTTP2_CANCEL, 'the server proxy saw the cancellation');
});

t.test('a server presenting another SPIFFE ID than the policy expects: 502 and nothing is sent', async (t) => {
  const ca = mintCa();
  const impostor = await startMeshServer(t, { ca, who: { namespace: 'shop', serviceAccount: 'impostor' } });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(impostor, spiffe(API))]) });
  const res = await h1(out.port, { method: 'POST', body: 'secret' });
  t.equal(res.status, 502);
  t.equal(res.headers['loom-proxy-error'], 'outbound');
  t.match(res.body, /peer is spiffe:\/\/cluster.local\/ns\/shop\/sa\/impostor, expected spiffe:\/\/cluster.local\/ns\/shop\/sa\/api/);
  t.equal(impostor.streams.length, 0, 'no request reached the impostor');
  t.equal(impostor.handshakes, 0, 'no handshake completed');
  t.match(await out.metric('loom_requests_total'), /status_code="502",outcome="failure"} 1/);
});

t.test('without a mesh certificate yet: 503 for meshed endpoints', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca });
  const out = await startOutbound(t, { ca, certificate: false, policy: policyFor([meshed(server)]) });
  const res = await h1(out.port);
  t.equal(res.status, 503);
  t.equal(res.body, 'no mesh certificate yet\n');
  t.equal(res.headers['retry-after'], '1');
  t.equal(server.handshakes, 0);
});

t.test('an unmeshed endpoint gets plaintext HTTP/1 through a pool, without loom-orig-proto', async (t) => {
  const plain = await startPlainHttp(t);
  const out = await startOutbound(t, { policy: policyFor([endpoint({ address: '127.0.0.1', port: plain.port, identity: null })]) });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const res = await h1(out.port, { method: 'PUT', path: '/things/1', headers: { connection: 'keep-alive', 'x-custom': 'v' }, body: 'data', agent });
  t.equal(res.status, 200);
  t.equal(res.headers['x-served-by'], 'plain');
  const echo = JSON.parse(res.body) as { method: string; url: string; headers: Record<string, string>; body: string };
  t.equal(echo.method, 'PUT');
  t.equal(echo.url, '/things/1');
  t.equal(echo.body, 'data');
  t.equal(echo.headers.host, 'api.shop');
  t.equal(echo.headers['x-custom'], 'v');
  t.equal(echo.headers['loom-orig-proto'], undefined);
  const again = await h1(out.port, { agent });
  t.equal(again.status, 200);
  t.match(await out.metric('loom_requests_total'), /peer_identity="",dst_service="shop\/api",route="",tls="false",status_code="200",outcome="success"} 2/);
});

t.test('an HTTP/2 application and an unmeshed endpoint: h2c', async (t) => {
  const plain = await startPlainH2(t, echoHandler);
  const out = await startOutbound(t, { policy: policyFor([endpoint({ address: '127.0.0.1', port: plain.port, identity: null })], 'http2') });
  const client = await h2Client(t, out.port);
  const stream = client.request({ ':method': 'POST', ':path': '/echo', 'x-custom': 'h2c' });
  stream.end('body');
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  t.equal(headers[':status'], 200);
  const echo = JSON.parse(await readAll(stream)) as Echo;
  t.equal(echo.body, 'body');
  t.equal(echo.headers['x-custom'], 'h2c');
  t.equal(echo.peer, undefined, 'plaintext');
  t.equal(plain.streams, 1);
});

t.test('one TLS handshake and one session carry many requests from many application connections', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)]) });
  for (let i = 0; i < 10; i++) t.equal((await h1(out.port)).status, 200);
  const statuses = await Promise.all(Array.from({ length: 30 }, () => h1(out.port).then((r) => r.status)));
  t.ok(statuses.every((s) => s === 200), '30 concurrent requests succeeded');
  t.equal(server.handshakes, 1, 'one handshake');
  t.equal(server.streams.length, 40, 'every request was a stream');
  t.equal(out.proxy.stats().sessions, 1, 'one pooled session');
});

t.test('a session closed by the peer (GOAWAY) is replaced; the new connection resumes the TLS session', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, {
    ca,
    onStream: (stream, headers, peer) => {
      if (headers[':path'] !== '/bye') return echoHandler(stream, headers, peer);
      stream.respond({ ':status': 200 });
      stream.end('bye', () => stream.session?.close());
    },
  });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)]) });
  t.equal((await h1(out.port, { path: '/bye' })).status, 200);
  await until(() => out.proxy.stats().sessions === 0);
  const res = await h1(out.port);
  t.equal(res.status, 200, 'the next request opened a new session');
  t.equal(server.handshakes, 2);
  t.strictSame(server.resumed, [false, true], 'with TLS session resumption');
  t.equal((JSON.parse(res.body) as Echo).peer, spiffe(WEB), 'and the peer still knows who we are');
});

t.test('a TLS session is resumed only with the identity it was verified for: another expected identity gets a full handshake and is refused', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, {
    ca,
    onStream: (stream, headers, peer) => {
      if (headers[':path'] !== '/bye') return echoHandler(stream, headers, peer);
      stream.respond({ ':status': 200 });
      stream.end('bye', () => stream.session?.close());
    },
  });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)]) });
  t.equal((await h1(out.port, { path: '/bye' })).status, 200);
  await until(() => out.proxy.stats().sessions === 0);
  // The same address now expected to prove another identity: the session kept for the first must not be offered.
  out.apply(policyFor([meshed(server, spiffe({ namespace: 'shop', serviceAccount: 'other' }))]));
  const res = await h1(out.port);
  t.equal(res.status, 502);
  t.match(res.body, /peer is spiffe:\/\/cluster.local\/ns\/shop\/sa\/api, expected spiffe:\/\/cluster.local\/ns\/shop\/sa\/other/);
  t.notOk(server.resumed.includes(true), 'no session was resumed');
});

t.test('a peer that refuses to resume a TLS session: a full handshake, no failed request, no ejection', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, {
    ca,
    rawTls: true,
    onStream: (stream, headers, peer) => {
      if (headers[':path'] !== '/bye') return echoHandler(stream, headers, peer);
      stream.respond({ ':status': 200 });
      stream.end('bye', () => stream.session?.close());
    },
  });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)]) });
  for (let i = 0; i < 3; i++) {
    t.equal((await h1(out.port, { path: '/bye' })).status, 200, `request ${i} succeeded on a new connection`);
    await until(() => out.proxy.stats().sessions === 0);
  }
  t.strictSame(server.resumed, [false, false, false], 'each after a full handshake');
  t.equal(server.failedHandshakes, 1, 'resumption was offered once, then no more');
  t.equal(out.records.filter((r) => r.event === 'endpoint.ejected').length, 0, 'the endpoint was not ejected');
});

t.test('requests in flight beyond the limit get 503 with retry-after', async (t) => {
  const ca = mintCa();
  const held: (() => void)[] = [];
  const server = await startMeshServer(t, {
    ca,
    onStream: (stream, headers, peer) => {
      if (headers[':path'] !== '/hold') return echoHandler(stream, headers, peer);
      held.push(() => {
        stream.respond({ ':status': 200 });
        stream.end('late');
      });
    },
  });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)]), config: { maxConcurrentRequests: 2 } });
  const first = h1(out.port, { path: '/hold' });
  const second = h1(out.port, { path: '/hold' });
  await until(() => held.length === 2);
  const shed = await h1(out.port);
  t.equal(shed.status, 503);
  t.equal(shed.headers['retry-after'], '1');
  t.equal(shed.headers['loom-proxy-error'], 'outbound');
  for (const release of held) release();
  t.equal((await first).body, 'late');
  t.equal((await second).body, 'late');
  t.equal((await h1(out.port, { path: '/status/204' })).status, 204, 'admitted again once requests finished');
  t.match(await out.metric('loom_load_shed_total'), /direction="outbound",what="request"} 1/);
});

t.test('an unmeshed HTTP/1 endpoint that answers before reading the whole body: the application gets the answer and keeps its connection', async (t) => {
  const upstream = createHttpServer((req, res) => {
    if (req.url === '/upload') {
      // Refuses at once, without reading the body.
      res.writeHead(413, { 'content-type': 'text/plain', 'content-length': '9' });
      res.end('too large');
      return;
    }
    req.resume();
    res.end('again');
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  t.teardown(() => {
    upstream.closeAllConnections();
    upstream.close();
  });
  const out = await startOutbound(t, { policy: policyFor([endpoint({ address: '127.0.0.1', port: (upstream.address() as AddressInfo).port, identity: null })]) });
  const socket = await rawConnect(t, out.port);
  const size = 4 * 1024 * 1024;
  const chunk = Buffer.alloc(256 * 1024, 'x');
  socket.write(`POST /upload HTTP/1.1\r\nHost: api.shop\r\nContent-Length: ${size}\r\n\r\n`);
  socket.write(chunk);
  const refused = await readUntil(socket, 'too large');
  t.match(refused, /^HTTP\/1\.1 413 /, 'the endpoint’s early answer reached the application');
  // The application finishes sending what it announced; the proxy discards it and the connection stays usable.
  for (let sent = chunk.length; sent < size; sent += chunk.length) socket.write(chunk);
  socket.write('GET /again HTTP/1.1\r\nHost: api.shop\r\n\r\n');
  t.match(await readUntil(socket, 'again'), /^HTTP\/1\.1 200 /, 'the next request on the same connection is served');
});

t.test('a large response reaches a slow HTTP/1 application intact, the endpoint held back while it does not read', async (t) => {
  const ca = mintCa();
  const chunk = Buffer.alloc(64 * 1024);
  const chunks = 512; // 32 MiB: more than the windows and socket buffers in between
  let written = 0;
  const server = await startMeshServer(t, {
    ca,
    onStream: (stream) => {
      stream.respond({ ':status': 200 });
      const more = (): void => {
        while (written < chunks) {
          const ok = stream.write(Buffer.alloc(chunk.length, written % 251));
          written += 1;
          if (!ok) {
            stream.once('drain', more);
            return;
          }
        }
        stream.end();
      };
      more();
    },
  });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)]) });
  let writtenWhileNotReading = -1;
  const received = await new Promise<Buffer[]>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: out.port, path: '/big', headers: { host: 'api.shop' }, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.pause();
      // Not reading for a while: the proxy must hold the endpoint back, not buffer the whole body.
      setTimeout(() => {
        writtenWhileNotReading = written;
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve(parts));
        res.resume();
      }, 500);
    });
    req.on('error', reject);
    req.end();
  });
  const body = Buffer.concat(received);
  t.equal(body.length, chunk.length * chunks, 'every byte');
  let intact = true;
  for (let i = 0; i < chunks; i++) if (body[i * chunk.length] !== i % 251 || body[(i + 1) * chunk.length - 1] !== i % 251) intact = false;
  t.ok(intact, 'in order');
  t.ok(writtenWhileNotReading < chunks / 2, `the endpoint was held back (${writtenWhileNotReading} of ${chunks} chunks written while the application did not read)`);
});
