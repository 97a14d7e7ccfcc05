/**
 * IPv4 CIDR arithmetic for the local cluster's pod and service networks, and the choice of a pod /16 and a service
 * /16 that no route of the host already uses (other local clusters' networks are routes too: their bridges carry
 * both). Pure.
 */
import { ipv4Overlap, parseIpv4Network } from '@loom/shared/netns';

/** An IPv4 network: its first address as a number and its prefix length. */
export interface Ipv4Cidr {
  readonly base: number;
  readonly prefix: number;
}

const DOTTED = /^(?:0|[1-9]\d{0,2})(?:\.(?:0|[1-9]\d{0,2})){3}$/;

/** `a.b.c.d` → its number; null unless it is dotted-quad IPv4. */
export function ipv4ToNumber(text: string): number | null {
  if (!DOTTED.test(text)) return null;
  const parts = text.split('.').map(Number);
  if (parts.some((p) => p > 255)) return null;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

export function numberToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

/** `a.b.c.d/n` with no host bits set; one-line reason when it is not one. */
export function parseCidr(text: string): Ipv4Cidr | string {
  const [address = '', length, ...extra] = text.split('/');
  const value = ipv4ToNumber(address);
  if (value === null || length === undefined || extra.length > 0 || !/^\d{1,2}$/.test(length) || Number(length) > 32) {
    return `"${text}" is not an IPv4 CIDR (a.b.c.d/n)`;
  }
  const prefix = Number(length);
  const size = 2 ** (32 - prefix);
  const base = value - (value % size);
  if (base !== value) return `"${text}" has host bits set (the network is ${numberToIpv4(base)}/${prefix})`;
  return { base, prefix };
}

export const formatCidr = (cidr: Ipv4Cidr): string => `${numberToIpv4(cidr.base)}/${cidr.prefix}`;

/** How many addresses `cidr` holds. */
export const cidrSize = (cidr: Ipv4Cidr): number => 2 ** (32 - cidr.prefix);

/** Address number `n` of `cidr` (0 is the network address). */
export function addressAt(cidr: Ipv4Cidr, n: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= cidrSize(cidr)) throw new RangeError(`address ${n} is not in ${formatCidr(cidr)}`);
  return numberToIpv4(cidr.base + n);
}

/** The number of `address` within `cidr`, or null when it is not inside. */
export function indexOf(cidr: Ipv4Cidr, address: string): number | null {
  const value = ipv4ToNumber(address);
  if (value === null || value < cidr.base || value >= cidr.base + cidrSize(cidr)) return null;
  return value - cidr.base;
}

/**
 * Host routes this wide or wider never rule a network out: the default route, and the half-defaults of VPNs that
 * redirect everything (0/1 + 128/1). Anything narrower (a /8 of a VPN included) does.
 */
export const IGNORED_ROUTE_PREFIX = 7;

/** The first route among `routes` that overlaps `cidr` and is narrower than `minPrefix` allows; null when none. */
export function conflictingRoute(cidr: string, routes: readonly string[], minPrefix = IGNORED_ROUTE_PREFIX + 1): string | null {
  for (const route of routes) {
    const parsed = parseIpv4Network(route);
    if (parsed === null || parsed.prefix < minPrefix) continue;
    if (ipv4Overlap(route, cidr)) return route;
  }
  return null;
}

/** Where clusters' /16s come from, in this order: 10.64.0.0/16 ... 10.255.0.0/16, then 172.16.0.0/16 ... 172.31.0.0/16. */
export function candidateNetworks(): string[] {
  const out: string[] = [];
  for (let b = 64; b <= 255; b++) out.push(`10.${b}.0.0/16`);
  for (let b = 16; b <= 31; b++) out.push(`172.${b}.0.0/16`);
  return out;
}

/** FNV-1a of `text` (32 bits): where a cluster's search starts, so differently named clusters start apart. */
export function nameHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export interface ClusterCidrs {
  readonly podCidr: string;
  readonly serviceCidr: string;
}

/**
 * A pod /16 and a service /16 for cluster `name`: the first two candidates, from a start that depends on the name,
 * that overlap none of `routes` (IGNORED_ROUTE_PREFIX aside) nor `taken`. The same name on the same routes gets
 * the same answer. Null when fewer than two are free.
 */
export function pickClusterCidrs(name: string, routes: readonly string[], taken: readonly string[] = []): ClusterCidrs | null {
  const candidates = candidateNetworks();
  const start = nameHash(name) % candidates.length;
  const free: string[] = [];
  for (let i = 0; i < candidates.length && free.length < 2; i++) {
    const candidate = candidates[(start + i) % candidates.length] ?? '';
    if (conflictingRoute(candidate, routes) !== null) continue;
    if (taken.some((t) => ipv4Overlap(t, candidate))) continue;
    free.push(candidate);
  }
  const [podCidr, serviceCidr] = free;
  return podCidr === undefined || serviceCidr === undefined ? null : { podCidr, serviceCidr };
}
