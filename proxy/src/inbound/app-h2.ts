/**
 * HTTP/2 (h2c) to the application, for requests whose client spoke HTTP/2 or gRPC: one client session per
 * application port, reconnected when it fails or the application sends GOAWAY. A request stream is relayed
 * both ways with backpressure, response trailers are forwarded (gRPC status lives there), and a reset on either
 * side resets the other.
 *
 * Per-request state lives on the two streams (symbol-keyed) and the event handlers are module-level functions
 * reading it from `this`, so forwarding a request allocates no closures.
 */
import {
  connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Logger } from '@loom/shared/runtime';
import { h2RequestToH2 } from '../http/headers.js';
import { forwardPath } from '../http/request.js';
import { respondH2 } from '../http/respond.js';
import { CONNECT_TIMEOUT } from '../transport/connect.js';
import type { InboundConnection } from './connection.js';
import { upstreamFailure } from './errors.js';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_FLAG_END_STREAM } = constants;

/** `session.request` options (node copies them): shared, not built per request. */
const REQUEST_WITH_BODY = Object.freeze({ endStream: false });
const REQUEST_WITHOUT_BODY = Object.freeze({ endStream: true });
const RESPOND_END = Object.freeze({ endStream: true });
const RESPOND_TRAILERS = Object.freeze({ waitForTrailers: true });

export interface AppH2Options {
  readonly address: string;
  readonly connectTimeoutMs: number;
  /** Sessions without streams for this long are closed. */
  readonly idleTimeoutMs: number;
  readonly log: Logger;
}

/** One h2c session per application port. */
export class AppH2Sessions {
  readonly #options: AppH2Options;
  readonly #sessions = new Map<number, ClientHttp2Session>();
  readonly #authority: (port: number) => string;

  constructor(options: AppH2Options) {
    this.#options = options;
    const host = options.address.includes(':') ? `[${options.address}]` : options.address;
    this.#authority = (port) => `http://${host}:${port}`;
  }

  /** The session to the application on `port`, connecting (or reconnecting) when there is none usable. */
  session(port: number): ClientHttp2Session {
    const existing = this.#sessions.get(port);
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    const { connectTimeoutMs, idleTimeoutMs, log } = this.#options;
    const session = connect(this.#authority(port), { settings: { enablePush: false } });
    this.#sessions.set(port, session);
    const forget = (): void => {
      if (this.#sessions.get(port) === session) this.#sessions.delete(port);
    };
    const timer = setTimeout(() => {
      const err = Object.assign(new Error(`connecting took longer than ${connectTimeoutMs} ms`), { code: CONNECT_TIMEOUT });
      session.destroy(err);
    }, connectTimeoutMs);
    session.once('connect', () => clearTimeout(timer));
    session.on('error', (err: Error) => log.debug({ event: 'app.h2_session_failed', port, err }, 'h2c session to the application failed'));
    session.on('goaway', forget);
    session.on('close', () => {
      clearTimeout(timer);
      forget();
    });
    if (idleTimeoutMs > 0) session.setTimeout(idleTimeoutMs, () => session.close());
    return session;
  }

  /** Closes every session (in-flight streams finish). */
  close(): void {
    for (const session of this.#sessions.values()) session.close();
    this.#sessions.clear();
  }

  /** Destroys every session now. */
  destroy(): void {
    for (const session of this.#sessions.values()) session.destroy();
    this.#sessions.clear();
  }
}

const kPeer = Symbol('loom.peer');
const kTrailers = Symbol('loom.trailers');
const kError = Symbol('loom.error');
const kConn = Symbol('loom.conn');
const kLog = Symbol('loom.log');
/** The application's response ended cleanly (END_STREAM), with or without a body. */
const kDone = Symbol('loom.done');

interface Down extends ServerHttp2Stream {
  [kPeer]?: Up;
  [kTrailers]?: IncomingHttpHeaders;
}
interface Up extends ClientHttp2Stream {
  [kPeer]: Down;
  [kError]?: Error;
  [kConn]: InboundConnection;
  [kLog]: Logger;
  [kDone]?: boolean;
}

/** Forwards one request stream on `conn` to the application's h2c session; the response (and trailers) go back on `down`. */
export function forwardH2(conn: InboundConnection, down: ServerHttp2Stream, headers: IncomingHttpHeaders, session: ClientHttp2Session, log: Logger): void {
  const out: OutgoingHttpHeaders = h2RequestToH2(headers);
  const path = out[':path'];
  if (typeof path === 'string') out[':path'] = forwardPath(path);
  const endStream = down.endAfterHeaders || down.readableEnded;
  let up: Up;
  try {
    up = session.request(out, endStream ? REQUEST_WITHOUT_BODY : REQUEST_WITH_BODY) as Up;
  } catch (err) {
    failed(log, conn, err as Error);
    respondH2(down, 'inbound', upstreamFailure(err as Error, conn.port));
    return;
  }
  up[kPeer] = down;
  up[kConn] = conn;
  up[kLog] = log;
  (down as Down)[kPeer] = up;
  up.on('response', onUpResponse);
  up.on('trailers', onUpTrailers);
  up.on('error', onUpError);
  up.on('close', onUpClose);
  if (!endStream) down.pipe(up);
}

/**
 * The client's stream closed before the exchange completed: reset the application's. Node's `close(code)` ends
 * the writable side first, so a request still being sent would look complete to the application: it gets
 * `destroy` (RST_STREAM INTERNAL_ERROR) then, and CANCEL only once the request was sent in full.
 */
export function cancelUpstream(down: ServerHttp2Stream): void {
  const up = (down as Down)[kPeer];
  if (up !== undefined) reset(up);
}

function reset(up: Up): void {
  if (up.closed || up.destroyed) return;
  if (up.writableEnded) up.close(NGHTTP2_CANCEL);
  else up.destroy(new Error('the client reset the stream'));
}

function onUpResponse(this: Up, headers: IncomingHttpHeaders, flags: number): void {
  const down = this[kPeer];
  if (down.closed || down.destroyed) return reset(this);
  const endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0; // trailers-only (gRPC errors) or no body
  try {
    down.respond(headers, endStream ? RESPOND_END : RESPOND_TRAILERS);
  } catch (err) {
    // Headers node refuses to send (the application's, not ours): the client gets a 502 instead.
    this[kError] = err as Error;
    this.destroy(err as Error);
    return;
  }
  if (endStream) {
    this[kDone] = true;
    return;
  }
  down.on('wantTrailers', onDownWantTrailers);
  // Relayed by shared listeners rather than `pipe` (a dozen closures per call), with backpressure; ended by hand
  // (onUpEnd): a reset also ends node's HTTP/2 streams.
  down.on('drain', onDownDrain);
  this.on('data', onUpData);
  this.on('end', onUpEnd);
}

function onUpData(this: Up, chunk: Buffer): void {
  const down = this[kPeer];
  if (down.closed || down.destroyed) return;
  if (!down.write(chunk)) this.pause();
}

function onDownDrain(this: Down): void {
  const up = this[kPeer];
  if (up !== undefined && !up.destroyed) up.resume();
}

/** The application's response body ended (END_STREAM; a reset destroys the stream without an end). */
function onUpEnd(this: Up): void {
  const down = this[kPeer];
  const code = this.rstCode;
  if (code !== undefined && code !== NGHTTP2_NO_ERROR) return; // onUpClose passes the reset on
  this[kDone] = true;
  if (!down.closed && !down.destroyed) down.end();
}

function onUpTrailers(this: Up, trailers: IncomingHttpHeaders): void {
  this[kPeer][kTrailers] = trailers;
}

function onDownWantTrailers(this: Down): void {
  try {
    this.sendTrailers(this[kTrailers] ?? {});
  } catch (err) {
    this.destroy(err as Error);
  }
}

function onUpError(this: Up, err: Error): void {
  this[kError] = err;
}

/**
 * The application's stream closed. Unless its response ended cleanly the client must not mistake what it got
 * for a whole response: 502/504 when nothing was sent yet, else a reset (`destroy`: node's `close(code)` would
 * end the stream cleanly first).
 */
function onUpClose(this: Up): void {
  const down = this[kPeer];
  if (this[kDone] === true || down.closed || down.destroyed) return;
  const err = this[kError] ?? new Error(`the stream was reset by the application (code ${this.rstCode ?? 'none'})`);
  failed(this[kLog], this[kConn], err);
  if (!down.headersSent) respondH2(down, 'inbound', upstreamFailure(err, this[kConn].port));
  else down.destroy(err);
}

function failed(log: Logger, conn: InboundConnection, err: Error): void {
  log.debug({ event: 'app.request_failed', peer: conn.peer, port: conn.port, err }, 'the application did not complete a request');
}
