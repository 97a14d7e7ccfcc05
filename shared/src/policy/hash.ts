/**
 * Policy versions: a content hash, so equal policies have equal versions and the controller can publish
 * only when a proxy's policy really changed (DESIGN §5).
 *
 * version = first 16 hex digits of sha256(canonical JSON of the policy without `version`), where canonical
 * JSON is JSON without whitespace, object keys sorted by UTF-16 code units, arrays in their order, and
 * properties whose value is `undefined` left out (as `JSON.stringify` does). So key order never matters,
 * while list order, `null` vs `[]` and every value do.
 */
import { createHash } from 'node:crypto';
import type { ProxyPolicy } from './model.js';

/** A policy before it has a version (what the compiler builds). */
export type PolicyContent = Omit<ProxyPolicy, 'version'>;

/** Hex digits kept from the sha256 digest. */
export const VERSION_LENGTH = 16;

/** The version of `policy`'s content; a `version` property, if present, is ignored. */
export function policyVersion(policy: PolicyContent & { readonly version?: string }): string {
  const parts: string[] = [];
  for (const key of Object.keys(policy).sort()) {
    if (key === 'version') continue;
    const value: unknown = (policy as Readonly<Record<string, unknown>>)[key];
    if (value !== undefined) parts.push(`${JSON.stringify(key)}:${canonicalJson(value)}`);
  }
  return createHash('sha256').update(`{${parts.join(',')}}`).digest('hex').slice(0, VERSION_LENGTH);
}

/** `policy` with `version` set to the hash of its content (replacing any version it had). */
export function withVersion(policy: PolicyContent & { readonly version?: string }): ProxyPolicy {
  return { ...policy, version: policyVersion(policy) };
}

/** Same content, judged by version (both must come from `withVersion`/`policyVersion`). */
export function samePolicy(a: ProxyPolicy, b: ProxyPolicy): boolean {
  return a.version === b.version;
}

/** Canonical JSON of plain data. Throws on values JSON cannot represent faithfully (functions, NaN, bigint...). */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot hash the number ${value}`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v: unknown) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
      const obj = value as Readonly<Record<string, unknown>>;
      const parts: string[] = [];
      for (const key of Object.keys(obj).sort()) {
        const v = obj[key];
        if (v !== undefined) parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`cannot hash a ${typeof value}`);
  }
}
