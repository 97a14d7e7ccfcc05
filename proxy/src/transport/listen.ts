/**
 * A TCP listener that knows its connections: every accepted socket gets `error` and `close` handlers the moment
 * it exists (so an error between accept and its owner's handlers can never crash the process) and is tracked
 * until it closes. `close` drains: stop accepting, wait for the connections to finish (their owners are told to
 * wind down separately: GOAWAY, `Connection: close`), then destroy whatever is left. Knows nothing about Loom.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from '@loom/shared/runtime';

export interface ListenOptions {
  readonly host: string;
  /** 0 = an ephemeral port (read it back from `address`). */
  readonly port: number;
  /** Called once per accepted socket; a throw destroys that socket and is logged. */
  readonly onConnection: (socket: Socket) => void;
  readonly log: Logger;
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
  /** Stops accepting, waits up to `drainMs` for the connections, destroys the rest. Idempotent. */
  close(options?: CloseOptions): Promise<void>;
}

export async function listen(options: ListenOptions): Promise<Listener> {
  const { log } = options;
  const connections = new Set<Socket>();
  let idle: (() => void) | null = null;

  const onSocketError = (): void => {
    // Recorded by whoever owns the socket (their own listener); this one only keeps the process alive.
  };
  const onSocketClose = function (this: Socket): void {
    connections.delete(this);
    if (connections.size === 0) idle?.();
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

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ event: 'listener.error', err }, 'listener error'));
  const address = server.address() as AddressInfo;

  let closing: Promise<void> | null = null;
  const close = (closeOptions: CloseOptions = {}): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      const drainMs = closeOptions.drainMs ?? 0;
      if (drainMs > 0 && connections.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, drainMs);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        idle = null;
      }
      for (const socket of connections) socket.destroy();
      // Destroyed sockets report 'close' a tick later; wait so `connections` is empty when this resolves.
      if (connections.size > 0) await new Promise<void>((resolve) => (idle = resolve));
      idle = null;
      await stopped;
    })();
    return closing;
  };

  return { address, connections, close };
}
