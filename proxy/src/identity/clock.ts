/**
 * Time for the identity client: the current time and one-shot timers, injectable so that tests drive
 * renewal and expiry with a fake clock. Only scheduling goes through here; gRPC deadlines are transport
 * timeouts and use real time.
 */

/** An opaque handle returned by {@link Clock.setTimer}. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/**
 * Date.now and setTimeout. Timers are unref'd: a pending renewal never keeps a process alive on its own
 * (the proxy's listeners do).
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimer: (fn: () => void, ms: number): TimerHandle => setTimeout(fn, ms).unref(),
  clearTimer: (handle: TimerHandle): void => clearTimeout(handle as NodeJS.Timeout),
});

/** setTimeout cannot wait longer than this (2^31 - 1 ms, ~24.8 days); longer waits are chained. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A one-shot alarm at an absolute time on a {@link Clock}. Setting it again replaces the previous time.
 * Waits longer than {@link MAX_TIMER_MS} are split, and an early wake-up (a clock that moved backwards)
 * re-arms instead of firing.
 */
export class Alarm {
  readonly #clock: Clock;
  #handle: TimerHandle;
  #at: number | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** When the alarm fires (epoch ms), or undefined when it is not set. */
  get at(): number | undefined {
    return this.#at;
  }

  set(at: number, fn: () => void): void {
    this.clear();
    this.#at = at;
    const arm = (): void => {
      const wait = Math.max(0, at - this.#clock.now());
      this.#handle = this.#clock.setTimer(() => {
        if (this.#clock.now() < at) {
          arm();
          return;
        }
        this.#handle = undefined;
        this.#at = undefined;
        fn();
      }, Math.min(wait, MAX_TIMER_MS));
    };
    arm();
  }

  clear(): void {
    if (this.#handle !== undefined) this.#clock.clearTimer(this.#handle);
    this.#handle = undefined;
    this.#at = undefined;
  }
}
