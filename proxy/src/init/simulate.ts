/**
 * Evaluates a TCP connection's first packet against a family plan the way netfilter's nat table would: which
 * rules match, in order, and the verdict (redirected to a port, or left alone). Tests use it to prove every
 * planned rule is reachable and what each setting does; the self-check uses it to pick a destination the plan
 * redirects. Pure.
 */
import { cidrContains } from './cidr.js';
import type { FamilyPlan, Hook, Match, Rule } from './plan.js';

export interface Packet {
  readonly dst: string;
  readonly dport: number;
  /** Outgoing interface (OUTPUT only; a connection to the pod's own address leaves on `lo`). */
  readonly outInterface?: string;
  /** Owner of the sending socket (OUTPUT only). */
  readonly uid?: number;
  readonly gid?: number;
}

export type Verdict = { readonly kind: 'redirect'; readonly port: number } | { readonly kind: 'accept' };

export interface Trace {
  readonly verdict: Verdict;
  /** Every rule that matched, in evaluation order (jumps included). */
  readonly matched: readonly Rule[];
}

export function matches(match: Match, packet: Packet): boolean {
  if (match.destination !== undefined) {
    const inside = cidrContains(match.destination, packet.dst);
    if (inside === (match.negateDestination === true)) return false;
  }
  if (match.outInterface !== undefined && packet.outInterface !== match.outInterface) return false;
  if (match.dport !== undefined && packet.dport !== match.dport) return false;
  if (match.uidOwner !== undefined && packet.uid !== match.uidOwner) return false;
  if (match.gidOwner !== undefined && packet.gid !== match.gidOwner) return false;
  return true; // protocol: every simulated packet is TCP
}

const MAX_DEPTH = 16;

export function traverse(plan: FamilyPlan, hook: Hook, packet: Packet): Trace {
  const matched: Rule[] = [];
  const walk = (chain: string, depth: number): Verdict | 'return' => {
    if (depth > MAX_DEPTH) throw new Error(`chain ${chain}: jumps nest deeper than ${MAX_DEPTH} (a loop in the plan)`);
    for (const rule of plan.rules) {
      if (rule.chain !== chain || !matches(rule.match, packet)) continue;
      matched.push(rule);
      const target = rule.target;
      if (target.kind === 'redirect') return { kind: 'redirect', port: target.toPort };
      if (target.kind === 'return') return 'return';
      const verdict = walk(target.chain, depth + 1);
      if (verdict !== 'return') return verdict;
    }
    return 'return';
  };
  const verdict = walk(hook, 0);
  return { verdict: verdict === 'return' ? { kind: 'accept' } : verdict, matched };
}
