/**
 * Endpoint choice (DESIGN §6): latency-aware power of two choices over peak-EWMA load, with brief ejection of
 * endpoints that refuse connections. Pure: the state is plain data, the clock and the random source are passed
 * in, so every decision can be tested with tables.
 *
 * Load (finagle's and linkerd2-proxy's peak EWMA, tower `PeakEwma`): each endpoint keeps an estimate of its
 * response time. A slower response than the estimate replaces it at once (peak); a faster one pulls it down as
 * an exponentially weighted average whose weight depends on the time since the last update; and the estimate
 * decays towards zero while the endpoint is not used, so an endpoint once slow is tried again later. The cost
 * of an endpoint is `estimate × (requests in flight + 1)`.
 *
 * Ejection counts connect attempts, not requests: several requests waiting on one connect, or several connects
 * started together, fail together. Each attempt takes a token ({@link attemptToken}) when it starts; a failure
 * counts only when no other failure was counted since that attempt started, so a burst of concurrent failures is
 * one failure (one ejection of the base length), and only failures one after another lengthen the ejection.
 *
 * Choice: the candidates are, in order of preference, (1) ready endpoints not ejected, (2) endpoints not
 * ready but not ejected (a terminating or starting pod still beats nothing), (3) when every endpoint is
 * ejected, the one ejected longest ago — a request is never failed only because its endpoints failed before.
 * Within the first non-empty tier two distinct candidates are drawn at random and the cheaper one wins.
 */

export const BALANCE = Object.freeze({
  /** The estimate of an endpoint never measured (linkerd2-proxy uses 30 ms; pods in one cluster answer faster). */
  defaultRttMs: 10,
  /** Time constant of the decay: a sample this old weighs 1/e. */
  decayMs: 10_000,
  /** Ejection after a failed connect: this long the first time, doubling on each consecutive failure... */
  ejectBaseMs: 5_000,
  /** ...up to this long. A successful connect resets the streak. */
  ejectMaxMs: 60_000,
});

/** What the balancer knows about one endpoint; mutated only by the functions below. */
export interface Load {
  /** Response-time estimate in ms, as of `updatedAt`. */
  rttMs: number;
  updatedAt: number;
  /** Requests sent and not yet answered (connections being opened count too). */
  inFlight: number;
  /** Ejected while `now < ejectedUntil`. */
  ejectedUntil: number;
  /** When the last ejection started (for "ejected longest ago"); -Infinity when never ejected. */
  ejectedAt: number;
  /** Consecutive failed connects (each burst of concurrent ones counted once). */
  failures: number;
  /** Failures counted so far, ever (the attempt tokens). */
  counted: number;
}

export interface Candidate {
  /** The policy marks the endpoint ready. */
  readonly ready: boolean;
  readonly load: Load;
}

export function newLoad(now: number): Load {
  return { rttMs: BALANCE.defaultRttMs, updatedAt: now, inFlight: 0, ejectedUntil: -Infinity, ejectedAt: -Infinity, failures: 0, counted: 0 };
}

/** The estimate decayed to `now`. */
export function estimateAt(load: Load, now: number): number {
  const elapsed = now - load.updatedAt;
  return elapsed > 0 ? load.rttMs * Math.exp(-elapsed / BALANCE.decayMs) : load.rttMs;
}

/** The cost of sending one more request to the endpoint now; lower is better. */
export function cost(load: Load, now: number): number {
  return estimateAt(load, now) * (load.inFlight + 1);
}

export function isEjected(load: Load, now: number): boolean {
  return now < load.ejectedUntil;
}

const TIER_READY = 0;
const TIER_NOT_READY = 1;
const TIER_EJECTED = 2;

function tierOf(c: Candidate, now: number): number {
  if (isEjected(c.load, now)) return TIER_EJECTED;
  return c.ready ? TIER_READY : TIER_NOT_READY;
}

/** The index of the `k`-th candidate (0-based) of `tier`, skipping `exclude`. */
function nth(candidates: readonly Candidate[], tier: number, k: number, now: number, exclude: number): number {
  for (let i = 0; i < candidates.length; i++) {
    if (i === exclude || tierOf(candidates[i]!, now) !== tier) continue;
    if (k === 0) return i;
    k--;
  }
  return -1;
}

/**
 * The index of the endpoint to use, or -1 when there is none (no candidates, or only the excluded one).
 * `exclude` is an index not to choose (the endpoint that just refused a connection). Draws `random()` at
 * most twice. Allocates nothing.
 */
export function pick(candidates: readonly Candidate[], now: number, random: () => number, exclude = -1): number {
  let ready = 0;
  let notReady = 0;
  let oldest = -1;
  for (let i = 0; i < candidates.length; i++) {
    if (i === exclude) continue;
    const c = candidates[i]!;
    const tier = tierOf(c, now);
    if (tier === TIER_READY) ready++;
    else if (tier === TIER_NOT_READY) notReady++;
    else if (oldest === -1 || ejectedEarlier(c, candidates[oldest]!)) oldest = i;
  }
  const tier = ready > 0 ? TIER_READY : notReady > 0 ? TIER_NOT_READY : TIER_EJECTED;
  if (tier === TIER_EJECTED) return oldest;
  const count = tier === TIER_READY ? ready : notReady;
  if (count === 1) return nth(candidates, tier, 0, now, exclude);
  const a = Math.min(count - 1, Math.floor(random() * count));
  let b = Math.min(count - 2, Math.floor(random() * (count - 1)));
  if (b >= a) b++;
  const fast = count === candidates.length; // every candidate is in the tier: indexes are positions
  const ia = fast ? a : nth(candidates, tier, a, now, exclude);
  const ib = fast ? b : nth(candidates, tier, b, now, exclude);
  return cost(candidates[ia]!.load, now) <= cost(candidates[ib]!.load, now) ? ia : ib;
}

/** Ejected longer ago than `other`; on a tie, ready beats not ready. */
function ejectedEarlier(c: Candidate, other: Candidate): boolean {
  if (c.load.ejectedAt !== other.load.ejectedAt) return c.load.ejectedAt < other.load.ejectedAt;
  return c.ready && !other.ready;
}

/** A request was sent (or a connection is being opened). */
export function started(load: Load): void {
  load.inFlight++;
}

/** The endpoint answered after `rttMs` (response headers, or connection established for TCP). */
export function answered(load: Load, rttMs: number, now: number): void {
  if (load.inFlight > 0) load.inFlight--;
  const estimate = estimateAt(load, now);
  if (rttMs > estimate) {
    load.rttMs = rttMs;
  } else {
    const elapsed = Math.max(0, now - load.updatedAt);
    const decay = Math.exp(-elapsed / BALANCE.decayMs);
    load.rttMs = load.rttMs * decay + rttMs * (1 - decay);
  }
  load.updatedAt = now;
}

/** The request ended without an answer that says anything about latency (cancelled, reset mid-way). */
export function abandoned(load: Load): void {
  if (load.inFlight > 0) load.inFlight--;
}

/** Ejection length after `failures` consecutive failed connects (1 = the first). */
export function ejectionMs(failures: number): number {
  return Math.min(BALANCE.ejectMaxMs, BALANCE.ejectBaseMs * 2 ** Math.max(0, Math.min(failures - 1, 16)));
}

/** What a connect attempt notes when it starts, for {@link connectFailed}. */
export function attemptToken(load: Load): number {
  return load.counted;
}

/**
 * A connect attempt that started with `token` failed: eject the endpoint; returns how long for, or 0 when
 * the failure is not counted (another failure was counted since the attempt started: they failed together).
 */
export function connectFailed(load: Load, now: number, token: number): number {
  if (token !== load.counted) return 0;
  load.counted++;
  load.failures++;
  const ms = ejectionMs(load.failures);
  load.ejectedAt = now;
  load.ejectedUntil = now + ms;
  return ms;
}

/** A connect succeeded: the failure streak ends and the endpoint is no longer ejected. */
export function connectSucceeded(load: Load): void {
  load.failures = 0;
  load.ejectedUntil = -Infinity;
}
