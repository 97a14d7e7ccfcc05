/**
 * Reading stored objects (plain JSON of unknown shape) the way Kubernetes' printers read its typed objects: a field
 * that is missing or of another type reads as Go's zero value ('' / 0 / false / empty). Pure.
 */

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value at `path` below `value`, or undefined when a step is missing or not an object. */
export function at(value: unknown, ...path: readonly string[]): unknown {
  let cur = value;
  for (const key of path) {
    if (!isRecord(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** A string field, '' otherwise (Go's zero value). */
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** An integer field (int32/int64 in Go), 0 otherwise. */
export const int = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : 0);

/** A boolean field, false otherwise. */
export const bool = (v: unknown): boolean => v === true;

/** An array field, [] otherwise. */
export const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);

/** An object field, {} otherwise. */
export const record = (v: unknown): Readonly<Record<string, unknown>> => (isRecord(v) ? v : {});

/** How many keys a map field has (Go's `len(map)`), 0 when it is not a map. */
export const size = (v: unknown): number => (isRecord(v) ? Object.keys(v).length : 0);
