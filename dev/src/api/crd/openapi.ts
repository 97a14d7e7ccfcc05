/**
 * The schema validator kube-apiserver runs on custom resources (kube-openapi's validate package, as
 * apiextensions configures it), and the conversion of its results into field errors. Ported closely because
 * users read its output: the order in which validators run, which of them apply to which kind of value, the
 * "best" failing branch reported for anyOf/oneOf (the one that matched most), the wording ("spec.replicas in
 * body must be of type integer: \"string\""), and the quirks (integer values compared with a truncated bound;
 * messages of composite keywords reported on the path `<nil>`).
 *
 * Values are decoded JSON. As in Kubernetes after decoding, an integral number is an int64 and any other number
 * a float64 (JSON cannot tell `2.0` from `2` here; Kubernetes would read `2.0` as a float).
 */
import { badValue, child, goFloat, goInt, goJson, goNumber, goQuote, NIL_PATH, notSupported, required, tooLong, tooMany, typeInvalid, invalid, type FieldProblem } from './field.js';
import { effectiveFormat, isStringFormat, matchesFormat } from './formats.js';
import type { Schema } from './jsonschema.js';
import { compilePattern } from './pattern.js';

type Code =
  | 'InvalidType'
  | 'Required'
  | 'TooLong'
  | 'TooShort'
  | 'Pattern'
  | 'Enum'
  | 'MultipleOf'
  | 'Max'
  | 'Min'
  | 'Unique'
  | 'MaxItems'
  | 'MinItems'
  | 'TooFewProperties'
  | 'TooManyProperties'
  | 'UnallowedProperty'
  | 'MultipleOfMustBePositive';

/** A kube-openapi error: a Validation (with a name, i.e. a path) or a plain error (composite keywords, ranges). */
type VError =
  | { readonly kind: 'validation'; readonly code: Code; readonly name: string; readonly value?: unknown; readonly valid?: number; readonly values?: readonly unknown[]; readonly message: string }
  | { readonly kind: 'plain'; readonly message: string };

class Result {
  errors: VError[] = [];
  matchCount = 0;

  add(...errors: (VError | undefined)[]): void {
    for (const e of errors) {
      if (e !== undefined && !this.errors.some((r) => r.message === e.message)) this.errors.push(e);
    }
  }

  merge(...others: (Result | undefined)[]): this {
    for (const o of others) {
      if (o === undefined) continue;
      this.add(...o.errors);
      this.matchCount += o.matchCount;
    }
    return this;
  }

  get valid(): boolean {
    return this.errors.length === 0;
  }
}

const single = (e: VError): Result => {
  const r = new Result();
  r.errors.push(e);
  return r;
};

const IN = 'body';

// ---- kube-openapi's error constructors ----

const v = (code: Code, name: string, message: string, extra: { value?: unknown; valid?: number; values?: readonly unknown[] } = {}): VError => ({ kind: 'validation', code, name, message, ...extra });

function invalidType(name: string, typeName: string, value: string): VError {
  return v('InvalidType', name, `${name} in ${IN} must be of type ${typeName}: ${goQuote(value)}`, { value });
}

const plain = (message: string): VError => ({ kind: 'plain', message });

// ---- the kind of a decoded value, as reflect sees it ----

type Kind = 'string' | 'int' | 'float' | 'bool' | 'slice' | 'map';

function kindOf(data: unknown): Kind {
  if (typeof data === 'string') return 'string';
  if (typeof data === 'number') return Number.isInteger(data) && Math.abs(data) < 2 ** 63 ? 'int' : 'float';
  if (typeof data === 'boolean') return 'bool';
  if (Array.isArray(data)) return 'slice';
  return 'map';
}

/** schemaInfoForType: the JSON type and format of a value. */
function typeInfo(kind: Kind): [string, string] {
  switch (kind) {
    case 'string':
      return ['string', ''];
    case 'int':
      return ['integer', 'int64'];
    case 'float':
      return ['number', 'float64'];
    case 'bool':
      return ['boolean', ''];
    case 'slice':
      return ['array', ''];
    case 'map':
      return ['object', ''];
  }
}

const typesOf = (s: Schema): readonly string[] => (s.intOrString ? ['integer', 'string'] : s.type === '' ? [] : [s.type]);

// ---- the validators, in kube-openapi's order: type, schema props, string, format, number, slice, common, object ----

function typeValidate(s: Schema, path: string, data: unknown): Result {
  const types = typesOf(s);
  const format = effectiveFormat(s.format, types);
  const ok = new Result();
  ok.matchCount = 1;
  if (data === null || data === undefined) {
    if (types.length > 0 && !types.includes('null') && !s.nullable) return single(invalidType(path, types.join(','), 'null'));
    return ok;
  }
  const kind = kindOf(data);
  const [schType, valueFormat] = typeInfo(kind);
  const isFloatInt = schType === 'number' && Number.isInteger(data) && types.includes('integer');
  const isIntFloat = schType === 'integer' && types.includes('number');
  if (kind !== 'string' && kind !== 'slice' && format !== '' && !(types.includes(schType) || valueFormat === format || isFloatInt || isIntFloat)) {
    return single(invalidType(path, format, valueFormat));
  }
  if (!(types.includes('number') || types.includes('integer')) && format !== '' && (kind === 'string' || kind === 'slice')) return ok;
  if (!(types.includes(schType) || isFloatInt || isIntFloat)) return single(invalidType(path, types.join(','), schType));
  return ok;
}

function propsValidate(s: Schema, path: string, data: unknown): Result {
  const main = new Result();
  if (s.anyOf.length > 0) {
    let best: Result | undefined;
    let firstSuccess: Result | undefined;
    let succeeded = false;
    for (const branch of s.anyOf) {
      const r = validateNode(branch, path, data);
      if (r.valid) {
        best = undefined;
        succeeded = true;
        firstSuccess ??= r;
        break;
      }
      if (best === undefined || r.matchCount > best.matchCount) best = r;
    }
    if (!succeeded) main.add(plain(`${goQuote(path)} must validate at least one schema (anyOf)`));
    if (best !== undefined) main.merge(best);
    else if (firstSuccess !== undefined) main.merge(firstSuccess);
  }
  if (s.oneOf.length > 0) {
    let best: Result | undefined;
    let firstSuccess: Result | undefined;
    let validated = 0;
    for (const branch of s.oneOf) {
      const r = validateNode(branch, path, data);
      if (r.valid) {
        validated++;
        best = undefined;
        firstSuccess ??= r;
        continue;
      }
      if (validated === 0 && (best === undefined || r.matchCount > best.matchCount)) best = r;
    }
    if (validated !== 1) {
      const more = validated === 0 ? 'Found none valid' : `Found ${validated} valid alternatives`;
      main.add(plain(`${goQuote(path)} must validate one and only one schema (oneOf). ${more}`));
      if (best !== undefined) main.merge(best);
    } else if (firstSuccess !== undefined) main.merge(firstSuccess);
  }
  if (s.allOf.length > 0) {
    let validated = 0;
    for (const branch of s.allOf) {
      const r = validateNode(branch, path, data);
      if (r.valid) validated++;
      main.merge(r);
    }
    if (validated !== s.allOf.length) main.add(plain(`${goQuote(path)} must validate all the schemas (allOf)${validated === 0 ? '. None validated' : ''}`));
  }
  if (s.not !== undefined && validateNode(s.not, path, data).valid) main.add(plain(`${goQuote(path)} must not validate the schema (not)`));
  main.matchCount++;
  return main;
}

function stringValidate(s: Schema, path: string, data: string): Result | undefined {
  const length = [...data].length;
  if (s.maxLength !== undefined && length > s.maxLength) {
    return single(v('TooLong', path, `${path} in ${IN} should be at most ${s.maxLength} chars long`, { value: data, valid: s.maxLength }));
  }
  if (s.minLength !== undefined && length < s.minLength) {
    return single(v('TooShort', path, `${path} in ${IN} should be at least ${s.minLength} chars long`, { value: data, valid: s.minLength }));
  }
  if (s.pattern !== '') {
    const re = compilePattern(s.pattern);
    if (typeof re === 'string') return single(v('Pattern', path, `${path} in ${IN} should match '${s.pattern}, but pattern is invalid: ${re}'`, { value: data }));
    if (!re.test(data)) return single(v('Pattern', path, `${path} in ${IN} should match '${s.pattern}'`, { value: data }));
  }
  return undefined;
}

function formatValidate(format: string, path: string, data: string): Result | undefined {
  return matchesFormat(format, data) ? undefined : single(invalidType(path, format, data));
}

/** IsValueValidAgainstRange: whether a number (the value or a bound) fits the schema's type and format. */
function rangeError(n: number, typeName: string, format: string, prefix: string, path: string): VError | undefined {
  const rep = kindOf(n) === 'int' ? goInt(n) : n.toString();
  let fails = false;
  if (typeName === 'integer') {
    const isInt = /^-?[0-9]+$/.test(rep);
    const big = isInt ? BigInt(rep) : 0n;
    fails = !isInt || (format === 'int32' ? big < -(2n ** 31n) || big >= 2n ** 31n : big < -(2n ** 63n) || big >= 2n ** 63n);
  } else if (format === 'float') {
    fails = Math.abs(n) > 3.4028234663852886e38;
  }
  if (!fails) return undefined;
  return plain(format === '' ? `${prefix} value must be of type ${typeName} (default format) in ${path}` : `${prefix} value must be of type ${typeName} with format ${format} in ${path}`);
}

function isJsonInteger(f: number): boolean {
  if (!Number.isFinite(f)) return false;
  if (Number.isInteger(f)) return true;
  const g = Math.trunc(f);
  const diff = Math.abs(f - g);
  if (g === 0) return diff < 1e-9 * Number.MIN_VALUE;
  return diff / Math.min(Math.abs(f) + Math.abs(g), Number.MAX_VALUE) < 1e-9;
}

function numberValidate(s: Schema, path: string, data: number): Result {
  const types = typesOf(s);
  let typeName = '';
  let format = '';
  if (types.length === 1) {
    if (types[0] === 'integer') {
      typeName = 'integer';
      if (s.format === 'int32' || s.format === 'int64') format = s.format;
    } else if (types[0] === 'number') {
      typeName = 'number';
      if (s.format === 'float' || s.format === 'double') format = s.format;
    }
  }
  const isInt = kindOf(data) === 'int';
  const res = new Result();
  res.add(rangeError(data, typeName, format, 'Checked', path));
  const multiple = new Result();
  const minimum = new Result();
  const maximum = new Result();
  if (s.multipleOf !== undefined) {
    const factor = s.multipleOf;
    multiple.add(rangeError(factor, typeName, format, 'MultipleOf', path));
    const native = multiple.valid && isInt;
    const f = native ? Math.trunc(factor) : factor;
    const show = native ? goInt(f) : goFloat(f);
    if (f <= 0) multiple.add(v('MultipleOfMustBePositive', path, `factor MultipleOf declared for ${path} must be positive: ${show}`, { value: native ? f : factor }));
    else if (native ? data % f !== 0 : !isJsonInteger(f < 1 ? (1 / f) * data : data / f)) {
      multiple.add(v('MultipleOf', path, `${path} in ${IN} should be a multiple of ${show}`, { value: data }));
    }
  }
  const bound = (limit: number, exclusive: boolean, result: Result, prefix: string, over: boolean): void => {
    result.add(rangeError(limit, typeName, format, prefix, path));
    const native = result.valid && isInt;
    const l = native ? Math.trunc(limit) : limit;
    const fails = over ? (exclusive ? data >= l : data > l) : exclusive ? data <= l : data < l;
    if (!fails) return;
    const shown = native ? goInt(l) : goFloat(l);
    const text = over ? (exclusive ? 'less than' : 'less than or equal to') : exclusive ? 'greater than' : 'greater than or equal to';
    result.add(v(over ? 'Max' : 'Min', path, `${path} in ${IN} should be ${text} ${shown}`, { value: data }));
  };
  if (s.maximum !== undefined) bound(s.maximum, s.exclusiveMaximum, maximum, 'Maximum boundary', true);
  if (s.minimum !== undefined) bound(s.minimum, s.exclusiveMinimum, minimum, 'Minimum boundary', false);
  res.merge(multiple, minimum, maximum);
  res.matchCount++;
  return res;
}

/** Equality of decoded JSON values (object key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

function sliceValidate(s: Schema, path: string, data: readonly unknown[]): Result {
  const result = new Result();
  if (s.items !== undefined) data.forEach((item, i) => result.merge(validateNode(s.items as Schema, `${path}[${i}]`, item)));
  if (s.minItems !== undefined && data.length < s.minItems) {
    result.add(v('MinItems', path, `${path} in ${IN} should have at least ${s.minItems} items`, { value: data.length, valid: s.minItems }));
  }
  if (s.maxItems !== undefined && data.length > s.maxItems) {
    result.add(v('MaxItems', path, `${path} in ${IN} should have at most ${s.maxItems} items`, { value: data.length, valid: s.maxItems }));
  }
  if (s.uniqueItems && data.some((x, i) => data.slice(0, i).some((y) => jsonEqual(x, y)))) result.add(v('Unique', path, `${path} in ${IN} shouldn't contain duplicates`));
  result.matchCount++;
  return result;
}

function commonValidate(s: Schema, path: string, data: unknown): Result | undefined {
  if (s.enum === undefined || s.enum.length === 0) return undefined;
  if (data !== null && data !== undefined && s.enum.some((e) => enumMatches(data, e))) return undefined;
  return single(v('Enum', path, `${path} in ${IN} should be one of ${goEnum(s.enum)}`, { value: data ?? null, values: s.enum }));
}

/**
 * basicCommonValidator's comparison: the value converted to the enum value's Go type, then deeply equal. A
 * float64 converted to an int64 is truncated, so 1.5 matches an enum value 1 in Kubernetes too.
 */
function enumMatches(data: unknown, e: unknown): boolean {
  if (e === null || e === undefined) return false;
  if (typeof data === 'number' && typeof e === 'number' && !Number.isInteger(data) && Number.isInteger(e)) return Math.trunc(data) === e;
  return jsonEqual(data, e);
}

/** fmt's %v of a []interface{} (only used in a message Kubernetes discards). */
const goEnum = (values: readonly unknown[]): string => `[${values.map((x) => (typeof x === 'string' ? x : typeof x === 'number' ? goNumber(x) : badValue(x))).join(' ')}]`;

function objectValidate(s: Schema, path: string, data: Record<string, unknown>): Result {
  const res = new Result();
  const size = Object.keys(data).length;
  if (s.minProperties !== undefined && size < s.minProperties) {
    res.add(v('TooFewProperties', path, `${path} in ${IN} should have at least ${s.minProperties} properties`, { value: size, valid: s.minProperties }));
  }
  if (s.maxProperties !== undefined && size > s.maxProperties) {
    res.add(v('TooManyProperties', path, `${path} in ${IN} should have at most ${s.maxProperties} properties`, { value: size, valid: s.maxProperties }));
  }
  const ap = s.additionalProperties;
  if (ap !== undefined && !ap.allows) {
    for (const k of Object.keys(data)) {
      if (!s.properties?.has(k)) res.add(v('UnallowedProperty', path, `${path}.${k} in ${IN} is a forbidden property`, { value: k }));
    }
  } else if (ap?.schema !== undefined) {
    for (const [k, value] of Object.entries(data)) {
      if (!s.properties?.has(k)) res.merge(validateNode(ap.schema, `${path}.${k}`, value));
    }
  }
  for (const [name, prop] of s.properties ?? []) {
    if (Object.hasOwn(data, name)) res.merge(validateNode(prop, path === '' ? name : `${path}.${name}`, data[name]));
  }
  for (const k of s.required ?? []) {
    if (!Object.hasOwn(data, k)) res.add(v('Required', `${path}.${k}`, `${path}.${k} in ${IN} is required`));
  }
  return res;
}

/** SchemaValidator.Validate: every validator that applies to the value's kind, in order. */
function validateNode(s: Schema, path: string, data: unknown): Result {
  const result = new Result();
  if (data === null || data === undefined) {
    result.merge(typeValidate(s, path, data));
    result.merge(commonValidate(s, path, data));
    return result;
  }
  const kind = kindOf(data);
  const step = (r: Result | undefined): void => {
    result.merge(r);
    result.matchCount++;
  };
  const types = typesOf(s);
  const format = effectiveFormat(s.format, types);
  if (types.length > 0 || format !== '') step(typeValidate(s, path, data));
  step(propsValidate(s, path, data));
  if (kind === 'string') step(stringValidate(s, path, data as string));
  if (kind === 'string' && isStringFormat(format)) step(formatValidate(format, path, data as string));
  if (kind === 'int' || kind === 'float') step(numberValidate(s, path, data as number));
  if (kind === 'slice') step(sliceValidate(s, path, data as unknown[]));
  step(commonValidate(s, path, data));
  if (kind === 'map') step(objectValidate(s, path, data as Record<string, unknown>));
  result.matchCount++;
  return result;
}

// ---- kubeOpenAPIResultToFieldErrors ----

function toProblem(base: string | null, e: VError): FieldProblem {
  const at = (name: string): string => {
    const trimmed = name.startsWith('.') ? name.slice(1) : name;
    if (name === '' || name === '.') return base ?? NIL_PATH;
    return base === null ? trimmed : child(base, trimmed);
  };
  if (e.kind === 'plain') return invalid(base ?? NIL_PATH, '', e.message);
  const field = at(e.name);
  switch (e.code) {
    case 'Required':
      return required(field);
    case 'Enum':
      return notSupported(field, e.value, (e.values ?? []).map((x) => (typeof x === 'string' ? x : goJson(x))));
    case 'TooLong':
      return tooLong(field, e.valid ?? -1);
    case 'MaxItems':
    case 'TooManyProperties':
      return tooMany(field, typeof e.value === 'number' ? e.value : undefined, e.valid ?? -1);
    case 'InvalidType':
      return typeInvalid(field, e.value ?? '', e.message);
    default:
      return invalid(field, e.value ?? '', e.message);
  }
}

/**
 * Validates a decoded JSON value against a schema as kube-apiserver does for custom resources. `base` is the
 * field path the value sits at (null for a whole object: errors without a field then print as `<nil>`); names in
 * messages are relative to the value.
 */
export function validateValue(schema: Schema, value: unknown, base: string | null = null): FieldProblem[] {
  const result = validateNode(schema, '', value);
  return result.errors.map((e) => toProblem(base, e));
}
