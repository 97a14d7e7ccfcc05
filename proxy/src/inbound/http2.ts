/**
 * HTTP/2 connections: `loom.h2` from client proxies (mTLS) and h2c with prior knowledge from unmeshed clients.
 * One node:http2 server (never listening) takes each connection as a session; every stream is one request:
 * shed when the proxy is at its limit, authorized, then forwarded as HTTP/1.1 (`loom-orig-proto` present, mesh
 * only) or h2c to the application.
 *
 * A policy change judges every session again (`reauthorize`): streams in flight that the new policy denies are
 * reset (RST_STREAM), the others go on; a session whose peer is now denied everything on the port gets GOAWAY
 * (its streams still allowed finish; new ones are refused by HTTP/2 itself).
 */
import { constants, createServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Logger } from '@loom/shared/runtime';
import { isFailure } from '../http/classify.js';
import { h2RequestView } from '../http/request.js';
import { respondH2 } from '../http/respond.js';
import type { ProxyMetrics } from '../metrics/families.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import { handOff } from '../transport/detect.js';
import { ORIG_PROTO_HEADER } from '../wire.js';
import { abortUpstream, forwardH2ToH1, type AppH1Pools } from './app-h1.js';
import { cancelUpstream, forwardH2, type AppH2Sessions } from './app-h2.js';
import type { InboundAuthz } from './authorize.js';
import type { InboundConnection } from './connection.js';
import { Exchange } from './exchange.js';
import type { RequestLimit } from './limit.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM } = constants;

/** Streams one client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
export const MAX_CONCURRENT_STREAMS = 1000;

export interface H2InboundOptions {
  /** Largest header list accepted (SETTINGS_MAX_HEADER_LIST_SIZE). */
  readonly maxHeaderBytes: number;
  /** Sessions without activity for this long are closed (GOAWAY). */
  readonly idleTimeoutMs: number;
  readonly authz: InboundAuthz;
  readonly limit: RequestLimit;
  readonly apps: { readonly h1: AppH1Pools; readonly h2: AppH2Sessions };
  readonly metrics: ProxyMetrics;
  readonly log: Logger;
}

const kExchange = Symbol('loom.exchange');

interface TrackedStream extends ServerHttp2Stream {
  [kExchange]?: H2Exchange;
}

function ignore(): void {}

/** Why a revoked stream is destroyed: RST_STREAM INTERNAL_ERROR (`close(code)` would end the response cleanly first). */
const REVOKED = new Error('no longer authorized');

/** A request on an HTTP/2 stream; revoking it resets the stream. */
class H2Exchange extends Exchange {
  readonly #stream: ServerHttp2Stream;

  constructor(conn: InboundConnection, limit: RequestLimit, stream: ServerHttp2Stream) {
    super(conn, limit);
    this.#stream = stream;
  }

  revoke(): void {
    if (!this.#stream.destroyed) this.#stream.destroy(REVOKED);
  }
}

/** The request ended (response done, reset, or the connection went away): cancel the application's side, record it. */
function onStreamClose(this: TrackedStream): void {
  const abnormal = this.rstCode !== NGHTTP2_NO_ERROR || !this.writableEnded;
  if (abnormal) {
    cancelUpstream(this);
    abortUpstream(this);
  }
  const exchange = this[kExchange];
  if (exchange === undefined) return;
  const sent = this.sentHeaders as IncomingHttpHeaders | undefined;
  const status = Number(sent?.[':status'] ?? 0);
  const trailers = this.sentTrailers as IncomingHttpHeaders | undefined;
  const grpcStatus = (trailers?.['grpc-status'] ?? sent?.['grpc-status']) as string | undefined;
  exchange.finish(status, abnormal || isFailure(status, grpcStatus));
}

export class H2Inbound {
  readonly #options: H2InboundOptions;
  readonly #server: Http2Server;
  readonly #sessions = new Map<Http2Session, InboundConnection>();
  /** The connection being handed to the server; its session is created synchronously in `serve`. */
  #pending: InboundConnection | null = null;

  constructor(options: H2InboundOptions) {
    this.#options = options;
    this.#server = createServer({
      settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, maxHeaderListSize: options.maxHeaderBytes },
      maxSessionMemory: 32,
    });
    this.#server.on('session', this.#onSession);
    this.#server.on('stream', this.#onStream);
  }

  /** Open sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Serves `socket` (plaintext with the preface buffered, or a `loom.h2` TLS socket) as an HTTP/2 session. */
  serve(conn: InboundConnection, socket: Socket): void {
    this.#pending = conn;
    try {
      handOff(this.#server, socket, 'http2');
    } finally {
      this.#pending = null;
    }
  }

  /** GOAWAY to every session: no new streams, open ones finish. */
  drain(): void {
    for (const [session, conn] of this.#sessions) {
      conn.closing = true;
      session.close();
    }
  }

  /** Judges every session again under `snapshot` (see the module comment). */
  reauthorize(snapshot: PolicySnapshot): void {
    const { authz } = this.#options;
    for (const [session, conn] of this.#sessions) {
      if (!authz.reauthorize(snapshot, conn)) continue;
      conn.closing = true;
      session.close();
    }
  }

  readonly #onSession = (session: ServerHttp2Session): void => {
    const conn = this.#pending;
    if (conn === null) {
      session.destroy();
      return;
    }
    this.#sessions.set(session, conn);
    session.on('error', (err: Error) => this.#options.log.debug({ event: 'h2.session_error', peer: conn.peer, port: conn.port, err }, 'HTTP/2 session failed'));
    session.on('close', () => this.#sessions.delete(session));
    const idle = this.#options.idleTimeoutMs;
    if (idle > 0) session.setTimeout(idle, () => session.close());
  };

  readonly #onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    stream.on('error', ignore);
    const session = stream.session;
    const conn = session === undefined ? undefined : this.#sessions.get(session);
    if (conn === undefined) {
      stream.close(NGHTTP2_REFUSED_STREAM);
      return;
    }
    const { authz, limit, apps, metrics, log } = this.#options;
    const exchange = new H2Exchange(conn, limit, stream);
    (stream as TrackedStream)[kExchange] = exchange;
    stream.on('close', onStreamClose);
    if (!exchange.admit()) {
      metrics.shed('inbound', 'request');
      return refuse(stream, { status: 503, message: 'the inbound proxy is overloaded (at its limit of concurrent requests, or saturated)', retryAfterSeconds: 1 });
    }
    const view = h2RequestView(headers);
    const decision = authz.check(conn, view);
    if (decision === null) return refuse(stream, { status: 503, message: 'no policy yet: the proxy has not received its first policy', retryAfterSeconds: 1 });
    if (!decision.allowed) return refuse(stream, { status: 403, message: decision.reason, deniedReason: decision.reason });
    exchange.authorized(view, conn.edge(decision));
    if (conn.tls && headers[ORIG_PROTO_HEADER] !== undefined) forwardH2ToH1(conn, stream, headers, apps.h1.pool(conn.port), log);
    else forwardH2(conn, stream, headers, apps.h2.session(conn.port), log);
  };
}

/** Answers a request the proxy does not forward, discarding its body. */
function refuse(stream: ServerHttp2Stream, response: Parameters<typeof respondH2>[2]): void {
  respondH2(stream, 'inbound', response);
  stream.resume();
}
