/**
 * Field readers for decoding raw (untrusted) objects: each reads one field, checks it, and records a
 * diagnostic naming the field path and what was expected when it is wrong, so a decoder collects every
 * problem of an object in one pass. `null` is treated as absent, as the Kubernetes API server does.
 *
 * Internal to `@loom/shared` (used by the SMI and Kubernetes decoders).
 */
import { DiagnosticCode } from '../diagnostics.js';
import type { Diagnostic, ObjectRef } from '../diagnostics.js';

export type RawRecord = Record<string, unknown>;

export function isRecord(v: unknown): v is RawRecord {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** How a value appears in a message: strings quoted, scalars as written, containers by shape. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 64 ? `${v.slice(0, 61)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** `spec` + `backends` → `spec.backends`; + 1 → `spec.backends[1]`; odd keys → `labels["app.kubernetes.io/name"]`. */
export function at(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) return base === '' ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}

/** Collects the diagnostics of one object. */
export class Problems {
  readonly diagnostics: Diagnostic[] = [];
  #errors = 0;

  constructor(
    readonly object: ObjectRef,
    readonly source?: string,
  ) {}

  /** The object is invalid: it will not be returned. */
  error(field: string, message: string, code: DiagnosticCode = DiagnosticCode.InvalidField): void {
    this.#errors++;
    this.#push(code, 'error', field, message);
  }

  /** A diagnostic about a value Loom ignores or repairs; the object is still returned. */
  warn(field: string, message: string, code: DiagnosticCode = DiagnosticCode.UnsupportedField): void {
    this.#push(code, 'warning', field, message);
  }

  /** A wrong value replaced by a default: reported as an error, but the object is still returned. */
  fallback(field: string, message: string, code: DiagnosticCode = DiagnosticCode.InvalidField): void {
    this.#push(code, 'error', field, message);
  }

  get ok(): boolean {
    return this.#errors === 0;
  }

  #push(code: DiagnosticCode, severity: 'error' | 'warning', field: string, message: string): void {
    this.diagnostics.push({
      code,
      severity,
      object: this.object,
      ...(field === '' ? {} : { field }),
      message,
      ...(this.source === undefined ? {} : { source: this.source }),
    });
  }
}

/** `obj[key]`, with `null` as `undefined`. */
export function get(obj: RawRecord, key: string): unknown {
  const v = obj[key];
  return v === null ? undefined : v;
}

/** Warn about every key of `obj` not in `known` (they are ignored). */
export function unknownFields(p: Problems, obj: RawRecord, path: string, known: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) p.warn(at(path, key), `not a field of ${where}; ignored`);
  }
}

export function required(p: Problems, path: string, expected: string): undefined {
  p.error(path, `required, expected ${expected}`);
  return undefined;
}

export function wrong(p: Problems, path: string, expected: string, got: unknown): undefined {
  p.error(path, `must be ${expected}, got ${describe(got)}`);
  return undefined;
}

/** A string, optionally checked by `check` (returns what was expected, or undefined when fine). */
export function readString(
  p: Problems,
  obj: RawRecord,
  key: string,
  path: string,
  opts: { readonly required?: boolean; readonly expected?: string; readonly check?: (s: string) => string | undefined } = {},
): string | undefined {
  const field = at(path, key);
  const v = get(obj, key);
  const expected = opts.expected ?? 'a string';
  if (v === undefined) return opts.required === true ? required(p, field, expected) : undefined;
  if (typeof v !== 'string') return wrong(p, field, expected, v);
  const problem = opts.check?.(v);
  if (problem !== undefined) return wrong(p, field, problem, v);
  return v;
}

export function readBoolean(p: Problems, obj: RawRecord, key: string, path: string): boolean | undefined {
  const v = get(obj, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') return wrong(p, at(path, key), 'true or false', v);
  return v;
}

export function readList(p: Problems, obj: RawRecord, key: string, path: string, opts: { readonly required?: boolean; readonly expected?: string } = {}): unknown[] | undefined {
  const v = get(obj, key);
  const expected = opts.expected ?? 'a list';
  if (v === undefined) return opts.required === true ? required(p, at(path, key), expected) : undefined;
  if (!Array.isArray(v)) return wrong(p, at(path, key), expected, v);
  return v as unknown[];
}

export function readRecord(p: Problems, obj: RawRecord, key: string, path: string, opts: { readonly required?: boolean; readonly expected?: string } = {}): RawRecord | undefined {
  const v = get(obj, key);
  const expected = opts.expected ?? 'an object';
  if (v === undefined) return opts.required === true ? required(p, at(path, key), expected) : undefined;
  if (!isRecord(v)) return wrong(p, at(path, key), expected, v);
  return v;
}

/** Items of a list that are objects; others are reported. Returns `[index, item]` pairs. */
export function records(p: Problems, items: readonly unknown[], path: string, expected = 'an object'): [number, RawRecord][] {
  const out: [number, RawRecord][] = [];
  items.forEach((item, i) => {
    if (isRecord(item)) out.push([i, item]);
    else wrong(p, at(path, i), expected, item);
  });
  return out;
}

/** A list of strings (each checked); `undefined` if absent or any entry is wrong. */
export function readStringList(
  p: Problems,
  obj: RawRecord,
  key: string,
  path: string,
  opts: { readonly required?: boolean; readonly expected?: string; readonly check?: (s: string) => string | undefined } = {},
): string[] | undefined {
  const list = readList(p, obj, key, path, { ...(opts.required === undefined ? {} : { required: opts.required }), expected: 'a list of strings' });
  if (list === undefined) return undefined;
  const out: string[] = [];
  let ok = true;
  list.forEach((v, i) => {
    const field = at(at(path, key), i);
    const expected = opts.expected ?? 'a string';
    if (typeof v !== 'string') {
      ok = false;
      wrong(p, field, expected, v);
      return;
    }
    const problem = opts.check?.(v);
    if (problem !== undefined) {
      ok = false;
      wrong(p, field, problem, v);
      return;
    }
    out.push(v);
  });
  return ok ? out : undefined;
}

/** A map of string to string (labels, annotations, selectors, ConfigMap data). */
export function readStringMap(p: Problems, obj: RawRecord, key: string, path: string): Record<string, string> | undefined {
  const m = readRecord(p, obj, key, path, { expected: 'a map of strings' });
  if (m === undefined) return undefined;
  const out: Record<string, string> = {};
  let ok = true;
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === 'string') out[k] = v;
    else {
      ok = false;
      wrong(p, at(at(path, key), k), 'a string (quote numbers and booleans)', v);
    }
  }
  return ok ? out : undefined;
}

export const MAX_PORT = 65535;

export function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_PORT;
}

export const PORT_EXPECTED = 'an integer port from 1 to 65535';

export function readPort(p: Problems, obj: RawRecord, key: string, path: string, opts: { readonly required?: boolean } = {}): number | undefined {
  const v = get(obj, key);
  if (v === undefined) return opts.required === true ? required(p, at(path, key), PORT_EXPECTED) : undefined;
  if (!isPort(v)) return wrong(p, at(path, key), PORT_EXPECTED, v);
  return v;
}

// --- names -------------------------------------------------------------------------------------

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export const DNS1123_SUBDOMAIN = "a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)";
export const DNS1123_LABEL = "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)";
export const DNS1035_LABEL = "a DNS-1035 label (lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, at most 63 characters)";

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && LABEL.test(s);
}

export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && s.split('.').every((part) => LABEL.test(part));
}

export function isDns1035Label(s: string): boolean {
  return s.length <= 63 && LABEL_1035.test(s);
}

/** `check` functions for readString. */
export const subdomain = (what: string) => (s: string) => (isDns1123Subdomain(s) ? undefined : `${what}: ${DNS1123_SUBDOMAIN}`);
export const label1123 = (what: string) => (s: string) => (isDns1123Label(s) ? undefined : `${what}: ${DNS1123_LABEL}`);
export const label1035 = (what: string) => (s: string) => (isDns1035Label(s) ? undefined : `${what}: ${DNS1035_LABEL}`);
export const nonEmpty = (what: string) => (s: string) => (s === '' ? `${what} (not empty)` : undefined);

/** A label or annotation key: `[prefix/]name`, prefix a DNS subdomain, name ≤ 63 of `[A-Za-z0-9._-]` (alnum at ends). */
export function isQualifiedName(s: string): boolean {
  const slash = s.indexOf('/');
  const prefix = slash < 0 ? undefined : s.slice(0, slash);
  const name = slash < 0 ? s : s.slice(slash + 1);
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) return false;
  return name.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name);
}

// --- metadata ----------------------------------------------------------------------------------

/** The namespace objects without `metadata.namespace` land in, as with `kubectl apply` in the default context. */
export const DEFAULT_NAMESPACE = 'default';

export const UNNAMED = '(unnamed)';

/** Best-effort reference to an object, for diagnostics, before it is validated. */
export function objectRefOf(raw: RawRecord, kind: string, apiVersion: string | undefined, namespace: string | undefined): ObjectRef {
  const md = isRecord(raw['metadata']) ? raw['metadata'] : {};
  const name = typeof md['name'] === 'string' && md['name'] !== '' ? md['name'] : UNNAMED;
  const ns = namespace === undefined ? '' : typeof md['namespace'] === 'string' && md['namespace'] !== '' ? md['namespace'] : namespace;
  return { kind, namespace: ns, name, ...(apiVersion === undefined ? {} : { apiVersion }) };
}

export interface MetaOptions {
  /** `undefined` for cluster-scoped kinds; else the namespace used when `metadata.namespace` is empty. */
  readonly defaultNamespace: string | undefined;
  /** Checks the name; returns what was expected when it is wrong. */
  readonly nameCheck: (s: string) => string | undefined;
}

export interface ReadMeta {
  readonly namespace: string;
  readonly name: string;
  readonly creationTimestamp?: string;
  readonly uid?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** Reads and checks `metadata` (name, namespace, creationTimestamp, uid, labels, annotations). */
export function readMeta(p: Problems, raw: RawRecord, opts: MetaOptions): ReadMeta {
  const md = readRecord(p, raw, 'metadata', '', { required: true }) ?? {};
  const name = readString(p, md, 'name', 'metadata', { required: true, check: opts.nameCheck }) ?? '';
  let namespace = '';
  if (opts.defaultNamespace !== undefined) {
    const ns = readString(p, md, 'namespace', 'metadata', { check: (s) => (s === '' || isDns1123Label(s) ? undefined : `a namespace name: ${DNS1123_LABEL}`) });
    namespace = ns === undefined || ns === '' ? opts.defaultNamespace : ns;
  }
  const creationTimestamp = readString(p, md, 'creationTimestamp', 'metadata', { expected: 'an RFC 3339 timestamp string' });
  const uid = readString(p, md, 'uid', 'metadata');
  const labels = readStringMap(p, md, 'labels', 'metadata') ?? {};
  const annotations = readStringMap(p, md, 'annotations', 'metadata') ?? {};
  for (const key of Object.keys(labels)) {
    if (!isQualifiedName(key)) p.error(at('metadata.labels', key), 'must be a valid label key ([prefix/]name, name at most 63 characters)');
  }
  return {
    namespace,
    name,
    ...(creationTimestamp === undefined ? {} : { creationTimestamp }),
    ...(uid === undefined ? {} : { uid }),
    labels,
    annotations,
  };
}
