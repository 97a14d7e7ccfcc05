/**
 * One HTTP request from the application and its response: endpoint choice, the upstream call, and the
 * bookkeeping (metrics, endpoint load, requests in flight) — the endpoint stage of the outbound stack.
 *
 * The application side differs by protocol ({@link H1Exchange} in `http1.ts`, {@link H2Exchange} in
 * `http2.ts`); the upstream side is an HTTP/2 stream on the endpoint's pooled session (`loom.h2` to meshed
 * endpoints, h2c to unmeshed ones when the application spoke HTTP/2), or an `H1Pool` dispatch (HTTP/1
 * applications to unmeshed endpoints, in `http1.ts`).
 *
 * Failures:
 * - a connect failure (refused, TLS, wrong identity) before anything was sent ejects the endpoint (once per
 *   connect attempt, not per request waiting on it) and tries another one once — safe, since the request was
 *   not sent; then 502;
 * - no certificate held yet for a meshed endpoint: 503 `no mesh certificate yet`;
 * - the upstream resets the stream (or its connection is lost) before responding: 502; after responding: the
 *   application's response is reset too (HTTP/1: connection destroyed; HTTP/2: RST_STREAM INTERNAL_ERROR), so a
 *   truncated response never looks complete;
 * - the application goes away (HTTP/1 close, HTTP/2 RST_STREAM): the upstream stream is cancelled.
 * There is no response deadline by default (streaming responses may last).
 */
import { constants as h2, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type IncomingHttpStatusHeader, type OutgoingHttpHeaders } from 'node:http2';
import type { Readable, Writable } from 'node:stream';
import type { HttpRequestView } from '@loom/shared/policy';
import type { Logger } from '@loom/shared/runtime';
import { isFailure } from '../http/classify.js';
import type { ProxyResponse } from '../http/respond.js';
import type { EdgeMetrics } from '../metrics/families.js';
import { abandoned, answered, started } from './balance.js';
import { NoCertificateError, type EndpointHandle } from './endpoints.js';
import type { Plan } from './logical.js';
import type { H2Origin } from './session.js';

export interface ExchangeDeps {
  readonly log: Logger;
  /** Monotonic milliseconds (balancer clock and request durations). */
  readonly now: () => number;
  /** Called once per exchange when the application's side closed. */
  readonly finished: () => void;
  /** The proxy is closing: HTTP/1 responses ask the client to close its connection. */
  readonly closing: () => boolean;
  /** HTTP/1 requests go to meshed endpoints as HTTP/1.1 on `loom.http1` connections rather than on `loom.h2`. */
  readonly meshHttp1: boolean;
}

const EXCHANGE = Symbol('loom.outbound.exchange');

/** `session.request` options (node copies them): shared, not built per request. */
const REQUEST_WITH_BODY = Object.freeze({ endStream: false });
const REQUEST_WITHOUT_BODY = Object.freeze({ endStream: true });

interface Tagged {
  [EXCHANGE]?: Exchange;
}

/** The exchange an upstream stream or an application response/stream belongs to. */
export function exchangeOf(emitter: object): Exchange | undefined {
  return (emitter as Tagged)[EXCHANGE];
}

export abstract class Exchange {
  readonly deps: ExchangeDeps;
  readonly startedAt: number;
  plan: Plan | null = null;
  handle: EndpointHandle | null = null;
  /** Where the request is counted: the connection's logical edge until an endpoint is chosen. */
  edge: EdgeMetrics;
  status = 0;
  grpcStatus: string | undefined = undefined;
  /** The upstream failed after the response started (the application's response was cut). */
  broken = false;
  /** The application's side closed: nothing more is sent to it. */
  done = false;
  /** The request counts in the chosen endpoint's load. */
  #pending = false;
  #sentAt = 0;
  #retried = false;
  upstream: ClientHttp2Stream | null = null;
  #origin: H2Origin | null = null;

  constructor(deps: ExchangeDeps, edge: EdgeMetrics) {
    this.deps = deps;
    this.edge = edge;
    this.startedAt = deps.now();
  }

  // ---- application side, per protocol ---------------------------------------------------------------------

  /** The application spoke HTTP/2 (gRPC included). */
  abstract readonly fromH2: boolean;
  /** A request body follows the headers. */
  abstract readonly hasBody: boolean;
  /** The request body. */
  abstract readonly body: Readable;
  /** The body's 'end' always means the client finished sending (HTTP/1); not so for HTTP/2 (see #send). */
  abstract readonly bodyEndIsFinal: boolean;
  /** The client reset or abandoned the request. */
  abstract requestAborted(): boolean;
  /** The request's headers for an HTTP/2 upstream (converted from HTTP/1 with `loom-orig-proto`, or as-is). */
  abstract upstreamHeaders(): OutgoingHttpHeaders;
  /** Sends the upstream's response head; returns where to write the body, `null` when the response ended. */
  abstract respond(headers: IncomingHttpHeaders & IncomingHttpStatusHeader, endStream: boolean): Writable | null;
  /** The upstream's trailers. */
  abstract trailers(trailers: IncomingHttpHeaders): void;
  /** A response generated by the proxy; false when the response had already started. */
  abstract respondProxy(response: ProxyResponse): boolean;
  /** The request as split `matches` see it. */
  abstract requestView(): HttpRequestView;
  /** Cuts the application's response (`code`: the upstream's RST_STREAM code, for the log). */
  abstract reset(code: number): void;
  /** Sends to an unmeshed endpoint without HTTP/2 (HTTP/1 applications). */
  abstract sendPlain(handle: EndpointHandle): void;
  /** Method and target, for logs. */
  abstract describe(): string;
  /** Stops a plain (non-HTTP/2) upstream call when the application went away. */
  protected cancel(): void {}

  // ---- flow -----------------------------------------------------------------------------------------------

  /** Chooses an endpoint of `plan` and sends the request to it. */
  forward(plan: Plan): void {
    this.plan = plan;
    const handle = plan.endpoints.pick();
    if (handle === null) {
      this.fail({ status: 503, message: `${this.target()} has no endpoints` });
      return;
    }
    this.attempt(handle);
  }

  /** The destination, for messages: the service, or `the destination` for passthrough. */
  target(): string {
    return this.plan === null || this.plan.service === '' ? 'the destination' : this.plan.service;
  }

  /** A response the proxy generates (counted with its status). */
  fail(response: ProxyResponse): void {
    if (this.done) return;
    if (this.respondProxy(response)) {
      this.status = response.status;
    } else {
      this.broken = true;
      this.reset(h2.NGHTTP2_INTERNAL_ERROR);
    }
  }

  attempt(handle: EndpointHandle): void {
    this.handle = handle;
    this.edge = handle.edge(this.plan!.service, this.plan!.route);
    this.#sentAt = this.deps.now();
    this.#pending = true;
    started(handle.load);
    if (!this.fromH2 && (!handle.meshed || this.deps.meshHttp1)) {
      this.sendPlain(handle);
      return;
    }
    const origin = handle.h2();
    this.#origin = origin;
    const session = origin.ready();
    if (session !== null) {
      this.#send(session);
      return;
    }
    // The connect is counted (ejection, failure streak) by the handle, once however many requests wait on it.
    origin.open(handle.sessionEdge(this.plan!.service)).then(
      (s) => this.#send(s),
      (err: Error) => this.connectFailed(handle, err),
    );
  }

  /**
   * Connecting to `handle` failed before anything was sent (the failure already counted against the endpoint
   * by whoever made the attempt): try another endpoint once, else 502.
   */
  connectFailed(handle: EndpointHandle, err: Error): void {
    this.#unpend();
    const noCertificate = err instanceof NoCertificateError;
    if (this.done) return;
    if (noCertificate) {
      this.fail({ status: 503, message: 'no mesh certificate yet', retryAfterSeconds: 1 });
      return;
    }
    if (!this.#retried) {
      this.#retried = true;
      const other = this.plan!.endpoints.pick(handle);
      if (other !== null && other !== handle) {
        this.attempt(other);
        return;
      }
    }
    this.fail({ status: 502, message: `cannot connect to ${this.plan!.service === '' ? handle.where : `${this.plan!.service} (${handle.where})`}: ${err.message}` });
  }

  /** The upstream answered (response head received): latency sample for the balancer. */
  answered(status: number): void {
    this.status = status;
    if (!this.#pending || this.handle === null) return;
    this.#pending = false;
    const now = this.deps.now();
    answered(this.handle.load, now - this.#sentAt, now);
  }

  #unpend(): void {
    if (this.#pending && this.handle !== null) abandoned(this.handle.load);
    this.#pending = false;
  }

  #send(session: ClientHttp2Session): void {
    if (this.done) {
      this.#unpend();
      return;
    }
    let up: ClientHttp2Stream;
    try {
      up = session.request(this.upstreamHeaders(), this.hasBody ? REQUEST_WITH_BODY : REQUEST_WITHOUT_BODY);
    } catch (err) {
      // The session closed between being picked and used (GOAWAY, error): nothing was sent, and the endpoint
      // did nothing wrong. Once more on a new session.
      this.#origin?.discard(session);
      this.#unpend();
      if (!this.#retried) {
        this.#retried = true;
        this.attempt(this.handle!);
      } else {
        this.fail({ status: 502, message: `cannot send to ${this.target()}: ${(err as Error).message}` });
      }
      return;
    }
    this.upstream = up;
    // Shared listeners find their exchange on the stream: no closures per request.
    (up as Tagged)[EXCHANGE] = this;
    up.on('response', Exchange.#onResponse);
    up.on('trailers', Exchange.#onTrailers);
    up.on('error', Exchange.#onError);
    up.on('close', Exchange.#onClose);
    if (!this.hasBody) return;
    if (this.bodyEndIsFinal) {
      this.body.pipe(up);
      return;
    }
    // node's HTTP/2 streams also end their readable side when the client resets the stream; ending the
    // upstream request then would present a cancelled body as complete. Decide once the reset is known.
    this.body.pipe(up, { end: false });
    this.body.once('end', Exchange.#onBodyEnd);
  }

  static readonly #onBodyEnd = function (this: object): void {
    const ex = exchangeOf(this);
    if (ex !== undefined) setImmediate(Exchange.#endUpstream, ex);
  };

  static readonly #endUpstream = (ex: Exchange): void => {
    const up = ex.upstream;
    if (up === null || ex.done || ex.requestAborted() || up.closed || up.destroyed) return;
    up.end();
  };

  static readonly #onResponse = function (this: ClientHttp2Stream, headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number): void {
    const ex = exchangeOf(this);
    if (ex !== undefined) ex.#response(this, headers, flags);
  };

  static readonly #onEnd = function (this: ClientHttp2Stream): void {
    const ex = exchangeOf(this);
    if (ex !== undefined) ex.#end(this);
  };

  static readonly #onTrailers = function (this: ClientHttp2Stream, trailers: IncomingHttpHeaders): void {
    const ex = exchangeOf(this);
    if (ex !== undefined) ex.#trailers(trailers);
  };

  static readonly #onError = function (this: ClientHttp2Stream, err: Error): void {
    const ex = exchangeOf(this);
    if (ex !== undefined) ex.#upstreamError = err;
  };

  static readonly #onClose = function (this: ClientHttp2Stream): void {
    const ex = exchangeOf(this);
    if (ex !== undefined) ex.#close(this);
  };

  #upstreamError: Error | null = null;

  #response(up: ClientHttp2Stream, headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number): void {
    if (this.done) return;
    this.answered(headers[':status'] ?? 0);
    const grpc = headers['grpc-status'];
    if (typeof grpc === 'string') this.grpcStatus = grpc;
    let sink: Writable | null;
    try {
      sink = this.respond(headers, (flags & h2.NGHTTP2_FLAG_END_STREAM) !== 0);
    } catch (err) {
      // A header the application's protocol cannot carry (e.g. a control character HTTP/1 refuses).
      up.close(h2.NGHTTP2_CANCEL);
      this.status = 0;
      this.fail({ status: 502, message: `${this.target()} sent a response that cannot be forwarded: ${(err as Error).message}` });
      return;
    }
    if (sink === null) {
      up.resume(); // nothing to read but the end
      return;
    }
    this.#sink = sink;
    // The body is relayed by shared listeners (no `pipe`: it allocates a dozen closures per call), with
    // backpressure: the upstream pauses while the application's side is full, and resumes on its 'drain' (the
    // sink is the application's response or stream, tagged with this exchange by finishOnClose). Ended by hand:
    // node's HTTP/2 streams also emit 'end' when reset, which must not end the response normally.
    sink.on('drain', Exchange.#onSinkDrain);
    up.on('data', Exchange.#onUpData);
    up.once('end', Exchange.#onEnd);
  }

  static readonly #onUpData = function (this: ClientHttp2Stream, chunk: Buffer): void {
    const ex = exchangeOf(this);
    if (ex === undefined || ex.done) return;
    const sink = ex.#sink;
    if (sink === null || sink.destroyed) return;
    if (!sink.write(chunk)) this.pause();
  };

  static readonly #onSinkDrain = function (this: object): void {
    const up = exchangeOf(this)?.upstream;
    if (up != null && !up.destroyed) up.resume();
  };

  #sink: Writable | null = null;

  #end(up: ClientHttp2Stream): void {
    const code = up.rstCode;
    if (this.done) return;
    if (code !== undefined && code !== h2.NGHTTP2_NO_ERROR) {
      this.broken = true;
      this.reset(code);
      return;
    }
    this.#sink?.end();
  }

  #trailers(trailers: IncomingHttpHeaders): void {
    const grpc = trailers['grpc-status'];
    if (typeof grpc === 'string') this.grpcStatus = grpc;
    if (!this.done) this.trailers(trailers);
  }

  #close(up: ClientHttp2Stream): void {
    if (this.hasBody && !this.body.readableEnded) {
      // The upstream is done before the application finished sending: discard the rest.
      this.body.unpipe(up);
      this.body.resume();
    }
    if (this.done) return;
    const code = up.rstCode ?? h2.NGHTTP2_NO_ERROR;
    if (this.status === 0) {
      this.#unpend();
      if (code === h2.NGHTTP2_REFUSED_STREAM && !this.hasBody && !this.#retried) {
        // Refused unprocessed (the peer is going away): nothing was consumed, send it again once.
        this.#retried = true;
        this.upstream = null;
        this.attempt(this.handle!);
        return;
      }
      const why = this.#upstreamError?.message ?? `stream reset with code ${code}`;
      this.fail({ status: 502, message: `${this.target()} failed before responding: ${why}` });
      return;
    }
    if (code !== h2.NGHTTP2_NO_ERROR || !up.readableEnded) {
      this.broken = true;
      this.reset(code === h2.NGHTTP2_NO_ERROR ? h2.NGHTTP2_INTERNAL_ERROR : code);
    }
  }

  /** Calls {@link finish} when `emitter` (the application's response or stream) emits 'close'. */
  finishOnClose(emitter: NodeJS.EventEmitter): void {
    (emitter as Tagged)[EXCHANGE] = this;
    emitter.once('close', Exchange.#onAppClose);
  }

  static readonly #onAppClose = function (this: object): void {
    exchangeOf(this)?.finish();
  };

  /** The application's side closed (response finished, or the client went away). Call exactly once. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.#unpend();
    const up = this.upstream;
    this.cancel();
    if (up !== null) {
      const complete = up.readableEnded;
      if (!up.closed && !up.destroyed && !(complete && up.writableFinished)) up.close(h2.NGHTTP2_CANCEL);
      if (!complete && this.status !== 0) this.broken = true;
    }
    const seconds = (this.deps.now() - this.startedAt) / 1000;
    const failure = this.broken || isFailure(this.status, this.grpcStatus);
    this.edge.request(this.status, failure, seconds);
    const { log } = this.deps;
    if (log.isLevelEnabled('debug')) {
      log.debug(
        { event: 'request', request: this.describe(), dst_service: this.plan?.service, peer: this.handle?.where, status: this.status, failure, ms: Math.round(seconds * 1e4) / 10 },
        'outbound request',
      );
    }
    this.deps.finished();
  }
}
