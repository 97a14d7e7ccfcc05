/**
 * Certify end to end: real TLS and gRPC on 127.0.0.1:0, the real TokenReviewValidator against an API server
 * stand-in, a CA minted for the test. Every refusal is checked for its status and message, for nothing being
 * signed, for its counter, and for exactly one log line.
 */
import { X509Certificate } from 'node:crypto';
import { status, type ServerUnaryCall } from '@grpc/grpc-js';
import { uriSans, verifyChain } from '@loom/ca';
import { mintCa } from '@loom/ca/testing';
import { spiffeId } from '@loom/shared/identity';
import type { CertifyRequest__Output, CertifyResponse } from '@loom/shared/proto';
import { createLogger } from '@loom/shared/runtime';
import t, { type Test } from 'tap';
import { CERTIFY_RESULTS, type CertifyResult } from '../../src/identity/metrics.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../src/identity/server.js';
import { createIdentityService, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_PEER_RATE_LIMIT, LOG_SUMMARY_INTERVAL_MS, RETRY_PUSHBACK_KEY } from '../../src/identity/service.js';
import { DEFAULT_REVIEW_BUDGET } from '../../src/identity/token-review.js';
import type { TokenValidator } from '../../src/identity/token.js';
import { API_SERVER_AUDIENCE } from '../support/token-review-api.js';
import { startHarness, TRUST_DOMAIN, type CertifyOutcome, type Harness, type LogLine } from './harness.js';

const WEB = spiffeId(TRUST_DOMAIN, 'shop', 'web');

async function counts(h: Harness): Promise<Record<CertifyResult, number>> {
  const entries = await Promise.all(CERTIFY_RESULTS.map(async (result) => [result, await h.count(result)] as const));
  return Object.fromEntries(entries) as Record<CertifyResult, number>;
}

/**
 * Runs `call` and checks the refusal contract: status `code` with `details`, the CA's signing key untouched
 * (so nothing was signed, wherever the refusal was decided), the call not even reaching the CA unless
 * `reachesCa` (refusals the CA itself decides: the CSR's contents, the identity it asks for), the `result`
 * counter (and only it) moved by one, exactly one `certify.refused` line (info; warn for UNAVAILABLE, the
 * operator's problem). Returns the outcome and the line.
 */
async function expectRefusal(
  t: Test,
  h: Harness,
  call: () => Promise<CertifyOutcome>,
  expected: { code: status; result: CertifyResult; details: string | RegExp; reachesCa?: boolean },
): Promise<{ outcome: CertifyOutcome; line: LogLine | undefined }> {
  const before = await counts(h);
  const { attempts, signingKeyUses } = h.authority;
  const refusalsBefore = h.refusals().length;
  const outcome = await call();
  t.equal(outcome.ok, false, 'refused');
  if (!outcome.ok) {
    t.equal(outcome.code, expected.code, `status ${status[expected.code]}`);
    if (typeof expected.details === 'string') t.equal(outcome.details, expected.details);
    else t.match(outcome.details, expected.details);
  }
  t.equal(h.authority.signingKeyUses, signingKeyUses, 'the CA key was not used: nothing was signed');
  if (expected.reachesCa !== true) t.equal(h.authority.attempts, attempts, 'refused before the CA');
  const after = await counts(h);
  t.same(after, { ...before, [expected.result]: before[expected.result] + 1 }, `only ${expected.result} counted, once`);
  const lines = h.refusals().slice(refusalsBefore);
  t.equal(lines.length, 1, 'logged once');
  const [line] = lines;
  const level = expected.result === 'unavailable' ? 'warn' : 'info';
  t.match(line, { level, component: 'identity', event: 'certify.refused', code: expected.result.toUpperCase(), peer: /^(ipv4:)?127\.0\.0\.1:\d+$/ });
  if (!outcome.ok) t.equal(line?.reason, outcome.details, 'the log says what the caller was told');
  return { outcome, line };
}

t.test('issue: the leaf verifies against the bundle and carries exactly the SPIFFE ID', async (t) => {
  const h = await startHarness(t);
  const outcome = await h.certify({ csr: h.csr('shop', 'web'), token: h.token('shop', 'web') });
  if (!outcome.ok) throw new Error(`refused: ${outcome.details}`);
  const { certificateChain, trustBundle, notAfter, renewAfter } = outcome.response;
  t.same(trustBundle, [h.ca.rootPem], 'the bundle is the CA root');
  const verified = verifyChain(certificateChain, trustBundle);
  t.equal(verified.spiffeId, WEB);
  const leaf = new X509Certificate(certificateChain[0] ?? '');
  t.same(uriSans(leaf), [WEB], 'exactly one URI SAN');
  t.equal(leaf.subjectAltName, `URI:${WEB}`, 'and nothing else');
  t.equal(notAfter, Math.floor(Date.parse(leaf.validTo) / 1000), 'not_after is the leaf\'s notAfter in Unix seconds');
  const notBefore = Math.floor(Date.parse(leaf.validFrom) / 1000);
  t.ok(renewAfter > notBefore && renewAfter < notAfter, 'renew_after lies within the validity');
  t.ok(Math.abs(renewAfter - (notBefore + ((notAfter - notBefore) * 2) / 3)) <= 1, 'at 2/3 of the life');
  t.equal(h.authority.issued, 1);
  t.ok(h.authority.signingKeyUses > 0, 'an issuance uses the CA key (so "unused" in refusal tests means something)');
  t.equal(await h.count('issued'), 1);
  t.same(h.refusals(), [], 'an issuance is not a refusal');
  t.match(
    h.logs.find((l) => l.event === 'certify.issued'),
    { level: 'debug', component: 'identity', identity: WEB, pod: 'shop/web-pod' },
  );
});

t.test('a CSR asking for another identity: PERMISSION_DENIED naming both', async (t) => {
  const h = await startHarness(t);
  const { line } = await expectRefusal(t, h, () => h.certify({ csr: h.csr('shop', 'orders'), token: h.token('shop', 'web') }), {
    code: status.PERMISSION_DENIED,
    result: 'permission_denied',
    details: 'token is for ns/shop sa/web, CSR asks for ns/shop sa/orders',
    reachesCa: true,
  });
  t.match(line, { identity: WEB, requested: spiffeId(TRUST_DOMAIN, 'shop', 'orders'), pod: 'shop/web-pod' });

  await expectRefusal(t, h, () => h.certify({ csr: h.csr('billing', 'web'), token: h.token('shop', 'web') }), {
    code: status.PERMISSION_DENIED,
    result: 'permission_denied',
    details: 'token is for ns/shop sa/web, CSR asks for ns/billing sa/web',
    reachesCa: true,
  });
  await expectRefusal(t, h, () => h.certify({ csr: h.csr('shop', 'web', { uris: ['spiffe://other.domain/ns/shop/sa/web'] }), token: h.token('shop', 'web') }), {
    code: status.PERMISSION_DENIED,
    result: 'permission_denied',
    details: 'token is for ns/shop sa/web, CSR asks for trust domain "other.domain"',
    reachesCa: true,
  });
});

t.test('expired, unknown and wrong-audience tokens: UNAUTHENTICATED with the TokenReview\'s reason', async (t) => {
  const h = await startHarness(t);
  const expired = h.api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'web', expiresAt: Date.now() - 3_600_000 });
  const { line } = await expectRefusal(t, h, () => h.certify({ csr: h.csr('shop', 'web'), token: expired }), {
    code: status.UNAUTHENTICATED,
    result: 'unauthenticated',
    details: 'token refused by TokenReview: [invalid bearer token, service account token has expired]',
  });
  t.equal(line?.identity, undefined, 'no identity is claimed for a refused token');

  await expectRefusal(t, h, () => h.certify({ csr: h.csr('shop', 'web'), token: 'eyJhbGciOiJSUzI1NiJ9.e30.forged' }), {
    code: status.UNAUTHENTICATED,
    result: 'unauthenticated',
    details: 'token refused by TokenReview: invalid bearer token',
  });

  const apiServerToken = h.api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'web', audiences: [API_SERVER_AUDIENCE] });
  await expectRefusal(t, h, () => h.certify({ csr: h.csr('shop', 'web'), token: apiServerToken }), {
    code: status.UNAUTHENTICATED,
    result: 'unauthenticated',
    details: `token refused by TokenReview: [invalid bearer token, token audiences ["${API_SERVER_AUDIENCE}"] is invalid for the target audiences ["loom"]]`,
  });
  t.equal(h.api.reviews.length, 3, 'each was reviewed by the API server');
});

t.test('CSR problems: INVALID_ARGUMENT', async (t) => {
  const h = await startHarness(t);
  const token = h.token('shop', 'web');
  await expectRefusal(t, h, () => h.certify({ csr: h.csr('shop', 'web', { dnsNames: ['web.shop.svc'] }), token }), {
    code: status.INVALID_ARGUMENT,
    result: 'invalid_argument',
    details: `CSR must ask for exactly one SAN, the SPIFFE ID URI; it asks for URI:${WEB}, DNS:web.shop.svc`,
    reachesCa: true,
  });
  await expectRefusal(t, h, () => h.certify({ csr: h.csr('shop', 'web', { uris: [WEB, 'https://web.example'] }), token }), {
    code: status.INVALID_ARGUMENT,
    result: 'invalid_argument',
    details: `CSR must ask for exactly one SAN, the SPIFFE ID URI; it asks for URI:${WEB}, URI:https://web.example`,
    reachesCa: true,
  });
  await expectRefusal(t, h, () => h.certify({ csr: '-----BEGIN CERTIFICATE REQUEST-----\nnot base64 at all\n-----END CERTIFICATE REQUEST-----\n', token }), {
    code: status.INVALID_ARGUMENT,
    result: 'invalid_argument',
    details: /^CSR (is not valid PEM|is not a valid PKCS#10 request)/,
  });
  await expectRefusal(t, h, () => h.certify({ csr: h.ca.rootPem, token }), {
    code: status.INVALID_ARGUMENT,
    result: 'invalid_argument',
    details: 'expected exactly one "CERTIFICATE REQUEST" PEM block, found "CERTIFICATE"',
  });
});

t.test('an empty token or CSR: INVALID_ARGUMENT, without a TokenReview', async (t) => {
  const h = await startHarness(t);
  await expectRefusal(t, h, () => h.certify({ csr: h.csr('shop', 'web'), token: '' }), {
    code: status.INVALID_ARGUMENT,
    result: 'invalid_argument',
    details: 'token is empty: send the pod\'s projected ServiceAccount token (audience "loom")',
  });
  await expectRefusal(t, h, () => h.certify({ csr: '', token: h.token('shop', 'web') }), {
    code: status.INVALID_ARGUMENT,
    result: 'invalid_argument',
    details: 'csr is empty: send a PEM PKCS#10 certificate signing request',
  });
  t.equal(h.kube.requests.length, 0, 'the API server was not asked');
});

t.test('a request above the size limit: RESOURCE_EXHAUSTED from the service, counted and logged; far above it, grpc refuses', async (t) => {
  const h = await startHarness(t);
  const csr = h.csr('shop', 'web');
  const room = DEFAULT_MAX_REQUEST_BYTES - Buffer.byteLength(csr);
  await expectRefusal(t, h, () => h.certify({ csr, token: 'x'.repeat(room + 1) }), {
    code: status.RESOURCE_EXHAUSTED,
    result: 'resource_exhausted',
    details: `request too large: csr and token are ${DEFAULT_MAX_REQUEST_BYTES + 1} bytes together, the limit is ${DEFAULT_MAX_REQUEST_BYTES}`,
  });
  t.equal(h.kube.requests.length, 0, 'no TokenReview');
  t.match(await h.certify({ csr, token: 'x'.repeat(room) }), { ok: false, code: status.UNAUTHENTICATED }, 'at the limit the request is served (and the bogus token reviewed)');
  t.equal(h.api.reviews.length, 1);

  const before = await counts(h);
  t.ok(DEFAULT_MAX_MESSAGE_BYTES > DEFAULT_MAX_REQUEST_BYTES, 'the gRPC limit leaves room above the request limit');
  const huge = await h.certify({ csr, token: 'x'.repeat(DEFAULT_MAX_MESSAGE_BYTES + 1) });
  t.match(huge, { ok: false, code: status.RESOURCE_EXHAUSTED, details: /larger than max/ }, 'above the gRPC limit grpc-js refuses before the service');
  t.same(await counts(h), before, 'which the service never sees');
  t.equal(h.authority.attempts, 0, 'nothing reached the CA');
});

t.test('rate limit per identity: RESOURCE_EXHAUSTED saying when to retry; other identities unaffected', async (t) => {
  const h = await startHarness(t, { rateLimit: { burst: 2, perSecond: 0.5 } });
  for (let i = 0; i < 2; i++) {
    const ok = await h.certify({ csr: h.csr('shop', 'web'), token: h.token('shop', 'web') });
    t.equal(ok.ok, true, `call ${i + 1} within the burst`);
  }
  const { outcome, line } = await expectRefusal(t, h, () => h.certify({ csr: h.csr('shop', 'web'), token: h.token('shop', 'web') }), {
    code: status.RESOURCE_EXHAUSTED,
    result: 'resource_exhausted',
    details: 'too many Certify calls for ns/shop sa/web (burst 2, 0.5/s); retry in 2.0 s',
  });
  if (!outcome.ok) t.same(outcome.metadata.get(RETRY_PUSHBACK_KEY), ['2000'], 'retry pushback in the trailers');
  t.equal(line?.identity, WEB);
  t.equal((await h.certify({ csr: h.csr('shop', 'cart'), token: h.token('shop', 'cart') })).ok, true, 'another ServiceAccount has its own budget');
  h.clock.now += 2_000;
  t.equal((await h.certify({ csr: h.csr('shop', 'web'), token: h.token('shop', 'web') })).ok, true, 'served again once a token refilled');
});

t.test('rate limit per token, before the TokenReview: a pod retrying a bad token in a loop does not reach the API server', async (t) => {
  const h = await startHarness(t, { tokenRateLimit: { burst: 2, perSecond: 0.1 } });
  const bad = 'garbage-token';
  for (let i = 0; i < 2; i++) t.match(await h.certify({ csr: h.csr('shop', 'web'), token: bad }), { ok: false, code: status.UNAUTHENTICATED });
  const reviews = h.api.reviews.length;
  await expectRefusal(t, h, () => h.certify({ csr: h.csr('shop', 'web'), token: bad }), {
    code: status.RESOURCE_EXHAUSTED,
    result: 'resource_exhausted',
    details: 'too many Certify calls with this token (burst 2, 0.1/s); retry in 10.0 s',
  });
  t.equal(h.api.reviews.length, reviews, 'no TokenReview for the limited call');
  t.equal((await h.certify({ csr: h.csr('shop', 'web'), token: h.token('shop', 'web') })).ok, true, 'another token (pod) is not limited');
});

t.test('the TokenReview API down: UNAVAILABLE', async (t) => {
  const h = await startHarness(t);
  const token = h.token('shop', 'web');
  await h.kube.close();
  const { line } = await expectRefusal(t, h, () => h.certify({ csr: h.csr('shop', 'web'), token }), {
    code: status.UNAVAILABLE,
    result: 'unavailable',
    details: /^TokenReview API unreachable: /,
  });
  t.equal(line?.identity, undefined);
});

t.test('the reviewer\'s flood: 2000 malformed requests with distinct tokens from one peer reach neither the validator nor the CA', async (t) => {
  const ca = mintCa({ trustDomain: TRUST_DOMAIN });
  let validations = 0;
  const tokens: TokenValidator = {
    validate: () => {
      validations += 1;
      return Promise.resolve({ ok: false, code: 'unauthenticated', reason: 'invalid bearer token' });
    },
  };
  const logs: LogLine[] = [];
  const logger = createLogger({ name: 'loom-controller', level: 'debug', destination: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) } });
  const now = Date.now();
  const service = createIdentityService({ authority: ca.authority, tokens, trustDomain: TRUST_DOMAIN, logger, now: () => now });
  const codes = new Map<number, number>();
  for (let i = 0; i < 2000; i++) {
    const call = { request: { csr: 'x', token: `garbage-${i}` }, getPeer: () => 'ipv4:10.0.0.1:1234' } as unknown as ServerUnaryCall<CertifyRequest__Output, CertifyResponse>;
    const code = await new Promise<number>((resolve) => service.Certify(call, (error) => resolve(error?.code ?? status.OK)));
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  t.equal(validations, 0, 'no TokenReview: the CSR is read first');
  const { burst } = DEFAULT_PEER_RATE_LIMIT;
  t.same(Object.fromEntries(codes), { [status.INVALID_ARGUMENT]: burst, [status.RESOURCE_EXHAUSTED]: 2000 - burst }, 'the peer\'s burst of bad calls, then it is shed');
  const refused = logs.filter((line) => line.event === 'certify.refused');
  t.equal(refused.length, burst + 1, 'one line per answered bad call, one for the whole shed burst');
  t.match(refused.at(-1), { code: 'RESOURCE_EXHAUSTED', peer: 'ipv4:10.0.0.1:1234', reason: /^too many unauthenticated Certify calls from 10\.0\.0\.1 / });
});

t.test('a flood of well-formed requests with distinct bad tokens costs at most the TokenReview budget', async (t) => {
  const h = await startHarness(t, { peerRateLimit: { burst: 1e6, perSecond: 1e6 } });
  const { burst } = DEFAULT_REVIEW_BUDGET;
  const csr = h.csr('shop', 'web');
  const extra = 50;
  const outcomes: CertifyOutcome[] = [];
  for (let i = 0; i < burst + extra; i++) outcomes.push(await h.certify({ csr, token: `garbage-${i}` }));
  t.equal(h.api.reviews.length, burst, 'the API server saw exactly the budget\'s burst of reviews (the clock stood still)');
  const named = (o: CertifyOutcome): string | undefined => (o.ok ? 'OK' : status[o.code]);
  t.equal(outcomes.filter((o) => named(o) === 'UNAUTHENTICATED').length, burst);
  const shed = outcomes.filter((o) => named(o) === 'UNAVAILABLE');
  t.equal(shed.length, extra, 'the rest: UNAVAILABLE');
  const [first] = shed;
  t.match(first, { details: /^token review capacity exhausted, retry in \d+\.\d s$/ });
  if (first !== undefined && !first.ok) t.ok(Number(first.metadata.get(RETRY_PUSHBACK_KEY)[0]) > 0, 'with retry pushback');
  t.equal(await h.count('unavailable'), extra, 'each counted');
  t.equal(h.refusals().filter((line) => line.code === 'UNAVAILABLE').length, 1, 'logged once for the burst, not per call');
  t.equal(h.authority.attempts, 0, 'nothing reached the CA');

  h.clock.now += 1_000;
  t.equal((await h.certify({ csr: h.csr('shop', 'web'), token: h.token('shop', 'web') })).ok, true, 'the budget refills: a real proxy is served');
});

t.test('shed refusals are logged once per interval, with how many were not logged', async (t) => {
  const h = await startHarness(t, { reviewBudget: { burst: 1, perSecond: 0.001 } });
  const csr = h.csr('shop', 'web');
  t.match(await h.certify({ csr, token: 'bad-0' }), { ok: false, code: status.UNAUTHENTICATED });
  for (let i = 1; i <= 5; i++) t.match(await h.certify({ csr, token: `bad-${i}` }), { ok: false, code: status.UNAVAILABLE });
  const shed = (): LogLine[] => h.refusals().filter((line) => line.code === 'UNAVAILABLE');
  t.equal(shed().length, 1);
  t.match(shed()[0], { level: 'warn', reason: /^token review capacity exhausted/, suppressed: 0 });
  h.clock.now += LOG_SUMMARY_INTERVAL_MS;
  t.match(await h.certify({ csr, token: 'bad-6' }), { ok: false, code: status.UNAVAILABLE });
  t.equal(shed().length, 2, 'the next one after the interval is logged');
  t.match(shed()[1], { suppressed: 4 }, 'saying how many were not');
  t.equal(await h.count('unavailable'), 6, 'the counter has them all');
  t.equal(h.api.reviews.length, 1);
});

t.test('per peer address, before validation: a peer sending bad calls is shed; authenticated calls do not spend its budget', async (t) => {
  const h = await startHarness(t, { peerRateLimit: { burst: 3, perSecond: 1 } });
  for (let i = 0; i < 3; i++) t.match(await h.certify({ csr: h.csr('shop', 'web'), token: `garbage-${i}` }), { ok: false, code: status.UNAUTHENTICATED });
  const { outcome } = await expectRefusal(t, h, () => h.certify({ csr: h.csr('shop', 'web'), token: h.token('shop', 'web') }), {
    code: status.RESOURCE_EXHAUSTED,
    result: 'resource_exhausted',
    details: 'too many unauthenticated Certify calls from 127.0.0.1 (burst 3, 1/s); retry in 1.0 s',
  });
  if (!outcome.ok) t.same(outcome.metadata.get(RETRY_PUSHBACK_KEY), ['1000']);
  t.equal(h.api.reviews.length, 3, 'no TokenReview for the shed call');
  h.clock.now += 1_000;
  for (let i = 0; i < 5; i++) t.equal((await h.certify({ csr: h.csr('shop', 'web'), token: h.token('shop', 'web') })).ok, true, `authenticated call ${i + 1}`);
  t.match(await h.certify({ csr: h.csr('shop', 'web'), token: 'garbage-x' }), { ok: false, code: status.UNAUTHENTICATED }, 'the token refilled is still there');
  t.match(await h.certify({ csr: h.csr('shop', 'web'), token: 'garbage-y' }), { ok: false, code: status.RESOURCE_EXHAUSTED });
});

t.test('the CA cannot sign (issuer about to expire): UNAVAILABLE', async (t) => {
  const h = await startHarness(t, { workloadCa: mintCa({ trustDomain: TRUST_DOMAIN, rootLifetimeMs: 5 * 60_000 }) });
  const before = await counts(h);
  const outcome = await h.certify({ csr: h.csr('shop', 'web'), token: h.token('shop', 'web') });
  t.match(outcome, { ok: false, code: status.UNAVAILABLE, details: /^the CA cannot sign now: the issuer expires at .*: too soon to issue leaves; rotate the CA/ });
  t.equal(h.authority.signingKeyUses, 0, 'nothing was signed');
  t.same(await counts(h), { ...before, unavailable: before.unavailable + 1 });
  const lines = h.refusals();
  t.equal(lines.length, 1, 'logged once');
  t.match(lines[0], { level: 'warn', code: 'UNAVAILABLE', identity: WEB });
});

t.test('a validator that throws is UNAVAILABLE, not a crash', async (t) => {
  const h = await startHarness(t, { tokens: () => ({ validate: () => Promise.reject(new Error('boom')) }) });
  const outcome = await h.certify({ csr: h.csr('shop', 'web'), token: 'anything' });
  t.match(outcome, { ok: false, code: status.UNAVAILABLE, details: 'the token could not be validated now; retry with backoff' });
  t.match(h.refusals(), [{ level: 'warn', err: { message: 'boom' } }]);
});

t.test('the service refuses a trust domain other than its CA\'s', (t) => {
  const ca = mintCa({ trustDomain: 'a.example' });
  t.throws(() => createIdentityService({ authority: ca.authority, tokens: { validate: () => Promise.reject(new Error('unused')) }, trustDomain: 'b.example' }), {
    name: 'RangeError',
    message: 'identity service trust domain "b.example" differs from the CA\'s "a.example"',
  });
  t.end();
});
