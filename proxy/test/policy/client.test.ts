/**
 * The policy stream client against a real gRPC Policy server over mutual TLS on 127.0.0.1 (test support):
 * Hello with our pod and our certificate; policies applied and Acked; policies it cannot enforce Nacked
 * with the field while the previous one stays; reconnection after UNAVAILABLE, after the controller died
 * and came back, and after refusals, without log storms; the trust bundle from the policy installed in the
 * credential holder and used to trust the controller; backoff growth and reset; close.
 */
import { status } from '@grpc/grpc-js';
import { mintCa, type TestCa } from '@loom/ca/testing';
import { encodePolicy, type ProxyPolicy, type WireProxyPolicy } from '@loom/shared/policy';
import { backoffDelayMs, type BackoffOptions } from '@loom/shared/runtime';
import { Registry } from 'prom-client';
import t, { type Test } from 'tap';
import { CredentialHolder, type CredentialChange } from '../../src/identity/holder.js';
import { METRIC, proxyMetrics } from '../../src/metrics/families.js';
import { PolicyClient, PolicyConfigError, type PolicyClientOptions } from '../../src/policy/client.js';
import { PolicyStore, type PolicySnapshot } from '../../src/policy/snapshot.js';
import { collectLogs, freePort, type LogRecord } from '../identity/support.js';
import { allow, endpoint, service, servicePort, testPolicy, TEST_IDENTITY, TEST_POD } from '../support/policy.js';
import { CONTROLLER_DNS, eventually, meshCredentials, RecordingClock, startPolicyServer, type PolicyServer, type PolicySession } from './support.js';

const BACKOFF: BackoffOptions = { initialMs: 20, maxMs: 100 };
const PROXY_VERSION = '0.1.0-test';

interface Harness {
  readonly ca: TestCa;
  readonly holder: CredentialHolder;
  readonly store: PolicyStore;
  readonly registry: Registry;
  readonly records: LogRecord[];
  /** Snapshots the store was given, in order. */
  readonly applied: PolicySnapshot[];
  client(address: string, overrides?: Partial<PolicyClientOptions>): PolicyClient;
}

function harness(t: Test, options: { readonly certificate?: boolean } = {}): Harness {
  const ca = mintCa();
  const holder = new CredentialHolder();
  if (options.certificate ?? true) holder.install(meshCredentials(ca));
  const store = new PolicyStore();
  const applied: PolicySnapshot[] = [];
  store.onChange((next) => applied.push(next));
  const registry = new Registry();
  const metrics = proxyMetrics(registry);
  const { logger, records } = collectLogs();
  return {
    ca,
    holder,
    store,
    registry,
    records,
    applied,
    client(address, overrides = {}) {
      const client = new PolicyClient({
        controllerAddress: address,
        controllerServerName: CONTROLLER_DNS,
        initialTrustPem: ca.rootPem,
        holder,
        pod: { name: TEST_POD, namespace: 'shop' },
        proxyVersion: PROXY_VERSION,
        store,
        metrics,
        logger,
        backoff: BACKOFF,
        ...overrides,
      });
      t.teardown(() => client.close());
      return client;
    },
  };
}

/** A policy for our pod that passes every check, with `ca`'s root as its bundle. */
function goodPolicy(ca: TestCa, vip = '10.96.0.10'): ProxyPolicy {
  return testPolicy({
    trustBundle: [ca.rootPem],
    inboundPorts: { 8080: 'http1' },
    authorizations: [allow({ sources: ['spiffe://cluster.local/ns/shop/sa/api'], ports: [8080] })],
    outbound: [service({ name: 'cart', vips: [vip], ports: [servicePort({ port: 80, endpoints: [endpoint({ address: '10.1.0.1', port: 8080, identity: 'spiffe://cluster.local/ns/shop/sa/cart' })] })] })],
  });
}

/** Opens the stream, checks the Hello, sends `policy` and returns the session once it was acked. */
async function connectAndApply(t: Test, h: Harness, server: PolicyServer, policy: ProxyPolicy): Promise<PolicySession> {
  const session = await server.nextSession();
  t.match(await session.next(), { hello: { pod: TEST_POD, namespace: 'shop', proxyVersion: PROXY_VERSION } }, 'Hello first');
  session.send(policy);
  t.strictSame((await session.next()).ack, { version: policy.version }, `Ack ${policy.version}`);
  return session;
}

const events = (records: readonly LogRecord[], event: string): LogRecord[] => records.filter((r) => r.event === event);

async function metricValue(registry: Registry, name: string, labels: Readonly<Record<string, string>>): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))?.value;
}

t.test('opens the stream with our certificate, says Hello, applies a policy and Acks it', async (t) => {
  const h = harness(t);
  const server = await startPolicyServer(t, { ca: h.ca });
  const client = h.client(server.address);
  t.equal(client.ready, false);
  t.match(client.status(), { ready: false, reason: /no policy yet/, lastVersion: null });
  client.start();
  client.start(); // idempotent

  const session = await server.nextSession();
  t.equal(session.peerId, TEST_IDENTITY, 'the controller sees our SPIFFE ID in the client certificate');
  const hello = await session.next();
  t.equal(hello.message, 'hello');
  t.strictSame(hello.hello, { pod: TEST_POD, namespace: 'shop', proxyVersion: PROXY_VERSION });

  const policy = goodPolicy(h.ca);
  session.send(policy);
  const ack = await session.next();
  t.equal(ack.message, 'ack');
  t.strictSame(ack.ack, { version: policy.version });

  t.equal(h.store.current()?.version, policy.version, 'in force');
  t.strictSame(h.store.current()?.policy, policy, 'exactly the policy sent');
  t.equal(h.store.current()?.inboundProtocol(8080), 'http1', 'prepared');
  t.equal(client.ready, true);
  t.match(client.status(), { ready: true, connected: true, lastVersion: policy.version, consecutiveFailures: 0 });
  t.notOk('reason' in client.status(), 'no reason when ready');
  t.equal(await metricValue(h.registry, METRIC.policyVersion, { version: policy.version }), 1);
  t.equal(await metricValue(h.registry, METRIC.policyUpdates, { result: 'ack' }), 1);
  t.equal(await metricValue(h.registry, METRIC.policyUpdates, { result: 'nack' }), 0);
  t.match(events(h.records, 'policy.connected'), [{ level: 'info', component: 'policy' }]);
  t.match(events(h.records, 'policy.applied'), [{ level: 'info', version: policy.version, inboundPorts: 1, authorizations: 1, outboundServices: 1, endpoints: 1 }]);

  // A new version replaces it; the version gauge follows.
  const next = goodPolicy(h.ca, '10.96.0.11');
  session.send(next);
  t.strictSame((await session.next()).ack, { version: next.version });
  t.equal(h.store.current()?.version, next.version);
  t.equal(await metricValue(h.registry, METRIC.policyVersion, { version: next.version }), 1);
  t.equal(await metricValue(h.registry, METRIC.policyVersion, { version: policy.version }), undefined, 'the old version series is gone');
});

/** Wire corruptions of a good policy and the field the Nack must name. */
function corruptions(ca: TestCa, good: ProxyPolicy): { name: string; wire: WireProxyPolicy | null; reason: RegExp; version: string }[] {
  const wire = encodePolicy(good);
  const svc = wire.outbound[0];
  const port = svc?.ports[0];
  if (svc === undefined || port === undefined) throw new Error('the good policy has an outbound port');
  const leaf = ca.leaf('shop', 'other');
  const other = (p: ProxyPolicy): { wire: WireProxyPolicy; version: string } => ({ wire: encodePolicy(p), version: p.version });
  return [
    { name: 'a port out of range', wire: { ...wire, outbound: [{ ...svc, ports: [{ ...port, port: 70000 }] }] }, reason: /^outbound\[0\]\.ports\[0\]\.port: 70000 is not a port/, version: good.version },
    { name: 'a missing required message', wire: { ...wire, proxy: null }, reason: /^proxy: missing/, version: good.version },
    { name: 'an unspecified enum', wire: { ...wire, mesh: { ...wire.mesh!, mode: 'MODE_UNSPECIFIED' } }, reason: /^mesh\.mode: missing/, version: good.version },
    { name: 'no policy in the message', wire: null, reason: /^policy: missing/, version: '' },
    { name: 'another pod', ...other(testPolicy({ pod: 'web-1', trustBundle: [ca.rootPem] })), reason: /^proxy\.pod: "web-1" is not this pod "web-0"/ },
    { name: 'another namespace', ...other(testPolicy({ identity: 'spiffe://cluster.local/ns/prod/sa/web', trustBundle: [ca.rootPem] })), reason: /^proxy\.namespace: "prod" is not this pod's namespace "shop"; proxy\.identity: / },
    { name: 'another identity', ...other(testPolicy({ identity: 'spiffe://cluster.local/ns/shop/sa/cart', trustBundle: [ca.rootPem] })), reason: /^proxy\.identity: spiffe:\/\/cluster\.local\/ns\/shop\/sa\/cart is not the identity of this proxy's certificate/ },
    { name: 'an empty trust bundle', ...other(testPolicy({ trustBundle: [] })), reason: /^trustBundle: trust bundle is empty/ },
    { name: 'a leaf in the trust bundle', ...other(testPolicy({ trustBundle: [leaf.certPem] })), reason: /^trustBundle: trust bundle entry 1 is not a CA certificate/ },
    { name: 'not PEM in the trust bundle', ...other(testPolicy({ trustBundle: ['hello'] })), reason: /^trustBundle: trust bundle entry 1 is not valid PEM|^trustBundle: trust bundle entry 1 must hold PEM certificates only/ },
  ];
}

t.test('a policy it cannot enforce is Nacked naming the field; the previous one stays in force', async (t) => {
  const h = harness(t);
  const server = await startPolicyServer(t, { ca: h.ca });
  const client = h.client(server.address);
  client.start();
  const good = goodPolicy(h.ca);
  const session = await connectAndApply(t, h, server, good);
  const bundleChanges: CredentialChange[] = [];
  h.holder.onChange((change) => bundleChanges.push(change));

  const cases = corruptions(h.ca, good);
  for (const c of cases) {
    session.sendWire(c.wire);
    const answer = await session.next();
    t.equal(answer.message, 'nack', `${c.name}: Nack`);
    t.equal(answer.nack?.version, c.version, `${c.name}: the version it claimed`);
    t.match(answer.nack?.reason, c.reason, `${c.name}: the reason names the field`);
    t.equal(h.store.current()?.version, good.version, `${c.name}: the previous policy stays`);
    t.match(client.status().lastNack, { version: c.version, reason: c.reason });
  }
  t.equal(h.applied.length, 1, 'nothing else was applied');
  t.equal(bundleChanges.length, 0, 'the trust bundle was not touched');
  t.equal(await metricValue(h.registry, METRIC.policyUpdates, { result: 'nack' }), cases.length);
  t.equal(await metricValue(h.registry, METRIC.policyVersion, { version: good.version }), 1, 'the version in force is still reported');
  const rejected = events(h.records, 'policy.rejected');
  t.equal(rejected.length, cases.length, 'each rejection logged once');
  t.match(rejected[0], { level: 'warn', keptVersion: good.version, reason: /70000/ });

  // The version in force again: Acked, not re-applied.
  session.send(good);
  t.strictSame((await session.next()).ack, { version: good.version });
  t.equal(h.applied.length, 1, 'same version: not re-applied');
  t.equal(await metricValue(h.registry, METRIC.policyUpdates, { result: 'ack' }), 2);
});

t.test('a proxy whose first policy is rejected is not ready and says why', async (t) => {
  const h = harness(t);
  const server = await startPolicyServer(t, { ca: h.ca });
  const client = h.client(server.address);
  client.start();
  const session = await server.nextSession();
  await session.next();
  session.send(testPolicy({ pod: 'web-1', trustBundle: [h.ca.rootPem] }));
  t.equal((await session.next()).message, 'nack');
  t.equal(client.ready, false);
  t.match(client.status(), { ready: false, connected: true, reason: /^no policy yet: the last one \(\w+\) was rejected: proxy\.pod: / });
});

t.test('waits for a certificate before opening the stream, then opens it with that certificate', async (t) => {
  const h = harness(t, { certificate: false });
  const server = await startPolicyServer(t, { ca: h.ca });
  const client = h.client(server.address);
  client.start();
  t.match(client.status(), { ready: false, connected: false, reason: /waiting for a certificate/ });
  t.match(events(h.records, 'policy.waiting_for_certificate'), [{ level: 'info' }]);
  // Give a wrongly eager client time to connect: several event-loop turns and a TLS handshake's worth.
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(server.sessions.length, 0, 'no stream without a certificate');

  h.holder.install(meshCredentials(h.ca));
  const session = await connectAndApply(t, h, server, goodPolicy(h.ca));
  t.equal(session.peerId, TEST_IDENTITY);
  t.equal(client.ready, true);
});

t.test('the controller ends the stream with UNAVAILABLE: a fresh stream and Hello; the policy stays meanwhile', async (t) => {
  const h = harness(t);
  const server = await startPolicyServer(t, { ca: h.ca });
  const client = h.client(server.address);
  client.start();
  const policy = goodPolicy(h.ca);
  const first = await connectAndApply(t, h, server, policy);

  first.end(status.UNAVAILABLE, 'controller draining');
  const second = await server.nextSession();
  t.not(second, first, 'a new stream');
  t.match(await second.next(), { hello: { pod: TEST_POD, namespace: 'shop' } }, 'a fresh Hello');
  t.equal(h.store.current()?.version, policy.version, 'the policy stayed in force');
  t.match(client.status(), { ready: true, lastError: 'UNAVAILABLE: controller draining' });
  t.match(events(h.records, 'policy.disconnected'), [{ level: 'info', reason: 'UNAVAILABLE: controller draining', code: 'UNAVAILABLE' }]);

  // The first policy on the new stream equals the one in force: Acked, not re-applied.
  second.send(policy);
  t.strictSame((await second.next()).ack, { version: policy.version });
  t.equal(h.applied.length, 1);
  t.equal(second.received.filter((m) => m.message === 'hello').length, 1, 'one Hello per stream');

  // A stream ended with OK is reconnected too.
  second.end(status.OK, '');
  const third = await server.nextSession();
  t.match(await third.next(), { hello: { pod: TEST_POD } });
});

t.test('controller killed and restarted on the same port: the last good policy stays in force, no log storm', async (t) => {
  const h = harness(t);
  let server = await startPolicyServer(t, { ca: h.ca });
  const client = h.client(server.address);
  client.start();
  const policy = goodPolicy(h.ca);
  await connectAndApply(t, h, server, policy);

  server.stop();
  await eventually('three failed attempts', () => events(h.records, 'policy.connect_failed').length >= 3);
  t.equal(client.ready, true, 'still ready: serving the last good policy');
  t.equal(h.store.current()?.version, policy.version);
  t.match(client.status(), { connected: false, lastVersion: policy.version, lastError: /^UNAVAILABLE/ });
  t.ok(client.status().consecutiveFailures >= 3);
  const failures = events(h.records, 'policy.connect_failed');
  t.equal(failures.filter((r) => r.level === 'warn').length, 1, 'the first failure at warn');
  t.ok(failures.slice(1).every((r) => r.level === 'debug'), 'the repeats at debug');
  t.equal(events(h.records, 'policy.disconnected').length, 1, 'one disconnection');

  server = await startPolicyServer(t, { ca: h.ca, port: server.port });
  const session = await server.nextSession();
  t.match(await session.next(), { hello: { pod: TEST_POD } }, 'reconnected with a fresh Hello');
  session.send(policy);
  t.strictSame((await session.next()).ack, { version: policy.version });
  const connected = events(h.records, 'policy.connected');
  t.equal(connected.length, 2);
  t.match(connected[1], { level: 'info', msg: 'policy stream reconnected' });
  t.ok(Number(connected[1]?.['failedAttempts']) >= 3, 'the summary counts the failed attempts');
  t.type(connected[1]?.['downForMs'], 'number', 'and how long it was down');
  t.match(client.status(), { connected: true, consecutiveFailures: 0 });
  t.equal(h.applied.length, 1, 'not re-applied');
});

t.test('refusals are logged at warn with the reason, repeats at debug, and retried slowly', async (t) => {
  const h = harness(t);
  const server = await startPolicyServer(t, { ca: h.ca });
  const clock = new RecordingClock();
  const client = h.client(server.address, { clock });
  client.start();
  for (let i = 0; i < 3; i++) {
    const session = await server.nextSession();
    await session.next();
    session.end(status.PERMISSION_DENIED, 'pod shop/web-0 does not run as spiffe://cluster.local/ns/shop/sa/web');
  }
  const session = await server.nextSession();
  t.match(await session.next(), { hello: { pod: TEST_POD } }, 'still retried');
  const refusals = events(h.records, 'policy.connect_failed');
  t.equal(refusals.length, 3);
  t.match(refusals[0], { level: 'warn', code: 'PERMISSION_DENIED', reason: /^PERMISSION_DENIED: pod shop\/web-0 does not run as/ });
  t.ok(refusals.slice(1).every((r) => r.level === 'debug'), 'the same refusal again at debug');
  t.ok(
    clock.delays.every((d) => d >= BACKOFF.maxMs / 2 && d < BACKOFF.maxMs),
    `refusals wait in [maxMs/2, maxMs): ${clock.delays.join(', ')}`,
  );
  t.match(client.status(), { ready: false, reason: /^no policy yet: controller 127\.0\.0\.1:\d+ not reachable: PERMISSION_DENIED/ });

  // A different refusal is news: warn again.
  session.end(status.UNAUTHENTICATED, 'no client certificate');
  await eventually('the fourth failure', () => events(h.records, 'policy.connect_failed').length === 4);
  t.match(events(h.records, 'policy.connect_failed')[3], { level: 'warn', code: 'UNAUTHENTICATED' });
});

t.test('backoff grows while attempts fail and resets once a message arrived', async (t) => {
  const h = harness(t);
  const port = await freePort();
  const clock = new RecordingClock();
  const random = (): number => 0.99;
  const client = h.client(`127.0.0.1:${port}`, { clock, random });
  client.start();
  await eventually('four failed attempts', () => clock.delays.length >= 4);
  const expected = (n: number): number[] => Array.from({ length: n }, (_, i) => backoffDelayMs(i, BACKOFF, random));
  t.strictSame(clock.delays.slice(0, 4), expected(4), 'full-jitter exponential delays');
  t.match(client.status(), { ready: false, connected: false, reason: /not reachable: UNAVAILABLE/ });

  const server = await startPolicyServer(t, { ca: h.ca, port });
  const session = await connectAndApply(t, h, server, goodPolicy(h.ca));
  const connected = events(h.records, 'policy.connected');
  t.match(connected, [{ level: 'info', msg: 'policy stream connected' }], 'the first connection, after failures');
  t.ok(Number(connected[0]?.['failedAttempts']) >= 4, 'with the failures it took');
  const before = clock.delays.length;
  session.end(status.UNAVAILABLE, 'restarting');
  await eventually('the next delay', () => clock.delays.length > before);
  t.equal(clock.delays[before], expected(1)[0], 'the first delay again after a message');
});

t.test('a trust bundle change is installed in the holder; the controller is then trusted under the new root', async (t) => {
  const h = harness(t);
  const next = mintCa();
  let server = await startPolicyServer(t, { ca: h.ca });
  const client = h.client(server.address);
  client.start();
  await connectAndApply(t, h, server, goodPolicy(h.ca));
  const changes: CredentialChange[] = [];
  h.holder.onChange((change) => changes.push(change));

  // Staged rotation: the new root joins the bundle.
  const session = server.sessions[0] as PolicySession;
  const rotated = testPolicy({ trustBundle: [h.ca.rootPem, next.rootPem] });
  session.send(rotated);
  t.strictSame((await session.next()).ack, { version: rotated.version });
  t.equal(changes.length, 1);
  t.equal(changes[0]?.reason, 'trust-bundle');
  t.equal(h.holder.current()?.trustBundle.length, 2, 'both roots held');
  t.match(events(h.records, 'policy.applied').at(-1), { trustBundleChanged: true });

  // The controller now serves a certificate from the new root only; the proxy trusts it through the bundle.
  server.stop();
  server = await startPolicyServer(t, { ca: next, clientRoots: h.ca.rootPem, port: server.port });
  const again = await server.nextSession();
  t.match(await again.next(), { hello: { pod: TEST_POD } }, 'connected to a controller under the new root');
  t.equal(again.peerId, TEST_IDENTITY);
});

t.test('close() ends the stream and stops reconnecting; idempotent', async (t) => {
  const h = harness(t);
  const server = await startPolicyServer(t, { ca: h.ca });
  const clock = new RecordingClock();
  const client = h.client(server.address, { clock });
  client.start();
  const session = await connectAndApply(t, h, server, goodPolicy(h.ca));
  client.close();
  client.close();
  await session.done;
  t.equal(session.over, true, 'the server saw the stream end');
  t.equal(clock.delays.length, 0, 'no reconnect scheduled');
  t.match(client.status(), { connected: false, ready: true });
  t.equal(h.store.current()?.version !== undefined, true, 'the policy stays in the store');
  client.start();
  t.equal(server.sessions.length, 1, 'start after close does nothing');
});

t.test('options that cannot work are refused at construction', (t) => {
  const h = harness(t);
  const cases: [string, Partial<PolicyClientOptions>, RegExp][] = [
    ['address without port', { controllerAddress: 'loom-controller' }, /controllerAddress "loom-controller" is not host:port/],
    ['empty pod', { pod: { name: '', namespace: 'shop' } }, /pod\.name "" is not a name/],
    ['bad namespace', { pod: { name: 'web-0', namespace: 'a/b' } }, /pod\.namespace "a\/b" is not a name/],
    ['bad trust', { initialTrustPem: 'nope' }, /^initialTrustPem: /],
    ['bad backoff', { backoff: { initialMs: 0, maxMs: 10 } }, /invalid backoff options/],
    ['bad keepalive', { keepaliveMs: 0 }, /keepaliveMs must be a positive integer/],
  ];
  for (const [name, overrides, message] of cases) {
    t.throws(() => h.client('127.0.0.1:1', overrides), { name: PolicyConfigError.name, message }, name);
  }
  t.end();
});
