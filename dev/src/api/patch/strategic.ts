// Kubernetes' strategic merge patch (`application/strategic-merge-patch+json`), the server side:
// what kubectl apply (client-side), patch, edit, label, annotate and set send for built-in kinds.
// It is a JSON merge patch (null deletes a member, objects merge recursively) in which some lists
// merge too: a schema (PatchSchema, from the `patchStrategy`/`patchMergeKey` tags of the Go API
// types) says which lists merge and by which key. Directives in the patch steer it:
//
// - `$patch: replace` in an object replaces the object instead of merging into it; as a list
//   element (`{$patch: replace}`) it replaces the list by the patch's other elements;
// - `$patch: delete` in an object empties it; as a list element (`{name: x, $patch: delete}`) it
//   removes the elements whose merge key equals x;
// - `$patch: merge` states the default (Kubernetes 1.32 rejects it; it is accepted here as a no-op);
// - `$retainKeys: [a, b]` in an object drops the object's members not listed (and the patch may set
//   only listed members), for union types such as a Deployment's `strategy` or a volume's source;
// - `$deleteFromPrimitiveList/<field>: [x]` removes x from the list of primitives <field>;
// - `$setElementOrder/<field>: [...]` gives the order of <field>'s elements after the merge (the
//   merge key alone for lists of objects), elements the patch does not know keeping their place
//   relative to the others as well as can be.
//
// The algorithm is the one of k8s.io/apimachinery/pkg/util/strategicpatch (mergeMap and friends),
// including the order of merged lists, which clients see. Deliberate differences, none of which
// kubectl produces: an unknown `$` member in a patched object is an error (Kubernetes rejects it
// when decoding the typed object); a value the object does not have yet is stored without null
// members and directives, and `$patch: replace`/`merge` there keep their content (Kubernetes drops
// any object carrying `$patch` there); a field missing from the schema has no strategy (maps merge,
// lists are replaced) instead of failing the lookup; a `$deleteFromPrimitiveList` list is applied
// after the patch's other members so that it wins; malformed patches are 400s (Kubernetes answers
// several of them with 500).

import { PatchError } from './error.js';
import {
  cloneJson,
  getOwn,
  goFormat,
  goType,
  hasOwn,
  isObject,
  jsonType,
  pruneNulls,
  setOwn,
  type JsonObject,
} from './value.js';

/**
 * How a field is patched, from the Go API types' `patchStrategy` tag: lists with `merge` merge
 * element-wise (by `mergeKey` for lists of objects, as sets for lists of primitives), other lists
 * are replaced as a whole; objects merge unless `replace`. `retainKeys` marks union types whose
 * patches carry `$retainKeys` (the directive is honoured wherever it appears, as in Kubernetes).
 */
export type PatchStrategy = 'merge' | 'replace' | 'retainKeys' | 'merge,retainKeys';

/**
 * Where the merge lists of a kind are: a tree following the JSON shape of the object. A field's
 * schema holds both how the field itself is patched (`strategy`, `mergeKey`) and what it contains
 * (`fields` for an object, `items` for the elements of a list). Fields not listed have no strategy:
 * objects merge recursively, lists are replaced. Example, a Pod's containers merged by name and
 * each container's env by name:
 *
 *     { fields: { spec: { fields: { containers: {
 *         strategy: 'merge', mergeKey: 'name',
 *         items: { fields: { env: { strategy: 'merge', mergeKey: 'name' } } } } } } } }
 */
export interface PatchSchema {
  /** How this field is patched; absent: objects merge, lists are replaced. */
  readonly strategy?: PatchStrategy;
  /** For a merging list of objects: the member identifying an element (`name`, `containerPort`). */
  readonly mergeKey?: string;
  /** For an object: the schemas of its members, by JSON name. */
  readonly fields?: Readonly<Record<string, PatchSchema>>;
  /** For a list of objects: the schema of each element. */
  readonly items?: PatchSchema;
}

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';

/**
 * Applies a strategic merge patch to `target` (an object; null or undefined stands for `{}`) with
 * the schema of its kind, and returns the result, sharing no object with either argument (neither
 * is modified). Throws a PatchError for a malformed patch.
 */
export function applyStrategicMergePatch(target: unknown, patch: unknown, schema: PatchSchema): unknown {
  if (!isObject(patch)) {
    throw new PatchError(`a strategic merge patch must be a JSON object, got ${jsonType(patch)}`);
  }
  if (target !== null && target !== undefined && !isObject(target)) {
    throw new PatchError(`a strategic merge patch applies to a JSON object, got ${jsonType(target)}`);
  }
  const original = isObject(target) ? (cloneJson(target) as JsonObject) : {};
  return mergeMap(original, cloneJson(patch) as JsonObject, schema, '');
}

// Both arguments of mergeMap and mergeList are private copies that may be modified.

function mergeMap(original: JsonObject, patch: JsonObject, schema: PatchSchema | undefined, path: string): JsonObject {
  if (hasOwn(patch, PATCH)) {
    const directive = patch[PATCH];
    if (directive === 'delete') return {};
    if (directive !== 'replace' && directive !== 'merge') {
      throw new PatchError(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(patch)}`);
    }
    delete patch[PATCH];
    if (directive === 'replace') return materialize(patch) as JsonObject;
  }
  for (const key of Object.keys(patch)) {
    if (key.startsWith('$') && key !== RETAIN_KEYS && !key.startsWith(SET_ELEMENT_ORDER) && !key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      throw new PatchError(`unknown strategic merge patch directive ${JSON.stringify(key)} in ${where(path)}`);
    }
  }
  applyRetainKeys(original, patch);
  applySetElementOrder(original, patch, schema, path);

  const deletions: [string, unknown][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) deletions.push([key, value]);
    else mergeField(original, key, value, schema, path);
  }
  for (const [key, value] of deletions) deleteFromPrimitiveList(original, key, value);
  return original;
}

function mergeField(original: JsonObject, key: string, value: unknown, schema: PatchSchema | undefined, path: string): void {
  if (value === null) {
    delete original[key];
    return;
  }
  const current = getOwn(original, key);
  const field = fieldSchema(schema, key);
  if (isObject(current) && isObject(value)) {
    setOwn(original, key, field?.strategy === 'replace' ? pruneNulls(value) : mergeMap(current, value, field, join(path, key)));
  } else if (Array.isArray(current) && Array.isArray(value)) {
    setOwn(original, key, mergeList(current, value, field, join(path, key)));
  } else {
    // Absent from the object, or of another type: the patch's value, as if applied to nothing.
    const fresh = materialize(value);
    if (fresh === DROP) delete original[key];
    else setOwn(original, key, fresh);
  }
}

function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!hasOwn(patch, RETAIN_KEYS)) return;
  const retained = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(retained)) {
    throw new PatchError(`invalid patch format of retainKeys: $retainKeys must be a list of field names, got ${jsonType(retained)}`);
  }
  const keep = new Set<unknown>(retained);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(SET_ELEMENT_ORDER) || key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) continue;
    if (!keep.has(key)) {
      throw new PatchError(`invalid patch format of retainKeys: the patch sets ${JSON.stringify(key)}, which $retainKeys does not list`);
    }
  }
  for (const key of Object.keys(original)) {
    if (!keep.has(key)) delete original[key];
  }
}

function deleteFromPrimitiveList(original: JsonObject, key: string, value: unknown): void {
  const field = directiveField(key, DELETE_FROM_PRIMITIVE_LIST, 'invalid patch format of primitive list');
  if (value === null) {
    delete original[field];
    return;
  }
  if (!Array.isArray(value) || !value.every(isScalar)) {
    throw new PatchError(`invalid patch format of primitive list: ${key} must be a list of strings, numbers or booleans`);
  }
  const current = getOwn(original, field);
  const deleted = new Set<unknown>(value);
  if (Array.isArray(current)) setOwn(original, field, current.filter((item) => !deleted.has(item)));
}

/** `$setElementOrder/<field>`: merges <field> (if the patch has it) and puts it in the given order. */
function applySetElementOrder(original: JsonObject, patch: JsonObject, schema: PatchSchema | undefined, path: string): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw badArgType('[]interface {}', order);
    const name = directiveField(key, SET_ELEMENT_ORDER, 'invalid patch format of setElementOrder list');
    const currentValue = getOwn(original, name) ?? null;
    const patchValue = getOwn(patch, name);
    if (currentValue !== null && !Array.isArray(currentValue)) throw badArgType('[]interface {}', currentValue);
    if (patchValue !== undefined && !Array.isArray(patchValue)) throw badArgType('[]interface {}', patchValue);
    const current: unknown[] | null = currentValue;
    const patchList: unknown[] | undefined = patchValue;
    const field = fieldSchema(schema, name);
    const mergeKey = field?.mergeKey ?? '';
    validateOrderOfPatchList(patchList ?? [], order, mergeKey);

    let merged: unknown[];
    if (current !== null && patchList !== undefined) merged = mergeList(current, patchList, field, join(path, name));
    else if (current !== null) merged = current;
    else if (patchList !== undefined) merged = materialize(patchList) as unknown[];
    else continue;
    delete patch[name];

    const kind = elementKind([...(current ?? []), ...(patchList ?? [])], join(path, name));
    if (kind === undefined) {
      setOwn(original, name, merged);
      continue;
    }
    if (kind === 'map' && mergeKey === '') {
      throw new PatchError(`cannot merge lists without merge key for ${join(path, name)}`);
    }
    const merges = field?.strategy === 'merge' || field?.strategy === 'merge,retainKeys';
    const serverOrder =
      current === null ? [] : merges && kind === 'map' && patchList !== undefined ? goAliasedList(current, patchList, mergeKey) : current;
    const [patchItems, serverOnly] = partition(merged, order, mergeKey);
    setOwn(original, name, normalizeElementOrder(patchItems, serverOnly, order, serverOrder, mergeKey, kind));
  }
}

/**
 * The object's list as Kubernetes sees it when it orders a merged list by `$setElementOrder`. Go's
 * merge deletes elements in place (shifting the later ones left, the last slot keeping its old
 * element) and appends new elements into the same backing array, which the ordering step still
 * holds as the object's list; so the elements after the deletions, then the first new elements in
 * the freed slots, then the stale tail. Kubernetes' own tests assert the order that results.
 */
function goAliasedList(original: readonly unknown[], patch: readonly unknown[], mergeKey: string): unknown[] {
  const backing = [...original];
  let length = backing.length;
  const matches = (key: unknown) => (item: unknown) => isObject(item) && hasOwn(item, mergeKey) && item[mergeKey] === key;
  const isSpecial = (element: unknown): boolean => isObject(element) && hasOwn(element, PATCH) && element[PATCH] !== 'merge';
  let replace = false;
  for (const element of patch) {
    if (!isObject(element) || !isSpecial(element)) continue;
    if (element[PATCH] === 'replace') replace = true;
    if (element[PATCH] !== 'delete') continue;
    for (;;) {
      const index = backing.slice(0, length).findIndex(matches(element[mergeKey]));
      if (index < 0) break;
      backing.copyWithin(index, index + 1, length);
      length--;
    }
  }
  if (replace) return backing;
  let grown = length;
  const keys = new Set(backing.slice(0, length).map((item) => (isObject(item) ? getOwn(item, mergeKey) : undefined)));
  for (const element of patch) {
    if (!isObject(element) || isSpecial(element) || keys.has(getOwn(element, mergeKey))) continue;
    if (grown < backing.length) backing[grown] = element;
    grown++;
    keys.add(getOwn(element, mergeKey));
  }
  return backing;
}

/** The items of a patch list (deletions aside) must come in the order `$setElementOrder` gives. */
function validateOrderOfPatchList(patchList: readonly unknown[], order: readonly unknown[], mergeKey: string): void {
  if (patchList.length === 0 || order.length === 0) return;
  const items = mergeKey === '' ? patchList : withoutDeletions(patchList);
  let p = 0;
  let o = 0;
  while (p < items.length && o < order.length) {
    const item = items[p];
    if (isObject(item) && hasOwn(item, PATCH)) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(item, order[o], mergeKey)) p++;
    o++;
  }
  if (p < items.length) {
    throw new PatchError(`the order in patch list: ${goFormat(patchList)} doesn't match $setElementOrder list: ${goFormat(order)}`);
  }
}

function withoutDeletions(list: readonly unknown[]): unknown[] {
  return list.filter((item) => {
    if (!isObject(item)) throw badArgType('map[string]interface {}', item);
    return item[PATCH] !== 'delete';
  });
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (mergeKey === '') return left === right;
  if (!isObject(left)) throw badArgType('map[string]interface {}', left);
  if (!isObject(right)) throw badArgType('map[string]interface {}', right);
  if (!hasOwn(left, mergeKey)) throw noMergeKey(left, mergeKey);
  if (!hasOwn(right, mergeKey)) throw noMergeKey(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

function mergeList(original: unknown[], patch: unknown[], field: PatchSchema | undefined, path: string): unknown[] {
  const strategy = field?.strategy;
  if (strategy !== 'merge' && strategy !== 'merge,retainKeys') return pruneNulls(patch) as unknown[];
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind([...original, ...patch], path);
  const mergeKey = field?.mergeKey ?? '';
  if (kind !== 'map') {
    // A set: the union, elements of the patch in its order, the others where they were.
    const merged = Array.from(new Set<unknown>([...original, ...patch]));
    const [patchItems, serverOnly] = partition(merged, patch, '');
    return normalizeElementOrder(patchItems, serverOnly, patch, original, '', 'primitive');
  }
  if (mergeKey === '') throw new PatchError(`cannot merge lists without merge key for ${path}`);
  const [remaining, items] = applySpecialElements(original, patch, mergeKey);
  const merged = [...remaining];
  const indexOfKey = new Map<unknown, number>();
  merged.forEach((element, index) => {
    if (isObject(element) && hasOwn(element, mergeKey) && !indexOfKey.has(element[mergeKey])) indexOfKey.set(element[mergeKey], index);
  });
  for (const item of items as JsonObject[]) {
    if (!hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
    const key = item[mergeKey];
    const index = indexOfKey.get(key);
    const existing = index === undefined ? undefined : merged[index];
    if (index !== undefined && isObject(existing)) {
      merged[index] = mergeMap(existing, item, field?.items, `${path}[${mergeKey}=${goFormat(key)}]`);
    } else {
      indexOfKey.set(key, merged.length);
      merged.push(materialize(item));
    }
  }
  const [patchItems, serverOnly] = partition(merged, items, mergeKey);
  return normalizeElementOrder(patchItems, serverOnly, items, remaining, mergeKey, 'map');
}

/**
 * The list elements carrying `$patch`: deletions remove elements from `original`, `{$patch:
 * replace}` makes the patch's other elements the whole list. Returns the original elements left
 * and the patch's ordinary elements, to merge.
 */
function applySpecialElements(original: unknown[], patch: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const deleted = new Set<unknown>();
  const items: unknown[] = [];
  let replace = false;
  for (const element of patch as JsonObject[]) {
    if (!hasOwn(element, PATCH)) {
      items.push(element);
      continue;
    }
    const directive = element[PATCH];
    if (directive === 'delete') {
      if (!hasOwn(element, mergeKey)) throw noMergeKey(element, mergeKey);
      deleted.add(element[mergeKey]);
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      delete element[PATCH];
      if (Object.keys(element).length > 0) items.push(element);
    } else {
      throw new PatchError(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(element)}`);
    }
  }
  if (replace) return [items.map(materialize).filter((item) => item !== DROP), []];
  const remaining = original.filter((item) => !(isObject(item) && hasOwn(item, mergeKey) && deleted.has(item[mergeKey])));
  return [remaining, items];
}

type ElementKind = 'map' | 'primitive';

/** Whether a list holds objects or primitives (undefined if empty); mixed lists are rejected. */
function elementKind(elements: readonly unknown[], path: string): ElementKind | undefined {
  let first: string | undefined;
  for (const element of elements) {
    if (Array.isArray(element)) throw new PatchError(`lists of lists are not supported (${path})`, 422);
    const type = jsonType(element);
    first ??= type;
    if (type !== first) throw new PatchError(`list element types are not identical: ${goFormat(elements)} (${path})`);
  }
  if (first === undefined) return undefined;
  return first === 'object' ? 'map' : 'primitive';
}

/** Splits `list` into the elements present in `by` (by merge key, or by value) and the others. */
function partition(list: readonly unknown[], by: readonly unknown[], mergeKey: string): [unknown[], unknown[]] {
  const present: unknown[] = [];
  const absent: unknown[] = [];
  const keys = new Set<unknown>(mergeKey === '' ? by : by.filter(isObject).filter((other) => hasOwn(other, mergeKey)).map((other) => other[mergeKey]));
  for (const element of list) {
    if (mergeKey !== '') {
      if (!isObject(element)) throw badArgType('map[string]interface {}', element);
      if (!hasOwn(element, mergeKey)) throw noMergeKey(element, mergeKey);
    }
    (keys.has(mergeKey === '' ? element : (element as JsonObject)[mergeKey]) ? present : absent).push(element);
  }
  return [present, absent];
}

/**
 * The merged list's order: the patch's elements in the patch's order, the elements only the object
 * has in the object's order, the two interleaved so that each of the latter stays before the
 * elements that followed it in the object.
 */
function normalizeElementOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: readonly unknown[],
  serverOrder: readonly unknown[],
  mergeKey: string,
  kind: ElementKind,
): unknown[] {
  const sortedPatch = sortByOrder(patchItems, patchOrder, mergeKey, kind);
  const sortedServer = sortByOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSorted(sortedServer, sortedPatch, serverOrder, mergeKey, kind);
}

/**
 * `list` sorted by the position of each element in `order`, stably. Kubernetes sorts with a
 * comparison that calls elements missing from `order` smaller than anything; when there are such
 * elements, insertion sort (what Go's stable sort does on up to 20 elements) gives its result.
 */
function sortByOrder(list: unknown[], order: readonly unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  let sorted = list;
  let deletions: unknown[] = [];
  if (kind === 'map') {
    for (const element of [...list, ...order]) {
      if (!isObject(element)) throw badArgType('map[string]interface {}', element);
      if (!hasOwn(element, mergeKey)) throw noMergeKey(element, mergeKey);
    }
    sorted = list.filter((element) => (element as JsonObject)[PATCH] !== 'delete');
    deletions = list.filter((element) => (element as JsonObject)[PATCH] === 'delete');
  }
  const positions = new Positions(order, mergeKey, kind);
  if (sorted.every((element) => positions.of(element) >= 0)) {
    return [...[...sorted].sort((a, b) => positions.of(a) - positions.of(b)), ...deletions];
  }
  const less = (a: unknown, b: unknown): boolean => {
    const i = positions.of(a);
    const j = positions.of(b);
    return i < 0 || j < 0 || i < j;
  };
  const result = [...sorted];
  for (let i = 1; i < result.length; i++) {
    for (let j = i; j > 0 && less(result[j], result[j - 1]); j--) {
      [result[j - 1], result[j]] = [result[j], result[j - 1]];
    }
  }
  return [...result, ...deletions];
}

/** Inserts each of `left` into `right` before the first element of `right` it preceded in `order`. */
function mergeSorted(left: unknown[], right: unknown[], order: readonly unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  const positions = new Positions(order, mergeKey, kind);
  const result: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) result.push(right[j++]);
    else if (j >= right.length) result.push(left[i++]);
    else {
      const li = positions.of(left[i]);
      const ri = positions.of(right[j]);
      if (li >= 0 && ri >= 0 && li < ri) result.push(left[i++]);
      else result.push(right[j++]);
    }
  }
  return result;
}

/** Where elements first appear in a list: by merge key for objects, by value for primitives. */
class Positions {
  readonly #first = new Map<unknown, number>();
  readonly #mergeKey: string;
  readonly #kind: ElementKind;

  constructor(list: readonly unknown[], mergeKey: string, kind: ElementKind) {
    this.#mergeKey = mergeKey;
    this.#kind = kind;
    list.forEach((item, index) => {
      const key = this.#key(item);
      if (!this.#first.has(key)) this.#first.set(key, index);
    });
  }

  /** The index of the first element of the list with the same key as `element`, or -1. */
  of(element: unknown): number {
    return this.#first.get(this.#key(element)) ?? -1;
  }

  #key(item: unknown): unknown {
    if (this.#kind !== 'map') return item;
    return isObject(item) ? getOwn(item, this.#mergeKey) : undefined;
  }
}

const DROP: unique symbol = Symbol('drop');

/**
 * A patch value for which the object has nothing to merge into: the value the patch describes,
 * without null members, directive members, deleted elements or objects marked for deletion.
 */
function materialize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(materialize).filter((item) => item !== DROP);
  if (!isObject(value)) return value;
  const copy: JsonObject = {};
  if (hasOwn(value, PATCH)) {
    const directive = value[PATCH];
    if (directive === 'delete' || Object.keys(value).length === 1) return DROP;
    if (directive !== 'replace' && directive !== 'merge') {
      throw new PatchError(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(value)}`);
    }
  }
  for (const [key, item] of Object.entries(value)) {
    if (item === null || key === PATCH || key === RETAIN_KEYS || key.startsWith(SET_ELEMENT_ORDER) || key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      continue;
    }
    const fresh = materialize(item);
    if (fresh !== DROP) setOwn(copy, key, fresh);
  }
  return copy;
}

function fieldSchema(schema: PatchSchema | undefined, key: string): PatchSchema | undefined {
  const fields = schema?.fields;
  return fields !== undefined && Object.hasOwn(fields, key) ? fields[key] : undefined;
}

/** The field a `$prefix/<field>` directive names. */
function directiveField(key: string, prefix: string, malformed: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) throw new PatchError(`${malformed}: ${JSON.stringify(key)}`);
  return key.slice(slash + 1);
}

function isScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function noMergeKey(element: JsonObject, mergeKey: string): PatchError {
  return new PatchError(`map: ${goFormat(element)} does not contain declared merge key: ${mergeKey}`);
}

function badArgType(expected: string, actual: unknown): PatchError {
  return new PatchError(`expected a ${expected}, but received a ${goType(actual)}`);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function where(path: string): string {
  return path === '' ? 'the patch' : path;
}
