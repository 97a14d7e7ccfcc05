/**
 * When a workload certificate should be renewed: at about 2/3 of its life, with jitter so that proxies
 * started together do not renew together. Pure; the caller injects the clock and the random source.
 */

/** Fraction of a leaf's life after which renewal starts (before jitter). */
export const RENEW_FRACTION = 2 / 3;
/** Jitter, as a fraction of the leaf's life, applied on either side of {@link RENEW_FRACTION}. */
export const RENEW_JITTER = 0.05;

export interface Validity {
  /** Milliseconds since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** The server's suggestion (`renew_after` on the wire): notBefore + 2/3 of the life, no jitter. */
export function renewAfter(validity: Validity): number {
  return validity.notBefore + Math.floor((validity.notAfter - validity.notBefore) * RENEW_FRACTION);
}

/**
 * When to start renewing, in epoch milliseconds: notBefore + life * (2/3 ± 5%), drawn with `random` in [0, 1).
 * Never later than 90% of the life, never earlier than `now` (a certificate received late renews at once
 * rather than waiting for a moment that has passed).
 */
export function renewalTime(validity: Validity, now: number, random: () => number = Math.random): number {
  const life = validity.notAfter - validity.notBefore;
  if (!(life > 0)) return now;
  const fraction = Math.min(0.9, RENEW_FRACTION + (random() * 2 - 1) * RENEW_JITTER);
  return Math.max(now, validity.notBefore + Math.floor(life * fraction));
}

/** Delay until renewal, in milliseconds (0 when due). */
export function renewalDelay(validity: Validity, now: number, random: () => number = Math.random): number {
  return renewalTime(validity, now, random) - now;
}
