import t from 'tap';
import { checkBucketConfig, isFull, RateLimiter, refill, take, type Bucket, type BucketConfig } from '../../src/identity/rate-limit.js';

const config: BucketConfig = { burst: 3, perSecond: 2 };

/** Takes from a fresh bucket `n` times at `now`, returning every result. */
function drain(n: number, now: number): ReturnType<typeof take>[] {
  const results: ReturnType<typeof take>[] = [];
  let bucket: Bucket | undefined;
  for (let i = 0; i < n; i++) {
    const result = take(bucket, config, now);
    results.push(result);
    bucket = result.bucket;
  }
  return results;
}

t.test('a fresh bucket allows `burst` requests at once, then says when the next token comes', (t) => {
  const results = drain(config.burst + 1, 1_000);
  t.same(
    results.map((r) => r.ok),
    [true, true, true, false],
  );
  const last = results.at(-1);
  t.equal(last?.ok === false ? last.retryAfterMs : -1, 500, 'one token at 2/s takes 500 ms');
  t.end();
});

t.test('refill is proportional to elapsed time and capped at burst', (t) => {
  const empty: Bucket = { tokens: 0, at: 0 };
  t.equal(refill(empty, config, 250).tokens, 0.5);
  t.equal(refill(empty, config, 1_000).tokens, 2);
  t.equal(refill(empty, config, 60_000).tokens, config.burst, 'never above burst');
  const partial = take(empty, config, 250);
  t.equal(partial.ok, false, 'half a token is not a token');
  t.equal(partial.ok === false ? partial.retryAfterMs : -1, 250, 'the other half comes in 250 ms');
  t.equal(take(empty, config, 500).ok, true, 'a whole token after 500 ms');
  t.end();
});

t.test('a clock that goes backwards mints no tokens', (t) => {
  const bucket: Bucket = { tokens: 0.5, at: 10_000 };
  t.same(refill(bucket, config, 5_000), bucket);
  const result = take(bucket, config, 5_000);
  t.equal(result.ok, false);
  t.equal(result.bucket.at, 10_000, 'the bucket keeps its latest time');
  t.end();
});

t.test('isFull: a bucket that has refilled limits nothing', (t) => {
  const bucket: Bucket = { tokens: 1, at: 0 };
  t.equal(isFull(bucket, config, 999), false);
  t.equal(isFull(bucket, config, 1_000), true);
  t.end();
});

t.test('bad configurations are refused with the field named', (t) => {
  t.throws(() => checkBucketConfig({ burst: 0, perSecond: 1 }), /burst must be a number >= 1/);
  t.throws(() => checkBucketConfig({ burst: 1, perSecond: 0 }), /perSecond must be a number > 0/);
  t.throws(() => checkBucketConfig({ burst: Number.NaN, perSecond: 1 }, 'identity rate limit'), { name: 'RangeError', message: /^identity rate limit: burst/ });
  t.throws(() => new RateLimiter({ burst: 1, perSecond: 1, maxKeys: 0 }), /maxKeys must be an integer >= 1/);
  t.end();
});

t.test('RateLimiter: keys are limited independently', (t) => {
  let now = 0;
  const limiter = new RateLimiter({ burst: 2, perSecond: 1, now: () => now });
  t.same([limiter.take('a'), limiter.take('a'), limiter.take('a')], [{ ok: true }, { ok: true }, { ok: false, retryAfterMs: 1_000 }]);
  t.same(limiter.take('b'), { ok: true }, 'another key has its own bucket');
  now = 1_000;
  t.same(limiter.take('a'), { ok: true }, 'a refilled token');
  t.same(limiter.take('a'), { ok: false, retryAfterMs: 1_000 });
  t.end();
});

t.test('RateLimiter: memory is bounded; refilled buckets go first, draining ones are kept while there is room', (t) => {
  let now = 0;
  const limiter = new RateLimiter({ burst: 2, perSecond: 1, maxKeys: 4, now: () => now });
  for (const key of ['a', 'b', 'c']) limiter.take(key);
  limiter.take('hot');
  limiter.take('hot');
  t.equal(limiter.size, 4);
  now = 1_000; // a, b, c are full again; hot has one token
  limiter.take('new');
  t.equal(limiter.size, 2, 'the three full buckets were forgotten, the draining one kept');
  t.same(limiter.take('hot'), { ok: true });
  t.same(limiter.take('hot'), { ok: false, retryAfterMs: 1_000 }, 'hot is still limited: its state survived eviction');
  t.end();
});

t.test('RateLimiter: when every bucket is draining, the least recently used are dropped, never more than maxKeys kept', (t) => {
  const limiter = new RateLimiter({ burst: 1, perSecond: 0.001, maxKeys: 10, now: () => 0 });
  for (let i = 0; i < 100; i++) {
    limiter.take(`k${i}`);
    t.ok(limiter.size <= 10, `size ${limiter.size} after ${i + 1} keys`);
  }
  t.same(limiter.take('k99'), { ok: false, retryAfterMs: 1_000_000 }, 'the most recent key is still tracked');
  t.same(limiter.take('k0'), { ok: true }, 'the oldest key was forgotten (a fresh burst)');
  t.end();
});

t.test('RateLimiter.refund: gives one token back, never above burst; unknown keys are ignored', (t) => {
  const limiter = new RateLimiter({ burst: 2, perSecond: 0.001, now: () => 0 });
  limiter.take('a');
  limiter.take('a');
  t.same(limiter.take('a'), { ok: false, retryAfterMs: 1_000_000 });
  limiter.refund('a');
  t.same(limiter.take('a'), { ok: true }, 'the refunded token');
  limiter.refund('a');
  limiter.refund('a');
  limiter.refund('a');
  t.same([limiter.take('a'), limiter.take('a'), limiter.take('a')], [{ ok: true }, { ok: true }, { ok: false, retryAfterMs: 1_000_000 }], 'capped at burst');
  limiter.refund('never-seen');
  t.equal(limiter.size, 1, 'refunding an unknown key tracks nothing');
  t.end();
});
