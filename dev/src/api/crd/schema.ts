/**
 * What kube-apiserver does to a custom object with its version's `openAPIV3Schema`, in the order it does it:
 * prune (drop fields the schema does not specify, report them for fieldValidation Strict/Warn, drop nulls the
 * schema does not allow), default (`default` values, also inside defaults), validate (the schema, embedded
 * resources' apiVersion/kind, x-kubernetes-list-type set/map uniqueness). Objects are copied, never changed,
 * except by {@link applyDefaults}, which defaults in place like Kubernetes' defaulter.
 *
 * Not done here: the root `metadata` (the lead validates it like any object's), metadata inside embedded
 * resources, `x-kubernetes-validations` (CEL is not evaluated: rules are accepted and ignored), ratcheting
 * (an update is validated like a create), and the scale subresource's replicas checks.
 */
import { child, dns1035Label, duplicate, index, invalid, key, required, type FieldProblem } from './field.js';
import { goJson } from './field.js';
import { readSchema, type Schema } from './jsonschema.js';
import { validateValue } from './openapi.js';

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const META = new Set(['apiVersion', 'kind', 'metadata']);

/** A deep copy of decoded JSON. */
export const copyJson = <T>(v: T): T => structuredClone(v);

const asRoot = (s: Schema): Schema => (s.embeddedResource ? s : { ...s, embeddedResource: true });

// ---- pruning (pkg/apiserver/schema/pruning) ----

interface Tracker {
  readonly unknown: string[];
}

const appendKey = (parent: string, k: string): string => (parent === '' ? k : `${parent}.${k}`);

function pruneNode(x: unknown, s: Schema | undefined, parent: string, t: Tracker | undefined): void {
  if (s?.preserveUnknownFields === true) {
    skipPrune(x, s, parent, t);
    return;
  }
  if (Array.isArray(x)) {
    x.forEach((item, i) => pruneNode(item, s?.items, `${parent}[${i}]`, t));
    return;
  }
  if (!isRecord(x)) return;
  for (const k of Object.keys(x)) {
    if (s?.embeddedResource === true && META.has(k)) continue;
    const prop = s?.properties?.get(k);
    if (prop !== undefined) pruneNode(x[k], prop, appendKey(parent, k), t);
    else if (s?.additionalProperties !== undefined) pruneNode(x[k], s.additionalProperties.schema, appendKey(parent, k), t);
    else {
      if (s === undefined || !META.has(k) || parent !== '') t?.unknown.push(appendKey(parent, k));
      delete x[k];
    }
  }
}

function skipPrune(x: unknown, s: Schema | undefined, parent: string, t: Tracker | undefined): void {
  if (s === undefined) return;
  if (Array.isArray(x)) {
    x.forEach((item, i) => skipPrune(item, s.items, `${parent}[${i}]`, t));
    return;
  }
  if (!isRecord(x)) return;
  for (const k of Object.keys(x)) {
    if (s.embeddedResource && META.has(k)) continue;
    const prop = s.properties?.get(k);
    if (prop !== undefined) pruneNode(x[k], prop, appendKey(parent, k), t);
    else if (s.additionalProperties !== undefined) pruneNode(x[k], s.additionalProperties.schema, appendKey(parent, k), t);
  }
}

/** Drops non-nullable nulls that have no default (those with one are defaulted later). */
function pruneNulls(x: unknown, s: Schema | undefined): void {
  if (Array.isArray(x)) {
    for (const item of x) pruneNulls(item, s?.items);
    return;
  }
  if (!isRecord(x)) return;
  for (const k of Object.keys(x)) {
    const sub = s?.properties?.get(k) ?? s?.additionalProperties?.schema;
    if (x[k] === null && sub !== undefined && !sub.nullable && !sub.hasDefault) delete x[k];
    else pruneNulls(x[k], sub);
  }
}

/** A pruned copy of `value` as it sits under schema node `s` (`root`: a resource root, whose meta fields stay). */
export function pruneValue(value: unknown, s: Schema, root: boolean): unknown {
  const out = copyJson(value);
  pruneNode(out, root ? asRoot(s) : s, '', undefined);
  return out;
}

/**
 * Drops what the schema does not specify, as kube-apiserver does when it decodes a custom object: apiVersion,
 * kind and metadata stay at the root (and in embedded resources), x-kubernetes-preserve-unknown-fields keeps
 * unknown fields below it. Then drops nulls the schema does not allow and has no default for. `unknown` lists the
 * dropped fields' paths, sorted, as Kubernetes reports them (`unknown field "spec.foo"`; see
 * {@link unknownFieldMessages}).
 */
export function prune<T extends Json>(schema: unknown, object: T): { object: T; unknown: string[] } {
  const s = readSchema(schema);
  const out = copyJson(object);
  const t: Tracker = { unknown: [] };
  pruneNode(out, asRoot(s), '', t);
  pruneNulls(out, s);
  return { object: out, unknown: t.unknown.sort() };
}

/** The strict-decoding messages for pruned paths (400 with fieldValidation=Strict, warnings with Warn). */
export const unknownFieldMessages = (paths: readonly string[]): string[] => paths.map((p) => `unknown field "${p}"`);

// ---- defaulting (pkg/apiserver/schema/defaulting) ----

const prunedDefaults = new WeakMap<Schema, unknown>();

/** A node's default, pruned by the node's own schema (Kubernetes prunes defaults when it loads the CRD). */
function defaultOf(s: Schema): unknown {
  if (!s.hasDefault) return null;
  if (!prunedDefaults.has(s)) prunedDefaults.set(s, pruneValue(s.default, s, false));
  return copyJson(prunedDefaults.get(s));
}

const nonNullableNull = (v: unknown, s: Schema | undefined): s is Schema => v === null && s !== undefined && !s.nullable;

function defaultNode(x: unknown, s: Schema | undefined): void {
  if (s === undefined) return;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      if (nonNullableNull(x[i], s.items)) x[i] = defaultOf(s.items);
      defaultNode(x[i], s.items);
    }
    return;
  }
  if (!isRecord(x)) return;
  for (const [k, prop] of s.properties ?? []) {
    if (!prop.hasDefault) continue;
    if (!Object.hasOwn(x, k) || nonNullableNull(x[k], prop)) x[k] = defaultOf(prop);
  }
  for (const k of Object.keys(x)) {
    const prop = s.properties?.get(k);
    if (prop !== undefined) defaultNode(x[k], prop);
    else if (s.additionalProperties !== undefined) {
      const ap = s.additionalProperties.schema;
      if (nonNullableNull(x[k], ap)) x[k] = defaultOf(ap);
      defaultNode(x[k], ap);
    }
  }
}

/**
 * Fills in `default` values as kube-apiserver does after pruning: at each object, missing (or non-nullable null)
 * properties get their default first, then every property is descended into, defaults just set included; list
 * items and additionalProperties values that are non-nullable nulls are defaulted too. Unlike the other
 * functions here it changes `object` itself, as Kubernetes' defaulter does (and returns it).
 */
export function applyDefaults<T extends Json>(schema: unknown, object: T): T {
  defaultNode(object, readSchema(schema));
  return object;
}

// ---- embedded resources (pkg/apiserver/schema/objectmeta, Validate) ----

function embeddedProblems(path: string, x: Json): FieldProblem[] {
  const out: FieldProblem[] = [];
  if (!Object.hasOwn(x, 'apiVersion')) out.push(required(child(path, 'apiVersion')));
  if (!Object.hasOwn(x, 'kind')) out.push(required(child(path, 'kind')));
  for (const [k, v] of Object.entries(x)) {
    if (k === 'apiVersion') {
      const p = child(path, 'apiVersion');
      if (typeof v !== 'string') out.push(invalid(p, v, 'must be a string'));
      else if (v === '') out.push(invalid(p, v, 'must not be empty'));
      else if (v.split('/').length > 2) out.push(invalid(p, v, `unexpected GroupVersion string: ${v}`));
    } else if (k === 'kind') {
      const p = child(path, 'kind');
      if (typeof v !== 'string') out.push(invalid(p, v, 'must be a string'));
      else if (v === '') out.push(invalid(p, v, 'must not be empty'));
      else {
        const errs = dns1035Label(v.toLowerCase());
        if (errs.length > 0) out.push(invalid(p, v, `may have mixed case, but should otherwise match: ${errs.join(',')}`));
      }
    }
  }
  return out;
}

/** Embedded resources below `x` (and `x` itself when `root`) must have a valid apiVersion and kind. */
export function validateEmbedded(path: string, x: unknown, s: Schema | undefined, root: boolean): FieldProblem[] {
  if (s === undefined) return [];
  const node = root ? asRoot(s) : s;
  const out: FieldProblem[] = [];
  if (Array.isArray(x)) x.forEach((item, i) => out.push(...validateEmbedded(index(path, i), item, node.items, false)));
  else if (isRecord(x)) {
    if (node.embeddedResource) out.push(...embeddedProblems(path, x));
    for (const [k, v] of Object.entries(x)) {
      const prop = node.properties?.get(k);
      if (prop !== undefined) out.push(...validateEmbedded(child(path, k), v, prop, false));
      else if (node.additionalProperties !== undefined) out.push(...validateEmbedded(key(path, k), v, node.additionalProperties.schema, false));
    }
  }
  return out;
}

// ---- x-kubernetes-list-type set and map (pkg/apiserver/schema/listtype) ----

const UNSPECIFIED = Symbol('unspecified key');

/** Go's comparison of list elements: scalars by value and type, compound values by their JSON. */
const identity = (x: unknown): string => (x === UNSPECIFIED ? 'u' : isRecord(x) || Array.isArray(x) ? `c${goJson(x)}` : `s${typeof x}:${String(x)}`);

/** The indices of the second appearance of each repeated element. */
function nonUnique(items: readonly unknown[]): number[] {
  if (items.length <= 1) return [];
  const seen = new Map<string, number>();
  const out: number[] = [];
  items.forEach((x, i) => {
    const id = identity(x);
    const times = seen.get(id) ?? 0;
    if (times === 1) out.push(i);
    seen.set(id, times + 1);
  });
  return out;
}

function listMapProblems(path: string, s: Schema, list: readonly unknown[]): FieldProblem[] {
  const bad = list.findIndex((x) => x !== null && !isRecord(x));
  if (bad >= 0) return [invalid(index(path, bad), list[bad], 'must be an object for an array of list-type map')];
  if (list.length <= 1) return [];
  const keyFields = s.listMapKeys ?? [];
  if (keyFields.length === 1) {
    const field = keyFields[0] ?? '';
    const keys = list.map((x) => (isRecord(x) && Object.hasOwn(x, field) ? x[field] : UNSPECIFIED));
    return nonUnique(keys).map((i) => duplicate(index(path, i), keys[i] === UNSPECIFIED ? {} : { [field]: keys[i] }));
  }
  const keys = list.map((x) => Object.fromEntries(keyFields.filter((f) => isRecord(x) && Object.hasOwn(x, f)).map((f) => [f, (x as Json)[f]])));
  return nonUnique(keys).map((i) => duplicate(index(path, i), keys[i]));
}

function listNode(path: string, s: Schema, x: unknown): FieldProblem[] {
  if (isRecord(x)) return listObject(path, s, x);
  if (!Array.isArray(x)) return [];
  const out: FieldProblem[] = [];
  if (s.listType === 'set') out.push(...nonUnique(x).map((i) => duplicate(index(path, i), x[i])));
  else if (s.listType === 'map') out.push(...listMapProblems(path, s, x));
  if (s.items !== undefined) x.forEach((item, i) => out.push(...listNode(index(path, i), s.items as Schema, item)));
  return out;
}

function listObject(path: string, s: Schema, x: Json): FieldProblem[] {
  const out: FieldProblem[] = [];
  const ap = s.additionalProperties?.schema;
  if (ap !== undefined) for (const [k, v] of Object.entries(x)) out.push(...listNode(key(path, k), ap, v));
  if (s.properties !== undefined) {
    for (const [k, v] of Object.entries(x)) {
      const prop = s.properties.get(k);
      if (prop !== undefined) out.push(...listNode(child(path, k), prop, v));
    }
  }
  return out;
}

// ---- validation ----

/**
 * Validates a (pruned, defaulted) custom object as kube-apiserver does on create: the schema (messages such as
 * `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`), embedded
 * resources' apiVersion and kind, and the uniqueness x-kubernetes-list-type set/map demands.
 */
export function validateObject(schema: unknown, object: Json): FieldProblem[] {
  const s = readSchema(schema);
  return [...validateValue(s, object, null), ...validateEmbedded('', object, s, false), ...listObject('', s, object)];
}

/**
 * Validates a `/status` write: only `status`, against `properties.status` of the schema (messages name fields
 * relative to status, as Kubernetes' status validator does: `status.replicas: ... replicas in body must be ...`).
 */
export function validateStatus(schema: unknown, object: Json): FieldProblem[] {
  const statusSchema = readSchema(schema).properties?.get('status');
  if (statusSchema === undefined || !Object.hasOwn(object, 'status')) return [];
  return [...validateValue(statusSchema, object.status, 'status'), ...listNode('status', statusSchema, object.status)];
}
