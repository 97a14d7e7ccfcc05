/** Helpers shared by the fixture tests: where the fixtures are, how a scenario is loaded, seeded shuffling. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProxyPolicy } from '@loom/shared/policy';
import { compile, meshedProxies, type ProxyRef } from '../../src/compile/index.js';
import { loadManifests, readManifestFiles, type LoadedManifests } from '../../src/sources/manifests.js';

/** `controller/test/fixtures/` (tests run from `controller/dist/test/compile/`). */
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

/** Scenario folder names, sorted. */
export function scenarios(): string[] {
  return readdirSync(FIXTURES)
    .filter((n) => !n.startsWith('.') && statSync(join(FIXTURES, n)).isDirectory())
    .sort();
}

/** Loads `<scenario>/manifests.yaml` as the CLI would (diagnostics name the file `manifests.yaml`). */
export async function loadScenario(name: string): Promise<LoadedManifests> {
  return loadManifests(await readManifestFiles(['manifests.yaml'], join(FIXTURES, name)));
}

/** `expected/<namespace>.<pod>.json` */
export function policyFile(proxy: ProxyRef): string {
  return `${proxy.namespace}.${proxy.pod}.json`;
}

/** Every meshed proxy's policy of a scenario, by `namespace/pod`. */
export async function policiesOf(name: string): Promise<{ loaded: LoadedManifests; policies: Map<string, ProxyPolicy> }> {
  const loaded = await loadScenario(name);
  const policies = new Map<string, ProxyPolicy>();
  for (const proxy of meshedProxies(loaded.snapshot)) policies.set(`${proxy.namespace}/${proxy.pod}`, compile(loaded.snapshot, proxy).policy);
  return { loaded, policies };
}

/** A copy of `items` in an order fixed by `seed` (never the original order when there are 3+ items). */
export function shuffled<T>(items: readonly T[], seed: string): T[] {
  let state = 2166136261;
  for (const ch of seed) state = Math.imul(state ^ ch.charCodeAt(0), 16777619) >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  if (out.length > 2 && out.every((x, i) => x === items[i])) out.reverse();
  return out;
}
