/**
 * HTTP/1 requests that turn the connection into a tunnel (Upgrade: WebSocket and others, CONNECT): the request
 * is authorized like any other, then the proxy connects to the application, sends it the request head as
 * received (with the authorized path) and whatever bytes followed it, and relays both ways. The application's
 * own `101` (or refusal) travels back in the relayed bytes. The connection is re-authorized with that request
 * when the policy changes.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '@loom/shared/runtime';
import { headerSafe } from '../http/respond.js';
import { relay } from '../transport/relay.js';
import { DENIED_REASON_HEADER } from '../wire.js';
import { requestHead } from './app-headers.js';
import { connectApp } from './app-tcp.js';
import type { InboundAuthz } from './authorize.js';
import type { InboundConnection } from './connection.js';
import type { EstablishedConnections } from './established.js';
import { rawResponse, upstreamFailure, type FailureResponse } from './errors.js';
import { forwardPath, h1RequestView } from './request.js';

export interface TunnelOptions {
  readonly appAddress: string;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly authz: InboundAuthz;
  readonly established: EstablishedConnections;
  readonly log: Logger;
}

/** Writes a proxy response on a socket that has no ServerResponse and closes it after the write. */
function refuse(socket: Socket, response: FailureResponse, extra?: Readonly<Record<string, string>>): void {
  if (socket.writable) socket.write(rawResponse(response, extra));
  socket.destroySoon();
}

/** Serves an Upgrade or CONNECT request on `socket` (the connection's client side) until the tunnel ends. */
export async function openTunnel(conn: InboundConnection, req: IncomingMessage, socket: Socket, head: Buffer, options: TunnelOptions): Promise<void> {
  const http = h1RequestView(req);
  const decision = options.authz.check(conn, http);
  if (decision === null) return refuse(socket, { status: 503, message: 'no policy yet: the proxy has not received its first policy' }, { 'retry-after': '1' });
  if (!decision.allowed) return refuse(socket, { status: 403, message: decision.reason }, { [DENIED_REASON_HEADER]: headerSafe(decision.reason) });
  let app: Socket;
  try {
    app = await connectApp(options.appAddress, conn.port, options.connectTimeoutMs);
  } catch (err) {
    options.log.debug({ event: 'app.connect_failed', peer: conn.peer, port: conn.port, err: err as Error }, 'the application refused the connection');
    conn.failed = true;
    return refuse(socket, upstreamFailure(err as Error, conn.port));
  }
  if (socket.destroyed) {
    app.destroy();
    return;
  }
  app.write(requestHead(req.method ?? 'GET', forwardPath(req.url ?? '/'), req.httpVersion, req.rawHeaders));
  if (head.length > 0) app.write(head);
  const carried = relay(socket, app, { idleTimeoutMs: options.idleTimeoutMs });
  const untrack = options.established.add({
    conn,
    http,
    close: () => {
      conn.raw.resetAndDestroy();
      carried.close(new Error('no longer authorized'));
    },
  });
  const result = await carried.done;
  untrack();
  if (result.failure) conn.failed = true;
}
