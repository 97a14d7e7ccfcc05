/**
 * The interception rules as data: `planRules(settings)` decides every chain and rule of the nat table that
 * proxy-init owns, for IPv4 and IPv6. Rendering (render.ts), comparing with what is installed (diff.ts) and
 * evaluating a packet against the plan (simulate.ts) all read this one description. Pure.
 *
 * nat PREROUTING (TCP arriving at the pod)            nat OUTPUT (TCP the pod's processes send)
 *   -p tcp → LOOM_INBOUND                               -p tcp → LOOM_OUTPUT
 * LOOM_INBOUND                                        LOOM_OUTPUT
 *   admin port, skip-inbound ports → RETURN             proxy (uid/gid) on lo to a non-loopback address
 *   → LOOM_IN_REDIRECT                                    → LOOM_IN_REDIRECT (a pod calling itself via its service)
 * LOOM_IN_REDIRECT → REDIRECT inbound port              proxy uid, proxy gid → RETURN
 *                                                       to 127.0.0.1 / ::1 → RETURN
 *                                                       skip-outbound ports, skip-outbound CIDRs → RETURN
 *                                                       → LOOM_OUT_REDIRECT
 *                                                     LOOM_OUT_REDIRECT → REDIRECT outbound port
 */
import { cidrCovers, loopbackCidr, type Cidr, type Family } from './cidr.js';

export const CHAIN_PREFIX = 'LOOM_';
export const INBOUND_CHAIN = 'LOOM_INBOUND';
export const IN_REDIRECT_CHAIN = 'LOOM_IN_REDIRECT';
export const OUTPUT_CHAIN = 'LOOM_OUTPUT';
export const OUT_REDIRECT_CHAIN = 'LOOM_OUT_REDIRECT';

/** Built-in nat chains we add one jump to. */
export type Hook = 'PREROUTING' | 'OUTPUT';

export interface InitSettings {
  readonly proxyUid: number;
  readonly proxyGid: number;
  readonly inboundPort: number;
  readonly outboundPort: number;
  /** Never redirected inbound (kubelet probes and Prometheus reach the proxy's admin server directly). */
  readonly adminPort: number;
  readonly skipInboundPorts: readonly number[];
  readonly skipOutboundPorts: readonly number[];
  /** Both families; each family's plan takes its own. */
  readonly skipOutboundCidrs: readonly Cidr[];
}

export interface Match {
  readonly protocol?: 'tcp';
  readonly destination?: Cidr;
  /** `! -d`: the destination is NOT in `destination`. */
  readonly negateDestination?: boolean;
  readonly outInterface?: string;
  /** TCP destination port (needs `protocol: 'tcp'`). */
  readonly dport?: number;
  readonly uidOwner?: number;
  readonly gidOwner?: number;
}

export type Target =
  | { readonly kind: 'jump'; readonly chain: string }
  | { readonly kind: 'return' }
  | { readonly kind: 'redirect'; readonly toPort: number };

export interface Rule {
  /** Chain the rule is appended to: a hook (built-in) or one of ours. */
  readonly chain: string;
  readonly match: Match;
  readonly target: Target;
  /** Why the rule exists (dry-run output, tests). */
  readonly why: string;
}

export interface FamilyPlan {
  readonly family: Family;
  /** Our chains, in creation order. */
  readonly chains: readonly string[];
  /** Jumps from the hooks first, then each of our chains' rules in order. */
  readonly rules: readonly Rule[];
}

export interface RulePlan {
  readonly settings: InitSettings;
  readonly ipv4: FamilyPlan;
  readonly ipv6: FamilyPlan;
}

export function planRules(settings: InitSettings): RulePlan {
  return { settings, ipv4: planFamily(settings, 4), ipv6: planFamily(settings, 6) };
}

/** Sorted, without duplicates. */
function uniquePorts(ports: Iterable<number>): number[] {
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** This family's CIDRs, without duplicates and without those inside another one (they could never match). */
export function effectiveCidrs(cidrs: readonly Cidr[], family: Family): Cidr[] {
  const own = cidrs.filter((c) => c.family === family);
  return own.filter((c, i) => !own.some((other, j) => (cidrCovers(other, c) && (other.prefix < c.prefix || j < i))));
}

function planFamily(s: InitSettings, family: Family): FamilyPlan {
  const loopback = loopbackCidr(family);
  const cidrs = effectiveCidrs(s.skipOutboundCidrs, family);
  // A /0 skip CIDR exempts every destination: this family's outbound traffic is not intercepted at all, so
  // the rules that would redirect it (and their chain) are left out rather than planned unreachable.
  const captureOutbound = !cidrs.some((c) => c.prefix === 0);
  const rules: Rule[] = [
    { chain: 'PREROUTING', match: { protocol: 'tcp' }, target: { kind: 'jump', chain: INBOUND_CHAIN }, why: 'inbound TCP' },
    { chain: 'OUTPUT', match: { protocol: 'tcp' }, target: { kind: 'jump', chain: OUTPUT_CHAIN }, why: 'outbound TCP' },
  ];
  for (const port of uniquePorts([s.adminPort, ...s.skipInboundPorts])) {
    rules.push({
      chain: INBOUND_CHAIN,
      match: { protocol: 'tcp', dport: port },
      target: { kind: 'return' },
      why: port === s.adminPort ? 'admin port (probes, metrics)' : 'skip-inbound port',
    });
  }
  rules.push({ chain: INBOUND_CHAIN, match: { protocol: 'tcp' }, target: { kind: 'jump', chain: IN_REDIRECT_CHAIN }, why: 'every other inbound port' });
  rules.push({ chain: IN_REDIRECT_CHAIN, match: { protocol: 'tcp' }, target: { kind: 'redirect', toPort: s.inboundPort }, why: 'to the inbound proxy' });

  const self = { destination: loopback, negateDestination: true, outInterface: 'lo' } as const;
  rules.push(
    { chain: OUTPUT_CHAIN, match: { ...self, uidOwner: s.proxyUid }, target: { kind: 'jump', chain: IN_REDIRECT_CHAIN }, why: "the proxy calling its own pod's address: inbound" },
    { chain: OUTPUT_CHAIN, match: { ...self, gidOwner: s.proxyGid }, target: { kind: 'jump', chain: IN_REDIRECT_CHAIN }, why: "the proxy calling its own pod's address: inbound" },
    { chain: OUTPUT_CHAIN, match: { uidOwner: s.proxyUid }, target: { kind: 'return' }, why: "the proxy's own connections" },
    { chain: OUTPUT_CHAIN, match: { gidOwner: s.proxyGid }, target: { kind: 'return' }, why: "the proxy's own connections" },
  );
  if (captureOutbound) {
    rules.push({ chain: OUTPUT_CHAIN, match: { destination: loopback }, target: { kind: 'return' }, why: 'loopback' });
    for (const port of uniquePorts(s.skipOutboundPorts)) {
      rules.push({ chain: OUTPUT_CHAIN, match: { protocol: 'tcp', dport: port }, target: { kind: 'return' }, why: 'skip-outbound port' });
    }
    for (const cidr of cidrs) {
      rules.push({ chain: OUTPUT_CHAIN, match: { destination: cidr }, target: { kind: 'return' }, why: 'skip-outbound CIDR' });
    }
    rules.push({ chain: OUTPUT_CHAIN, match: {}, target: { kind: 'jump', chain: OUT_REDIRECT_CHAIN }, why: 'every other outbound connection' });
    rules.push({ chain: OUT_REDIRECT_CHAIN, match: { protocol: 'tcp' }, target: { kind: 'redirect', toPort: s.outboundPort }, why: 'to the outbound proxy' });
  }
  const chains = captureOutbound ? [INBOUND_CHAIN, IN_REDIRECT_CHAIN, OUTPUT_CHAIN, OUT_REDIRECT_CHAIN] : [INBOUND_CHAIN, IN_REDIRECT_CHAIN, OUTPUT_CHAIN];
  return { family, chains, rules };
}

/** Whether a chain name is ours (any `LOOM_` chain, also one an older version left behind). */
export const isOwnChain = (chain: string): boolean => chain.startsWith(CHAIN_PREFIX);
