/**
 * Field errors as Kubernetes builds them (k8s.io/apimachinery/pkg/util/validation/field): a path such as
 * `spec.versions[0].name` and a body such as `Invalid value: "x": must be ...`, with bad values printed the way Go
 * prints them (strings quoted by strconv.Quote, integers and floats by fmt's %v, everything else as encoding/json
 * writes it: map keys sorted, `<`, `>` and `&` escaped). The lead joins `field: message` into the Status message;
 * `reason` is the Status cause type.
 */

export type CauseType =
  | 'FieldValueNotFound'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  | 'InternalError';

/** One validation error: `field` is Kubernetes' path (`<nil>` when it has none), `message` the error body. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
  readonly reason: CauseType;
}

/** A bad value that is printed as given (Go's rendering of an internal type), not re-encoded. */
export class Rendered {
  constructor(readonly text: string) {}
}

/** The path Kubernetes prints for a nil *field.Path (errors of the schema validator that name no field). */
export const NIL_PATH = '<nil>';

/** `base.name`; `name` alone at the root (''). */
export const child = (base: string, name: string): string => (base === '' ? name : `${base}.${name}`);
/** `base[i]` */
export const index = (base: string, i: number): string => `${base}[${i}]`;
/** `base[key]` (map keys are not quoted, as Kubernetes prints them) */
export const key = (base: string, k: string): string => `${base}[${k}]`;

// ---- Go value printing ----

/** strconv.Quote: a double-quoted Go string literal. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd'; // a lone surrogate: invalid UTF-8 to Go
    else if ((c >= 0x80 && c < 0xa0) || c === 0xad || c === 0x2028 || c === 0x2029 || c === 0xfeff) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** An integer as Go prints an int64. */
export function goInt(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(Math.trunc(n)).toString();
}

/** A float64 as fmt's %v prints it: the shortest digits, exponent form below 1e-4 and from 1e6 (`1e+06`). */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa = '0', expText = '0'] = n.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(n);
}

/** A JSON number as Go holds it after decoding: integers as int64, the rest as float64. */
export const goNumber = (n: number): string => (Number.isInteger(n) && Math.abs(n) < 2 ** 63 ? goInt(n) : goFloat(n));

function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

/** encoding/json's Marshal of a decoded JSON value (or of a {@link Rendered} piece): map keys sorted. */
export function goJson(value: unknown): string {
  if (value instanceof Rendered) return value.text;
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goJsonString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${goJsonString(k)}:${goJson(v)}`).join(',')}}`;
  }
  return 'null';
}

/** A Go struct as encoding/json writes it: fields in declaration order (untagged internal types use Go names). */
export function goStruct(fields: readonly (readonly [string, unknown])[]): Rendered {
  return new Rendered(`{${fields.map(([k, v]) => `${goJsonString(k)}:${goJson(v)}`).join(',')}}`);
}

/** A bad value as field.Error prints it. */
export function badValue(value: unknown): string {
  if (value instanceof Rendered) return value.text;
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return goJson(value);
}

// ---- name rules used in messages ----

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** IsDNS1035Label: problems with `value` as an RFC 1035 label (CRD names and versions); empty when valid. */
export function dns1035Label(value: string): string[] {
  const out: string[] = [];
  if (value.length > 63) out.push('must be no more than 63 characters');
  if (!DNS1035.test(value)) {
    out.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
  }
  return out;
}

// ---- constructors, one per field.ErrorType ----

const withDetail = (body: string, detail: string): string => (detail === '' ? body : `${body}: ${detail}`);

export const required = (field: string, detail = ''): FieldProblem => ({ field, message: withDetail('Required value', detail), reason: 'FieldValueRequired' });

export const forbidden = (field: string, detail: string): FieldProblem => ({ field, message: withDetail('Forbidden', detail), reason: 'FieldValueForbidden' });

export const invalid = (field: string, value: unknown, detail: string): FieldProblem => ({
  field,
  message: withDetail(`Invalid value: ${badValue(value)}`, detail),
  reason: 'FieldValueInvalid',
});

export const typeInvalid = (field: string, value: unknown, detail: string): FieldProblem => ({
  field,
  message: withDetail(`Invalid value: ${badValue(value)}`, detail),
  reason: 'FieldValueTypeInvalid',
});

export const duplicate = (field: string, value: unknown): FieldProblem => ({ field, message: `Duplicate value: ${badValue(value)}`, reason: 'FieldValueDuplicate' });

export function notSupported(field: string, value: unknown, valid: readonly string[]): FieldProblem {
  const detail = valid.length === 0 ? '' : `supported values: ${valid.map(goQuote).join(', ')}`;
  return { field, message: withDetail(`Unsupported value: ${badValue(value)}`, detail), reason: 'FieldValueNotSupported' };
}

export function tooLong(field: string, max: number): FieldProblem {
  const detail = max >= 0 ? `may not be more than ${max} ${max === 1 ? 'byte' : 'bytes'}` : 'value is too long';
  return { field, message: `Too long: ${detail}`, reason: 'FieldValueTooLong' };
}

/** `actual` undefined when unknown (Kubernetes then omits it). */
export function tooMany(field: string, actual: number | undefined, max: number): FieldProblem {
  const detail = max >= 0 ? `must have at most ${max} ${max === 1 ? 'item' : 'items'}` : 'has too many items';
  const body = actual === undefined ? 'Too many' : `Too many: ${actual}`;
  return { field, message: `${body}: ${detail}`, reason: 'FieldValueTooMany' };
}

/** `field: message`, as Kubernetes prints one error. */
export const describe = (p: FieldProblem): string => `${p.field}: ${p.message}`;

/** Kubernetes' aggregate of several messages: duplicates dropped, `[a, b]` when more than one. */
export function aggregate(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? (unique[0] ?? '') : `[${unique.join(', ')}]`;
}
