/**
 * A TCP listener that knows its connections: every accepted socket gets `error` and `close` handlers the moment
 * it exists (so an error between accept and its owner's handlers can never crash the process) and is tracked
 * until it closes. `whenIdle` waits (still accepting) until no connection is open; `close` drains: stop
 * accepting, wait for the connections to finish (their owners are told to wind down separately: GOAWAY,
 * `Connection: close`), then destroy whatever is left. Knows nothing about Loom.
 *
 * Binding: the unspecified IPv6 address `::` (the proxy's default) makes a dual-stack listener — IPv6 clients as
 * they are, IPv4 clients as IPv4-mapped addresses (`::ffff:10.0.0.1`). On a host without IPv6 (`EAFNOSUPPORT`,
 * `EADDRNOTAVAIL`) {@link bindAny} falls back to `0.0.0.0` and says so in the log.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from '@loom/shared/runtime';

/** Every address, IPv6 and (dual-stack) IPv4. */
export const ANY_ADDRESS = '::';
/** Every IPv4 address: the fallback for {@link ANY_ADDRESS} on hosts without IPv6. */
export const ANY_IPV4_ADDRESS = '0.0.0.0';

/** Bind errors meaning "this host has no IPv6" (kernel without IPv6, or IPv6 disabled). */
const NO_IPV6 = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL']);

/**
 * Binds with `bind(host)`. When `host` is `::` and the host has no IPv6, logs a warning naming `what` and binds
 * `0.0.0.0` instead. Resolves with the host actually bound; rejects with the bind error otherwise.
 */
export async function bindAny(bind: (host: string) => Promise<void>, host: string, log: Logger, what: string): Promise<string> {
  try {
    await bind(host);
    return host;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (host !== ANY_ADDRESS || !NO_IPV6.has(code)) throw err;
    log.warn({ event: 'listen.ipv4_only', reason: code }, `${what}: IPv6 is unavailable here (${code}); listening on ${ANY_IPV4_ADDRESS} (IPv4 only)`);
    await bind(ANY_IPV4_ADDRESS);
    return ANY_IPV4_ADDRESS;
  }
}

/** `server.listen(port, host)` as a promise: resolves once listening, rejects with the bind error. */
export function listenOn(server: Server, port: number): (host: string) => Promise<void> {
  return (host) =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen(port, host, () => {
        server.removeListener('error', onError);
        resolve();
      });
    });
}

export interface ListenOptions {
  /** `::` (dual-stack, IPv4 fallback), `0.0.0.0`, or one address. */
  readonly host: string;
  /** 0 = an ephemeral port (read it back from `address`). */
  readonly port: number;
  /** Called once per accepted socket; a throw destroys that socket and is logged. */
  readonly onConnection: (socket: Socket) => void;
  readonly log: Logger;
  /** Names the listener in the log line of an IPv4 fallback (`outbound listener`). */
  readonly name?: string;
  /** Disable Nagle's algorithm on accepted sockets (default true: proxies forward small writes at once). */
  readonly noDelay?: boolean;
}

export interface CloseOptions {
  /** Wait at most this long for connections to close by themselves; 0 (default) destroys them at once. */
  readonly drainMs?: number;
}

export interface Listener {
  readonly address: AddressInfo;
  /** Open accepted sockets. */
  readonly connections: ReadonlySet<Socket>;
  /**
   * Resolves `true` as soon as no accepted connection is open (at once when none is), `false` after `timeoutMs`.
   * Accepting goes on meanwhile.
   */
  whenIdle(timeoutMs: number): Promise<boolean>;
  /** Stops accepting, waits up to `drainMs` for the connections, destroys the rest. Idempotent. */
  close(options?: CloseOptions): Promise<void>;
}

export async function listen(options: ListenOptions): Promise<Listener> {
  const { log } = options;
  const connections = new Set<Socket>();
  /** Called (and cleared) when the last connection closes. */
  const idleWaiters = new Set<() => void>();

  const onSocketError = (): void => {
    // Recorded by whoever owns the socket (their own listener); this one only keeps the process alive.
  };
  const onSocketClose = function (this: Socket): void {
    connections.delete(this);
    if (connections.size === 0 && idleWaiters.size > 0) {
      const waiters = [...idleWaiters];
      idleWaiters.clear();
      for (const w of waiters) w();
    }
  };

  const server: Server = createServer({ noDelay: options.noDelay ?? true }, (socket) => {
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    connections.add(socket);
    try {
      options.onConnection(socket);
    } catch (err) {
      log.error({ event: 'listener.connection_failed', err: err as Error }, 'handling an accepted connection failed');
      socket.destroy();
    }
  });

  await bindAny(listenOn(server, options.port), options.host, log, options.name ?? 'listener');
  server.on('error', (err) => log.error({ event: 'listener.error', err }, 'listener error'));
  const address = server.address() as AddressInfo;

  const whenIdle = (timeoutMs: number): Promise<boolean> => {
    if (connections.size === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        idleWaiters.delete(done);
        resolve(false);
      }, Math.max(0, timeoutMs));
      idleWaiters.add(done);
    });
  };

  let closing: Promise<void> | null = null;
  const close = (closeOptions: CloseOptions = {}): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      const drainMs = closeOptions.drainMs ?? 0;
      if (drainMs > 0) await whenIdle(drainMs);
      for (const socket of connections) socket.destroy();
      // Destroyed sockets report 'close' a tick later; wait so `connections` is empty when this resolves.
      if (connections.size > 0) await new Promise<void>((resolve) => idleWaiters.add(resolve));
      await stopped;
    })();
    return closing;
  };

  return { address, connections, whenIdle, close };
}
