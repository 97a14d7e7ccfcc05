/**
 * Summarised logging for refusals that come in floods (load shedding): the first event of a kind is logged,
 * then at most one per interval, each saying how many were not logged since the previous line. Metrics still
 * count every event; this only keeps an attack from turning into a log flood.
 */
export interface LogThrottleOptions {
  readonly intervalMs: number;
  /** Epoch milliseconds; injectable for tests. */
  readonly now?: () => number;
}

export type Admission = { readonly log: true; /** Events of this kind not logged since the previous line. */ readonly suppressed: number } | { readonly log: false };

export class LogThrottle {
  readonly #intervalMs: number;
  readonly #now: () => number;
  /** Per kind (a small fixed set): when the last line was written and how many were held back since. */
  readonly #state = new Map<string, { at: number; suppressed: number }>();

  constructor(options: LogThrottleOptions) {
    if (!(options.intervalMs > 0)) throw new RangeError(`log throttle: interval must be > 0 ms, got ${String(options.intervalMs)}`);
    this.#intervalMs = options.intervalMs;
    this.#now = options.now ?? Date.now;
  }

  /** Whether to log this event of `kind` now. */
  admit(kind: string): Admission {
    const now = this.#now();
    const state = this.#state.get(kind);
    if (state !== undefined && now - state.at < this.#intervalMs) {
      state.suppressed += 1;
      return { log: false };
    }
    this.#state.set(kind, { at: now, suppressed: 0 });
    return { log: true, suppressed: state?.suppressed ?? 0 };
  }
}
