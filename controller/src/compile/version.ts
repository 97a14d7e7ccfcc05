/**
 * PERFORMANCE: the policy version without re-serialising shared parts for every proxy.
 *
 * `policyVersion` (shared/src/policy/hash.ts) is sha256 over the canonical JSON of the whole policy. Most of a
 * policy (outbound services, authorizations) is shared between proxies and memoised by the mesh index, yet
 * `policyVersion` re-serialises it for each proxy: at 10k services that was ~75% of compile time. Here the
 * canonical JSON of those shared parts is taken from a cache (`cached`), the rest is built by the same rules
 * as `canonicalJson` (keys sorted by UTF-16 code units, `undefined` properties left out, `undefined` array
 * items as `null`, primitives by `canonicalJson` itself), and the pieces are concatenated (V8 ropes: no copying
 * until the hash reads the string). The result is identical to `policyVersion(body)` (the compile fixtures check
 * `policy.version === policyVersion(policy)`; the compile benchmark checks it on every sampled proxy).
 */
import { createHash } from 'node:crypto';
import { canonicalJson, VERSION_LENGTH, type PolicyContent } from '@loom/shared/policy';

/** The canonical JSON of an object when it is a memoised shared part, else `undefined`. */
export type CanonicalCache = (value: object) => string | undefined;

/** Same as `policyVersion(body)` for a body without `version`. */
export function versionOf(body: PolicyContent, cached: CanonicalCache): string {
  return createHash('sha256').update(canonical(body, cached)).digest('hex').slice(0, VERSION_LENGTH);
}

/** `canonicalJson(value)`, reusing cached parts. */
function canonical(value: unknown, cached: CanonicalCache): string {
  if (typeof value !== 'object' || value === null) return canonicalJson(value);
  const hit = cached(value);
  if (hit !== undefined) return hit;
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      out += `${i > 0 ? ',' : ''}${v === undefined ? 'null' : canonical(v, cached)}`;
    }
    return `${out}]`;
  }
  const obj = value as Readonly<Record<string, unknown>>;
  let out = '{';
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonical(v, cached)}`;
  }
  return `${out}}`;
}
