/**
 * HTTP/1 requests that turn the connection into a tunnel (Upgrade: WebSocket and others, CONNECT): the request
 * is authorized like any other, then the proxy connects to the application, sends it the request head as
 * received (with the authorized path) and whatever bytes followed it, and relays both ways. The application's
 * own `101` (or refusal) travels back in the relayed bytes. The connection is re-authorized with that request
 * when the policy changes, from the moment it was authorized (also while the application connection opens).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { requestHead } from '../http/headers.js';
import { forwardPath, h1RequestView } from '../http/request.js';
import { rawResponse, type ProxyResponse } from '../http/respond.js';
import type { InboundConnection } from './connection.js';
import { carry, connectApp, type BytesOptions } from './established.js';
import { upstreamFailure } from './errors.js';

/** Writes a proxy response on a socket that has no ServerResponse and closes it after the write. */
function refuse(socket: Socket, response: ProxyResponse): void {
  if (socket.writable) socket.write(rawResponse('inbound', response));
  socket.destroySoon();
}

/** Serves an Upgrade or CONNECT request on `socket` (the connection's client side) until the tunnel ends. */
export async function openTunnel(conn: InboundConnection, req: IncomingMessage, socket: Socket, head: Buffer, options: BytesOptions): Promise<void> {
  const http = h1RequestView(req);
  const decision = options.authz.check(conn, http);
  if (decision === null) return refuse(socket, { status: 503, message: 'no policy yet: the proxy has not received its first policy', retryAfterSeconds: 1 });
  if (!decision.allowed) return refuse(socket, { status: 403, message: decision.reason, deniedReason: decision.reason });
  const tracked = options.established.track(conn, http);
  const app = await connectApp(conn, options);
  if (app instanceof Error) {
    tracked.untrack();
    return refuse(socket, upstreamFailure(app, conn.port));
  }
  if (tracked.revoked || socket.destroyed) {
    // Revoked while connecting (the client side is already reset), or the client went away.
    tracked.untrack();
    app.destroy();
    return;
  }
  app.write(requestHead(req.method ?? 'GET', forwardPath(req.url ?? '/'), req.httpVersion, req.rawHeaders));
  if (head.length > 0) app.write(head);
  await carry(tracked, socket, app, options);
}
