/**
 * Discover (linkerd2-proxy's first outbound stage): from a connection's original destination to what the
 * proxy does with it. Pure: the policy snapshot and our own addresses are passed in.
 *
 * - no original destination: the connection was made to the proxy's port directly, not redirected;
 * - a destination that is one of the proxy's own ports on a local address: a loop;
 * - no policy yet: passthrough, so the application works before the first policy arrives;
 * - a destination the policy knows (a Service VIP and port, or a headless endpoint): its logical service;
 * - anything else: `mesh.outboundUnknown` decides, passthrough (plain TCP to where the application meant to
 *   connect) or deny.
 */
import type { PreparedOutboundPort } from '@loom/shared/policy';
import type { PolicySnapshot } from '../policy/snapshot.js';
import { formatAddress } from '../transport/address.js';
import type { SocketAddress } from '../transport/orig-dst.js';

export type Discovery =
  | { readonly kind: 'direct' }
  | { readonly kind: 'loop'; readonly dst: SocketAddress }
  | { readonly kind: 'passthrough'; readonly dst: SocketAddress; readonly why: 'no-policy' | 'unknown' }
  /** `port`: the `port` label of the denial (the destination port when the policy knows it, else `other`). */
  | { readonly kind: 'deny'; readonly dst: SocketAddress; readonly reason: string; readonly port: string }
  | { readonly kind: 'logical'; readonly dst: SocketAddress; readonly entry: PreparedOutboundPort };

/** The proxy itself, for loop detection. */
export interface Self {
  /** The proxy's listening ports (outbound, inbound, admin). */
  readonly ports: ReadonlySet<number>;
  /** An address of this host (loopback, unspecified, or an interface address). */
  isLocal(address: string): boolean;
}

/** What the policy says about a destination (no connection-level refusal). */
export type Resolved = Extract<Discovery, { kind: 'logical' | 'passthrough' | 'deny' }>;

/** Code counted in `loom_authz_denied_total` for refused unknown destinations. */
export const UNKNOWN_DESTINATION = 'unknown-destination';

export function discover(dst: SocketAddress | null, snapshot: PolicySnapshot | null, self: Self): Discovery {
  if (dst === null) return DIRECT;
  if (self.ports.has(dst.port) && self.isLocal(dst.address)) return { kind: 'loop', dst };
  if (snapshot === null) return { kind: 'passthrough', dst, why: 'no-policy' };
  return resolve(dst, snapshot);
}

/** The policy's answer for `dst` (also used per request, when the policy changed since the connection opened). */
export function resolve(dst: SocketAddress, snapshot: PolicySnapshot): Resolved {
  const entry = snapshot.outbound.lookup(dst.address, dst.port);
  if (entry !== undefined) return { kind: 'logical', dst, entry };
  if (snapshot.policy.mesh.outboundUnknown === 'deny') {
    return { kind: 'deny', dst, reason: `${formatAddress(dst)} is not a destination of the mesh policy, and unknown destinations are denied (outboundUnknown: deny)`, port: deniedPortLabel(dst.port, snapshot) };
  }
  return { kind: 'passthrough', dst, why: 'unknown' };
}

const DIRECT: Discovery = Object.freeze({ kind: 'direct' });

/** The `port` label of denials for ports the policy does not know: one series for all of them. */
export const OTHER_PORT = 'other';

const servicePorts = new WeakMap<PolicySnapshot, ReadonlySet<number>>();

/**
 * The `port` label of an outbound denial, from a bounded set: the port itself when it is a Service port of the
 * policy (any service), else {@link OTHER_PORT} — a scan of every port makes one series, not 65535.
 */
export function deniedPortLabel(port: number, snapshot: PolicySnapshot): string {
  let known = servicePorts.get(snapshot);
  if (known === undefined) {
    const ports = new Set<number>();
    for (const svc of snapshot.policy.outbound) for (const p of svc.ports) ports.add(p.port);
    servicePorts.set(snapshot, (known = ports));
  }
  return known.has(port) ? String(port) : OTHER_PORT;
}

/** Loopback, unspecified, or one of `interfaces`. */
export function localAddressCheck(interfaces: readonly string[]): (address: string) => boolean {
  const set = new Set(interfaces.map(normalizeAddress));
  return (address) => {
    const a = normalizeAddress(address);
    return a.startsWith('127.') || a === '::1' || a === '0.0.0.0' || a === '::' || set.has(a);
  };
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`) as IPv4; lower case. */
function normalizeAddress(address: string): string {
  const a = address.toLowerCase();
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}
