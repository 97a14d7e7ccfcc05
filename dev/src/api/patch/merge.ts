// JSON merge patch (RFC 7386, `application/merge-patch+json`): the patch is a partial object; a
// member set to null removes that member, an object member merges recursively into the target's,
// anything else (string, number, list) replaces the target's value as a whole.
//
// One deliberate difference from the RFC's pseudo-code, the one Kubernetes makes: values the patch
// sets are stored without their null members at any depth, including objects inside lists
// (`{"ports": [{"name": null, "port": 80}]}` stores `[{"port": 80}]`), since in Kubernetes objects
// null means "absent". Null list elements stay.

import { cloneJson, getOwn, hasOwn, isObject, pruneNulls, setOwn, type JsonObject } from './value.js';

/**
 * Applies a JSON merge patch to `target` and returns the result, sharing no object with either
 * argument (neither is modified). A patch that is not an object replaces the target as a whole.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return pruneNulls(patch);
  const base: JsonObject = isObject(target) ? target : {};
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(base)) {
    if (!hasOwn(patch, key)) setOwn(result, key, cloneJson(value));
    else if (patch[key] !== null) setOwn(result, key, applyMergePatch(value, patch[key]));
  }
  for (const [key, value] of Object.entries(patch)) {
    if (value !== null && !hasOwn(base, key)) setOwn(result, key, applyMergePatch(getOwn(base, key), value));
  }
  return result;
}
