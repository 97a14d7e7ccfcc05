/**
 * Putting text Loom did not write — names from a CSR, from a certificate — into one-line messages: cut to a
 * bounded length, control characters escaped, long lists shortened. A refusal then costs the caller as
 * much to read (and the log to store) however large the request was. Pure.
 */

/** Characters of a value shown before it is cut. */
export const MAX_SHOWN_CHARACTERS = 200;
/** Items of a list shown before "and N more". */
export const MAX_SHOWN_ITEMS = 5;

/**
 * `value` in double quotes, escaped as JSON (control characters, quotes, backslashes), cut after `max`
 * characters: `"spiffe://td/ns/a/sa/wwww…"…(39800 more characters)`.
 */
export function quote(value: string, max = MAX_SHOWN_CHARACTERS): string {
  if (value.length <= max) return JSON.stringify(value);
  const more = value.length - max;
  return `${JSON.stringify(value.slice(0, max))}…(${more} more character${more === 1 ? '' : 's'})`;
}

/** Printable ASCII without spaces, quotes or commas: safe to show as is, unambiguous in a list. */
const PLAIN = /^[\x21\x23-\x2b\x2d-\x7e]+$/;

/** `value` as is when it is short plain text (a DNS name, a URI, an OID), else {@link quote}d. */
export function shown(value: string, max = MAX_SHOWN_CHARACTERS): string {
  return value.length <= max && PLAIN.test(value) ? value : quote(value, max);
}

/** "a, b, c" — at most `max` items, then "and N more". */
export function listed(items: readonly string[], max = MAX_SHOWN_ITEMS): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
