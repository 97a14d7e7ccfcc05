/** Parsing `iptables-save -t nat` output into chains and rule specs. Pure. */

export interface NatTable {
  /** Every chain in the table (built-in and user-defined), in the order iptables-save lists them. */
  readonly chains: readonly string[];
  /** Rule specs (the text after `-A <chain> `) per chain, in order; chains without rules are absent. */
  readonly rules: ReadonlyMap<string, readonly string[]>;
}

export const EMPTY_NAT_TABLE: NatTable = { chains: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'], rules: new Map() };

/**
 * The nat table from iptables-save output (which may hold other tables: only `*nat` is read). Whitespace runs
 * are collapsed so specs compare as text. A missing nat section reads as the empty table (the table is
 * created on first use).
 */
export function parseNatTable(text: string): NatTable {
  const chains: string[] = [];
  const rules = new Map<string, string[]>();
  let inNat = false;
  let sawNat = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/\s+/g, ' ');
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      inNat = line === '*nat';
      sawNat ||= inNat;
      continue;
    }
    if (!inNat) continue;
    if (line === 'COMMIT') {
      inNat = false;
      continue;
    }
    if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0];
      if (name !== undefined && name !== '' && !chains.includes(name)) chains.push(name);
      continue;
    }
    const match = /^-A (\S+) (.*)$/.exec(line);
    if (match === null) continue;
    const [, chain = '', spec = ''] = match;
    const list = rules.get(chain) ?? [];
    list.push(spec);
    rules.set(chain, list);
  }
  return sawNat ? { chains, rules } : EMPTY_NAT_TABLE;
}

/** Number of rule lines (`-A ...`) in iptables-save output of any tables: how the backend detection weighs a backend. */
export function countRuleLines(text: string): number {
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith('-')) n++;
  return n;
}
