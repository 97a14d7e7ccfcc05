/**
 * Opaque TCP: authorized once per connection (no HTTP view), then relayed to the application port byte for
 * byte. A denied connection, or one the application refuses, is reset; an allowed one is re-authorized when
 * the policy changes, from the moment it was authorized (also while the application connection is opening).
 */
import type { Socket } from 'node:net';
import type { InboundConnection } from './connection.js';
import { carry, connectApp, type BytesOptions } from './established.js';

/** Serves one opaque connection (`client`: the raw socket, or the TLS socket over it) until it ends. */
export async function forwardTcp(conn: InboundConnection, client: Socket, options: BytesOptions): Promise<void> {
  const decision = options.authz.check(conn);
  if (decision === null || !decision.allowed) {
    if (decision === null) options.log.debug({ event: 'authz.no_policy', peer: conn.peer, port: conn.port }, 'connection refused: no policy yet');
    conn.failed = true;
    conn.countOn(conn.unrouted());
    conn.raw.resetAndDestroy();
    return;
  }
  conn.countOn(conn.edge(decision));
  const tracked = options.established.track(conn, undefined);
  const app = await connectApp(conn, options);
  if (app instanceof Error) {
    tracked.untrack();
    conn.raw.resetAndDestroy();
    return;
  }
  if (tracked.revoked || client.destroyed) {
    // Revoked while connecting (the client side is already reset), or the client went away.
    tracked.untrack();
    app.destroy();
    return;
  }
  await carry(tracked, client, app, options);
}
