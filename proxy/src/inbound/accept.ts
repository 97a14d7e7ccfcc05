/**
 * The first inbound decision, from the connection's original destination alone: forward it to the application
 * port it was meant for, or refuse it. Pure.
 */
import type { SocketAddress } from '../transport/orig-dst.js';

export type AcceptDecision =
  /** Redirected by iptables: `port` is the application port (the original destination's). */
  | { readonly kind: 'forward'; readonly port: number }
  /** Not redirected: a client connected to the inbound port itself; there is nowhere to forward it. */
  | { readonly kind: 'direct' }
  /** Meant for one of the proxy's own ports: forwarding would loop back into the proxy. */
  | { readonly kind: 'loop'; readonly port: number };

export function acceptDecision(origDst: SocketAddress | null, proxyPorts: ReadonlySet<number>): AcceptDecision {
  if (origDst === null) return { kind: 'direct' };
  if (proxyPorts.has(origDst.port)) return { kind: 'loop', port: origDst.port };
  return { kind: 'forward', port: origDst.port };
}
