/**
 * Where the outbound proxy sends requests: TrafficSplit weights measured over many requests (seeded random,
 * binomial tolerance), split `matches`, latency-aware power of two choices with ejection of an endpoint that
 * refuses connections, and policy changes while requests are in flight.
 */
import { Agent } from 'node:http';
import { mintCa } from '@loom/ca/testing';
import type { Endpoint, OutboundService } from '@loom/shared/policy';
import t, { type Test } from 'tap';
import { backend, endpoint, httpRoute, service, servicePort, split, testPolicy } from '../support/policy.js';
import { closedPort, echoHandler, h1, seeded, spiffe, startMeshServer, startOutbound, until, VIP, type MeshServer } from './support.js';

const meshed = (server: MeshServer, name = 'api-0'): Endpoint =>
  endpoint({ address: '127.0.0.1', port: server.port, identity: server.identity, pod: { namespace: 'shop', name } });

const root = (endpoints: readonly Endpoint[], splitOf: Parameters<typeof servicePort>[0]['split'] = null): OutboundService =>
  service({ name: 'api', vips: [VIP.address], ports: [servicePort({ port: VIP.port, endpoints, split: splitOf })] });

/** Sends `n` requests, `parallel` at a time, on a keep-alive agent; returns their statuses. */
async function load(t: Test, port: number, n: number, path = '/echo', parallel = 25): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  t.teardown(() => agent.destroy());
  const statuses: number[] = [];
  for (let sent = 0; sent < n; sent += parallel) {
    const batch = Array.from({ length: Math.min(parallel, n - sent) }, () => h1(port, { path, agent }).then((r) => r.status));
    statuses.push(...(await Promise.all(batch)));
  }
  return statuses;
}

t.test('a 90/10 TrafficSplit over 1000 requests lands within binomial tolerance, counted per backend', async (t) => {
  const ca = mintCa();
  const v1 = await startMeshServer(t, { ca });
  const v2 = await startMeshServer(t, { ca });
  const policy = testPolicy({
    outbound: [root([], split({ backends: [backend('api-v1', 90, [meshed(v1, 'api-v1-0')]), backend('api-v2', 10, [meshed(v2, 'api-v2-0')])] }))],
  });
  const out = await startOutbound(t, { ca, policy, random: seeded(42) });
  const n = 1000;
  const statuses = await load(t, out.port, n);
  t.equal(statuses.filter((s) => s === 200).length, n, 'every request succeeded');
  t.equal(v1.streams.length + v2.streams.length, n);
  const expected = n * 0.1;
  const sd = Math.sqrt(n * 0.1 * 0.9);
  t.ok(Math.abs(v2.streams.length - expected) <= 4 * sd, `api-v2 got ${v2.streams.length} of ${n} (expected ${expected} ± ${Math.round(4 * sd)})`);
  const requests = await out.metric('loom_requests_total');
  t.match(requests, new RegExp(`dst_service="shop/api-v1",route="",tls="true",status_code="200",outcome="success"} ${v1.streams.length}`));
  t.match(requests, new RegExp(`dst_service="shop/api-v2",route="",tls="true",status_code="200",outcome="success"} ${v2.streams.length}`));
});

t.test('a split with matches splits only the matching requests; the rest use the root endpoints', async (t) => {
  const ca = mintCa();
  const stable = await startMeshServer(t, { ca });
  const canary = await startMeshServer(t, { ca });
  const policy = testPolicy({
    outbound: [
      root(
        [meshed(stable)],
        split({
          backends: [backend('api-canary', 1, [meshed(canary, 'api-canary-0')])],
          matches: [httpRoute({ match: 'beta', pathRegex: '/echo', headers: { 'x-beta': 'on' } })],
        }),
      ),
    ],
  });
  const out = await startOutbound(t, { ca, policy, random: seeded(7) });
  for (let i = 0; i < 5; i++) t.equal((await h1(out.port, { headers: { 'x-beta': 'on' } })).status, 200);
  for (let i = 0; i < 5; i++) t.equal((await h1(out.port, { headers: { 'x-beta': 'off' } })).status, 200);
  for (let i = 0; i < 3; i++) t.equal((await h1(out.port, { path: '/other', headers: { 'x-beta': 'on' } })).status, 200);
  t.equal(canary.streams.length, 5, 'the matching requests went to the backend');
  t.equal(stable.streams.length, 8, 'the others to the root endpoints');
  const requests = await out.metric('loom_requests_total');
  t.match(requests, /dst_service="shop\/api-canary",route="shop\/routes\/beta",tls="true",status_code="200",outcome="success"} 5/);
  t.match(requests, /dst_service="shop\/api",route="",tls="true",status_code="200",outcome="success"} 8/);
});

t.test('power of two choices prefers the faster endpoint and ejects one that refuses connections, failing no request', async (t) => {
  const ca = mintCa();
  const fast = await startMeshServer(t, { ca });
  const slow = await startMeshServer(t, {
    ca,
    onStream: (stream, headers, peer) => {
      setTimeout(() => echoHandler(stream, headers, peer), 60);
    },
  });
  const refusing = await closedPort();
  const policy = testPolicy({
    outbound: [root([meshed(fast, 'api-0'), meshed(slow, 'api-1'), endpoint({ address: '127.0.0.1', port: refusing, identity: spiffe({ namespace: 'shop', serviceAccount: 'api' }) })])],
  });
  const out = await startOutbound(t, { ca, policy, random: seeded(1) });
  const statuses = await load(t, out.port, 60, '/echo', 1);
  t.equal(statuses.filter((s) => s === 200).length, 60, 'no request failed');
  t.ok(fast.streams.length > slow.streams.length * 3, `the fast endpoint served most (${fast.streams.length} vs ${slow.streams.length})`);
  const ejections = out.records.filter((r) => r.event === 'endpoint.ejected');
  t.ok(ejections.length >= 1 && ejections.length <= 2, `the refusing endpoint was tried at most twice (${ejections.length}), then ejected`);
  t.ok(ejections.every((r) => r.peer === `127.0.0.1:${refusing}`));
});

t.test('when every endpoint was ejected, the one ejected longest ago is still tried', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca });
  const refusing = await closedPort();
  const only = endpoint({ address: '127.0.0.1', port: refusing, identity: server.identity });
  const out = await startOutbound(t, { ca, policy: testPolicy({ outbound: [root([only])] }) });
  t.equal((await h1(out.port)).status, 502, 'refused: 502');
  t.equal((await h1(out.port)).status, 502, 'ejected, but tried again rather than failing without trying');
  t.equal(out.records.filter((r) => r.event === 'endpoint.ejected').length, 2);
});

t.test('a policy change while a request is in flight: the request completes, new requests follow the new policy', async (t) => {
  const ca = mintCa();
  let release: () => void = () => {};
  const old = await startMeshServer(t, {
    ca,
    onStream: (stream, headers, peer) => {
      if (headers[':path'] !== '/hold') return echoHandler(stream, headers, peer);
      release = () => {
        stream.respond({ ':status': 200 });
        stream.end('finished on the old endpoint');
      };
    },
  });
  const next = await startMeshServer(t, { ca });
  const out = await startOutbound(t, { ca, policy: testPolicy({ outbound: [root([meshed(old)])] }) });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const inFlight = h1(out.port, { path: '/hold', agent });
  await until(() => old.streams.length === 1);
  out.apply(testPolicy({ outbound: [root([meshed(next, 'api-1')])] }));
  t.equal((await h1(out.port)).status, 200, 'a new request on a new connection');
  t.equal(next.streams.length, 1, 'went to the new endpoint');
  release();
  const res = await inFlight;
  t.equal(res.status, 200);
  t.equal(res.body, 'finished on the old endpoint', 'the request in flight was not dropped');
  t.equal((await h1(out.port, { agent })).status, 200, 'a new request on the old keep-alive connection');
  t.equal(next.streams.length, 2, 'also follows the new policy');
  t.equal(old.streams.length, 1);
  await until(() => out.proxy.stats().sessions === 1);
  t.pass('the session to the removed endpoint was closed once its stream finished');
});

t.test('a service removed from the policy: requests on open connections follow outboundUnknown', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca });
  const out = await startOutbound(t, { ca, policy: testPolicy({ outbound: [root([meshed(server)])] }) });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  t.equal((await h1(out.port, { agent })).status, 200);
  out.apply(testPolicy({ mesh: { outboundUnknown: 'deny' } }));
  const denied = await h1(out.port, { agent });
  t.equal(denied.status, 403);
  t.match(denied.headers['loom-denied-reason'], /10\.96\.0\.10:80 is not a destination of the mesh policy/);
  // No Service of the new policy has port 80: the port label is `other` (bounded, see deny.test.ts).
  t.match(await out.metric('loom_authz_denied_total'), /direction="outbound",peer_identity="",traffic_target="",port="other",code="unknown-destination",audit="false"} 1/);
});
