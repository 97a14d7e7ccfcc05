/**
 * Install or remove the plan for one backend and family: read the nat table, do nothing when it already
 * matches, else rewrite our chains in one `iptables-restore --noflush` transaction, then read the table again
 * and require that it shows exactly the plan.
 */
import { diffPlan, hasOwnRules } from './diff.js';
import type { Iptables } from './iptables.js';
import type { FamilyPlan } from './plan.js';
import { renderApply, renderRemove } from './render.js';

/** The table did not end up as planned after a successful iptables-restore. */
export class VerifyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerifyError';
  }
}

export type ApplyOutcome = { readonly changed: false } | { readonly changed: true; readonly differences: readonly string[] };

const tableName = (ipt: Iptables): string => `the IPv${ipt.family} nat table (${ipt.backend})`;

function summary(differences: readonly string[]): string {
  const more = differences.length > 1 ? ` (and ${differences.length - 1} more difference${differences.length > 2 ? 's' : ''})` : '';
  return `${differences[0] ?? ''}${more}`;
}

export async function applyFamily(ipt: Iptables, plan: FamilyPlan): Promise<ApplyOutcome> {
  const current = await ipt.saveNat();
  const before = diffPlan(plan, current);
  if (before.inPlace) return { changed: false };
  await ipt.restore(renderApply(plan, current));
  const after = diffPlan(plan, await ipt.saveNat());
  if (!after.inPlace) throw new VerifyError(`after iptables-restore, ${tableName(ipt)} does not show the plan: ${summary(after.differences)}`);
  return { changed: true, differences: before.differences };
}

/** Deletes our chains and the jumps to them; false when there was nothing of ours. */
export async function removeFamily(ipt: Iptables): Promise<boolean> {
  const input = renderRemove(await ipt.saveNat());
  if (input === null) return false;
  await ipt.restore(input);
  if (hasOwnRules(await ipt.saveNat())) throw new VerifyError(`after iptables-restore, ${tableName(ipt)} still holds LOOM_ chains or jumps to them`);
  return true;
}
