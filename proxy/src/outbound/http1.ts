/**
 * The HTTP/1 server in front of applications that speak HTTP/1.x. Connections are handed to one node:http
 * server (`handOff`); each request becomes an {@link H1Exchange}:
 * - to a meshed endpoint: an HTTP/2 stream over `loom.h2`, headers converted with `loom-orig-proto`, trailers
 *   passed back only when the client asked for them (`te: trailers`);
 * - to an unmeshed endpoint (or a passthrough destination): HTTP/1 through the endpoint's H1Pool.
 * Upgrade (WebSocket) and CONNECT requests become tunnels: one connection per request to an endpoint chosen
 * for it (`loom.http1` when meshed), the request head replayed, then bytes relayed both ways.
 *
 * Malformed requests (conflicting Content-Length/Transfer-Encoding, oversized heads, heads too slow to
 * arrive) get a minimal 400/431/408 on their own connection, which then closes; nothing else is affected.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { IncomingHttpHeaders, IncomingHttpStatusHeader, OutgoingHttpHeaders } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { HttpRequestView } from '@loom/shared/policy';
import { H1_QUEUE_FULL, isConnectFailure, type H1Controller, type H1Handler } from '../http/h1-client/index.js';
import { createH1Server } from '../http/h1-server.js';
import { h1RequestToH1, h1RequestToH2, h1ResponseToH1, h2ResponseToH1, requestHead } from '../http/headers.js';
import { h1RequestView } from '../http/request.js';
import { h1HasBody, RequestBody } from '../http/request-body.js';
import { rawResponse, refuseMalformed, respondH1, type ProxyResponse } from '../http/respond.js';
import { peerOf } from '../transport/address.js';
import { handOff } from '../transport/detect.js';
import { ALPN_HTTP1 } from '../wire.js';
import type { EndpointHandle } from './endpoints.js';
import { NoCertificateError } from './endpoints.js';
import { Exchange, type ExchangeDeps } from './exchange.js';
import { admit, denied, dispatch, planRequest, shedH1, shedPipelined, type AppConnection, type HttpContext } from './requests.js';
import { carry, open } from './tcp.js';

export class H1Exchange extends Exchange {
  readonly fromH2 = false;
  readonly bodyEndIsFinal = true;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly hasBody: boolean;
  #call: H1Call | null = null;
  readonly #conn: AppConnection;

  constructor(deps: ExchangeDeps, conn: AppConnection, req: IncomingMessage, res: ServerResponse) {
    super(deps, conn.edge);
    this.req = req;
    this.res = res;
    this.hasBody = h1HasBody(req.rawHeaders);
    this.#conn = conn;
    conn.pending += 1;
  }

  override finish(): void {
    if (!this.done) this.#conn.pending -= 1;
    super.finish();
  }

  get body(): IncomingMessage {
    return this.req;
  }

  requestAborted(): boolean {
    return this.req.destroyed && !this.req.complete;
  }

  upstreamHeaders(): OutgoingHttpHeaders {
    const { req } = this;
    return h1RequestToH2(req.method ?? 'GET', req.url ?? '/', req.httpVersion, req.rawHeaders);
  }

  respond(headers: IncomingHttpHeaders & IncomingHttpStatusHeader, endStream: boolean): ServerResponse | null {
    const list = h2ResponseToH1(headers);
    if (this.deps.closing()) list.push('connection', 'close');
    this.res.writeHead(headers[':status'] ?? 502, list);
    if (!endStream) return this.res;
    this.res.end();
    return null;
  }

  trailers(trailers: IncomingHttpHeaders): void {
    if (this.wantsTrailers) this.res.addTrailers(trailers);
  }

  /** The client declared it accepts trailers (`te: trailers`); otherwise they are dropped. Asked only when trailers came. */
  get wantsTrailers(): boolean {
    const raw = this.req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.length === 2 && raw[i]!.toLowerCase() === 'te' && raw[i + 1]!.toLowerCase().includes('trailers')) return true;
    }
    return false;
  }

  respondProxy(response: ProxyResponse): boolean {
    return respondH1(this.res, 'outbound', this.deps.closing() ? { ...response, close: true } : response);
  }

  reset(): void {
    this.res.destroy();
  }

  sendPlain(handle: EndpointHandle): void {
    const { req } = this;
    const call = new H1Call(this, handle);
    this.#call = call;
    handle.dispatchH1(
      {
        path: req.url ?? '/',
        method: req.method ?? 'GET',
        headers: h1RequestToH1(req.rawHeaders),
        // The pool destroys the body it was given when the upstream stops reading early; not the application's request.
        body: this.hasBody ? new RequestBody(req) : null,
      },
      call,
      this.plan!.service,
    );
  }

  protected override cancel(): void {
    this.#call?.abort();
  }

  requestView(): HttpRequestView {
    return h1RequestView(this.req);
  }

  describe(): string {
    return `${this.req.method ?? ''} ${this.req.url ?? ''}`;
  }
}

/** One HTTP/1 request through the endpoint's H1Pool (an unmeshed endpoint, or a meshed one over `loom.http1`). */
class H1Call implements H1Handler {
  readonly #ex: H1Exchange;
  readonly #handle: EndpointHandle;
  /** The connect attempt token: requests queued on one failed connect count one failure. */
  readonly #attempt: number;
  #controller: H1Controller | null = null;
  #waitingDrain = false;

  constructor(ex: H1Exchange, handle: EndpointHandle) {
    this.#ex = ex;
    this.#handle = handle;
    this.#attempt = handle.attempt();
  }

  /** The response ended or failed: nothing left to abort. */
  #settled = false;

  /** The application went away before the response ended: stop the request (an Error is built only then). */
  abort(): void {
    const c = this.#controller;
    if (c !== null && !this.#settled && !c.aborted) c.abort(new Error('the application closed the request'));
  }

  onRequestStart(controller: H1Controller): void {
    this.#controller = controller;
    this.#handle.succeeded();
    if (this.#ex.done) controller.abort(new Error('the application closed the request'));
  }

  onResponseStart(_controller: H1Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage: string): void {
    const ex = this.#ex;
    if (ex.done) return;
    ex.answered(statusCode);
    const grpc = headers['grpc-status'];
    if (typeof grpc === 'string') ex.grpcStatus = grpc;
    const list = h1ResponseToH1(headers);
    if (ex.deps.closing()) list.push('connection', 'close');
    if (statusMessage !== '') ex.res.writeHead(statusCode, statusMessage, list);
    else ex.res.writeHead(statusCode, list);
  }

  onResponseData(controller: H1Controller, chunk: Buffer): void {
    const { res } = this.#ex;
    if (this.#ex.done || res.write(chunk) || this.#waitingDrain) return;
    this.#waitingDrain = true;
    controller.pause();
    res.once('drain', () => {
      this.#waitingDrain = false;
      controller.resume();
    });
  }

  onResponseEnd(_controller: H1Controller, trailers: IncomingHttpHeaders): void {
    this.#settled = true;
    const ex = this.#ex;
    const grpc = trailers['grpc-status'];
    if (typeof grpc === 'string') ex.grpcStatus = grpc;
    if (ex.done) return;
    if (hasAny(trailers) && ex.wantsTrailers) ex.res.addTrailers(trailers);
    ex.res.end();
  }

  onResponseError(_controller: H1Controller, err: Error): void {
    this.#settled = true;
    const ex = this.#ex;
    if (this.#controller === null && isConnectError(err)) {
      // Never started: the connection failed before the request was written. The pool wraps what the mesh
      // opener threw; without a certificate of our own the endpoint is not at fault (no ejection) and the
      // client gets 503 `no mesh certificate yet`, as on `loom.h2`.
      if (err.cause instanceof NoCertificateError) {
        ex.connectFailed(this.#handle, err.cause);
        return;
      }
      this.#handle.failed(err, this.#attempt);
      ex.connectFailed(this.#handle, err);
      return;
    }
    if (ex.done) return;
    if (!ex.res.headersSent) {
      if ((err as { code?: unknown }).code === H1_QUEUE_FULL) ex.fail({ status: 503, message: `${ex.target()} is busy: ${err.message}`, retryAfterSeconds: 1 });
      else ex.fail({ status: 502, message: `${ex.target()} failed before responding: ${err.message}` });
    } else {
      ex.broken = true;
      ex.res.destroy();
    }
  }
}

/**
 * The request never reached the endpoint because connecting failed (refused, unreachable, timed out): the
 * endpoint's fault, it is ejected and another one tried. The pool's own refusals (queue full, pool closed) and
 * aborts are not.
 */
function isConnectError(err: Error): boolean {
  return isConnectFailure(err);
}

function hasAny(headers: IncomingHttpHeaders): boolean {
  for (const name in headers) if (headers[name] !== undefined) return true;
  return false;
}

/** The HTTP/1 server all HTTP/1 application connections are handed to. */
export class Http1Server {
  readonly #ctx: HttpContext;
  readonly #server: Server;
  readonly #conns = new WeakMap<Socket, AppConnection>();

  constructor(ctx: HttpContext) {
    this.#ctx = ctx;
    this.#server = createH1Server(ctx.cfg);
    this.#server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res));
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onTunnel(req, socket as Socket, head));
    this.#server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onTunnel(req, socket as Socket, head));
    this.#server.on('clientError', (err: Error, socket: Duplex) => this.#onClientError(err, socket as Socket));
  }

  accept(socket: Socket, conn: AppConnection): void {
    this.#conns.set(socket, conn);
    handOff(this.#server, socket, 'http1');
  }

  close(): void {
    this.#server.close();
    this.#server.closeAllConnections();
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const ctx = this.#ctx;
    const conn = this.#conns.get(req.socket);
    if (conn === undefined) {
      res.destroy(); // not handed over by accept(): cannot happen
      return;
    }
    if (shedH1(ctx, conn, res) || shedPipelined(ctx, conn, res)) return;
    admit(ctx);
    const ex = new H1Exchange(ctx.exchange, conn, req, res);
    ex.finishOnClose(res);
    dispatch(ctx, conn, ex);
  }

  #onClientError(err: Error, socket: Socket): void {
    // A response of node's own is under way on the connection (the parser failed mid-body): do not interleave.
    const busy = (socket as { _httpMessage?: unknown })._httpMessage != null;
    const response = refuseMalformed(socket, 'outbound', err, busy);
    if (response !== null) this.#ctx.log.debug({ event: 'http.malformed', peer: peerOf(socket), reason: response.message, status: response.status }, 'malformed HTTP/1 request refused');
  }

  /** An Upgrade or CONNECT request: a connection of its own to an endpoint, then bytes both ways. */
  #onTunnel(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const ctx = this.#ctx;
    socket.setTimeout(0);
    const conn = this.#conns.get(socket);
    if (conn === undefined) {
      socket.destroy();
      return;
    }
    const plan = planRequest(ctx, conn, { requestView: () => h1RequestView(req) });
    if ('kind' in plan) {
      denied(ctx.rt, ctx.log, plan, `${req.method ?? ''} ${req.url ?? ''}`);
      socket.end(rawResponse('outbound', { status: 403, message: plan.reason, deniedReason: plan.reason }));
      return;
    }
    const requestBytes = requestHead(req.method ?? 'GET', req.url ?? '/', req.httpVersion, req.rawHeaders);
    open(plan, ALPN_HTTP1, ctx.exchange.now).then(
      (opened) => carry(socket, opened, opened.handle.edge(plan.service, plan.route), ctx.log, [requestBytes, head]),
      (err: Error) => {
        ctx.log.debug({ event: 'tunnel.connect_failed', dst_service: plan.service, reason: err.message }, 'upgrade refused: no endpoint could be reached');
        const response: ProxyResponse = err instanceof NoCertificateError ? { status: 503, message: err.message, retryAfterSeconds: 1 } : { status: 502, message: err.message };
        if (!socket.destroyed) socket.end(rawResponse('outbound', response));
      },
    ).catch((err: unknown) => {
      ctx.log.error({ event: 'tunnel.failed', err: err as Error }, 'tunnelling an upgraded request failed');
      socket.destroy();
    });
  }
}
