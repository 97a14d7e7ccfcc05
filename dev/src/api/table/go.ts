/**
 * Go's ways of turning values into text that Kubernetes' table output depends on: `fmt`'s `%v` for floats,
 * `encoding/json` (sorted map keys, HTML-safe escapes), `strings.TrimSpace`, byte-wise string order. Pure.
 */
import { isRecord } from './value.js';

/** Orders strings as Go compares them: by their UTF-8 bytes. */
export function compareGo(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Go's `sort.Strings` (a copy). */
export const sortedGo = (values: readonly string[]): string[] => [...values].sort(compareGo);

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * A float64 as `fmt.Sprint` prints it (`%v`: strconv 'g' with the shortest digits, exponent form when the exponent
 * is below -4 or at least 6 — `1e+06`, `1.5e-05`, `123456.5`).
 */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const sign = n < 0 ? '-' : '';
  const [mantissa = '', exponent = '0'] = Math.abs(n).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(exponent);
  if (exp < -4 || exp >= 6) {
    const rest = digits.slice(1);
    return `${sign}${digits[0] ?? ''}${rest === '' ? '' : `.${rest}`}e${exp < 0 ? '-' : '+'}${pad2(Math.abs(exp))}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fraction = digits.slice(exp + 1);
  return `${sign}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/**
 * Whether a JSON number is an integer as Kubernetes decodes it (int64), rather than a float64. JSON cannot tell
 * `1.0` from `1` once parsed, so integral values within int64's range count as integers.
 */
export const isGoInt = (n: number): boolean => Number.isInteger(n) && Math.abs(n) < 2 ** 63;

/** An integer as Go prints it (no exponent, whatever its size). */
export const goInt = (n: number): string => BigInt(Math.trunc(n)).toString();

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function goOrdered(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(LONE_SURROGATE, '\ufffd');
  if (Array.isArray(value)) return value.map(goOrdered);
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(compareGo)) out[key.replace(LONE_SURROGATE, '\ufffd')] = goOrdered(value[key]);
    return out;
  }
  return value;
}

const HTML_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/**
 * `json.Marshal` of decoded JSON: map keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u003c`..., no
 * spaces. (Those characters only ever appear inside strings in JSON.stringify's output, so replacing them there is
 * safe.)
 */
export function goJson(value: unknown): string {
  const text = JSON.stringify(goOrdered(value)) as string | undefined;
  return (text ?? 'null').replace(/[<>&\u2028\u2029]/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** The characters Go's `unicode.IsSpace` accepts (what `strings.TrimSpace` trims). */
const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const TRIM = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, 'g');

/** `strings.TrimSpace`. */
export const goTrimSpace = (s: string): string => s.replace(TRIM, '');
