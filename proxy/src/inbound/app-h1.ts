/**
 * HTTP/1.1 to the application through one {@link H1Pool} per application port (keep-alive connections, one
 * request at a time on each: no pipelining), with `dispatch` and a handler object per request that streams the
 * response back to the client, HTTP/2 stream or HTTP/1 response, with backpressure both ways.
 *
 * Pool settings: no header or body timeout (the application decides how long a request takes; a stuck one
 * ends when the client goes away), connect timeout from the config, free connections kept 4 s or the
 * application's `Keep-Alive: timeout` less 1 s; at most `maxConnections` connections per port, then up to
 * `maxQueued` requests wait (more get 503).
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import type { Logger } from '@loom/shared/runtime';
import { H1Pool, type H1Controller, type H1Handler } from '../http/h1-client/index.js';
import { h1RequestToH1, h1ResponseToH1, h1ResponseToH2, h2RequestToH1 } from '../http/headers.js';
import { forwardPath } from '../http/request.js';
import { h1HasBody, RequestBody } from '../http/request-body.js';
import { respondH1, respondH2 } from '../http/respond.js';
import type { InboundConnection } from './connection.js';
import { upstreamFailure } from './errors.js';

export interface AppH1Options {
  readonly address: string;
  readonly connectTimeoutMs: number;
  /** Connections per application port at most (the pool's default when absent). */
  readonly maxConnections?: number;
  /** Requests per application port waiting for a connection at most (the pool's default when absent). */
  readonly maxQueued?: number;
}

/** One {@link H1Pool} per application port. */
export class AppH1Pools {
  readonly #options: AppH1Options;
  readonly #pools = new Map<number, H1Pool>();

  constructor(options: AppH1Options) {
    this.#options = options;
  }

  pool(port: number): H1Pool {
    let pool = this.#pools.get(port);
    if (pool === undefined) {
      const { address, connectTimeoutMs, maxConnections, maxQueued } = this.#options;
      pool = new H1Pool({
        host: address,
        port,
        connectTimeoutMs,
        ...(maxConnections === undefined ? {} : { maxConnections }),
        ...(maxQueued === undefined ? {} : { maxQueued }),
      });
      this.#pools.set(port, pool);
    }
    return pool;
  }

  /** Lets in-flight requests finish, then closes the connections. */
  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.close()));
  }

  async destroy(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }
}

type Controller = H1Controller;

/** `respond` options (node copies them): shared, not built per response. */
const RESPOND_END = Object.freeze({ endStream: true });
const RESPOND_BODY = Object.freeze({ endStream: false });
const RESPOND_TRAILERS = Object.freeze({ endStream: false, waitForTrailers: true });

/** Responses to HEAD and 204/304 carry no content. */
function bodiless(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304;
}

const kHandler = Symbol('loom.handler');

interface WithHandler {
  [kHandler]?: { resume(): void; abort(): void };
}

function onDrain(this: WithHandler): void {
  this[kHandler]?.resume();
}

/** What both response relays share: the request's controller, and stopping it when the client goes away. */
abstract class ToClient {
  protected readonly conn: InboundConnection;
  protected readonly method: string;
  protected readonly log: Logger;
  protected controller: Controller | null = null;

  constructor(conn: InboundConnection, down: ServerHttp2Stream | ServerResponse, method: string, log: Logger) {
    this.conn = conn;
    this.method = method;
    this.log = log;
    (down as WithHandler)[kHandler] = this;
    down.on('drain', onDrain);
  }

  /** The client is gone. */
  protected abstract gone(): boolean;

  resume(): void {
    this.controller?.resume();
  }

  /** The client went away: stop the request to the application. */
  abort(): void {
    const controller = this.controller;
    if (controller !== null && !controller.aborted) controller.abort(new Error('the client went away'));
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.gone()) controller.abort(new Error('the client went away'));
  }
}

/** An application's HTTP/1.1 response streamed onto the client's HTTP/2 stream. */
class ToH2Stream extends ToClient implements H1Handler {
  readonly #down: ServerHttp2Stream;
  #trailers: IncomingHttpHeaders | null = null;

  constructor(conn: InboundConnection, down: ServerHttp2Stream, method: string, log: Logger) {
    super(conn, down, method, log);
    this.#down = down;
  }

  protected gone(): boolean {
    return this.#down.closed || this.#down.destroyed;
  }

  onResponseStart(controller: Controller, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200) return; // 1xx: the final response follows
    const down = this.#down;
    if (this.gone()) return controller.abort(new Error('the client went away'));
    const endStream = bodiless(this.method, status);
    // HTTP/1.1 trailers come only with chunked responses that announce them (`Trailer`).
    const waitForTrailers = !endStream && headers.trailer !== undefined;
    down.respond(h1ResponseToH2(status, headers), endStream ? RESPOND_END : waitForTrailers ? RESPOND_TRAILERS : RESPOND_BODY);
    if (waitForTrailers) down.once('wantTrailers', () => this.#sendTrailers());
  }

  #sendTrailers(): void {
    try {
      this.#down.sendTrailers(this.#trailers ?? {});
    } catch (err) {
      this.#down.destroy(err as Error);
    }
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.#down.destroyed || this.#down.writableEnded) return;
    if (!this.#down.write(chunk)) controller.pause();
  }

  onResponseEnd(_controller: Controller, trailers: IncomingHttpHeaders): void {
    this.#trailers = trailers;
    if (!this.#down.destroyed && !this.#down.writableEnded) this.#down.end();
  }

  onResponseError(_controller: Controller, err: Error): void {
    const down = this.#down;
    if (this.gone()) return;
    failed(this.log, this.conn, err);
    if (!down.headersSent) respondH2(down, 'inbound', upstreamFailure(err, this.conn.port));
    else down.destroy(err); // a reset: `close(code)` could end the stream cleanly first, a truncated response looking whole
  }
}

/** An application's HTTP/1.1 response streamed onto the client's HTTP/1 response. */
class ToH1Response extends ToClient implements H1Handler {
  readonly #res: ServerResponse;

  constructor(conn: InboundConnection, res: ServerResponse, method: string, log: Logger) {
    super(conn, res, method, log);
    this.#res = res;
  }

  protected gone(): boolean {
    return this.#res.destroyed;
  }

  onResponseStart(controller: Controller, status: number, headers: IncomingHttpHeaders, statusText: string): void {
    if (status < 200) return;
    const res = this.#res;
    if (res.destroyed) return controller.abort(new Error('the client went away'));
    if (this.conn.closing) res.shouldKeepAlive = false;
    res.writeHead(status, statusText, h1ResponseToH1(headers));
    if (bodiless(this.method, status)) res.end();
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.#res.destroyed || this.#res.writableEnded) return;
    if (!this.#res.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    if (!this.#res.destroyed && !this.#res.writableEnded) this.#res.end();
  }

  onResponseError(_controller: Controller, err: Error): void {
    const res = this.#res;
    if (res.destroyed) return;
    failed(this.log, this.conn, err);
    if (!res.headersSent) respondH1(res, 'inbound', upstreamFailure(err, this.conn.port));
    else res.destroy(err);
  }
}

function failed(log: Logger, conn: InboundConnection, err: Error): void {
  log.debug({ event: 'app.request_failed', peer: conn.peer, port: conn.port, err }, 'the application did not complete a request');
}

/** Stops the application request behind a client stream/response that went away (no-op when none). */
export function abortUpstream(down: ServerHttp2Stream | ServerResponse): void {
  (down as WithHandler)[kHandler]?.abort();
}

/** Forwards an HTTP/2 request on `conn` that carries an HTTP/1.x client's request (`loom-orig-proto`) to the application as HTTP/1.1. */
export function forwardH2ToH1(conn: InboundConnection, down: ServerHttp2Stream, headers: IncomingHttpHeaders, pool: H1Pool, log: Logger): void {
  const method = (headers[':method'] as string | undefined) ?? 'GET';
  const body: Readable | null = down.endAfterHeaders || down.readableEnded ? null : new RequestBody(down);
  const handler = new ToH2Stream(conn, down, method, log);
  pool.dispatch({ method, path: forwardPath((headers[':path'] as string | undefined) ?? '/'), headers: h2RequestToH1(headers), body }, handler);
}

/** Forwards an HTTP/1 request on `conn` to the application. */
export function forwardH1(conn: InboundConnection, req: IncomingMessage, res: ServerResponse, pool: H1Pool, log: Logger): void {
  const method = req.method ?? 'GET';
  const handler = new ToH1Response(conn, res, method, log);
  pool.dispatch({ method, path: forwardPath(req.url ?? '/'), headers: h1RequestToH1(req.rawHeaders), body: h1HasBody(req.rawHeaders) ? new RequestBody(req) : null }, handler);
}
