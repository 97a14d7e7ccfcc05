/**
 * Timestamps as Kubernetes reads them (metav1.Time: RFC 3339, `time.Parse(time.RFC3339, ...)`), in milliseconds
 * since the epoch. Go's zero time (year 1) is "unset": printers show `<unknown>` for it. Pure.
 */

/** Go's zero `time.Time` (0001-01-01T00:00:00Z) in epoch milliseconds. */
export const ZERO_TIME = -62135596800000;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

const daysIn = (year: number, month: number): number => {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
};

/**
 * An RFC 3339 timestamp (`2024-05-01T10:00:00Z`, optional fraction, `Z` or `±hh:mm`) in epoch milliseconds, or
 * undefined when it is not one (Go's parser is as strict: upper-case `T` and `Z`, two-digit fields, real dates).
 */
export function parseTime(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  let offset = 0;
  if (m[8] !== undefined) {
    const [oh, om] = [Number(m[9]), Number(m[10])];
    if (oh > 23 || om > 59) return undefined;
    offset = (m[8] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number((m[7] ?? '').slice(0, 3).padEnd(3, '0')));
  return date.getTime() - offset;
}

/**
 * A metav1.Time field as Kubernetes decodes it: a timestamp, or Go's zero time when the field is missing, null or
 * empty. Text that is no timestamp reads as zero too (Kubernetes would not have stored it).
 */
export function timeOf(value: unknown): number {
  if (typeof value !== 'string') return ZERO_TIME;
  return parseTime(value) ?? ZERO_TIME;
}

/** `t.UTC().Format(time.RFC3339)`: whole seconds, `Z`. */
export function formatRfc3339(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`;
}
