/**
 * The original destination of a connection that iptables REDIRECTed to one of the proxy's ports
 * (SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST). Behind an interface: the proxy uses the native addon
 * (`proxy/native/orig_dst.c`, built by node-gyp at install time); tests substitute a map keyed by the
 * client's address and port.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { unmapped } from './address.js';

export interface SocketAddress {
  readonly address: string;
  readonly port: number;
}

export interface OriginalDstLookup {
  /**
   * Where the client meant to connect, or `null` when the socket was not redirected (a direct connection to
   * the proxy's port) or its address cannot be read (already closed).
   */
  lookup(socket: Socket): SocketAddress | null;
}

interface Addon {
  originalDst(fd: number, family: 4 | 6): SocketAddress;
}

/** Error codes of the addon meaning "not redirected" rather than a failure. */
const NOT_REDIRECTED = new Set(['ENOENT', 'ENOPROTOOPT']);

let addon: Addon | undefined;

/** Loads the addon once; a clear error when the install step did not build it. */
export function loadAddon(): Addon {
  if (addon !== undefined) return addon;
  const require = createRequire(import.meta.url);
  try {
    addon = require('../../../build/Release/orig_dst.node') as Addon;
  } catch (err) {
    throw new Error(
      `the SO_ORIGINAL_DST addon is not built (proxy/build/Release/orig_dst.node): run \`pnpm install\` (it runs node-gyp) in the checkout; ${(err as Error).message}`,
      { cause: err },
    );
  }
  return addon;
}

interface HandleWithFd {
  readonly fd?: number;
}

/** The socket's file descriptor, or -1 (no handle: closed, or not a kernel socket). */
export function socketFd(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: HandleWithFd | null })._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}

/** SO_ORIGINAL_DST through the native addon. */
export function nativeOriginalDst(): OriginalDstLookup {
  const native = loadAddon();
  return {
    lookup(socket) {
      const fd = socketFd(socket);
      if (fd < 0) return null;
      // A dual-stack listener (`::`) sees IPv4 clients as v4-mapped addresses; their redirect is IPv4's.
      const mapped = (socket.remoteAddress ?? '').startsWith('::ffff:');
      const family = socket.remoteFamily === 'IPv6' && !mapped ? 6 : 4;
      try {
        const dst = native.originalDst(fd, family);
        // Without a REDIRECT the kernel reports the local address itself for some sockets; that is no original destination.
        const local = mapped ? (socket.localAddress ?? '').replace(/^::ffff:/, '') : socket.localAddress;
        if (dst.address === local && dst.port === socket.localPort) return null;
        return dst;
      } catch (err) {
        if (NOT_REDIRECTED.has((err as { code?: string }).code ?? '')) return null;
        throw err;
      }
    },
  };
}

/** Test double: the original destination per client `address:port` (the socket's remote end; IPv4-mapped as IPv4). */
export function mapOriginalDst(entries: ReadonlyMap<string, SocketAddress> | (() => ReadonlyMap<string, SocketAddress>)): OriginalDstLookup {
  return {
    lookup(socket) {
      const map = typeof entries === 'function' ? entries() : entries;
      return map.get(`${unmapped(socket.remoteAddress ?? '')}:${socket.remotePort ?? 0}`) ?? null;
    },
  };
}
