/** Socket addresses as the proxy writes them in logs, messages and metric-free labels: `ip:port`, IPv6 in brackets. */

/** `ip:port`, IPv6 in brackets. */
export function formatAddress(a: { readonly address: string; readonly port: number }): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** `ip:port` of a socket's peer (`?` for an address the socket no longer knows). */
export function peerOf(socket: { readonly remoteAddress?: string | undefined; readonly remotePort?: number | undefined }): string {
  return formatAddress({ address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 });
}
