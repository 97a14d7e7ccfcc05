/**
 * The HTTP/2 side for applications that speak HTTP/2 with prior knowledge (h2c; gRPC). Each connection gets its
 * own server session (`performServerHandshake`, which reads the bytes detection left buffered); each stream
 * becomes an {@link H2Exchange} sent as an HTTP/2 stream to the endpoint (`loom.h2` when meshed, h2c when not),
 * headers as they are (no `loom-orig-proto`), trailers both ways, RST_STREAM propagated both ways.
 */
import { performServerHandshake, type IncomingHttpHeaders, type IncomingHttpStatusHeader, type OutgoingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { HttpRequestView } from '@loom/shared/policy';
import { h2RequestToH2 } from '../http/headers.js';
import { h2RequestView } from '../http/request.js';
import { respondH2, type ProxyResponse } from '../http/respond.js';
import { Exchange, exchangeOf, type ExchangeDeps } from './exchange.js';
import { admit, dispatch, shedH2, type AppConnection, type HttpContext } from './requests.js';

/** `respond` options (node only reads them): shared, not built per response. */
const RESPOND_END = Object.freeze({ endStream: true });
const RESPOND_TRAILERS = Object.freeze({ waitForTrailers: true });

export class H2Exchange extends Exchange {
  readonly fromH2 = true;
  readonly bodyEndIsFinal = false;
  readonly stream: ServerHttp2Stream;
  readonly headers: IncomingHttpHeaders;
  readonly hasBody: boolean;
  #trailers: IncomingHttpHeaders | null = null;

  constructor(deps: ExchangeDeps, conn: AppConnection, stream: ServerHttp2Stream, headers: IncomingHttpHeaders) {
    super(deps, conn.edge);
    this.stream = stream;
    this.headers = headers;
    this.hasBody = !stream.endAfterHeaders;
  }

  get body(): ServerHttp2Stream {
    return this.stream;
  }

  requestAborted(): boolean {
    const { stream } = this;
    return stream.aborted || stream.destroyed || (stream.rstCode !== undefined && stream.rstCode !== 0);
  }

  upstreamHeaders(): OutgoingHttpHeaders {
    return h2RequestToH2(this.headers);
  }

  respond(headers: IncomingHttpHeaders & IncomingHttpStatusHeader, endStream: boolean): ServerHttp2Stream | null {
    const { stream } = this;
    if (stream.closed || stream.destroyed) return null;
    if (endStream) {
      stream.respond(headers, RESPOND_END);
      return null;
    }
    stream.respond(headers, RESPOND_TRAILERS);
    stream.once('wantTrailers', H2Exchange.#onWantTrailers);
    return stream;
  }

  trailers(trailers: IncomingHttpHeaders): void {
    this.#trailers = trailers;
  }

  /** The response body ended: the upstream's trailers follow (an empty trailer section when it sent none). */
  static readonly #onWantTrailers = function (this: ServerHttp2Stream): void {
    const ex = exchangeOf(this);
    if (!(ex instanceof H2Exchange) || this.closed || this.destroyed) return;
    this.sendTrailers(ex.#trailers ?? {});
  };

  respondProxy(response: ProxyResponse): boolean {
    return respondH2(this.stream, 'outbound', response);
  }

  /**
   * RST_STREAM(INTERNAL_ERROR) to the application, whatever the upstream's code: `close(code)` ends the writable
   * side first and may send END_STREAM before the reset (a truncated response looking whole), and node's clients
   * report a CANCEL (the code node gives streams whose connection was lost) as a plain end, not an error.
   */
  reset(code: number): void {
    if (!this.stream.closed && !this.stream.destroyed) this.stream.destroy(new Error(`the upstream reset the stream (code ${code})`));
  }

  sendPlain(): void {
    // HTTP/2 applications always go through an HTTP/2 session (h2c to unmeshed endpoints).
    throw new Error('unreachable: HTTP/2 requests are sent over HTTP/2');
  }

  requestView(): HttpRequestView {
    return h2RequestView(this.headers);
  }

  describe(): string {
    const { headers } = this;
    return `${headers[':method'] ?? ''} ${headers[':path'] ?? ''}`;
  }
}

const ignore = (): void => {};

/** Serves HTTP/2 application connections. */
export class Http2Sessions {
  readonly #ctx: HttpContext;
  readonly #sessions = new Set<ServerHttp2Session>();

  constructor(ctx: HttpContext) {
    this.#ctx = ctx;
  }

  accept(socket: Socket, conn: AppConnection): void {
    const ctx = this.#ctx;
    const session = performServerHandshake(socket, {
      settings: { maxConcurrentStreams: 1_000, maxHeaderListSize: ctx.cfg.maxHeaderBytes, enablePush: false },
      maxSessionMemory: 64,
    });
    this.#sessions.add(session);
    session.on('error', (err: Error) => ctx.log.debug({ event: 'http2.session_error', err }, 'application HTTP/2 session failed'));
    session.on('close', () => this.#sessions.delete(session));
    session.setTimeout(ctx.cfg.idleTimeoutMs, () => session.close());
    session.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.#onStream(conn, stream, headers));
  }

  #onStream(conn: AppConnection, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const ctx = this.#ctx;
    stream.on('error', ignore); // reported through 'close' (rstCode)
    if (shedH2(ctx, conn, stream)) return;
    admit(ctx);
    const ex = new H2Exchange(ctx.exchange, conn, stream, headers);
    ex.finishOnClose(stream);
    dispatch(ctx, conn, ex);
  }

  destroy(): void {
    for (const s of this.#sessions) s.destroy();
  }
}
