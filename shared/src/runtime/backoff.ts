/**
 * Exponential backoff with full jitter, for reconnecting watches and gRPC streams.
 * Pure: the caller supplies the random source, so tests are deterministic.
 */

export interface BackoffOptions {
  /** Delay scale for the first retry, in milliseconds. */
  readonly initialMs: number;
  /** Upper bound of any delay, in milliseconds. */
  readonly maxMs: number;
  /** Growth per attempt; 2 when omitted. */
  readonly factor?: number;
}

/**
 * Delay before retry number `attempt` (0 for the first retry): a value in [0, cap) where
 * cap = min(maxMs, initialMs * factor^attempt). `random` returns a number in [0, 1).
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new RangeError(`backoff attempt must be a non-negative integer, got ${String(attempt)}`);
  }
  const { initialMs, maxMs, factor = 2 } = options;
  if (!(initialMs > 0) || !(maxMs >= initialMs) || !(factor >= 1)) {
    throw new RangeError(`invalid backoff options: initialMs=${initialMs} maxMs=${maxMs} factor=${factor}`);
  }
  const cap = Math.min(maxMs, initialMs * factor ** attempt);
  return Math.floor(random() * cap);
}
