/**
 * nft or legacy? Like Kubernetes' iptables-wrapper: use the backend that already holds rules in this network
 * namespace (more rule lines in `iptables-<backend>-save` + `ip6tables-<backend>-save`), defaulting to nft; a
 * backend whose programs fail here is not a candidate. The decision is a pure function of the probes.
 */
import { BACKENDS, checkResult, IptablesError, programName, type Backend, type Runner } from './iptables.js';
import { countRuleLines } from './save.js';

export type BackendProbe =
  | { readonly available: true; readonly ruleLines: number }
  | { readonly available: false; readonly failure: IptablesError };

export type BackendChoice =
  | { readonly ok: true; readonly backend: Backend; readonly reason: string }
  | { readonly ok: false; readonly failure: IptablesError };

export function chooseBackend(probes: Readonly<Record<Backend, BackendProbe>>): BackendChoice {
  const { nft, legacy } = probes;
  // Both backends need NET_ADMIN: a refusal from either means the other cannot work either (a save of no
  // loaded legacy tables needs no privilege and succeeds, so "the other one worked" proves nothing).
  for (const probe of [nft, legacy]) if (!probe.available && probe.failure.kind === 'permission') return { ok: false, failure: probe.failure };
  if (nft.available && legacy.available) {
    if (legacy.ruleLines > nft.ruleLines) {
      return { ok: true, backend: 'legacy', reason: `legacy holds more rules (${legacy.ruleLines}) than nft (${nft.ruleLines})` };
    }
    return {
      ok: true,
      backend: 'nft',
      reason: nft.ruleLines > legacy.ruleLines ? `nft holds more rules (${nft.ruleLines}) than legacy (${legacy.ruleLines})` : `default: nft and legacy both hold ${nft.ruleLines} rules`,
    };
  }
  if (nft.available && !legacy.available) return { ok: true, backend: 'nft', reason: `the legacy backend is unusable: ${legacy.failure.message}` };
  if (legacy.available && !nft.available) return { ok: true, backend: 'legacy', reason: `the nft backend is unusable: ${nft.failure.message}` };
  // Neither works: say what each said.
  const failures = BACKENDS.map((b) => probes[b]).flatMap((p) => (p.available ? [] : [p.failure]));
  const message = `no usable iptables backend: ${failures.map((f) => f.message).join('; ')}`;
  return { ok: false, failure: new IptablesError(failures[0]?.kind ?? 'failed', 'iptables-save', message) };
}

/** Runs each backend's save programs and counts their rule lines (IPv6 failures count as zero lines). */
export async function probeBackend(run: Runner, backend: Backend): Promise<BackendProbe> {
  const v4 = programName('save', backend, 4);
  const result = await run(v4, []);
  try {
    checkResult(v4, result);
  } catch (err) {
    if (err instanceof IptablesError) return { available: false, failure: err };
    throw err;
  }
  const v6 = await run(programName('save', backend, 6), []);
  const v6Lines = v6.code === 0 ? countRuleLines(v6.stdout) : 0;
  return { available: true, ruleLines: countRuleLines(result.stdout) + v6Lines };
}

export async function detectBackend(run: Runner): Promise<BackendChoice> {
  const [nft, legacy] = await Promise.all([probeBackend(run, 'nft'), probeBackend(run, 'legacy')]);
  return chooseBackend({ nft, legacy });
}
