/**
 * The identity client against a real gRPC Identity server over TLS on 127.0.0.1 (test support), with a
 * fake clock for backoff, renewal and expiry: issuance, readiness and metrics; retries while the controller
 * is down; responses and refusals it must not accept; token re-reading; renewal under live TLS connections;
 * expiry; close.
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { status } from '@grpc/grpc-js';
import { verifyChain } from '@loom/ca';
import { mintCa, type TestCa } from '@loom/ca/testing';
import { parseCsr, renewalTime, spiffeId, type WorkloadIdentity } from '@loom/shared/identity';
import { backoffDelayMs, type BackoffOptions } from '@loom/shared/runtime';
import { Registry } from 'prom-client';
import t, { type Test } from 'tap';
import { IdentityClient, IdentityClosedError, IdentityConfigError, type IdentityClientOptions } from '../../src/identity/client.js';
import { CERTIFICATE_EXPIRY_METRIC } from '../../src/identity/metrics.js';
import {
  collectLogs,
  connectionOutcome,
  connectTls,
  CONTROLLER_NAME,
  exchange,
  FakeClock,
  freePort,
  nextEvent,
  PAST_START,
  startEchoServer,
  startIdentityServer,
  tokenFile,
  type LogRecord,
} from './support.js';

const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' };
const cart: WorkloadIdentity = { ...web, serviceAccount: 'cart' };
const WEB = spiffeId(web.trustDomain, web.namespace, web.serviceAccount);
const TOKENS = { 'web-token': web, 'cart-token': cart };
/** Fixed jitter: every delay and renewal time is predictable. */
const RANDOM = (): number => 0.5;
const BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 400 };

interface Harness {
  readonly clock: FakeClock;
  readonly ca: TestCa;
  readonly registry: Registry;
  readonly records: LogRecord[];
  readonly tokenPath: string;
  client(overrides?: Partial<IdentityClientOptions>): IdentityClient;
}

async function harness(t: Test, start = Date.now(), token = 'web-token'): Promise<Harness> {
  const clock = new FakeClock(start);
  const ca = mintCa({ now: () => clock.now() });
  const registry = new Registry();
  const { logger, records } = collectLogs();
  const tokenPath = await tokenFile(t, token);
  return {
    clock,
    ca,
    registry,
    records,
    tokenPath,
    client(overrides = {}) {
      const client = new IdentityClient({
        controllerAddress: '127.0.0.1:1',
        controllerServerName: CONTROLLER_NAME,
        initialTrustPem: ca.rootPem,
        tokenPath,
        identity: web,
        clock,
        random: RANDOM,
        backoff: BACKOFF,
        logger,
        registry,
        ...overrides,
      });
      t.teardown(() => client.close());
      return client;
    },
  };
}

async function expiryGauge(registry: Registry): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(CERTIFICATE_EXPIRY_METRIC)?.get();
  return metric?.values[0]?.value;
}

/** `loom_certificate_renewal_failures` as scraped, or undefined when it is not exported. */
async function failuresGauge(registry: Registry): Promise<number | undefined> {
  const line = (await registry.metrics()).split('\n').find((text) => text.startsWith('loom_certificate_renewal_failures '));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

/** When readiness drops with renewal failing: 10 % of the leaf's life before notAfter. */
const notReadyPoint = (credentials: { readonly notBefore: number; readonly notAfter: number }): number =>
  credentials.notAfter - Math.ceil((credentials.notAfter - credentials.notBefore) / 10);

const events = (records: readonly LogRecord[], event: string): LogRecord[] => records.filter((record) => record.event === event);

t.test('obtains a certificate: ready, held, verified, exported', async (t) => {
  const h = await harness(t);
  const server = await startIdentityServer(t, { ca: h.ca, tokens: TOKENS });
  const client = h.client({ controllerAddress: server.address });
  t.equal(client.ready, false, 'not ready before start');
  t.match(client.status(), { state: 'starting', ready: false, reason: 'no certificate yet', spiffeId: WEB, consecutiveFailures: 0 });
  t.equal(await expiryGauge(h.registry), 0, 'gauge is 0 while no certificate is held');
  t.equal(await failuresGauge(h.registry), 0, 'loom_certificate_renewal_failures is exported from the start');

  const issued = nextEvent(client, 'issued');
  client.start();
  const event = await issued;
  const held = client.holder.current();
  if (held === undefined) throw new Error('no credentials held');
  t.equal(client.ready, true, 'ready once a certificate is held');
  t.equal(event.credentials, held, 'the event carries the held credentials');
  t.equal(held.spiffeId, WEB);
  t.equal(verifyChain(held.chain, held.trustBundle, h.clock.now()).spiffeId, WEB, 'the leaf verifies against the bundle and carries exactly our SPIFFE ID');
  t.ok(new X509Certificate(held.chain[0] ?? '').publicKey.equals(createPublicKey(held.keyPem)), 'for the key generated in-process');
  t.strictSame(parseCsr(server.requests[0]?.csr ?? '').sans.uris, [WEB], 'the CSR asked for our identity');
  t.equal(server.requests[0]?.token, 'web-token', 'with the projected token, trimmed');

  const renewAt = renewalTime({ notBefore: held.notBefore, notAfter: held.notAfter }, h.clock.now(), RANDOM);
  t.equal(event.renewAt, renewAt, 'renewal at renewalTime() of the leaf');
  t.strictSame(client.status(), { state: 'ready', ready: true, spiffeId: WEB, consecutiveFailures: 0, notAfter: held.notAfter, nextAttemptAt: renewAt });
  t.equal(await expiryGauge(h.registry), held.notAfter / 1000, 'loom_certificate_expiry_timestamp_seconds is the leaf notAfter');
  t.match(await h.registry.metrics(), /loom_certificate_renewals_total\{result="success"\} 1\n/);
  t.match(await h.registry.metrics(), /loom_certificate_renewals_total\{result="failure"\} 0\n/);
  t.match(events(h.records, 'certificate.issued'), [{ level: 'info', component: 'identity', identity: WEB, serial: held.serialNumber }]);
  t.equal(await client.waitForCredentials(), held, 'waitForCredentials resolves at once when held');
});

t.test('retries with backoff while the controller is down, then succeeds once it starts', async (t) => {
  const h = await harness(t);
  const port = await freePort();
  const client = h.client({ controllerAddress: `127.0.0.1:${port}` });
  const credentials = client.waitForCredentials();

  let failed = nextEvent(client, 'failed');
  client.start();
  const retries: number[] = [];
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const event = await failed;
    t.match(event, { renewal: false, consecutiveFailures: attempt + 1, failure: { kind: 'unavailable', code: 'UNAVAILABLE' } }, `attempt ${attempt + 1} failed`);
    t.equal(event.retryAt - h.clock.now(), backoffDelayMs(attempt, BACKOFF, RANDOM), 'next try after the jittered backoff');
    retries.push(event.retryAt - h.clock.now());
    t.match(client.status(), {
      state: 'starting',
      ready: false,
      reason: `no certificate yet; the request has failed ${attempt + 1} ${attempt === 0 ? 'time' : 'times'}: ${event.failure.reason}`,
      consecutiveFailures: attempt + 1,
      nextAttemptAt: event.retryAt,
      lastFailure: { kind: 'unavailable' },
    });
    t.equal(await failuresGauge(h.registry), attempt + 1, 'the failures gauge counts consecutive failures');
    if (attempt === 3) break;
    failed = nextEvent(client, 'failed');
    h.clock.advanceTo(event.retryAt);
  }
  t.strictSame(retries, [50, 100, 200, 200], 'exponential, capped at maxMs (with the fixed jitter)');

  const server = await startIdentityServer(t, { ca: h.ca, tokens: TOKENS, port });
  const issued = nextEvent(client, 'issued');
  h.clock.advance(200);
  await issued;
  t.equal((await credentials).spiffeId, WEB, 'waitForCredentials resolved');
  t.equal(server.requests.length, 1);
  t.match(client.status(), { state: 'ready', consecutiveFailures: 0 });
  t.notOk('lastFailure' in client.status(), 'the last failure is forgotten on success');
  t.match(await h.registry.metrics(), /loom_certificate_renewals_total\{result="failure"\} 4\n/);
  t.equal(await failuresGauge(h.registry), 0, 'the failures gauge is reset by a success');

  const logged = events(h.records, 'certificate.issue_failed');
  t.equal(logged.length, 4, 'every failure is logged');
  const loud = logged.filter((record) => record.level === 'warn');
  t.equal(loud.length, new Set(logged.map((record) => record.reason)).size, 'at warn once per distinct reason, repeats at debug');
  t.match(loud[0], { identity: WEB, kind: 'unavailable', code: 'UNAVAILABLE', reason: /^UNAVAILABLE: / });
});

t.test('refuses responses for another identity or another key, and keeps asking', async (t) => {
  const h = await harness(t);
  const server = await startIdentityServer(t, { ca: h.ca, tokens: TOKENS });
  const client = h.client({ controllerAddress: server.address });

  server.tamper = (issued) => ({ certificateChain: [...h.ca.leaf('shop', 'admin').chain], trustBundle: [...issued.trustBundle] });
  let failed = nextEvent(client, 'failed');
  client.start();
  let event = await failed;
  t.match(event.failure, { kind: 'invalid-response', reason: 'response refused: the leaf is for "URI:spiffe://cluster.local/ns/shop/sa/admin", expected exactly "URI:spiffe://cluster.local/ns/shop/sa/web"' });
  t.equal(client.holder.current(), undefined, 'nothing held');
  t.equal(client.ready, false);

  server.tamper = (issued) => ({ certificateChain: [...h.ca.leafFor({ uris: [WEB] }).chain], trustBundle: [...issued.trustBundle] });
  failed = nextEvent(client, 'failed');
  h.clock.advanceTo(event.retryAt);
  event = await failed;
  t.match(event.failure, { kind: 'invalid-response', reason: 'response refused: the leaf certifies another public key than ours' });
  t.equal(client.holder.current(), undefined, 'still nothing held');

  const other = mintCa();
  server.tamper = (issued) => ({ certificateChain: [...issued.chain], trustBundle: [other.rootPem] });
  failed = nextEvent(client, 'failed');
  h.clock.advanceTo(event.retryAt);
  event = await failed;
  t.match(event.failure, { reason: /does not end at a root of the trust bundle/ });

  server.tamper = undefined;
  const issued = nextEvent(client, 'issued');
  h.clock.advanceTo(event.retryAt);
  await issued;
  t.equal(client.ready, true);
  t.match(events(h.records, 'certificate.issue_failed'), [
    { level: 'error', kind: 'invalid-response' },
    { level: 'error', kind: 'invalid-response' },
    { level: 'error', kind: 'invalid-response' },
  ]);
});

t.test('controller refusals are retried, and the token is read again for every attempt', async (t) => {
  const h = await harness(t, Date.now(), 'cart-token');
  const server = await startIdentityServer(t, { ca: h.ca, tokens: TOKENS });
  const client = h.client({ controllerAddress: server.address });

  const steps: [string | null, object][] = [
    ['cart-token', { kind: 'refused', code: 'PERMISSION_DENIED', reason: 'PERMISSION_DENIED: token is for ns/shop sa/cart, CSR asks for ns/shop sa/web' }],
    ['stale-token', { kind: 'refused', code: 'UNAUTHENTICATED', reason: 'UNAUTHENTICATED: token rejected by TokenReview' }],
    [null, { kind: 'token', reason: `cannot read the ServiceAccount token ${h.tokenPath}: ENOENT` }],
    ['  \n', { kind: 'token', reason: `the ServiceAccount token file ${h.tokenPath} is empty` }],
  ];
  let retryAt: number | undefined;
  for (const [token, failure] of steps) {
    if (token === null) await rm(h.tokenPath);
    else await writeFile(h.tokenPath, token);
    const failed = nextEvent(client, 'failed');
    if (retryAt === undefined) client.start();
    else h.clock.advanceTo(retryAt);
    const event = await failed;
    t.match(event.failure, failure, `token ${JSON.stringify(token)}`);
    retryAt = event.retryAt;
  }
  await writeFile(h.tokenPath, 'web-token\n');
  const issued = nextEvent(client, 'issued');
  h.clock.advanceTo(retryAt ?? 0);
  await issued;
  t.strictSame(
    server.requests.map((request) => request.token),
    ['cart-token', 'stale-token', 'web-token'],
    'each attempt sent the token as the file held it then (none when it could not be read)',
  );
  t.match(
    events(h.records, 'certificate.issue_failed').map((record) => record.level),
    ['error', 'error', 'error', 'error'],
    'refusals and token problems are errors',
  );
});

t.test('renewal: a new certificate at renewalTime; connections opened before keep working', async (t) => {
  const h = await harness(t, PAST_START());
  const server = await startIdentityServer(t, { ca: h.ca, tokens: TOKENS });
  const client = h.client({ controllerAddress: server.address });
  const issued = nextEvent(client, 'issued');
  client.start();
  const first = await issued;
  t.equal(h.clock.nextAt, first.renewAt, 'the next timer is the renewal');

  const echo = await startEchoServer(t, client.holder);
  const before = await connectTls(t, echo.port, client.holder.clientContext(), WEB);
  t.equal(await exchange(before, 'before'), 'before');
  t.equal(before.getPeerCertificate().serialNumber, first.credentials.serialNumber);

  const renewed = nextEvent(client, 'renewed');
  h.clock.advanceTo(first.renewAt);
  t.match(client.status(), { state: 'renewing', ready: true }, 'renewing, still ready');
  const second = await renewed;
  t.not(second.credentials.serialNumber, first.credentials.serialNumber, 'a new certificate');
  t.ok(second.credentials.notAfter > first.credentials.notAfter, 'with a later notAfter');
  t.equal(second.renewAt, renewalTime(second.credentials, h.clock.now(), RANDOM), 'and its own renewal scheduled');
  t.equal(h.clock.nextAt, second.renewAt);
  t.not(second.credentials.keyPem, first.credentials.keyPem, 'for a new key');
  t.equal(client.holder.current(), second.credentials);
  t.equal(await expiryGauge(h.registry), second.credentials.notAfter / 1000, 'the gauge follows');
  t.match(events(h.records, 'certificate.renewed'), [{ level: 'info', identity: WEB, serial: second.credentials.serialNumber }]);

  t.equal(await exchange(before, 'after renewal'), 'after renewal', 'the connection opened before renewal still exchanges data');
  t.equal(before.getPeerCertificate().serialNumber, first.credentials.serialNumber, 'with the certificate it started with');
  const after = await connectTls(t, echo.port, client.holder.clientContext(), WEB);
  t.equal(after.getPeerCertificate().serialNumber, second.credentials.serialNumber, 'a new connection is served the new certificate');
  t.equal(await exchange(after, 'new'), 'new');
  t.strictSame(echo.clientSerials, [first.credentials.serialNumber, second.credentials.serialNumber], 'and presents it as a client');
  t.match(await h.registry.metrics(), /loom_certificate_renewals_total\{result="success"\} 2\n/);
});

t.test('a certificate that expires before renewal succeeds: not ready, still retrying', async (t) => {
  const h = await harness(t, PAST_START());
  const server = await startIdentityServer(t, { ca: h.ca, tokens: TOKENS });
  const client = h.client({ controllerAddress: server.address });
  const issued = nextEvent(client, 'issued');
  client.start();
  const { credentials, renewAt } = await issued;
  server.close();

  const failed = nextEvent(client, 'failed');
  h.clock.advanceTo(renewAt);
  const failure = await failed;
  t.match(failure, { renewal: true, consecutiveFailures: 1, failure: { kind: 'unavailable' } });
  t.match(client.status(), { state: 'renewing', ready: true, consecutiveFailures: 1 }, 'still ready while the certificate is valid');

  const expired = nextEvent(client, 'expired');
  const retried = nextEvent(client, 'failed');
  h.clock.advanceTo(credentials.notAfter);
  t.equal((await expired).notAfter, credentials.notAfter);
  t.equal(client.ready, false, 'not ready after expiry');
  t.match(client.status(), {
    state: 'expired',
    ready: false,
    reason: `certificate expired at ${new Date(credentials.notAfter).toISOString()} and renewal has failed 1 time: ${failure.failure.reason}`,
    notAfter: credentials.notAfter,
  });
  const retry = await retried;
  t.match(retry, { renewal: true, consecutiveFailures: 2 }, 'the retry due before expiry failed too');
  t.equal(client.status().nextAttemptAt, retry.retryAt, 'and the next one is scheduled: the client never gives up');
  t.equal(await expiryGauge(h.registry), credentials.notAfter / 1000, 'the gauge still shows the expired notAfter');
  t.match(events(h.records, 'certificate.renewal_failed')[0], { level: 'warn', identity: WEB, reason: /^UNAVAILABLE: / });
  t.match(events(h.records, 'certificate.expired'), [{ level: 'error', identity: WEB, serial: credentials.serialNumber, reason: /^UNAVAILABLE: / }]);
});

t.test('a failing renewal makes the proxy not ready once 10 % of the leaf life remains; it keeps serving with the held certificate', async (t) => {
  const h = await harness(t, PAST_START());
  const server = await startIdentityServer(t, { ca: h.ca, tokens: TOKENS });
  const client = h.client({ controllerAddress: server.address });
  const issued = nextEvent(client, 'issued');
  client.start();
  const { credentials, renewAt } = await issued;
  const unreadyAt = notReadyPoint(credentials);
  t.ok(renewAt < unreadyAt && unreadyAt < credentials.notAfter, 'the not-ready point lies between renewal and expiry');
  const echo = await startEchoServer(t, client.holder);

  server.refuse = { code: status.UNAVAILABLE, details: 'the CA is not reachable now' };
  let failed = nextEvent(client, 'failed');
  h.clock.advanceTo(renewAt);
  const first = await failed;
  t.match(first, { renewal: true, consecutiveFailures: 1, failure: { kind: 'unavailable', reason: 'UNAVAILABLE: the CA is not reachable now' } });
  t.equal(await failuresGauge(h.registry), 1, 'the failures gauge shows the failing renewal');

  failed = nextEvent(client, 'failed');
  h.clock.advanceTo(unreadyAt - 1);
  const second = await failed;
  t.equal(second.consecutiveFailures, 2);
  t.equal(client.ready, true, 'still ready while more than 10 % of the life remains');
  t.match(client.status(), { state: 'renewing', ready: true, consecutiveFailures: 2 });
  t.notOk('reason' in client.status(), 'no reason while ready');

  const expiring = nextEvent(client, 'expiring');
  h.clock.advanceTo(unreadyAt);
  const reason = `certificate expires at ${new Date(credentials.notAfter).toISOString()} and renewal has failed 2 times: UNAVAILABLE: the CA is not reachable now`;
  t.strictSame(await expiring, { type: 'expiring', notAfter: credentials.notAfter, consecutiveFailures: 2, reason }, 'an expiring event at the not-ready point');
  t.equal(client.ready, false, 'not ready before expiry');
  t.match(client.status(), { state: 'expiring', ready: false, reason, notAfter: credentials.notAfter, consecutiveFailures: 2 });
  t.equal(client.holder.ready, true, 'the held certificate is still valid');
  t.equal(client.holder.current(), credentials, 'and still held');
  t.equal(await connectionOutcome(t, echo.port, client.holder.clientContext(), WEB), 'ok', 'and still served: mesh connections work');
  t.equal(await failuresGauge(h.registry), 2);
  t.match(events(h.records, 'certificate.expiring'), [{ level: 'error', identity: WEB, serial: credentials.serialNumber, consecutiveFailures: 2, reason: /^UNAVAILABLE: / }]);

  server.refuse = undefined;
  const renewed = nextEvent(client, 'renewed');
  h.clock.advanceTo(second.retryAt);
  await renewed;
  t.equal(client.ready, true, 'ready again once renewal succeeds');
  t.match(client.status(), { state: 'ready', consecutiveFailures: 0 });
  t.equal(await failuresGauge(h.registry), 0, 'the failures gauge is reset');
});

t.test('a renewal in flight at the not-ready point keeps the proxy ready until it fails', async (t) => {
  const h = await harness(t, PAST_START());
  const server = await startIdentityServer(t, { ca: h.ca, tokens: TOKENS });
  const client = h.client({ controllerAddress: server.address, callTimeoutMs: 200 });
  const issued = nextEvent(client, 'issued');
  client.start();
  const { credentials } = await issued;
  const unreadyAt = notReadyPoint(credentials);

  server.hang = true;
  const received = server.nextRequest();
  const expiring = nextEvent(client, 'expiring');
  const failed = nextEvent(client, 'failed');
  h.clock.advanceTo(unreadyAt);
  await received;
  t.match(client.status(), { state: 'renewing', ready: true, consecutiveFailures: 0 }, 'a renewal under way has not failed yet: still ready');
  t.match((await failed).failure, { kind: 'unavailable', code: 'DEADLINE_EXCEEDED' });
  t.match(await expiring, { consecutiveFailures: 1, reason: /^certificate expires at .* and renewal has failed 1 time: DEADLINE_EXCEEDED: / }, 'its failure makes the proxy not ready');
  t.match(client.status(), { state: 'expiring', ready: false });
});

t.test('the controller\'s retry pushback: the next try waits at least that long, at most the backoff cap', async (t) => {
  const h = await harness(t);
  const server = await startIdentityServer(t, { ca: h.ca, tokens: TOKENS });
  const client = h.client({ controllerAddress: server.address });
  const limited = { code: status.RESOURCE_EXHAUSTED, details: 'too many Certify calls' };
  const down = { code: status.UNAVAILABLE, details: 'token review unavailable' };
  const cases: { name: string; refuse: NonNullable<typeof server.refuse>; pushback: number | undefined; delay: number }[] = [
    { name: 'pushback above the backoff', refuse: { ...limited, pushbackMs: '350' }, pushback: 350, delay: 350 },
    { name: 'pushback beyond the cap', refuse: { ...limited, pushbackMs: '60000' }, pushback: 60_000, delay: BACKOFF.maxMs },
    { name: 'pushback below the backoff', refuse: { ...down, pushbackMs: '10' }, pushback: 10, delay: backoffDelayMs(2, BACKOFF, RANDOM) },
    { name: 'malformed pushback', refuse: { ...down, pushbackMs: 'soon' }, pushback: undefined, delay: backoffDelayMs(3, BACKOFF, RANDOM) },
    { name: 'no pushback', refuse: down, pushback: undefined, delay: backoffDelayMs(4, BACKOFF, RANDOM) },
  ];
  t.ok(backoffDelayMs(0, BACKOFF, RANDOM) < 350 && backoffDelayMs(1, BACKOFF, RANDOM) < BACKOFF.maxMs, 'the backoff alone would retry sooner');
  let retryAt: number | undefined;
  for (const c of cases) {
    server.refuse = c.refuse;
    const failed = nextEvent(client, 'failed');
    if (retryAt === undefined) client.start();
    else h.clock.advanceTo(retryAt);
    const event = await failed;
    t.equal(event.failure.retryPushbackMs, c.pushback, `${c.name}: the trailer as read`);
    t.equal(event.retryAt - h.clock.now(), c.delay, `${c.name}: the delay`);
    retryAt = event.retryAt;
  }
  t.equal(server.requests.length, cases.length);
});

t.test('close cancels the call in flight and every timer; waiters are told', async (t) => {
  const h = await harness(t);
  const server = await startIdentityServer(t, { ca: h.ca, tokens: TOKENS });
  server.hang = true;
  const client = h.client({ controllerAddress: server.address });
  const waiting = client.waitForCredentials();
  const received = server.nextRequest();
  client.start();
  await received;
  const seen: string[] = [];
  client.subscribe((event) => seen.push(event.type));
  client.close();
  client.close();
  await t.rejects(waiting, IdentityClosedError);
  await t.rejects(client.waitForCredentials(), IdentityClosedError, 'also after close');
  t.match(client.status(), { state: 'closed', ready: false });
  t.equal(h.clock.pending, 0, 'no timer left');
  client.start();
  t.equal(server.requests.length, 1, 'start after close does nothing');
  t.strictSame(seen, [], 'no event after close');
});

t.test('options that cannot work are refused with one line', (t) => {
  const base: IdentityClientOptions = { controllerAddress: 'loom-controller.loom-system.svc:15010', initialTrustPem: mintCa().rootPem, tokenPath: '/var/run/secrets/loom/token', identity: web };
  t.ok(new IdentityClient(base), 'a valid configuration');
  t.ok(new IdentityClient({ ...base, controllerAddress: '[::1]:15010' }), 'an IPv6 address');
  const cases: [Partial<IdentityClientOptions>, string][] = [
    [{ controllerAddress: 'loom-controller' }, 'controllerAddress "loom-controller" is not host:port'],
    [{ controllerAddress: 'https://x:1' }, 'controllerAddress "https://x:1" is not host:port'],
    [{ initialTrustPem: '' }, 'initialTrustPem: trust bundle entry 1 must hold PEM certificates only, found no PEM block'],
    [{ identity: { ...web, namespace: '' } }, 'identity.namespace "" is not a name (empty, or holds "/" or spaces)'],
    [{ identity: { ...web, serviceAccount: 'a/b' } }, 'identity.serviceAccount "a/b" is not a name (empty, or holds "/" or spaces)'],
    [{ tokenPath: '' }, 'tokenPath is empty'],
    [{ backoff: { initialMs: 0, maxMs: 1 } }, 'invalid backoff options: initialMs=0 maxMs=1 factor=2'],
    [{ callTimeoutMs: 0 }, 'callTimeoutMs must be positive, got 0'],
  ];
  for (const [override, message] of cases) {
    t.throws(() => new IdentityClient({ ...base, ...override }), new IdentityConfigError(message), message);
  }
  t.end();
});
