/**
 * Token buckets for Certify: a bucket holds up to `burst` tokens and refills at `perSecond`; each request
 * takes one. The bucket arithmetic is pure (clock passed in); {@link RateLimiter} keeps one bucket per key
 * with bounded memory: a bucket that has refilled to full carries no information and is dropped first.
 */

export interface BucketConfig {
  /** Requests allowed at once (the bucket's capacity). */
  readonly burst: number;
  /** Sustained rate: tokens added per second. */
  readonly perSecond: number;
}

export interface Bucket {
  readonly tokens: number;
  /** Epoch milliseconds of the last update. */
  readonly at: number;
}

export type TakeResult =
  | { readonly ok: true; readonly bucket: Bucket }
  | { readonly ok: false; readonly bucket: Bucket; /** Milliseconds until a token is available. */ readonly retryAfterMs: number };

/** Throws a RangeError naming the bad field. */
export function checkBucketConfig(config: BucketConfig, what = 'rate limit'): void {
  if (!(Number.isFinite(config.burst) && config.burst >= 1)) throw new RangeError(`${what}: burst must be a number >= 1, got ${String(config.burst)}`);
  if (!(Number.isFinite(config.perSecond) && config.perSecond > 0)) throw new RangeError(`${what}: perSecond must be a number > 0, got ${String(config.perSecond)}`);
}

/** A bucket at `now` after refilling since its last update. A clock that went backwards adds nothing. */
export function refill(bucket: Bucket, config: BucketConfig, now: number): Bucket {
  if (now <= bucket.at) return bucket;
  return { tokens: Math.min(config.burst, bucket.tokens + ((now - bucket.at) / 1000) * config.perSecond), at: now };
}

/** Takes one token from `bucket` (a full bucket when undefined). */
export function take(bucket: Bucket | undefined, config: BucketConfig, now: number): TakeResult {
  const current = bucket === undefined ? { tokens: config.burst, at: now } : refill(bucket, config, now);
  if (current.tokens >= 1) return { ok: true, bucket: { tokens: current.tokens - 1, at: current.at } };
  return { ok: false, bucket: current, retryAfterMs: Math.ceil(((1 - current.tokens) / config.perSecond) * 1000) };
}

/** "2.0 s": rounded up to a tenth of a second, so "retry in" never names a moment that is still too early. */
export const retrySeconds = (ms: number): string => `${(Math.ceil(ms / 100) / 10).toFixed(1)} s`;

/** Whether the bucket would be full at `now`: it limits nothing and can be forgotten. */
export function isFull(bucket: Bucket, config: BucketConfig, now: number): boolean {
  return refill(bucket, config, now).tokens >= config.burst;
}

export interface RateLimiterOptions extends BucketConfig {
  /** Most keys tracked at once; default {@link DEFAULT_MAX_KEYS}. */
  readonly maxKeys?: number;
  /** Epoch milliseconds; injectable for tests. */
  readonly now?: () => number;
}

export const DEFAULT_MAX_KEYS = 50_000;

/**
 * One bucket per key. Memory is bounded by `maxKeys`: when a new key would exceed it, buckets that have
 * refilled to full are dropped (forgetting them changes no decision); if every bucket is still draining, the
 * least recently used tenth is dropped, which at worst gives those keys a fresh burst.
 */
export class RateLimiter {
  readonly config: BucketConfig;
  readonly #maxKeys: number;
  readonly #now: () => number;
  /** Insertion order is recency order: a key is re-inserted on every take. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateLimiterOptions) {
    checkBucketConfig(options);
    this.config = Object.freeze({ burst: options.burst, perSecond: options.perSecond });
    this.#maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    if (!(Number.isInteger(this.#maxKeys) && this.#maxKeys >= 1)) throw new RangeError(`rate limit: maxKeys must be an integer >= 1, got ${String(options.maxKeys)}`);
    this.#now = options.now ?? Date.now;
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  take(key: string): { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number } {
    const now = this.#now();
    const previous = this.#buckets.get(key);
    const result = take(previous, this.config, now);
    if (previous === undefined) this.#makeRoom(now);
    else this.#buckets.delete(key);
    this.#buckets.set(key, result.bucket);
    return result.ok ? { ok: true } : { ok: false, retryAfterMs: result.retryAfterMs };
  }

  /**
   * Gives back one token taken from `key` (a call that turned out not to count against it), never above
   * `burst`. Nothing happens when the key is no longer tracked.
   */
  refund(key: string): void {
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return;
    const current = refill(bucket, this.config, this.#now());
    this.#buckets.set(key, { tokens: Math.min(this.config.burst, current.tokens + 1), at: current.at });
  }

  #makeRoom(now: number): void {
    if (this.#buckets.size < this.#maxKeys) return;
    for (const [key, bucket] of this.#buckets) {
      if (isFull(bucket, this.config, now)) this.#buckets.delete(key);
    }
    if (this.#buckets.size < this.#maxKeys) return;
    let excess = this.#buckets.size - Math.floor(this.#maxKeys * 0.9);
    for (const key of this.#buckets.keys()) {
      if (excess-- <= 0) break;
      this.#buckets.delete(key);
    }
  }
}
