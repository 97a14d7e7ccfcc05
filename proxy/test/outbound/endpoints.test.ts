/**
 * Per-endpoint state of the outbound proxy, over real sockets: connect failures counted once per connect
 * attempt (however many requests wait on it), passthrough state bounded (least recently used and idle
 * destinations let go), and the pooled mutual-TLS session to an endpoint counted as a connection on its edge.
 */
import { once } from 'node:events';
import { Agent } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { mintCa } from '@loom/ca/testing';
import type { AppProtocol, Endpoint } from '@loom/shared/policy';
import t, { type Test } from 'tap';
import { BALANCE } from '../../src/outbound/balance.js';
import { endpoint, service, servicePort, testPolicy } from '../support/policy.js';
import { API, h1, rawConnect, readUntil, spiffe, startMeshServer, startOutbound, startTcpEcho, until, untilClosed, VIP, waitForMetric, type OutboundFixture } from './support.js';

const policyFor = (endpoints: readonly Endpoint[], protocol: AppProtocol = 'http1') =>
  testPolicy({ outbound: [service({ name: 'api', vips: [VIP.address], ports: [servicePort({ port: VIP.port, protocol, endpoints })] })] });

/**
 * An endpoint that accepts TCP and never speaks TLS: each connection is held until `release()` says so, then
 * hung up on — a TLS handshake that fails after the test has lined up its requests.
 */
interface Stalling {
  port: number;
  /** TCP connections accepted. */
  accepted: number;
}

async function stallingEndpoint(t: Test, hangUpWhen: (state: Stalling) => boolean): Promise<Stalling> {
  const state: Stalling = { port: 0, accepted: 0 };
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    state.accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    until(() => hangUpWhen(state), 10_000).then(
      () => socket.destroy(),
      () => socket.destroy(),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  state.port = (server.address() as AddressInfo).port;
  return state;
}

const ejections = (out: OutboundFixture) => out.records.filter((r) => r.event === 'endpoint.ejected');

t.test('N requests waiting on one failed connect count one failure: one ejection of the base length', async (t) => {
  const ca = mintCa();
  const n = 5;
  let out: OutboundFixture | null = null;
  const stall = await stallingEndpoint(t, () => out?.proxy.stats().requests === n);
  out = await startOutbound(t, { ca, policy: policyFor([endpoint({ address: '127.0.0.1', port: stall.port, identity: spiffe(API) })]) });
  const port = out.port;
  const results = await Promise.all(Array.from({ length: n }, () => h1(port)));
  t.strictSame(
    results.map((r) => r.status),
    Array.from({ length: n }, () => 502),
    'every request failed (one endpoint, unreachable)',
  );
  t.equal(stall.accepted, 1, 'the requests waited on one connect attempt');
  const logged = ejections(out);
  t.equal(logged.length, 1, 'one ejection');
  t.equal(logged[0]?.ejectedForMs, BALANCE.ejectBaseMs, 'of the base length');
  t.equal(logged[0]?.failures, 1, 'one failure counted');
});

t.test('connects started together (TCP connections) that fail together count one failure', async (t) => {
  const ca = mintCa();
  const n = 4;
  const stall = await stallingEndpoint(t, (s) => s.accepted === n);
  const out = await startOutbound(t, { ca, policy: policyFor([endpoint({ address: '127.0.0.1', port: stall.port, identity: spiffe(API) })], 'opaque') });
  const outcomes = await Promise.all(
    Array.from({ length: n }, async () => {
      const socket = await rawConnect(t, out.port);
      return (await untilClosed(socket)).error;
    }),
  );
  t.strictSame(
    outcomes,
    Array.from({ length: n }, () => 'ECONNRESET'),
    'each application connection reset',
  );
  t.equal(stall.accepted, n, `${n} connect attempts`);
  const logged = ejections(out);
  t.equal(logged.length, 1, 'one ejection');
  t.equal(logged[0]?.ejectedForMs, BALANCE.ejectBaseMs, 'of the base length');
});

t.test('passthrough state is bounded: destinations beyond the limit, least recently used first, and idle ones are let go', async (t) => {
  const echoes = await Promise.all(Array.from({ length: 5 }, () => startTcpEcho(t)));
  const destinations = new Map(echoes.map((e, i) => [`127.0.0.${i + 10}`, { address: '127.0.0.1', port: e.port }]));
  let clock = 1_000;
  const out = await startOutbound(t, { policy: testPolicy(), destinations, maxPassthrough: 2, now: () => clock });
  const roundTrip = async (local: string, text: string): Promise<void> => {
    const socket = await rawConnect(t, out.port, local);
    socket.write(text);
    t.equal(await readUntil(socket, text), text, `${text} through ${local}`);
    const closed = untilClosed(socket);
    socket.end();
    await closed;
  };
  for (const [local] of destinations) {
    await roundTrip(local, `hello ${local}`);
    t.ok(out.proxy.stats().passthrough <= 2, `at most 2 destinations held (${out.proxy.stats().passthrough})`);
  }
  t.equal(out.proxy.stats().passthrough, 2);
  t.equal(out.proxy.stats().endpoints, 0, 'passthrough destinations are not policy endpoints');
  await roundTrip('127.0.0.10', 'again'); // evicted earlier: works again, with new state
  t.equal(out.proxy.stats().passthrough, 2);
  clock += 90_000 + 1; // the default idle timeout, and then some
  await roundTrip('127.0.0.11', 'after a long pause');
  t.equal(out.proxy.stats().passthrough, 1, 'destinations idle for longer than the idle timeout were let go');
});

t.test('the pooled mTLS session to an endpoint is a connection on its endpoint edge: tls="true", the peer identity', async (t) => {
  const ca = mintCa();
  const server = await startMeshServer(t, { ca });
  const out = await startOutbound(t, {
    ca,
    policy: policyFor([endpoint({ address: '127.0.0.1', port: server.port, identity: server.identity, pod: { namespace: 'shop', name: 'api-0' } })]),
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  t.teardown(() => agent.destroy());
  const statuses = await Promise.all(Array.from({ length: 6 }, () => h1(out.port, { agent }).then((r) => r.status)));
  t.strictSame(statuses, [200, 200, 200, 200, 200, 200]);
  t.equal(server.handshakes, 1, 'one pooled session carried every request');
  const edge = `direction="outbound",peer_namespace="shop",peer_workload="",peer_identity="${spiffe(API)}",dst_service="shop/api",route="",tls="true"`;
  const open = await out.metric('loom_tcp_connections_open');
  t.ok(open.includes(`{${edge}} 1`), `the mesh session is open on the endpoint edge:\n${open}`);
  t.match(open, /peer_identity="",dst_service="shop\/api",route="",tls="false"} [12]/, "the application's connections stay on the logical edge");
  await out.proxy.close({ drainMs: 0 });
  const total = await waitForMetric(out, 'loom_tcp_connections_total', /tls="true",outcome="\w+"} 1/);
  t.ok(total.includes(`{${edge},outcome=`), `closed and counted on the same edge:\n${total}`);
  const bytes = await out.metric('loom_tcp_bytes_total');
  t.ok(bytes.includes(`{${edge},flow="received"}`) && bytes.includes(`{${edge},flow="sent"}`), `with its bytes:\n${bytes}`);
});
