/**
 * Opaque TCP: authorized once per connection (no HTTP view), then relayed to the application port byte for
 * byte. A denied connection, or one the application refuses, is reset; an established one is re-authorized
 * when the policy changes.
 */
import type { Socket } from 'node:net';
import type { Logger } from '@loom/shared/runtime';
import { relay } from '../transport/relay.js';
import { connectApp } from './app-tcp.js';
import type { InboundAuthz } from './authorize.js';
import type { InboundConnection } from './connection.js';
import type { EstablishedConnections } from './established.js';

export interface TcpForwardOptions {
  readonly appAddress: string;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly authz: InboundAuthz;
  readonly established: EstablishedConnections;
  readonly log: Logger;
}

/** Serves one opaque connection (`client`: the raw socket, or the TLS socket over it) until it ends. */
export async function forwardTcp(conn: InboundConnection, client: Socket, options: TcpForwardOptions): Promise<void> {
  const decision = options.authz.check(conn);
  if (decision === null || !decision.allowed) {
    if (decision === null) options.log.debug({ event: 'authz.no_policy', peer: conn.peer, port: conn.port }, 'connection refused: no policy yet');
    conn.failed = true;
    conn.countOn(conn.unrouted());
    conn.raw.resetAndDestroy();
    return;
  }
  conn.countOn(conn.edge(decision));
  let app: Socket;
  try {
    app = await connectApp(options.appAddress, conn.port, options.connectTimeoutMs);
  } catch (err) {
    options.log.debug({ event: 'app.connect_failed', peer: conn.peer, port: conn.port, err: err as Error }, 'the application refused the connection');
    conn.failed = true;
    conn.raw.resetAndDestroy();
    return;
  }
  if (client.destroyed) {
    app.destroy();
    return;
  }
  const carried = relay(client, app, { idleTimeoutMs: options.idleTimeoutMs });
  const untrack = options.established.add({
    conn,
    http: undefined,
    close: () => {
      conn.raw.resetAndDestroy();
      carried.close(new Error('no longer authorized'));
    },
  });
  const result = await carried.done;
  untrack();
  if (result.failure) conn.failed = true;
}
