/**
 * The HTTP/1 server in front of applications that speak HTTP/1.x. Connections are handed to one node:http
 * server (`handOff`); each request becomes an {@link H1Exchange}:
 * - to a meshed endpoint: an HTTP/2 stream over `loom.h2`, headers converted with `loom-orig-proto`, trailers
 *   passed back only when the client asked for them (`te: trailers`);
 * - to an unmeshed endpoint (or a passthrough destination): HTTP/1 through the endpoint's undici Pool.
 * Upgrade (WebSocket) and CONNECT requests become tunnels: one connection per request to an endpoint chosen
 * for it (`loom.http1` when meshed), the request head replayed, then bytes relayed both ways.
 *
 * Malformed requests (conflicting Content-Length/Transfer-Encoding, oversized heads, heads too slow to
 * arrive) get a minimal 400/431/408 on their own connection, which then closes; nothing else is affected.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { IncomingHttpHeaders, IncomingHttpStatusHeader, OutgoingHttpHeaders } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { HttpRequestView } from '@loom/shared/policy';
import type { Dispatcher } from 'undici';
import { h1RequestToH2, h2ResponseToH1 } from '../http/headers.js';
import { respondH1, type ProxyResponse } from '../http/respond.js';
import { handOff } from '../transport/detect.js';
import { ALPN_HTTP1, DENIED_REASON_HEADER } from '../wire.js';
import type { EndpointHandle } from './endpoints.js';
import { NoCertificateError } from './endpoints.js';
import { Exchange, type ExchangeDeps } from './exchange.js';
import { plainRequestHeaders, plainResponseHeaders, rawResponse, requestHead } from './h1-headers.js';
import { admit, denied, dispatch, planRequest, type AppConnection, type HttpContext } from './requests.js';
import { carry, open } from './tcp.js';

export class H1Exchange extends Exchange {
  readonly fromH2 = false;
  readonly bodyEndIsFinal = true;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  #call: UndiciCall | null = null;

  constructor(deps: ExchangeDeps, conn: AppConnection, req: IncomingMessage, res: ServerResponse) {
    super(deps, conn.edge);
    this.req = req;
    this.res = res;
  }

  get hasBody(): boolean {
    const length = this.req.headers['content-length'];
    return length !== undefined ? length !== '0' : this.req.headers['transfer-encoding'] !== undefined;
  }

  get body(): IncomingMessage {
    return this.req;
  }

  requestAborted(): boolean {
    return this.req.destroyed && !this.req.complete;
  }

  upstreamHeaders(): OutgoingHttpHeaders {
    const { req } = this;
    const headers = h1RequestToH2(req.method ?? 'GET', req.url ?? '/', req.httpVersion, req.rawHeaders);
    // node:http already answered `100 Continue` to the application.
    delete headers.expect;
    return headers;
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

  /** The client declared it accepts trailers (`te: trailers`); otherwise they are dropped. */
  get wantsTrailers(): boolean {
    const te = this.req.headers.te;
    return typeof te === 'string' && te.toLowerCase().includes('trailers');
  }

  respondProxy(response: ProxyResponse): boolean {
    return respondH1(this.res, 'outbound', this.deps.closing() ? { ...response, close: true } : response);
  }

  reset(): void {
    this.res.destroy();
  }

  sendPlain(handle: EndpointHandle): void {
    const { req } = this;
    const call = new UndiciCall(this, handle);
    this.#call = call;
    handle.dispatchH1(
      {
        path: req.url ?? '/',
        method: req.method ?? 'GET',
        headers: plainRequestHeaders(req.rawHeaders),
        body: this.hasBody ? req : null,
      },
      call,
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

/** An HTTP/1 request as split `matches` see it (repeated headers joined with `, `, as node joins them). */
export function h1RequestView(req: IncomingMessage): HttpRequestView {
  return {
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    headers: (name) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

/** One HTTP/1 request to an unmeshed endpoint through undici's dispatch API. */
class UndiciCall implements Dispatcher.DispatchHandler {
  readonly #ex: H1Exchange;
  readonly #handle: EndpointHandle;
  #controller: Dispatcher.DispatchController | null = null;
  #waitingDrain = false;

  constructor(ex: H1Exchange, handle: EndpointHandle) {
    this.#ex = ex;
    this.#handle = handle;
  }

  abort(): void {
    const c = this.#controller;
    if (c !== null && !c.aborted) c.abort(new Error('the application closed the request'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    this.#handle.succeeded();
    if (this.#ex.done) controller.abort(new Error('the application closed the request'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    const ex = this.#ex;
    if (ex.done) return;
    ex.answered(statusCode);
    const grpc = headers['grpc-status'];
    if (typeof grpc === 'string') ex.grpcStatus = grpc;
    const list = plainResponseHeaders((controller.rawHeaders as (string | Buffer)[] | null | undefined) ?? flatten(headers));
    if (ex.deps.closing()) list.push('connection', 'close');
    if (statusMessage !== undefined && statusMessage !== '') ex.res.writeHead(statusCode, statusMessage, list);
    else ex.res.writeHead(statusCode, list);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const { res } = this.#ex;
    if (this.#ex.done || res.write(chunk) || this.#waitingDrain) return;
    this.#waitingDrain = true;
    controller.pause();
    res.once('drain', () => {
      this.#waitingDrain = false;
      controller.resume();
    });
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    const ex = this.#ex;
    const grpc = trailers['grpc-status'];
    if (typeof grpc === 'string') ex.grpcStatus = grpc;
    if (ex.done) return;
    if (ex.wantsTrailers && Object.keys(trailers).length > 0) ex.res.addTrailers(trailers);
    ex.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    const ex = this.#ex;
    if (this.#controller === null && isConnectError(err)) {
      // Never started: the connection failed before the request was written.
      ex.connectFailed(this.#handle, err);
      return;
    }
    if (ex.done) return;
    if (!ex.res.headersSent) {
      ex.fail({ status: 502, message: `${ex.target()} failed before responding: ${err.message}` });
    } else {
      ex.broken = true;
      ex.res.destroy();
    }
  }
}

/**
 * An error undici reports for a request it never started: a connection failure (the endpoint's fault), or
 * its own refusal (`UND_ERR_INVALID_ARG`, `UND_ERR_CLOSED`...: not the endpoint's fault, no ejection).
 */
function isConnectError(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code !== 'string' || !code.startsWith('UND_ERR_') || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_SOCKET';
}

function flatten(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else if (value !== undefined) out.push(name, value);
  }
  return out;
}

/** The HTTP/1 server all HTTP/1 application connections are handed to. */
export class Http1Server {
  readonly #ctx: HttpContext;
  readonly #server: Server;
  readonly #conns = new WeakMap<Socket, AppConnection>();

  constructor(ctx: HttpContext) {
    this.#ctx = ctx;
    const { cfg } = ctx;
    this.#server = createServer({
      maxHeaderSize: cfg.maxHeaderBytes,
      headersTimeout: cfg.headersTimeoutMs,
      keepAliveTimeout: cfg.idleTimeoutMs,
      // No deadline for whole requests: bodies may stream for long. Heads are bounded by headersTimeout.
      requestTimeout: 0,
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(cfg.headersTimeoutMs / 4))),
      noDelay: true,
    });
    this.#server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res));
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onTunnel(req, socket as Socket, head));
    this.#server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onTunnel(req, socket as Socket, head));
    this.#server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => this.#onClientError(err, socket as Socket));
    // The server never listens (connections are handed to it), but its header-timeout checks start on
    // 'listening': without them a client could hold a connection open with a head that never completes.
    this.#server.emit('listening');
  }

  accept(socket: Socket, conn: AppConnection): void {
    this.#conns.set(socket, conn);
    handOff(this.#server, socket, 'http1');
  }

  /** Closing: idle keep-alive connections close now; busy ones after their response (`connection: close`). */
  drain(): void {
    this.#server.closeIdleConnections();
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
    admit(ctx);
    const ex = new H1Exchange(ctx.exchange, conn, req, res);
    ex.finishOnClose(res);
    dispatch(ctx, conn, ex);
  }

  #onClientError(err: Error & { code?: string }, socket: Socket): void {
    const busy = (socket as { _httpMessage?: unknown })._httpMessage != null;
    if (err.code === 'ECONNRESET' || !socket.writable || busy) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    this.#ctx.log.debug({ event: 'http.malformed', peer: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`, reason: err.message, status }, 'malformed HTTP/1 request refused');
    socket.end(rawResponse(status, STATUS_CODES[status] ?? 'Bad Request', ''));
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
      socket.end(rawResponse(403, 'Forbidden', plan.reason, { [DENIED_REASON_HEADER]: plan.reason }));
      return;
    }
    const requestBytes = requestHead(req.method ?? 'GET', req.url ?? '/', req.httpVersion, req.rawHeaders);
    open(plan, ALPN_HTTP1, ctx.exchange.now).then(
      ({ handle, socket: upstream }) => {
        const edge = handle.edge(plan.service, plan.route);
        edge.connectionOpened();
        if (socket.destroyed) {
          upstream.destroy();
          edge.connectionClosed(true, 0, 0);
          return;
        }
        upstream.write(requestBytes);
        if (head.length > 0) upstream.write(head);
        carry(socket, upstream, edge, ctx.log, handle.where);
      },
      (err: Error) => {
        const status = err instanceof NoCertificateError ? 503 : 502;
        ctx.log.debug({ event: 'tunnel.connect_failed', dst_service: plan.service, reason: err.message }, 'upgrade refused: no endpoint could be reached');
        if (!socket.destroyed) socket.end(rawResponse(status, STATUS_CODES[status] ?? '', err.message));
      },
    ).catch((err: unknown) => {
      ctx.log.error({ event: 'tunnel.failed', err: err as Error }, 'tunnelling an upgraded request failed');
      socket.destroy();
    });
  }
}
