/**
 * IPv4/IPv6 CIDRs as proxy-init needs them: parsed strictly, host bits cleared, printed exactly as
 * `iptables-save` prints a destination (`10.0.0.0/8`, `fd00::/8`, `::ffff:10.0.0.0/104`), so a planned rule and
 * a saved rule compare as text. Pure.
 */
import { isIPv4, isIPv6, SocketAddress } from 'node:net';

export type Family = 4 | 6;

export interface Cidr {
  readonly family: Family;
  /** Network address bytes (4 or 16), host bits zero. */
  readonly bytes: Uint8Array;
  readonly prefix: number;
  /** Canonical text, `address/prefix`, as iptables-save prints it. */
  readonly text: string;
}

/** The address's bytes, or null when it is not an IP address of that family. */
export function addressBytes(address: string, family: Family): Uint8Array | null {
  if (family === 4) {
    if (!isIPv4(address)) return null;
    return Uint8Array.from(address.split('.').map(Number));
  }
  if (!isIPv6(address) || address.includes('%')) return null;
  let text = address.toLowerCase();
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const dotted = text.slice(lastColon + 1);
  if (dotted.includes('.')) {
    // Embedded IPv4 (::ffff:10.0.0.1): the last 32 bits as two groups.
    const quad = dotted.split('.').map(Number);
    tail = [((quad[0] ?? 0) << 8) | (quad[1] ?? 0), ((quad[2] ?? 0) << 8) | (quad[3] ?? 0)];
    text = text.slice(0, lastColon + 1) + '0';
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  let groups: number[];
  if (rest === undefined) {
    groups = parse(head);
  } else {
    const left = parse(head);
    const right = parse(rest);
    const fill = 8 - left.length - right.length - (tail.length > 0 ? 1 : 0);
    groups = [...left, ...new Array<number>(Math.max(fill, 0)).fill(0), ...right];
  }
  if (tail.length > 0) groups = [...groups.slice(0, groups.length - 1), ...tail];
  if (groups.length !== 8) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/** Bytes back to the text inet_ntop (and so iptables-save) prints. */
export function formatAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  // node's SocketAddress prints with inet_ntop's rules (longest zero run compressed, IPv4-mapped dotted).
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

export function familyOf(address: string): Family | null {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  return null;
}

/**
 * `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128). Host bits are cleared (`10.1.2.3/8` is
 * `10.0.0.0/8`, as iptables would store it). Returns a one-line reason when the text is not a CIDR.
 */
export function parseCidr(text: string): Cidr | string {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const address = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const family = familyOf(address);
  if (family === null || address.includes('%')) return `'${text}' is not an IPv4 or IPv6 CIDR (e.g. 10.0.0.0/8, fd00::/8)`;
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash !== -1) {
    const prefixText = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
      return `'${text}' has an invalid prefix length (expected 0-${bits})`;
    }
    prefix = Number(prefixText);
  }
  const bytes = addressBytes(address, family);
  if (bytes === null) return `'${text}' is not an IPv4 or IPv6 CIDR (e.g. 10.0.0.0/8, fd00::/8)`;
  const network = maskBytes(bytes, prefix);
  return { family, bytes: network, prefix, text: `${formatAddress(network)}/${prefix}` };
}

function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.min(Math.max(prefix - 8 * i, 0), 8);
    out[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** Whether the address (of the CIDR's family) lies in the CIDR. */
export function cidrContains(cidr: Cidr, address: string): boolean {
  const bytes = addressBytes(address, cidr.family);
  if (bytes === null) return false;
  const masked = maskBytes(bytes, cidr.prefix);
  return masked.every((b, i) => b === cidr.bytes[i]);
}

/** Whether `inner` is a subset of `outer` (same family). */
export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && outer.prefix <= inner.prefix && cidrContains(outer, formatAddress(inner.bytes));
}

/** The loopback host route of a family: 127.0.0.1/32 or ::1/128. */
export function loopbackCidr(family: Family): Cidr {
  const cidr = parseCidr(family === 4 ? '127.0.0.1/32' : '::1/128');
  if (typeof cidr === 'string') throw new Error(cidr);
  return cidr;
}
