/**
 * The `loom.http1` carrier (`meshHttp1Carrier: 'http1'`, the default): an application's HTTP/1 requests travel to a
 * meshed endpoint as HTTP/1.1 on pooled keep-alive mesh TLS connections (one request at a time on each), with the
 * peer's identity checked. Real sockets, real TLS, a hand-written server proxy.
 */
import { createServer as createHttpServer, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { mintCa } from '@loom/ca/testing';
import type { Endpoint } from '@loom/shared/policy';
import t from 'tap';
import { credentialsFromPem } from '../../src/identity/credentials.js';
import { peerSpiffeId } from '../../src/identity/tls.js';
import { endpoint, service, servicePort, testPolicy } from '../support/policy.js';
import { API, h1, spiffe, startMeshServer, startOutbound, until, VIP, WEB, type MeshServer } from './support.js';

const meshed = (server: MeshServer, identity = spiffe(API)): Endpoint =>
  endpoint({ address: '127.0.0.1', port: server.port, identity, pod: { namespace: 'shop', name: 'api-0' } });

const policyFor = (endpoints: readonly Endpoint[]) =>
  testPolicy({ outbound: [service({ name: 'api', vips: [VIP.address], ports: [servicePort({ port: VIP.port, protocol: 'http1', endpoints })] })] });

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly peer: string | undefined;
}

/** The server proxy's HTTP/1 side: echoes what it received, and records it. */
function echoServer(seen: Seen[]) {
  return createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), peer: peerSpiffeId((req.socket as TLSSocket).getPeerCertificate()) };
      seen.push(entry);
      res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': 'api' });
      res.end(JSON.stringify({ method: entry.method, url: entry.url, length: entry.body.length }));
    });
  });
}

t.test('HTTP/1 requests reach a meshed endpoint over loom.http1: one kept-alive mTLS connection, headers and bodies as sent', async (t) => {
  const ca = mintCa();
  const seen: Seen[] = [];
  const server = await startMeshServer(t, { ca, http1: echoServer(seen) });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(server)]), config: { meshHttp1Carrier: 'http1' } });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());

  for (let i = 0; i < 5; i++) {
    const res = await h1(out.port, { agent, path: `/item/${i}?q=${i}`, headers: { 'x-custom': 'kept', connection: 'keep-alive, x-hop', 'x-hop': 'dropped' } });
    t.equal(res.status, 200);
    t.equal(res.headers['x-served-by'], 'api');
  }
  const body = 'x'.repeat(1024 * 1024);
  const posted = await h1(out.port, { agent, method: 'POST', path: '/upload', headers: { 'content-type': 'text/plain' }, body });
  t.equal(posted.status, 200);
  t.equal((JSON.parse(posted.body) as { length: number }).length, body.length, 'a 1 MiB body arrives whole');

  t.strictSame(server.alpns, ['loom.http1'], 'one mesh TLS connection with ALPN loom.http1, reused for every request');
  t.equal(seen.length, 6);
  t.strictSame(
    seen.slice(0, 5).map((s) => s.url),
    [0, 1, 2, 3, 4].map((i) => `/item/${i}?q=${i}`),
  );
  const first = seen[0]!;
  t.equal(first.peer, spiffe({ namespace: 'shop', serviceAccount: 'web' }), 'the server proxy sees our identity');
  t.equal(first.headers['x-custom'], 'kept');
  t.equal(first.headers['x-hop'], undefined, 'connection-listed headers dropped');
  t.equal(first.headers['loom-orig-proto'], undefined, 'no loom-orig-proto: the request is HTTP/1.1 as is');
  t.equal(first.headers.host, 'api.shop');
  t.match(await out.metric('loom_requests_total'), /peer_identity="spiffe:\/\/cluster\.local\/ns\/shop\/sa\/api"[^}]*tls="true"[^}]*status_code="200",outcome="success"\} 6/);
  t.match(await out.metric('loom_tcp_connections_open'), /peer_identity="spiffe:\/\/cluster\.local\/ns\/shop\/sa\/api"[^}]*tls="true"\} 1/, 'the pooled mesh connection is counted on the endpoint edge while open');
});

t.test('loom.http1: a server proxy with the wrong identity is refused (502), and nothing reaches it', async (t) => {
  const ca = mintCa();
  const seen: Seen[] = [];
  const impostor = await startMeshServer(t, { ca, who: { namespace: 'shop', serviceAccount: 'impostor' }, http1: echoServer(seen) });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(impostor)]), config: { meshHttp1Carrier: 'http1' } });
  const res = await h1(out.port, { path: '/secret' });
  t.equal(res.status, 502);
  t.equal(res.headers['loom-proxy-error'], 'outbound');
  t.match(res.body, /spiffe:\/\/cluster\.local\/ns\/shop\/sa\/api/, 'names the identity it expected');
  t.equal(seen.length, 0, 'no request was written to the impostor');
});

t.test('loom.http1: a request fails over to another endpoint when the first cannot be reached', async (t) => {
  const ca = mintCa();
  const seen: Seen[] = [];
  const server = await startMeshServer(t, { ca, http1: echoServer(seen) });
  const gone = endpoint({ address: '127.0.0.1', port: 1, identity: spiffe(API), pod: { namespace: 'shop', name: 'api-1' } });
  // Ask for the unreachable endpoint first: p2c with a fixed draw prefers it; the retry goes to the live one.
  const out = await startOutbound(t, { ca, policy: policyFor([gone, meshed(server)]), config: { meshHttp1Carrier: 'http1' }, random: () => 0 });
  for (let i = 0; i < 3; i++) t.equal((await h1(out.port, { path: `/try/${i}` })).status, 200, `request ${i} served`);
  t.equal(seen.length, 3);
});

t.test('loom.http1 without a mesh certificate yet: 503 with retry-after, no endpoint ejected, served once the certificate comes', async (t) => {
  const ca = mintCa();
  const seen: [Seen[], Seen[]] = [[], []];
  const first = await startMeshServer(t, { ca, http1: echoServer(seen[0]) });
  const second = await startMeshServer(t, { ca, http1: echoServer(seen[1]) });
  const second0 = endpoint({ address: '127.0.0.1', port: second.port, identity: spiffe(API), pod: { namespace: 'shop', name: 'api-1' } });
  // A fixed draw: the first endpoint is preferred while neither is ejected.
  const out = await startOutbound(t, { ca, certificate: false, policy: policyFor([meshed(first), second0]), config: { meshHttp1Carrier: 'http1' }, random: () => 0 });
  for (let i = 0; i < 2; i++) {
    const res = await h1(out.port, { path: `/early/${i}` });
    t.equal(res.status, 503, `request ${i}: 503`);
    t.equal(res.body, 'no mesh certificate yet\n');
    t.equal(res.headers['retry-after'], '1');
    t.equal(res.headers['loom-proxy-error'], 'outbound');
  }
  t.equal(first.handshakes + second.handshakes, 0, 'no connection was attempted');
  t.strictSame(
    out.records.filter((r) => r.event === 'endpoint.ejected'),
    [],
    'no endpoint ejected: the proxy, not the endpoint, is not ready',
  );
  const leaf = ca.leaf(WEB.namespace, WEB.serviceAccount);
  out.holder.install(credentialsFromPem({ keyPem: leaf.keyPem, certChainPem: leaf.certPem, trustBundle: [ca.rootPem], now: Date.now() }));
  t.equal((await h1(out.port, { path: '/later' })).status, 200);
  t.strictSame(
    seen.map((s) => s.map((e) => e.url)),
    [['/later'], []],
    'the preferred endpoint serves it: it was never ejected',
  );
});

t.test('loom.http1: an endpoint dropped by a policy change finishes the request in flight, then its pooled connection closes', async (t) => {
  const ca = mintCa();
  const held: { release?: () => void } = {};
  let open = 0;
  const oldApp = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url !== '/hold') {
      res.end('old');
      return;
    }
    held.release = () => res.end('finished on the old endpoint');
  });
  oldApp.on('connection', (socket: TLSSocket) => {
    open++;
    socket.on('close', () => open--);
  });
  const old = await startMeshServer(t, { ca, http1: oldApp });
  const seen: Seen[] = [];
  const next = await startMeshServer(t, { ca, http1: echoServer(seen) });
  const out = await startOutbound(t, { ca, policy: policyFor([meshed(old)]), config: { meshHttp1Carrier: 'http1' } });
  t.equal((await h1(out.port, { path: '/warm' })).body, 'old', 'served by the old endpoint on a pooled connection');
  const inFlight = h1(out.port, { path: '/hold' });
  await until(() => held.release !== undefined);
  out.apply(policyFor([{ ...meshed(next), pod: { namespace: 'shop', name: 'api-1' } }]));
  for (let i = 0; i < 3; i++) t.equal((await h1(out.port, { path: `/new/${i}` })).status, 200, `request ${i} after the change`);
  t.strictSame(
    seen.map((s) => s.url),
    ['/new/0', '/new/1', '/new/2'],
    'new requests go to the new endpoint',
  );
  t.equal(open, 1, 'the connection carrying the request in flight stays open');
  held.release?.();
  const res = await inFlight;
  t.equal(res.status, 200);
  t.equal(res.body, 'finished on the old endpoint', 'the request in flight was not dropped');
  await until(() => open === 0);
  t.pass('the pooled connection to the dropped endpoint closed once its request finished');
  t.equal(old.alpns.length, 1, 'and no new connection was opened to it');
});
