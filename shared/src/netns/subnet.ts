/**
 * Address arithmetic for the networks the helpers' users build: a /24 of IPv4 and a /64 of IPv6 per network,
 * numbered within a block (`10.201` + 7 → `10.201.7.0/24` and `fd4c:6f6f:6d:7::/64`), addresses by host number,
 * IPv6 in the canonical text the kernel and Node print (RFC 5952), and the choice of a /24 that no route of the
 * host already uses. Pure.
 */

/** A /24 and a /64 that go together (dual stack). */
export interface Subnet {
  /** `a.b.c.0/24`. */
  readonly v4Network: string;
  /** `x:y:z:w::/64`. */
  readonly v6Network: string;
  /** `a.b.c.<host>`, with `/prefix` when given. */
  v4(host: number, prefix?: number): string;
  /** `x:y:z:w::<host in hex>` in canonical form, with `/prefix` when given. */
  v6(host: number, prefix?: number): string;
}

/**
 * Where subnets are numbered: `v4` is the first one or two octets (a /8 or /16 holding 65536 or 256 /24s), `v6` the
 * first one to three groups; the subnet's number becomes the IPv6 /64's last group.
 */
export interface SubnetBlock {
  readonly v4: string;
  readonly v6: string;
}

const OCTET = /^(?:0|[1-9]\d{0,2})$/;
const GROUP = /^[0-9a-f]{1,4}$/i;

function octets(text: string): number[] {
  const parts = text.split('.');
  if (!parts.every((p) => OCTET.test(p) && Number(p) <= 255)) throw new RangeError(`"${text}" is not dotted IPv4 octets`);
  return parts.map(Number);
}

/** An IPv6 address in its canonical text (RFC 5952: lower case, the longest run of zero groups compressed). */
export function canonicalIpv6(address: string): string {
  let hostname: string;
  try {
    hostname = new URL(`http://[${address}]/`).hostname;
  } catch {
    throw new RangeError(`"${address}" is not an IPv6 address`);
  }
  return hostname.slice(1, -1);
}

const withPrefix = (address: string, prefix: number | undefined): string => (prefix === undefined ? address : `${address}/${prefix}`);

/** How many subnets `block` numbers (256 for a /16 of IPv4, 65536 for a /8). */
export function subnetCount(block: SubnetBlock): number {
  const n = octets(block.v4).length;
  if (n !== 1 && n !== 2) throw new RangeError(`IPv4 block "${block.v4}" must be one or two octets`);
  return n === 1 ? 65536 : 256;
}

/** Subnet number `index` of `block`. */
export function subnetAt(block: SubnetBlock, index: number): Subnet {
  const count = subnetCount(block);
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new RangeError(`subnet ${index} is not in 0-${count - 1} of ${block.v4}`);
  const groups = block.v6.split(':');
  if (groups.length < 1 || groups.length > 3 || !groups.every((g) => GROUP.test(g))) {
    throw new RangeError(`IPv6 block "${block.v6}" must be one to three groups of hex digits`);
  }
  const base4 = count === 256 ? `${block.v4}.${index}` : `${block.v4}.${index >> 8}.${index & 0xff}`;
  const base6 = [...groups, ...Array<string>(3 - groups.length).fill('0'), index.toString(16)].join(':');
  return {
    v4Network: `${base4}.0/24`,
    v6Network: `${canonicalIpv6(`${base6}::`)}/64`,
    v4(host, prefix) {
      if (!Number.isInteger(host) || host < 0 || host > 255) throw new RangeError(`IPv4 host ${host} is not in 0-255`);
      return withPrefix(`${base4}.${host}`, prefix);
    },
    v6(host, prefix) {
      if (!Number.isInteger(host) || host < 0 || host > 0xffff) throw new RangeError(`IPv6 host ${host} is not in 0-65535`);
      return withPrefix(canonicalIpv6(`${base6}::${host.toString(16)}`), prefix);
    },
  };
}

interface Ipv4Network {
  readonly base: number;
  readonly prefix: number;
}

/** `a.b.c.d/n` or `a.b.c.d` (a /32) or `default` (0/0); null for anything else. */
export function parseIpv4Network(text: string): Ipv4Network | null {
  if (text === 'default') return { base: 0, prefix: 0 };
  const [address = '', length, ...extra] = text.split('/');
  if (extra.length > 0) return null;
  const prefix = length === undefined ? 32 : /^\d{1,2}$/.test(length) ? Number(length) : -1;
  if (prefix < 0 || prefix > 32) return null;
  let parts: number[];
  try {
    parts = octets(address);
  } catch {
    return null;
  }
  if (parts.length !== 4) return null;
  const value = parts.reduce((acc, p) => acc * 256 + p, 0);
  const size = 2 ** (32 - prefix);
  return { base: value - (value % size), prefix };
}

/** Whether two IPv4 networks (as parseIpv4Network reads them) share an address. */
export function ipv4Overlap(a: string, b: string): boolean {
  const x = parseIpv4Network(a);
  const y = parseIpv4Network(b);
  if (x === null || y === null) return false;
  const wider = x.prefix <= y.prefix ? x : y;
  const narrower = wider === x ? y : x;
  return narrower.base - (narrower.base % 2 ** (32 - wider.prefix)) === wider.base;
}

/** The destinations in `ip -4 route show` output (first field of each line: `default`, `a.b.c.d/n`, `a.b.c.d`). */
export function routeDestinations(ipRouteOutput: string): string[] {
  return ipRouteOutput
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((dest) => parseIpv4Network(dest) !== null);
}

/**
 * Routes this narrow or narrower collide with a candidate /24 they overlap; wider ones (a default route, a VPN's
 * 10.0.0.0/8) are only refined by it.
 */
export const CONFLICTING_ROUTE_PREFIX = 16;

/**
 * The first subnet of `block`, trying numbers from `start` on (wrapping round), whose /24 overlaps none of the host's
 * `routes` of CONFLICTING_ROUTE_PREFIX or narrower; null when every one does.
 */
export function freeSubnet(block: SubnetBlock, routes: readonly string[], start = 0): Subnet | null {
  const count = subnetCount(block);
  const relevant = routes.filter((r) => (parseIpv4Network(r)?.prefix ?? 0) >= CONFLICTING_ROUTE_PREFIX);
  for (let i = 0; i < count; i++) {
    const candidate = subnetAt(block, (((start + i) % count) + count) % count);
    if (!relevant.some((r) => ipv4Overlap(r, candidate.v4Network))) return candidate;
  }
  return null;
}
