/**
 * The sidecar data path end to end, with real parts only: pods as network namespaces, `proxy-init`'s iptables in
 * each, the real `loom-proxy` process beside each application (UID 2502), certificates from the controller's
 * identity service, policy compiled by the controller's compiler from SMI manifests and streamed over gRPC.
 * The client application in pod `web` calls Service cluster IPs; its proxy intercepts, picks an endpoint, speaks
 * mutual TLS to the server pod's proxy, which authorizes and forwards to the echo application.
 *
 * Also: a Service over IPv6 (when the kernel has IPv6: the topology is dual-stack), an impostor pod whose
 * certificate proves another identity than the policy expects (the client's proxy refuses it), and malformed HTTP
 * from the application — the slowloris head cut by `web`'s proxy with a short headers timeout.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { connect as h2connect } from 'node:http2';
import { connect as tcpConnect } from 'node:net';
import t from 'tap';
import { netnsUnavailable } from '@loom/shared/netns';
import { Mesh } from '../../src/mesh/harness.js';
import { IMPOSTOR, manifests, PODS, PORTS, VIP, VIP6 } from '../../src/mesh/scenario.js';

const WEB = 'spiffe://cluster.local/ns/shop/sa/web';
/** `web`'s proxy cuts request heads that take longer than this (slowloris). */
const HEADERS_TIMEOUT_MS = 1_000;

// A whole mesh (namespaces, controller, five proxies) starts before the first test and every step below is bounded
// on its own; tap's 30 s default per file is too tight for that on a loaded CI runner (about 22 s here).
t.setTimeout(180_000);
const unavailable = netnsUnavailable();
if (unavailable !== null) {
  t.plan(0, `needs network namespaces: ${unavailable}`);
} else {
  const pods = [...PODS.map((p) => (p.name === 'web' ? { ...p, proxyEnv: { LOOM_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) } } : p)), IMPOSTOR];
  const mesh = new Mesh({ pods, manifests: (ips, ips6) => manifests(ips, undefined, ips6) });
  await mesh.start();
  t.teardown(() => mesh.stop());
  const v1 = mesh.pod('api-v1');

  const metrics = async (pod: string): Promise<string> => (await mesh.admin(mesh.pod(pod), '/metrics')).body;

  t.test('HTTP/1.1 reaches the application over mutual TLS, request intact', async (t) => {
    const r = await mesh.client('web', { kind: 'http1', url: `http://${VIP.v1}:${PORTS.http}/echo/a?b=c`, count: 20, method: 'POST', headers: { 'x-test': 'yes' }, body: 'payload' });
    t.same(r.statuses, { 200: 20 }, `all answered 200 (errors: ${r.errors.join('; ')})`);
    const seen = JSON.parse(r.sample ?? '{}') as { pod: string; method: string; url: string; httpVersion: string; headers: Record<string, string>; body: string };
    t.equal(seen.pod, 'api-v1');
    t.equal(seen.method, 'POST');
    t.equal(seen.url, '/echo/a?b=c');
    t.equal(seen.httpVersion, '1.1', 'the application is spoken to in HTTP/1.1');
    t.equal(seen.headers['x-test'], 'yes');
    t.equal(seen.body, 'payload');
    t.notOk(Object.keys(seen.headers).some((h) => h.startsWith('loom-')), 'no proxy-internal header reaches the application');
    const text = await metrics('api-v1');
    t.match(text, new RegExp(`loom_requests_total\\{[^}]*direction="inbound"[^}]*peer_identity="${WEB}"[^}]*tls="true"[^}]*status_code="200"`), 'the server proxy saw mTLS requests from web');
  });

  t.test('an undeclared port is detected as HTTP/1.1', async (t) => {
    const r = await mesh.client('web', { kind: 'http1', url: `http://${VIP.v1}:${PORTS.alt}/echo/detected`, count: 3 });
    t.same(r.statuses, { 200: 3 }, r.errors.join('; '));
  });

  t.test('HTTP/2 (h2c from the application) end to end', async (t) => {
    const r = await mesh.client('web', { kind: 'h2', url: `http://${VIP.v1}:${PORTS.h2}/echo/h2`, count: 5 });
    t.same(r.statuses, { 200: 5 }, r.errors.join('; '));
    const seen = JSON.parse(r.sample ?? '{}') as { httpVersion: string; url: string };
    t.equal(seen.httpVersion, '2.0', 'the application is spoken to in HTTP/2');
    t.equal(seen.url, '/echo/h2');
  });

  t.test('gRPC unary and bidirectional streaming, trailers included', async (t) => {
    const unary = await mesh.client('web', { kind: 'grpc-unary', target: `${VIP.v1}:${PORTS.grpc}`, count: 5 });
    t.same(unary.statuses, { 'grpc-0': 5 }, unary.errors.join('; '));
    t.same(unary.pods, { 'api-v1': 5 });
    t.same(unary.trailers?.['x-pod'], 'api-v1', 'the trailer crossed both proxies');
    const bidi = await mesh.client('web', { kind: 'grpc-bidi', target: `${VIP.v1}:${PORTS.grpc}`, messages: 20 });
    t.equal(bidi.statuses.message, 20, bidi.errors.join('; '));
    t.equal(bidi.sample, Array.from({ length: 20 }, (_, i) => `m${i}`).join(','), 'messages in order, ping-pong');
    t.equal(bidi.trailers?.code, 0);
    t.equal(bidi.trailers?.['x-pod'], 'api-v1');
  });

  t.test('WebSocket upgrade, then bytes both ways', async (t) => {
    const r = await mesh.client('web', { kind: 'ws', host: VIP.v1, port: PORTS.http, path: '/ws/chat', message: 'hello over websocket' });
    t.same(r.statuses, { 101: 1 }, `${r.errors.join('; ')} ${JSON.stringify(r.sampleHeaders)}`);
    t.equal(r.sample, 'hello over websocket');
  });

  t.test('opaque TCP end to end', async (t) => {
    const r = await mesh.client('web', { kind: 'tcp', host: VIP.v1, port: PORTS.tcp, message: 'ping over tcp' });
    t.equal(r.sample, 'ping over tcp', r.errors.join('; '));
    const text = await metrics('api-v1');
    t.match(text, new RegExp(`loom_tcp_connections_total\\{[^}]*direction="inbound"[^}]*peer_identity="${WEB}"`), 'counted as a connection from web');
  });

  t.test('a path no TrafficTarget allows gets 403 naming the reason', async (t) => {
    const r = await mesh.client('web', { kind: 'http1', url: `http://${VIP.v1}:${PORTS.http}/admin`, count: 1 });
    t.same(r.statuses, { 403: 1 });
    const header = r.sampleHeaders?.['loom-denied-reason'];
    const reason = typeof header === 'string' ? header : '';
    t.match(reason, /shop\/web-to-api/, 'the reason names the TrafficTarget whose routes did not match');
    t.match(r.sample ?? '', reason.slice(0, 20), 'the body says the same');
    t.equal(r.sampleHeaders?.['loom-proxy-error'], 'inbound', 'the server-side proxy denied it');
    const text = await metrics('api-v1');
    t.match(text, /loom_authz_denied_total\{[^}]*code="route-not-matched"/);
  });

  t.test('TCP to a port no TrafficTarget covers is reset', async (t) => {
    const r = await mesh.client('web', { kind: 'tcp', host: VIP.v1, port: PORTS.tcpOther, message: 'x' });
    t.equal(r.sample, '', 'nothing echoed');
    const text = await metrics('api-v1');
    t.match(text, /loom_authz_denied_total\{[^}]*port="9091"/, 'counted as a denial on 9091');
  });

  t.test('plaintext clients are refused in strict mode', async (t) => {
    // The test process is outside the mesh: its connection to the pod is redirected to the inbound proxy in plaintext.
    const status = await new Promise<{ status: number; reason: string }>((resolve, reject) => {
      const session = h2connect(`http://${v1.ip}:${PORTS.h2}`);
      session.on('error', reject);
      const req = session.request({ ':path': '/echo/plain' });
      req.on('response', (h) => resolve({ status: Number(h[':status']), reason: String(h['loom-denied-reason'] ?? '') }));
      req.on('error', reject);
      req.on('close', () => session.close());
      req.end();
    });
    t.equal(status.status, 403);
    t.match(status.reason, /plaintext|unmeshed|mutual TLS/i);
    const reset = await new Promise<string>((resolve) => {
      const s = tcpConnect(PORTS.tcp, v1.ip, () => s.write('hi'));
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString()));
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      s.on('close', () => resolve(got === '' ? 'closed' : got));
    });
    t.not(reset, 'hi', 'the TCP echo never answered');
  });

  t.test('a client with a mesh certificate of another identity is refused', async (t) => {
    const intruder = mesh.ca.leaf('shop', 'intruder');
    const status = await new Promise<{ status: number; reason: string }>((resolve, reject) => {
      const socket = tlsConnect({ host: v1.ip, port: PORTS.http, key: intruder.keyPem, cert: intruder.certPem, ca: mesh.ca.rootPem, ALPNProtocols: ['loom.h2'], checkServerIdentity: () => undefined });
      socket.on('error', reject);
      socket.on('secureConnect', () => {
        const session = h2connect(`http://${v1.ip}:${PORTS.http}`, { createConnection: () => socket });
        session.on('error', reject);
        const req = session.request({ ':path': '/echo/x', 'loom-orig-proto': 'HTTP/1.1' });
        req.on('response', (h) => resolve({ status: Number(h[':status']), reason: String(h['loom-denied-reason'] ?? '') }));
        req.on('error', reject);
        req.on('close', () => session.close());
        req.end();
      });
    });
    t.equal(status.status, 403);
    t.match(status.reason, /intruder/, 'the reason names the refused identity');
  });

  t.test('malformed HTTP from the application is rejected without affecting other connections', async (t) => {
    const url = `http://${VIP.v1}:${PORTS.http}/echo/ok`;
    const slow = mesh.client('web', { kind: 'raw', host: VIP.v1, port: PORTS.http, data: 'GET /echo/slow HTTP/1.1\r\nHost: a\r\nX-Slow: ', waitMs: 3_000 });
    const conflicting = await mesh.client('web', {
      kind: 'raw',
      host: VIP.v1,
      port: PORTS.http,
      data: 'POST /echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      waitMs: 3_000,
    });
    t.same(conflicting.statuses, { 400: 1 }, 'conflicting Content-Length and Transfer-Encoding: 400');
    const huge = await mesh.client('web', { kind: 'raw', host: VIP.v1, port: PORTS.http, data: `GET /echo/x HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`, waitMs: 3_000 });
    t.same(huge.statuses, { 431: 1 }, 'oversized headers: 431');
    const fine = await mesh.client('web', { kind: 'http1', url, count: 10 });
    t.same(fine.statuses, { 200: 10 }, 'other connections are served meanwhile');
    const slowResult = await slow;
    t.same(slowResult.statuses, { 408: 1 }, `a head still incomplete after ${HEADERS_TIMEOUT_MS} ms (LOOM_HEADERS_TIMEOUT_MS): 408`);
    t.match(slowResult.sample ?? '', /loom-proxy-error: outbound/i, "answered by web's proxy, never forwarded");
  });

  t.test('a Service over IPv6: the cluster IPv6 VIP, redirected by ip6tables, through both proxies', { skip: mesh.topology.dualStack ? false : 'the kernel has no IPv6' }, async (t) => {
    const r = await mesh.client('web', { kind: 'http1', url: `http://[${VIP6}]:${PORTS.http}/echo/v6`, count: 5 });
    t.same(r.statuses, { 200: 5 }, r.errors.join('; '));
    t.same(r.pods, { 'api-v1': 5 }, 'the IPv6 endpoint of api-v1 answered');
    const tcp = await mesh.client('web', { kind: 'tcp', host: VIP6, port: PORTS.tcp, message: 'ping over IPv6' });
    t.equal(tcp.sample, 'ping over IPv6', tcp.errors.join('; '));
    const text = await metrics('api-v1');
    t.match(text, new RegExp(`loom_requests_total\\{[^}]*direction="inbound"[^}]*peer_identity="${WEB}"[^}]*tls="true"`), 'mutual TLS from web');
  });

  t.test("a server whose certificate is not the identity the policy expects is refused by the client's proxy: 502, nothing reaches it", async (t) => {
    const impostor = mesh.pod(IMPOSTOR.name);
    const r = await mesh.client('web', { kind: 'http1', url: `http://${VIP.impostor}:${PORTS.http}/echo/secret`, count: 3, method: 'POST', body: 'a secret' });
    t.same(r.statuses, { 502: 3 }, r.errors.join('; '));
    t.equal(r.sampleHeaders?.['loom-proxy-error'], 'outbound', "answered by web's proxy");
    t.match(r.sample ?? '', /peer is spiffe:\/\/cluster\.local\/ns\/shop\/sa\/evil, expected spiffe:\/\/cluster\.local\/ns\/shop\/sa\/api/, 'naming both identities');
    const tcp = await mesh.client('web', { kind: 'tcp', host: VIP.impostor, port: PORTS.tcp, message: 'a secret' });
    t.equal(tcp.sample, '', 'TCP: nothing echoed');
    // The impostor's application logs every connection it accepts; one from inside its own pod proves it does.
    const local = await mesh.client(IMPOSTOR.name, { kind: 'http1', url: `http://127.0.0.1:${PORTS.http}/echo/local`, count: 1 });
    t.same(local.statuses, { 200: 1 });
    const log = await readFile(join(impostor.logDir, 'app.log'), 'utf8');
    const seen = log.split('\n').filter((l) => l.startsWith('request ') || l.startsWith('connection '));
    t.same(seen, [`connection ${PORTS.http}`, 'request GET /echo/local'], 'the application received only the local request');
  });
}
