/**
 * Socket addresses as the proxy writes them in logs, messages and metric-free labels: `ip:port`, IPv6 in
 * brackets, and IPv4 clients of a dual-stack listener (`::ffff:10.0.0.1`, how a `::` listener sees them) as the
 * plain IPv4 address they are.
 */

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) as plain IPv4; any other address unchanged. */
export function unmapped(address: string): string {
  return address.length > 7 && address.charCodeAt(0) === 58 && /^::ffff:\d{1,3}(\.\d{1,3}){3}$/i.test(address) ? address.slice(7) : address;
}

/** `ip:port`, IPv6 in brackets, IPv4-mapped IPv6 as IPv4. */
export function formatAddress(a: { readonly address: string; readonly port: number }): string {
  const address = unmapped(a.address);
  return address.includes(':') ? `[${address}]:${a.port}` : `${address}:${a.port}`;
}

/** `ip:port` of a socket's peer (`?` for an address the socket no longer knows). */
export function peerOf(socket: { readonly remoteAddress?: string | undefined; readonly remotePort?: number | undefined }): string {
  return formatAddress({ address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 });
}
