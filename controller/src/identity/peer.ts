/**
 * The address part of a gRPC peer string, the key of the per-peer rate limit. grpc-js servers report
 * `<remoteAddress>:<remotePort>` (IPv6 unbracketed, IPv4-mapped IPv6 for IPv4 clients on a dual-stack
 * socket); gRPC's URI forms (`ipv4:`, `ipv6:[...]`) are accepted too. Anything else is its own key.
 */
import { isIP } from 'node:net';

const MAPPED_IPV4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

export function peerAddress(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(bare);
  const candidates = bracketed?.[1] === undefined ? [bare.replace(/:\d+$/, ''), bare] : [bracketed[1]];
  const address = candidates.find((candidate) => isIP(candidate) !== 0);
  if (address === undefined) return peer;
  return MAPPED_IPV4.exec(address)?.[1] ?? address;
}
