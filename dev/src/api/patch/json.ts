// JSON patch (RFC 6902, `application/json-patch+json`), as the API server applies it to PATCH
// requests and to the `patch` of a mutating admission webhook's response: a list of operations
// (add, remove, replace, move, copy, test) addressed by JSON pointers, applied in order; the first
// that fails fails the whole patch.
//
// The whole list is checked before anything is applied; a malformed list (not a list, an unknown
// op, a missing or malformed path, value or from) is a PatchError with status 400, an operation
// that does not apply to this document (path not found, index out of range, test failed) one with
// status 422, as Kubernetes answers; more than 10000 operations are refused with 413, as there.
// Messages name the operation's index and say why.
// Differences from the library Kubernetes uses, all towards RFC 6902: no negative list indices,
// `test` of a missing path fails even against null, the whole document may be replaced by any value.

import { PatchError } from './error.js';
import { formatPointer, parseIndex, parsePointer } from './pointer.js';
import { brief, cloneJson, getOwn, hasOwn, isObject, jsonEqual, jsonType, setOwn } from './value.js';

type OpName = 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';

interface Operation {
  readonly op: OpName;
  readonly path: readonly string[];
  readonly from?: readonly string[];
  readonly value?: unknown;
  /** "operation 2 (replace "/spec/replicas")", the start of this operation's messages. */
  readonly label: string;
}

/** Kubernetes refuses longer JSON patches (413). */
const maxOperations = 10000;

const opNames: ReadonlySet<string> = new Set<OpName>(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/**
 * Applies a JSON patch (a list of RFC 6902 operations) to `target` and returns the result, sharing
 * no object with either argument (neither is modified). Throws a PatchError if the list is
 * malformed or an operation does not apply.
 */
export function applyJsonPatch(target: unknown, ops: unknown): unknown {
  const operations = decodeOperations(ops);
  let document = cloneJson(target);
  for (const operation of operations) document = apply(document, operation);
  return document;
}

function decodeOperations(ops: unknown): Operation[] {
  if (!Array.isArray(ops)) {
    throw new PatchError(`json patch must be a JSON array of operations, got ${jsonType(ops)}`);
  }
  if (ops.length > maxOperations) {
    throw new PatchError(`The allowed maximum operations in a JSON patch is ${maxOperations}, got ${ops.length}`, 413);
  }
  return ops.map((raw: unknown, index) => decodeOperation(raw, index));
}

function decodeOperation(raw: unknown, index: number): Operation {
  const at = `json patch operation ${index}`;
  if (!isObject(raw)) throw new PatchError(`${at}: must be an object with "op" and "path", got ${jsonType(raw)}`);
  const op = getOwn(raw, 'op');
  if (op === undefined) throw new PatchError(`${at}: missing "op"`);
  if (typeof op !== 'string' || !opNames.has(op)) {
    throw new PatchError(`${at}: unknown op ${brief(op)}; must be add, remove, replace, move, copy or test`);
  }
  const name = op as OpName;
  const path = pointerMember(raw, 'path', `${at} (${name})`);
  const fromNeeded = name === 'move' || name === 'copy';
  const from = fromNeeded ? pointerMember(raw, 'from', `${at} (${name} to ${brief(formatPointer(path))})`) : undefined;
  const label = `${at} (${name} ${from === undefined ? '' : `from ${brief(formatPointer(from))} to `}${brief(formatPointer(path))})`;
  const value = getOwn(raw, 'value');
  if ((name === 'add' || name === 'replace' || name === 'test') && value === undefined) {
    throw new PatchError(`${label}: missing "value"`);
  }
  if (name === 'move' && from !== undefined && isProperPrefix(from, path)) {
    throw new PatchError(`${label}: cannot move a value into one of its own children`);
  }
  return {
    op: name,
    path,
    label,
    ...(from === undefined ? {} : { from }),
    ...(value === undefined ? {} : { value }),
  };
}

function pointerMember(raw: Record<string, unknown>, member: 'path' | 'from', at: string): string[] {
  const pointer = getOwn(raw, member);
  if (pointer === undefined) throw new PatchError(`${at}: missing "${member}"`);
  if (typeof pointer !== 'string') throw new PatchError(`${at}: "${member}" must be a string, got ${jsonType(pointer)}`);
  const tokens = parsePointer(pointer);
  if ('error' in tokens) throw new PatchError(`${at}: invalid ${member} ${brief(pointer)}: ${tokens.error}`);
  return tokens;
}

function isProperPrefix(prefix: readonly string[], tokens: readonly string[]): boolean {
  return prefix.length < tokens.length && prefix.every((token, i) => tokens[i] === token);
}

function apply(document: unknown, operation: Operation): unknown {
  const { op, path, from, label } = operation;
  const fail: Fail = (why) => {
    throw new PatchError(`${label}: ${why}`, 422);
  };
  switch (op) {
    case 'add':
      return add(document, path, cloneJson(operation.value), fail);
    case 'remove':
      if (path.length === 0) return fail('cannot remove the whole document');
      remove(document, path, fail);
      return document;
    case 'replace':
      if (path.length === 0) return cloneJson(operation.value);
      replace(document, path, cloneJson(operation.value), fail);
      return document;
    case 'move': {
      const source = from ?? [];
      // Moving a value onto itself changes nothing; into its own children was refused when decoding.
      if (source.length === path.length && source.every((token, i) => path[i] === token)) return document;
      const value = get(document, source, fail);
      remove(document, source, fail);
      return add(document, path, value, fail);
    }
    case 'copy':
      return add(document, path, cloneJson(get(document, from ?? [], fail)), fail);
    case 'test': {
      const actual = get(document, path, fail);
      if (!jsonEqual(actual, operation.value)) fail(`test failed: the value is ${brief(actual)}, not ${brief(operation.value)}`);
      return document;
    }
  }
}

type Fail = (why: string) => never;

/** The list or object holding the value `tokens` points to (all but the last token resolved). */
function parentOf(document: unknown, tokens: readonly string[], fail: Fail): unknown[] | Record<string, unknown> {
  const parentTokens = tokens.slice(0, -1);
  const parent = get(document, parentTokens, fail);
  if (Array.isArray(parent) || isObject(parent)) return parent;
  return fail(`${brief(formatPointer(parentTokens))} is ${article(jsonType(parent))}, not an object or a list`);
}

function get(document: unknown, tokens: readonly string[], fail: Fail): unknown {
  let current = document;
  for (const [depth, token] of tokens.entries()) {
    const here = formatPointer(tokens.slice(0, depth));
    if (Array.isArray(current)) {
      const index = parseIndex(token, current.length, false);
      if (typeof index !== 'number') return fail(`${brief(formatPointer(tokens.slice(0, depth + 1)))} does not exist: ${index.error}`);
      current = current[index];
    } else if (isObject(current)) {
      if (!hasOwn(current, token)) return fail(`${brief(formatPointer(tokens.slice(0, depth + 1)))} does not exist`);
      current = current[token];
    } else {
      return fail(`${brief(formatPointer(tokens.slice(0, depth + 1)))} does not exist: ${brief(here)} is ${article(jsonType(current))}`);
    }
  }
  return current;
}

function add(document: unknown, tokens: readonly string[], value: unknown, fail: Fail): unknown {
  if (tokens.length === 0) return value;
  const parent = parentOf(document, tokens, fail);
  const key = tokens[tokens.length - 1] ?? '';
  if (Array.isArray(parent)) {
    const index = parseIndex(key, parent.length, true);
    if (typeof index !== 'number') return fail(index.error);
    parent.splice(index, 0, value);
  } else {
    setOwn(parent, key, value);
  }
  return document;
}

function remove(document: unknown, tokens: readonly string[], fail: Fail): void {
  const parent = parentOf(document, tokens, fail);
  const key = tokens[tokens.length - 1] ?? '';
  if (Array.isArray(parent)) {
    parent.splice(existingIndex(parent, tokens, fail), 1);
  } else {
    if (!hasOwn(parent, key)) fail(`${brief(formatPointer(tokens))} does not exist`);
    delete parent[key];
  }
}

/** Replaces the existing value `tokens` points to, in place (an object keeps its member order). */
function replace(document: unknown, tokens: readonly string[], value: unknown, fail: Fail): void {
  const parent = parentOf(document, tokens, fail);
  const key = tokens[tokens.length - 1] ?? '';
  if (Array.isArray(parent)) {
    parent[existingIndex(parent, tokens, fail)] = value;
  } else {
    if (!hasOwn(parent, key)) fail(`${brief(formatPointer(tokens))} does not exist`);
    setOwn(parent, key, value);
  }
}

function existingIndex(list: readonly unknown[], tokens: readonly string[], fail: Fail): number {
  const index = parseIndex(tokens[tokens.length - 1] ?? '', list.length, false);
  return typeof index === 'number' ? index : fail(`${brief(formatPointer(tokens))} does not exist: ${index.error}`);
}

function article(type: string): string {
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}
