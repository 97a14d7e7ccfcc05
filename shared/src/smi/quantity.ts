/**
 * Kubernetes Quantities, as used by split.smi-spec.io/v1alpha1 weights (`"1"`, `"500m"`, `1`, `"1.5"`).
 *
 *   <quantity> ::= <sign>? <digits>[.<digits>] <suffix>
 *   <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei | n | u | m | "" | k | M | G | T | P | E | (e|E)<sign>?<digits>
 *
 * Loom needs exact milli-values (weights are ratios), so parsing is done with integers, never floats.
 */

export type QuantityResult =
  | { readonly ok: true; /** The value × 1000, exact. */ readonly milli: bigint }
  | { readonly ok: false; readonly reason: 'syntax' | 'negative' | 'precision' | 'too-large' };

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

const BINARY: Readonly<Record<string, bigint>> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };
const DECIMAL: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** Quantities beyond this exponent are far past any weight Loom accepts; refusing early keeps BigInts small. */
const MAX_EXPONENT = 30;

/**
 * Parses a quantity (string as written, or a JSON number) to its exact milli-value. Refuses negative values and
 * values that are not a whole number of milli-units (`1u`, `0.0005`).
 */
export function parseQuantityMilli(value: string | number): QuantityResult {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, reason: 'syntax' };
    text = String(value); // shortest round-trip form, e.g. 0.5, 1e+21
  } else {
    text = value;
  }
  const m = QUANTITY.exec(text);
  if (m === null) return { ok: false, reason: 'syntax' };
  const [, sign = '', number = '', suffix = ''] = m;
  const [intPart = '', fracPart = ''] = number.split('.');
  const digits = BigInt(`${intPart}${fracPart}` === '' ? '0' : `${intPart}${fracPart}`);
  // value = digits × 10^-fracPart.length × multiplier; milli = value × 1000
  let exp10 = 3 - fracPart.length;
  let factor = 1n;
  const binary = BINARY[suffix];
  if (binary !== undefined) factor = binary;
  else if (suffix === '') {
    // plain number
  } else if (suffix[0] === 'e' || suffix[0] === 'E') {
    const e = Number(suffix.slice(1));
    if (Math.abs(e) > MAX_EXPONENT) return digits === 0n ? { ok: true, milli: 0n } : { ok: false, reason: e > 0 ? 'too-large' : 'precision' };
    exp10 += e;
  } else {
    exp10 += DECIMAL[suffix] ?? 0;
  }
  if (digits === 0n) return { ok: true, milli: 0n };
  if (sign === '-') return { ok: false, reason: 'negative' };
  let milli = digits * factor;
  if (exp10 >= 0) {
    milli *= 10n ** BigInt(exp10);
  } else {
    const divisor = 10n ** BigInt(-exp10);
    if (milli % divisor !== 0n) return { ok: false, reason: 'precision' };
    milli /= divisor;
  }
  return { ok: true, milli };
}

/** Canonical form of a whole number of milli-units: `1000n` → `"1"`, `500n` → `"500m"`. */
export function formatMilli(milli: bigint): string {
  return milli % 1000n === 0n ? String(milli / 1000n) : `${milli}m`;
}
