/**
 * Plan → text. `ruleSpec` prints a rule exactly as `iptables-save` prints it (both the nft and the legacy
 * backend use this order: `[!] -d`, `-o`, `-p`, `-m tcp --dport`, `-m owner`, `-j`), so what we planned and what
 * the kernel reports compare as strings. `renderApply` / `renderRemove` produce `iptables-restore --noflush`
 * input for the nat table: one atomic transaction that touches only our chains and the jumps to them. Pure.
 */
import { isOwnChain, type FamilyPlan, type Rule, type Target } from './plan.js';
import type { NatTable } from './save.js';

function targetSpec(target: Target): string {
  switch (target.kind) {
    case 'jump':
      return `-j ${target.chain}`;
    case 'return':
      return '-j RETURN';
    case 'redirect':
      return `-j REDIRECT --to-ports ${target.toPort}`;
  }
}

/** The rule without `-A <chain>`, as iptables-save prints it. */
export function ruleSpec(rule: Rule): string {
  const m = rule.match;
  const parts: string[] = [];
  if (m.destination !== undefined) parts.push(`${m.negateDestination === true ? '! ' : ''}-d ${m.destination.text}`);
  if (m.outInterface !== undefined) parts.push(`-o ${m.outInterface}`);
  if (m.protocol !== undefined) parts.push(`-p ${m.protocol}`);
  if (m.dport !== undefined) parts.push(`-m tcp --dport ${m.dport}`);
  if (m.uidOwner !== undefined) parts.push(`-m owner --uid-owner ${m.uidOwner}`);
  if (m.gidOwner !== undefined) parts.push(`-m owner --gid-owner ${m.gidOwner}`);
  parts.push(targetSpec(rule.target));
  return parts.join(' ');
}

/** `-A <chain> <spec>`: one line of iptables-save output. */
export const ruleLine = (rule: Rule): string => `-A ${rule.chain} ${ruleSpec(rule)}`;

/** The planned rules of one chain, as specs. */
export function plannedSpecs(plan: FamilyPlan, chain: string): string[] {
  return plan.rules.filter((r) => r.chain === chain).map(ruleSpec);
}

/** Every rule outside our chains that jumps (or goes) to one of them, as `[chain, spec]`, in table order. */
export function jumpsToOwnChains(table: NatTable): [string, string][] {
  const jumps: [string, string][] = [];
  for (const [chain, specs] of table.rules) {
    if (isOwnChain(chain)) continue;
    for (const spec of specs) {
      const target = /(?:^|\s)-[jg] (\S+)/.exec(spec)?.[1];
      if (target !== undefined && isOwnChain(target)) jumps.push([chain, spec]);
    }
  }
  return jumps;
}

/**
 * Rewrites our chains to the plan, from the table as it is now: deletes every jump to our chains (stale or
 * duplicate ones included), creates or flushes the planned chains, flushes and deletes our chains the plan no
 * longer has, appends the planned rules and exactly one jump per hook. With `comments`, each rule is preceded by
 * a `#` line saying why (iptables-restore ignores them; for --dry-run).
 */
export function renderApply(plan: FamilyPlan, current: NatTable, options: { comments?: boolean } = {}): string {
  const lines = ['*nat'];
  for (const [chain, spec] of jumpsToOwnChains(current)) lines.push(`-D ${chain} ${spec}`);
  const stale = current.chains.filter((c) => isOwnChain(c) && !plan.chains.includes(c));
  for (const chain of [...plan.chains, ...stale]) lines.push(`:${chain} - [0:0]`);
  for (const rule of plan.rules) {
    if (options.comments === true) lines.push(`# ${rule.why}`);
    lines.push(ruleLine(rule));
  }
  for (const chain of stale) lines.push(`-X ${chain}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** Removes every jump to our chains and our chains themselves; null when there is nothing of ours. */
export function renderRemove(current: NatTable): string | null {
  const own = current.chains.filter(isOwnChain);
  const jumps = jumpsToOwnChains(current);
  if (own.length === 0 && jumps.length === 0) return null;
  const lines = ['*nat'];
  for (const [chain, spec] of jumps) lines.push(`-D ${chain} ${spec}`);
  for (const chain of own) lines.push(`:${chain} - [0:0]`);
  for (const chain of own) lines.push(`-X ${chain}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}
