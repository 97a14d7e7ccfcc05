/**
 * Is the plan installed? Compares our chains and the jumps to them in the current nat table with the plan,
 * ignoring everything else in the table (other software's chains and rules are not ours to judge). Pure.
 */
import { isOwnChain, type FamilyPlan } from './plan.js';
import { jumpsToOwnChains, plannedSpecs, ruleSpec } from './render.js';
import type { NatTable } from './save.js';

export interface PlanDiff {
  readonly inPlace: boolean;
  /** One line per difference, e.g. `chain LOOM_OUTPUT: rule 3 is '-j RETURN', planned '-d 10.0.0.0/8 -j RETURN'`. */
  readonly differences: readonly string[];
}

export function diffPlan(plan: FamilyPlan, table: NatTable): PlanDiff {
  const differences: string[] = [];
  for (const chain of plan.chains) {
    if (!table.chains.includes(chain)) {
      differences.push(`chain ${chain} is missing`);
      continue;
    }
    const planned = plannedSpecs(plan, chain);
    const actual = table.rules.get(chain) ?? [];
    const n = Math.max(planned.length, actual.length);
    for (let i = 0; i < n; i++) {
      const a = actual[i];
      const p = planned[i];
      if (a === p) continue;
      if (a === undefined) differences.push(`chain ${chain}: rule ${i + 1} is missing, planned '${p ?? ''}'`);
      else if (p === undefined) differences.push(`chain ${chain}: rule ${i + 1} '${a}' is not planned`);
      else differences.push(`chain ${chain}: rule ${i + 1} is '${a}', planned '${p}'`);
    }
  }
  for (const chain of table.chains) {
    if (isOwnChain(chain) && !plan.chains.includes(chain)) differences.push(`chain ${chain} is not planned`);
  }
  const plannedJumps = plan.rules.filter((r) => !isOwnChain(r.chain)).map((r) => `${r.chain} ${ruleSpec(r)}`);
  const actualJumps = jumpsToOwnChains(table).map(([chain, spec]) => `${chain} ${spec}`);
  for (const jump of plannedJumps) {
    const count = actualJumps.filter((j) => j === jump).length;
    if (count !== 1) differences.push(`jump '-A ${jump}' is present ${count} times, planned once`);
  }
  for (const jump of new Set(actualJumps)) {
    if (!plannedJumps.includes(jump)) differences.push(`jump '-A ${jump}' is not planned`);
  }
  return { inPlace: differences.length === 0, differences };
}

/** Whether anything of ours (a LOOM_ chain or a jump to one) is in the table. */
export function hasOwnRules(table: NatTable): boolean {
  return table.chains.some(isOwnChain) || jumpsToOwnChains(table).length > 0;
}
