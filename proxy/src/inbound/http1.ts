/**
 * HTTP/1 connections: `loom.http1` from client proxies (mTLS) and plaintext HTTP/1 from unmeshed clients. One
 * node:http server (never listening) parses them with the proxy's limits: request heads larger than
 * `maxHeaderBytes` get 431, heads not complete within `headersTimeoutMs` get 408 (slowloris), unparseable or
 * ambiguous requests (Content-Length with Transfer-Encoding, bad chunking) get 400; each such response goes to
 * its own connection only, which is then closed. Requests are shed at the limit, authorized, and forwarded
 * through the `H1Pool`s; Upgrade and CONNECT become tunnels.
 *
 * A policy change judges every connection again (`reauthorize`): a request in flight that the new policy
 * denies is reset (the connection is destroyed: HTTP/1 has no other way); a connection whose peer is now denied
 * everything on the port is closed at once when idle, else after its current response (`Connection: close`).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '@loom/shared/runtime';
import { isFailure } from '../http/classify.js';
import { createH1Server } from '../http/h1-server.js';
import { h1RequestView } from '../http/request.js';
import { refuseMalformed, respondH1 } from '../http/respond.js';
import type { ProxyMetrics } from '../metrics/families.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import { handOff } from '../transport/detect.js';
import { abortUpstream, forwardH1, type AppH1Pools } from './app-h1.js';
import type { InboundAuthz } from './authorize.js';
import type { InboundConnection } from './connection.js';
import { Exchange } from './exchange.js';
import type { RequestLimit } from './limit.js';

export interface H1InboundOptions {
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  /** Keep-alive connections without a request for this long are closed. */
  readonly idleTimeoutMs: number;
  readonly authz: InboundAuthz;
  readonly limit: RequestLimit;
  readonly pools: AppH1Pools;
  readonly metrics: ProxyMetrics;
  readonly log: Logger;
  /** SIGTERM arrived: responses carry `Connection: close`. */
  readonly draining: () => boolean;
  /** An Upgrade or CONNECT request (the tunnel takes over the socket). */
  readonly tunnel: (conn: InboundConnection, req: IncomingMessage, socket: Socket, head: Buffer) => void;
}

const kExchange = Symbol('loom.exchange');

interface TrackedResponse extends ServerResponse {
  [kExchange]?: H1Exchange;
}

/** A request on an HTTP/1 connection; revoking it destroys the connection (the client sees no complete response). */
class H1Exchange extends Exchange {
  readonly #res: ServerResponse;

  constructor(conn: InboundConnection, limit: RequestLimit, res: ServerResponse) {
    super(conn, limit);
    this.#res = res;
  }

  revoke(): void {
    this.#res.destroy();
  }
}

/** Closes `socket` now when it carries no request, else once its requests in flight are answered. */
function closeWhenIdle(socket: Socket, conn: InboundConnection): void {
  conn.closing = true;
  if (conn.inFlight === 0) socket.destroy();
  else conn.whenIdle = () => socket.destroySoon();
}

/** The response ended or the connection went away: stop the application's side if unfinished, record it. */
function onResponseClose(this: TrackedResponse): void {
  const complete = this.writableFinished;
  if (!complete) abortUpstream(this);
  const status = this.headersSent ? this.statusCode : 0;
  this[kExchange]?.finish(status, !complete || isFailure(status, undefined));
}

export class H1Inbound {
  readonly #options: H1InboundOptions;
  readonly #server: Server;
  readonly #connections = new Map<Socket, InboundConnection>();

  constructor(options: H1InboundOptions) {
    this.#options = options;
    this.#server = createH1Server(options);
    this.#server.on('request', this.#onRequest);
    this.#server.on('upgrade', this.#onTunnel);
    this.#server.on('connect', this.#onTunnel);
    this.#server.on('clientError', this.#onClientError);
  }

  /** Open connections. */
  get size(): number {
    return this.#connections.size;
  }

  /** Serves `socket` (plaintext with the first bytes buffered, or a `loom.http1` TLS socket) as HTTP/1. */
  serve(conn: InboundConnection, socket: Socket): void {
    this.#connections.set(socket, conn);
    socket.once('close', () => this.#connections.delete(socket));
    handOff(this.#server, socket, 'http1');
  }

  /** Closes idle connections now; busy ones close after their current response (`Connection: close`). */
  drain(): void {
    for (const [socket, conn] of this.#connections) closeWhenIdle(socket, conn);
  }

  /** Judges every connection again under `snapshot` (see the module comment). */
  reauthorize(snapshot: PolicySnapshot): void {
    const { authz } = this.#options;
    for (const [socket, conn] of this.#connections) {
      if (authz.reauthorize(snapshot, conn)) closeWhenIdle(socket, conn);
    }
  }

  /** Stops the server's timers. */
  close(): void {
    this.#server.close(ignore);
  }

  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const conn = this.#connections.get(req.socket);
    if (conn === undefined) {
      res.destroy();
      return;
    }
    const { authz, limit, pools, metrics, log } = this.#options;
    const exchange = new H1Exchange(conn, limit, res);
    (res as TrackedResponse)[kExchange] = exchange;
    res.on('close', onResponseClose);
    if (conn.closing || this.#options.draining()) res.shouldKeepAlive = false;
    if (!exchange.admit()) {
      metrics.shed('inbound', 'request');
      respondH1(res, 'inbound', { status: 503, message: 'the inbound proxy is overloaded (at its limit of concurrent requests, or saturated)', retryAfterSeconds: 1 });
      return;
    }
    const view = h1RequestView(req);
    const decision = authz.check(conn, view);
    if (decision === null) {
      respondH1(res, 'inbound', { status: 503, message: 'no policy yet: the proxy has not received its first policy', retryAfterSeconds: 1 });
      return;
    }
    if (!decision.allowed) {
      respondH1(res, 'inbound', { status: 403, message: decision.reason, deniedReason: decision.reason });
      return;
    }
    exchange.authorized(view, conn.edge(decision));
    forwardH1(conn, req, res, pools.pool(conn.port), log);
  };

  readonly #onTunnel = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const conn = this.#connections.get(socket);
    if (conn === undefined) {
      socket.destroy();
      return;
    }
    // No longer an HTTP connection: draining leaves the tunnel to run until the drain deadline.
    this.#connections.delete(socket);
    this.#options.tunnel(conn, req, socket, head);
  };

  /** A request node's parser refused: answer on that connection alone (when nothing else is being answered on it) and close it. */
  readonly #onClientError = (err: Error, socket: Socket): void => {
    const conn = this.#connections.get(socket);
    const response = refuseMalformed(socket, 'inbound', err, conn === undefined || conn.inFlight > 0);
    if (conn === undefined) return;
    conn.failed = true;
    if (response === null) return;
    this.#options.log.info({ event: 'http.malformed', peer: conn.peer, port: conn.port, identity: conn.identity ?? '', reason: response.message }, 'request refused');
    conn.unrouted().request(response.status, false, 0);
  };
}

function ignore(): void {}
