/**
 * Load shedding on the proxy's own saturation. Counting requests in flight bounds memory but not latency: an
 * open-loop client (many connections, requests pipelined) fills the sockets faster than the proxy drains them,
 * and every request then waits behind the backlog. The signal used here is the event loop's lag: how late a
 * short periodic timer fires. Under a load the proxy keeps up with it stays at a few milliseconds whatever the
 * application's own latency; once reads pile up faster than they are served, it grows with the backlog.
 *
 * Once the lag has stayed above `lagThresholdMs` for {@link SUSTAIN_MS} (one stall alone does not count, however
 * long: a GC pause, one long task), the share of new requests refused (503 + `retry-after`, before any routing
 * or upstream work, so a refusal costs a fraction of a served request) rises, and it decays again once the lag
 * is back under the threshold, like an AIMD controller. Refusals are spread evenly (error diffusion: every
 * 1/share-th request), not drawn at random, so short bursts see the intended share.
 *
 * The timer runs only while requests arrive: it starts on the first request and stops after
 * {@link IDLE_TICKS} ticks without any, so an idle proxy does not wake up.
 */

import type { Logger } from '@loom/shared/runtime';

/** Tick of the lag probe, ms. */
export const PROBE_INTERVAL_MS = 5;
/** The probe stops after this many ticks without a request (1 s). */
export const IDLE_TICKS = 200;
/** Largest share of requests refused: some always get through, so the lag keeps being measured under load. */
export const MAX_SHED_SHARE = 0.95;
/** The lag must stay over the threshold this long before anything is refused: one GC pause is not overload. */
export const SUSTAIN_MS = 500;
/** Share added per second over the threshold, scaled by how far over (at most 4×). */
const UP_PER_SECOND = 1;
/** Share removed per second under the threshold. */
const DOWN_PER_SECOND = 0.5;

/**
 * The controller's state: the share refused now, and the current streak of probe ticks over the threshold (how
 * many, and the time from the first of them to the last).
 */
export interface ShedState {
  readonly share: number;
  readonly overTicks: number;
  readonly overMs: number;
}

export const NOT_SHEDDING: ShedState = Object.freeze({ share: 0, overTicks: 0, overMs: 0 });

/**
 * The next state after a probe tick that came `elapsedMs` after the previous one, `lagMs` late. Pure.
 * Over the threshold: a streak starts, or goes on. Its first tick only shows that the loop stalled once (a GC
 * pause, one long task, the process not scheduled for a while), however long the stall: the lag has stayed
 * high only if the ticks after it are late too, so the streak is timed from its first tick on. Once it has
 * lasted {@link SUSTAIN_MS}, the share rises by `UP_PER_SECOND × elapsed × min(4, lag / threshold)`, capped at
 * {@link MAX_SHED_SHARE}. Between half the threshold and the threshold the share holds (the streak ends); under
 * half, it decays by `DOWN_PER_SECOND × elapsed`, floored at 0. Rates per second, not per tick: late ticks are
 * rare ticks, and an overloaded loop would otherwise raise the share far more slowly than an idle one lowers it.
 * Nothing refused and no streak is always {@link NOT_SHEDDING} itself. A threshold of 0 disables shedding.
 */
export function nextShedState(state: ShedState, lagMs: number, elapsedMs: number, thresholdMs: number): ShedState {
  if (thresholdMs <= 0) return NOT_SHEDDING;
  if (lagMs > thresholdMs) {
    const overTicks = state.overTicks + 1;
    const overMs = overTicks === 1 ? 0 : state.overMs + elapsedMs;
    if (overMs < SUSTAIN_MS) return { share: state.share, overTicks, overMs };
    return { share: Math.min(MAX_SHED_SHARE, state.share + UP_PER_SECOND * (elapsedMs / 1000) * Math.min(4, lagMs / thresholdMs)), overTicks, overMs };
  }
  // Hysteresis: between half the threshold and the threshold the share holds, so a backlog that is just being
  // worked off is not let back in at once.
  if (lagMs > thresholdMs / 2) {
    if (state.overTicks === 0) return state;
    return state.share === 0 ? NOT_SHEDDING : { share: state.share, overTicks: 0, overMs: 0 };
  }
  const share = Math.max(0, state.share - DOWN_PER_SECOND * (elapsedMs / 1000));
  return share === 0 ? NOT_SHEDDING : { share, overTicks: 0, overMs: 0 };
}

/** What the data path asks before admitting a request. */
export interface LoadShedder {
  /** True: refuse this request (503 + `retry-after`). Also marks the proxy as busy (starts the probe). */
  shed(): boolean;
}

export interface OverloadOptions {
  /** Event loop lag above which requests start being refused, ms; 0 = never refuse on lag. */
  readonly lagThresholdMs: number;
  /** Where starting and stopping to shed are logged (once each way, with the lag and what was refused). */
  readonly log?: Logger;
  /** Monotonic clock in ms (tests). */
  readonly now?: () => number;
}

/** The event-loop-lag shedder of one proxy process (both directions share it: they share the loop). */
export class OverloadGuard implements LoadShedder {
  readonly #threshold: number;
  readonly #now: () => number;
  readonly #log: Logger | null;
  #refused = 0;
  #timer: NodeJS.Timeout | null = null;
  #last = 0;
  #state: ShedState = NOT_SHEDDING;
  #credit = 0;
  #requests = 0;
  #quietTicks = 0;
  #lagMs = 0;

  constructor(options: OverloadOptions) {
    this.#threshold = options.lagThresholdMs;
    this.#now = options.now ?? (() => performance.now());
    this.#log = options.log ?? null;
  }

  /** The share of requests being refused now (0–{@link MAX_SHED_SHARE}). */
  get share(): number {
    return this.#state.share;
  }

  /** Whether the lag probe's timer is running (it runs only while requests arrive). */
  get probing(): boolean {
    return this.#timer !== null;
  }

  /** The last lag measured, ms. */
  get lagMs(): number {
    return this.#lagMs;
  }

  shed(): boolean {
    this.#requests += 1;
    if (this.#threshold <= 0) return false;
    if (this.#timer === null) this.#start();
    const share = this.#state.share;
    if (share === 0) return false;
    this.#credit += share;
    if (this.#credit < 1) return false;
    this.#credit -= 1;
    this.#refused += 1;
    return true;
  }

  /** Stops the probe (shutdown, tests). */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /**
   * One probe tick, `elapsedMs` after the previous one and `lagMs` late (`elapsed = interval + lag`). Exposed
   * for tests, which drive it without a timer.
   */
  tick(lagMs: number, elapsedMs = PROBE_INTERVAL_MS + lagMs): void {
    this.#lagMs = lagMs;
    const before = this.#state.share;
    this.#state = nextShedState(this.#state, lagMs, elapsedMs, this.#threshold);
    const share = this.#state.share;
    if (before === 0 && share > 0) {
      this.#log?.warn(
        { event: 'overload.shedding', lagMs: Math.round(lagMs), thresholdMs: this.#threshold },
        `overloaded: the event loop is ${Math.round(lagMs)} ms late (over ${this.#threshold} ms for ${SUSTAIN_MS} ms or more); refusing a share of new requests with 503`,
      );
    } else if (before > 0 && share === 0) {
      this.#log?.info({ event: 'overload.recovered', refused: this.#refused }, `no longer overloaded: ${this.#refused} requests were refused`);
      this.#refused = 0;
    }
    if (share === 0) this.#credit = 0;
    if (this.#requests === 0) {
      this.#quietTicks += 1;
      // Nothing refused and no streak under way (nextShedState then always returns NOT_SHEDDING itself).
      if (this.#quietTicks >= IDLE_TICKS && this.#state === NOT_SHEDDING) this.stop();
    } else {
      this.#quietTicks = 0;
    }
    this.#requests = 0;
  }

  #start(): void {
    this.#last = this.#now();
    this.#quietTicks = 0;
    this.#timer = setInterval(() => {
      const now = this.#now();
      const elapsed = now - this.#last;
      this.#last = now;
      this.tick(Math.max(0, elapsed - PROBE_INTERVAL_MS), elapsed);
    }, PROBE_INTERVAL_MS);
    this.#timer.unref();
  }
}

/** A shedder that never refuses (tests, or shedding turned off). */
export const NEVER_SHED: LoadShedder = Object.freeze({ shed: () => false });
