/**
 * Kubernetes' rules for label keys and values (k8s.io/apimachinery/pkg/api/validate/content: IsLabelKey, IsLabelValue),
 * with its own wording: a key is `[prefix/]name`, the prefix a DNS-1123 subdomain of at most 253 bytes, the name at
 * most 63 bytes of `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`; a value is empty or at most 63 bytes of the same.
 */
import { aggregateErrors, fieldIndex, fieldInvalid } from './field-errors.js';

const LABEL_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE_FMT = `(${LABEL_NAME_FMT})?`;
const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;

const LABEL_NAME_RE = new RegExp(`^${LABEL_NAME_FMT}$`);
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);

export const LABEL_NAME_MAX_BYTES = 63;
export const LABEL_VALUE_MAX_BYTES = 63;
export const LABEL_PREFIX_MAX_BYTES = 253;

const LABEL_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/** Kubernetes' regex-failure wording, examples and all (its double spaces included, so messages match a real cluster's). */
function regexError(msg: string, re: string, ...examples: string[]): string {
  const eg = examples.map((e, i) => `${i > 0 ? ' or ' : ''}'${e}', `).join('');
  return `${msg} (e.g. ${eg}regex used for validation is '${re}')`;
}

function maxLenError(bytes: number): string {
  return `must be no more than ${bytes} bytes`;
}

/** Length as Go's `len`: UTF-8 bytes. */
function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function dns1123SubdomainErrors(s: string): string[] {
  const errs: string[] = [];
  if (byteLength(s) > LABEL_PREFIX_MAX_BYTES) errs.push(maxLenError(LABEL_PREFIX_MAX_BYTES));
  if (!DNS1123_SUBDOMAIN_RE.test(s)) errs.push(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  return errs;
}

/** Why `key` is not a label key (Kubernetes' messages, in its order); empty when it is one. */
export function labelKeyErrors(key: string): string[] {
  const parts = key.split('/');
  const errs: string[] = [];
  let name: string;
  if (parts.length === 1) {
    name = key;
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix === '') errs.push('prefix part must be non-empty');
    else errs.push(...dns1123SubdomainErrors(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      `a valid label key ${regexError(LABEL_NAME_MSG, LABEL_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name === '') errs.push('name part must be non-empty');
  else if (byteLength(name) > LABEL_NAME_MAX_BYTES) errs.push(`name part ${maxLenError(LABEL_NAME_MAX_BYTES)}`);
  if (!LABEL_NAME_RE.test(name)) errs.push(`name part ${regexError(LABEL_NAME_MSG, LABEL_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

/** Why `value` is not a label value; empty when it is one (the empty string is a valid value). */
export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > LABEL_VALUE_MAX_BYTES) errs.push(maxLenError(LABEL_VALUE_MAX_BYTES));
  if (!LABEL_VALUE_RE.test(value)) errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errs;
}

export function isLabelKey(key: string): boolean {
  return labelKeyErrors(key).length === 0;
}

export function isLabelValue(value: string): boolean {
  return labelValueErrors(value).length === 0;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Field errors for a label map (`metadata.labels`, a Service's `spec.selector`, a selector's `matchLabels`), as
 * Kubernetes' ValidateLabels reports them: each at `path`, keys in sorted order. `undefined`/`null` is no labels.
 */
export function labelMapErrors(labels: unknown, path: string): string[] {
  if (labels === undefined || labels === null) return [];
  if (!isPlainObject(labels)) return [fieldInvalid(path, labels, 'must be a map of label keys to string values')];
  const errs: string[] = [];
  for (const key of Object.keys(labels).sort()) {
    const value = labels[key];
    for (const msg of labelKeyErrors(key)) errs.push(fieldInvalid(path, key, msg));
    if (typeof value !== 'string') {
      errs.push(fieldInvalid(fieldIndex(path, key), value, 'must be a string'));
      continue;
    }
    for (const msg of labelValueErrors(value)) errs.push(fieldInvalid(path, value, msg));
  }
  return errs;
}

/** `labelMapErrors` as one message (Kubernetes' aggregate form), or null when the map is valid. */
export function validateLabelMap(labels: unknown, path: string): string | null {
  return aggregateErrors(labelMapErrors(labels, path));
}
