/**
 * TokenReviewValidator against a real HTTP API server stand-in (the real @kubernetes/client-node talks to it)
 * whose TokenReview endpoint answers as kube-apiserver does.
 */
import { Registry } from 'prom-client';
import t, { type Test } from 'tap';
import { TOKEN_REVIEW_CACHE_HITS_METRIC, TOKEN_REVIEWS_METRIC, TOKEN_REVIEWS_THROTTLED_METRIC } from '../../src/identity/metrics.js';
import { DEFAULT_REFUSAL_CACHE_TTL_MS, interpretReview, REVIEW_SLOT_RETRY_MS, TokenReviewValidator, type TokenReviewValidatorOptions } from '../../src/identity/token-review.js';
import { startFakeKubeApi, status, type FakeKubeApi, type KubeHandler, type KubeRoute } from '../support/kube-api.js';
import { API_SERVER_AUDIENCE, tokenReviewApi, type TokenReviewApi, type TokenReviewApiOptions } from '../support/token-review-api.js';
import { kubeConfigOf } from './harness.js';

interface Setup {
  readonly api: TokenReviewApi;
  readonly kube: FakeKubeApi;
  readonly validator: TokenReviewValidator;
  readonly registry: Registry;
  readonly clock: { now: number };
}

/** A fake API server with the TokenReview endpoint (plus `routes` first) and a validator on it; one shared clock. */
async function setup(
  t: Test,
  options: { api?: TokenReviewApiOptions; validator?: Partial<TokenReviewValidatorOptions>; routes?: KubeRoute[]; token?: string } = {},
): Promise<Setup> {
  const clock = { now: Date.now() };
  const api = tokenReviewApi({ now: () => clock.now, ...options.api });
  const kube = await startFakeKubeApi([...(options.routes ?? []), api.route]);
  t.teardown(() => kube.close());
  const registry = new Registry();
  const validator = new TokenReviewValidator({ kubeConfig: kubeConfigOf(kube, options.token ?? 'controller-token'), now: () => clock.now, registry, ...options.validator });
  return { api, kube, validator, registry, clock };
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))?.value ?? 0;
}

t.test('a valid projected token: the ServiceAccount and the pod it is bound to', async (t) => {
  const { api, kube, validator, registry } = await setup(t);
  const token = api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'web', pod: { name: 'web-7d9f', uid: 'pod-uid-1' } });
  t.same(await validator.validate(token), { ok: true, identity: { namespace: 'shop', serviceAccount: 'web' }, podName: 'web-7d9f', podUid: 'pod-uid-1' });
  const [request] = kube.requests;
  t.equal(request?.method, 'POST');
  t.equal(request?.path, '/apis/authentication.k8s.io/v1/tokenreviews');
  t.equal(request?.headers.authorization, 'Bearer controller-token', "the review is made with the controller's own credentials");
  t.same((request?.body as { spec?: unknown }).spec, { token, audiences: ['loom'] }, 'the review asks for audience loom');
  t.equal(await metric(registry, TOKEN_REVIEWS_METRIC, { result: 'authenticated' }), 1);
});

t.test('a token not bound to a pod is accepted without pod details', async (t) => {
  const { api, validator } = await setup(t);
  const token = api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'batch', pod: null });
  t.same(await validator.validate(token), { ok: true, identity: { namespace: 'shop', serviceAccount: 'batch' } });
});

t.test('refused tokens are unauthenticated with the API server\'s own error text', async (t) => {
  const { api, validator, registry, clock } = await setup(t);
  const cases = [
    { name: 'expired', token: api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'web', expiresAt: clock.now - 3_600_000 }), error: '[invalid bearer token, service account token has expired]' },
    { name: 'unknown', token: 'not-a-token-the-cluster-issued', error: 'invalid bearer token' },
    {
      name: 'wrong audience (a token for the API server)',
      token: api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'web', audiences: [API_SERVER_AUDIENCE] }),
      error: `[invalid bearer token, token audiences ["${API_SERVER_AUDIENCE}"] is invalid for the target audiences ["loom"]]`,
    },
  ];
  for (const c of cases) {
    t.same(await validator.validate(c.token), { ok: false, code: 'unauthenticated', reason: `token refused by TokenReview: ${c.error}` }, c.name);
  }
  t.equal(await metric(registry, TOKEN_REVIEWS_METRIC, { result: 'rejected' }), cases.length);
});

t.test('a user that is not a ServiceAccount is unauthenticated', async (t) => {
  const { api, validator } = await setup(t);
  const result = await validator.validate(api.mintUserToken({ username: 'oidc:alice' }));
  t.same(result, { ok: false, code: 'unauthenticated', reason: 'token is for user "oidc:alice", not a ServiceAccount (system:serviceaccount:<namespace>:<name>)' });
});

t.test('a reviewing server that does not confirm the audience is not trusted', async (t) => {
  const { api, validator } = await setup(t, { api: { audienceAware: false } });
  const token = api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'web', audiences: [API_SERVER_AUDIENCE] });
  const result = await validator.validate(token);
  t.equal(result.ok, false);
  t.match(result, { code: 'unauthenticated', reason: /^TokenReview did not confirm the token's audience "loom" \(status.audiences: none\)/ });
});

t.test('the audience is configurable', async (t) => {
  const { api, kube, validator } = await setup(t, { validator: { audiences: ['mesh'] } });
  t.match(await validator.validate(api.mintServiceAccountToken({ namespace: 'a', serviceAccount: 'b', audiences: ['mesh'] })), { ok: true });
  t.same((kube.requests[0]?.body as { spec?: { audiences?: unknown } }).spec?.audiences, ['mesh']);
  t.match(await validator.validate(api.mintServiceAccountToken({ namespace: 'a', serviceAccount: 'b' })), { ok: false, code: 'unauthenticated' }, 'a loom token is not a mesh token');
  t.throws(() => new TokenReviewValidator({ kubeConfig: kubeConfigOf(kube), audiences: [] }), /audiences must be non-empty/);
});

t.test('the API server failing is unavailable, never unauthenticated', (t) => {
  const failing = (code: number, reason: string, message: string): KubeRoute => ({ method: 'POST', path: /tokenreviews$/, handler: () => status(code, reason, message) });

  t.test('500', async (t) => {
    const { validator, registry } = await setup(t, { routes: [failing(500, 'InternalError', 'Internal error occurred: etcd is sad')] });
    t.same(await validator.validate('x'), { ok: false, code: 'unavailable', reason: 'TokenReview failed with HTTP 500: Internal error occurred: etcd is sad' });
    t.equal(await metric(registry, TOKEN_REVIEWS_METRIC, { result: 'error' }), 1);
  });

  t.test('401: the controller\'s own credentials', async (t) => {
    const reviewers = new Map([['controller-token', { username: 'system:serviceaccount:loom-system:loom-controller', canReview: true }]]);
    const { api, validator } = await setup(t, { api: { reviewers }, token: 'stale-token' });
    const token = api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'web' });
    t.same(await validator.validate(token), { ok: false, code: 'unavailable', reason: "the API server refused the controller's own credentials for TokenReview (401 Unauthorized)" });
  });

  t.test('403: missing RBAC', async (t) => {
    const reviewers = new Map([['controller-token', { username: 'system:serviceaccount:loom-system:loom-controller', canReview: false }]]);
    const { api, validator } = await setup(t, { api: { reviewers } });
    const result = await validator.validate(api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'web' }));
    t.match(result, { ok: false, code: 'unavailable', reason: /^the controller may not create TokenReviews \(403 Forbidden: tokenreviews\.authentication\.k8s\.io is forbidden: User "system:serviceaccount:loom-system:loom-controller" cannot create/ });
  });

  t.test('unreachable', async (t) => {
    const { api, kube, validator } = await setup(t);
    const token = api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'web' });
    await kube.close();
    t.match(await validator.validate(token), { ok: false, code: 'unavailable', reason: /^TokenReview API unreachable: / });
  });

  t.test('no answer within the timeout', async (t) => {
    let release: () => void = () => undefined;
    const hung = new Promise<void>((resolve) => (release = resolve));
    t.teardown(() => release());
    const slow: KubeRoute = { method: 'POST', path: /tokenreviews$/, handler: () => hung.then(() => status(500, 'InternalError', 'too late')) };
    const { validator } = await setup(t, { routes: [slow], validator: { timeoutMs: 200 } });
    t.same(await validator.validate('x'), { ok: false, code: 'unavailable', reason: 'the API server did not answer the TokenReview within 200 ms' });
  });
  t.end();
});

t.test('successful reviews are cached briefly', async (t) => {
  const { api, validator, registry, clock } = await setup(t, { validator: { cacheTtlMs: 30_000 } });
  const token = api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'web' });
  const first = await validator.validate(token);
  t.same(await validator.validate(token), first, 'the same answer');
  t.equal(api.reviews.length, 1, 'from the cache: one TokenReview for two validations');
  t.equal(await metric(registry, TOKEN_REVIEW_CACHE_HITS_METRIC, { result: 'authenticated' }), 1);

  api.revoke(token);
  clock.now += 29_000;
  t.match(await validator.validate(token), { ok: true }, 'within the TTL a revoked token is still accepted (bounded staleness)');
  clock.now += 1_000;
  t.same(await validator.validate(token), { ok: false, code: 'unauthenticated', reason: 'token refused by TokenReview: [invalid bearer token, service account token has been invalidated]' }, 'after the TTL it is reviewed again');
  t.equal(api.reviews.length, 2);
});

t.test('refusals are cached briefly too: the same bad token costs one review per TTL', async (t) => {
  const { api, validator, registry, clock } = await setup(t);
  const refused = { ok: false, code: 'unauthenticated', reason: 'token refused by TokenReview: invalid bearer token' };
  for (let i = 0; i < 20; i++) t.same(await validator.validate('garbage'), refused);
  t.equal(api.reviews.length, 1, 'twenty validations, one TokenReview');
  t.equal(await metric(registry, TOKEN_REVIEW_CACHE_HITS_METRIC, { result: 'rejected' }), 19);
  clock.now += DEFAULT_REFUSAL_CACHE_TTL_MS - 1;
  await validator.validate('garbage');
  t.equal(api.reviews.length, 1, 'still cached just before the TTL');
  clock.now += 1;
  t.same(await validator.validate('garbage'), refused);
  t.equal(api.reviews.length, 2, 'reviewed again after it');
});

t.test('a flood of refused tokens does not evict cached acceptances', async (t) => {
  const { api, validator } = await setup(t, { validator: { cacheMaxEntries: 4, refusalCacheMaxEntries: 4 } });
  const good = api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'web' });
  await validator.validate(good);
  for (let i = 0; i < 20; i++) await validator.validate(`garbage-${i}`);
  const reviews = api.reviews.length;
  t.match(await validator.validate(good), { ok: true });
  t.equal(api.reviews.length, reviews, 'still answered from the cache');
});

t.test('unavailability is never cached', async (t) => {
  let answer: KubeHandler = () => status(500, 'InternalError', 'etcd is sad');
  const flaky: KubeRoute = { method: 'POST', path: /tokenreviews$/, handler: (request, params) => answer(request, params) };
  const { api, validator } = await setup(t, { routes: [flaky] });
  const token = api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'web' });
  t.match(await validator.validate(token), { ok: false, code: 'unavailable' });
  answer = api.route.handler;
  t.match(await validator.validate(token), { ok: true }, 'the next validation asks again');
});

t.test('the TokenReview budget: a token bucket over all reviews, shed as unavailable with when to retry', async (t) => {
  const { api, validator, registry, clock } = await setup(t, { validator: { reviewBudget: { burst: 3, perSecond: 2 } } });
  for (let i = 0; i < 3; i++) t.match(await validator.validate(`garbage-${i}`), { ok: false, code: 'unauthenticated' });
  t.same(await validator.validate('garbage-3'), { ok: false, code: 'unavailable', reason: 'token review capacity exhausted, retry in 0.5 s', retryAfterMs: 500 });
  const good = api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'web' });
  t.match(await validator.validate(good), { ok: false, code: 'unavailable', retryAfterMs: 500 }, 'a valid token waits its turn too');
  t.match(await validator.validate('garbage-0'), { ok: false, code: 'unauthenticated' }, 'cached answers cost nothing');
  t.equal(api.reviews.length, 3);
  t.equal(await metric(registry, TOKEN_REVIEWS_THROTTLED_METRIC), 2);
  clock.now += 500;
  t.match(await validator.validate(good), { ok: true }, 'served once the bucket refilled');
  t.equal(api.reviews.length, 4);
});

t.test('the TokenReview budget: at most maxReviewsInFlight reviews at once', async (t) => {
  let release: () => void = () => undefined;
  const hung = new Promise<void>((resolve) => (release = resolve));
  t.teardown(() => release());
  let seen = 0;
  let answer: KubeHandler = () => status(500, 'InternalError', 'not yet');
  const slow: KubeRoute = {
    method: 'POST',
    path: /tokenreviews$/,
    handler: (request, params) => {
      seen += 1;
      return hung.then(() => answer(request, params));
    },
  };
  const { api, validator } = await setup(t, { routes: [slow], validator: { maxReviewsInFlight: 3 } });
  answer = api.route.handler;
  const pending = Array.from({ length: 3 }, (_, i) => validator.validate(`garbage-${i}`));
  const shed = await Promise.all(Array.from({ length: 5 }, (_, i) => validator.validate(`other-${i}`)));
  t.same(
    shed,
    Array.from({ length: 5 }, () => ({ ok: false, code: 'unavailable', reason: `token review capacity exhausted, retry in ${(REVIEW_SLOT_RETRY_MS / 1000).toFixed(1)} s`, retryAfterMs: REVIEW_SLOT_RETRY_MS })),
    'the rest are refused at once',
  );
  release();
  t.match(await Promise.all(pending), [{ code: 'unauthenticated' }, { code: 'unauthenticated' }, { code: 'unauthenticated' }]);
  t.equal(seen, 3, 'the API server had three reviews');
  t.equal(api.reviews.length, 3);
  const later = validator.validate('other-0');
  t.match(await later, { code: 'unauthenticated' }, 'slots free again');
});

t.test('budget options are checked', async (t) => {
  const { kube } = await setup(t);
  t.throws(() => new TokenReviewValidator({ kubeConfig: kubeConfigOf(kube), reviewBudget: { burst: 0, perSecond: 1 } }), /TokenReview budget: burst must be a number >= 1/);
  t.throws(() => new TokenReviewValidator({ kubeConfig: kubeConfigOf(kube), maxReviewsInFlight: 0 }), /maxReviewsInFlight must be an integer >= 1/);
  t.throws(() => new TokenReviewValidator({ kubeConfig: kubeConfigOf(kube), refusalCacheTtlMs: -1 }), /refusal cache TTL must be >= 0 ms/);
});

t.test('a cached review never outlives the token', async (t) => {
  const { api, validator, clock } = await setup(t, { validator: { cacheTtlMs: 30_000 } });
  const token = api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'web', expiresAt: clock.now + 5_000 });
  t.match(await validator.validate(token), { ok: true });
  clock.now += 5_000;
  await validator.validate(token);
  t.equal(api.reviews.length, 2, 'past the token\'s exp the cache is not used');
});

t.test('concurrent validations of one token share one review', async (t) => {
  const { api, validator } = await setup(t);
  const token = api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: 'web' });
  const results = await Promise.all(Array.from({ length: 20 }, () => validator.validate(token)));
  t.equal(api.reviews.length, 1);
  t.ok(results.every((r) => r.ok));
});

t.test('the cache is bounded', async (t) => {
  const { api, validator } = await setup(t, { validator: { cacheMaxEntries: 2 } });
  const tokens = ['a', 'b', 'c'].map((sa) => api.mintServiceAccountToken({ namespace: 'shop', serviceAccount: sa }));
  for (const token of tokens) await validator.validate(token);
  await validator.validate(tokens[2] ?? '');
  t.equal(api.reviews.length, 3, 'the newest is cached');
  await validator.validate(tokens[0] ?? '');
  t.equal(api.reviews.length, 4, 'the oldest was evicted');
});

t.test('an empty token is refused without asking the API server', async (t) => {
  const { validator, kube } = await setup(t);
  t.same(await validator.validate(''), { ok: false, code: 'unauthenticated', reason: 'token is empty' });
  t.equal(kube.requests.length, 0);
});

t.test('interpretReview: authenticated is omitted when false; a review without status is a refusal', (t) => {
  t.same(interpretReview(undefined, ['loom']), { ok: false, code: 'unauthenticated', reason: 'token refused by TokenReview: not authenticated' });
  t.same(interpretReview({ user: {} }, ['loom']), { ok: false, code: 'unauthenticated', reason: 'token refused by TokenReview: not authenticated' });
  t.match(interpretReview({ authenticated: true, audiences: ['other'], user: { username: 'system:serviceaccount:a:b' } }, ['loom']), {
    ok: false,
    reason: /status\.audiences: other\)/,
  });
  t.same(interpretReview({ authenticated: true, audiences: ['loom'], user: { username: 'system:serviceaccount:a:b', extra: {} } }, ['loom']), {
    ok: true,
    identity: { namespace: 'a', serviceAccount: 'b' },
  });
  t.end();
});
