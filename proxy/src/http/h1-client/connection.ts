/**
 * One keep-alive TCP connection to a server, carrying one request at a time (no pipelining), owned by an
 * {@link H1Pool} (the `ConnectionOwner`), which it tells when it is free again, lost, or closed.
 *
 * - Opening: `noDelay`, no TCP keep-alive, bounded by the connect timeout; the request it was opened for is
 *   written as soon as it connects. Or by the pool's asynchronous opener (mesh TLS), whose rejection is a
 *   connect failure (the opener's error its `cause`); a socket it delivers destroyed already is one too, and one
 *   delivered after the connection was closed (pool destroyed, request aborted) is destroyed at once. Either
 *   way the pool hears `socketClosed` exactly once per connection.
 * - A request: `onRequestStart`, the head in one write, then the body streamed with backpressure (the body is
 *   paused while the socket's buffer is full, resumed on 'drain'), chunked unless the caller gave a
 *   Content-Length, which is then enforced (a body longer or shorter than it fails the request: never a
 *   desynchronised connection). The response is parsed as it arrives (`parse.ts`) and reported to the
 *   handler; `pause()` pauses the socket.
 * - After the response: free again when the response allows keep-alive and the whole request was written;
 *   closed otherwise (a server that answered before reading the whole body gets its connection closed, and
 *   the rest of the body is discarded by destroying it). Free connections are read too: bytes or a close from
 *   the server then end the connection at once. A free connection closes after its idle timeout: 4 s by
 *   default, or the server's `Keep-Alive: timeout` less 1 s when smaller (a margin against the race with the
 *   server closing it).
 * - Failures: connect failure or timeout, the connection lost before the response ended (LOOM_H1_SOCKET),
 *   a malformed response (LOOM_H1_PARSE): the request fails and the connection closes. Except one case: a
 *   REUSED connection that fails before any byte of the response arrived, for a request without a body whose
 *   method is idempotent (RFC 9110 §9.2.2), is sent again once on a new connection: the server closed the
 *   idle connection as the request was being written, a race every keep-alive client meets.
 *
 * Every socket has 'error' and 'close' listeners from its creation; an 'error' is recorded and acted on at
 * 'close', the one place a lost connection is cleaned up. Listeners are module-level functions that find
 * their connection on the socket (no closures per connection or request).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { connectFailed, connectTimeout, invalidRequest, malformedResponse, socketLost } from './errors.js';
import { ResponseParser, type ResponseEvents } from './parse.js';
import { CHUNKED, requestOf, RETRYABLE_METHODS, type H1Request, type RequestSlot } from './request.js';

export interface ConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs: number;
  /** How long a free connection is kept (the server's `Keep-Alive: timeout` less 1 s when smaller). */
  readonly idleTimeoutMs: number;
  readonly maxHeadSize: number;
  /**
   * Opens the connection instead of a plain TCP connect (e.g. mesh TLS, with its own timeout and identity
   * check): resolves with a connected socket ready for bytes, or rejects (a connect failure).
   */
  readonly connect?: () => Promise<Socket>;
}

/** The pool, as a connection sees it. */
export interface ConnectionOwner {
  /** `host:port`, for messages. */
  readonly address: string;
  /** The connection finished its request and can carry another (its state is free). */
  released(conn: H1Connection): void;
  /** The connection can no longer be used (called once). */
  lost(conn: H1Connection): void;
  /** Its socket closed (called once, after `lost`). */
  socketClosed(conn: H1Connection): void;
  /** Send `req` again, on a new connection. */
  retry(req: H1Request): void;
}

// Connection states.
const CONNECTING = 0;
const BUSY = 1;
const FREE = 2;
const CLOSED = 3;

const kConnection = Symbol('loom.h1.connection');

interface TaggedSocket extends Socket {
  [kConnection]?: H1Connection;
}

function onConnect(this: TaggedSocket): void {
  this[kConnection]!.connected();
}

function onData(this: TaggedSocket, chunk: Buffer): void {
  this[kConnection]!.received(chunk);
}

function onEnd(this: TaggedSocket): void {
  this[kConnection]!.ended();
}

function onError(this: TaggedSocket, err: Error): void {
  this[kConnection]!.error = err;
}

function onClose(this: TaggedSocket): void {
  this[kConnection]!.closed();
}

function onDrain(this: TaggedSocket): void {
  this[kConnection]!.drained();
}

function ignore(): void {}

function onConnectTimeout(conn: H1Connection): void {
  conn.connectTimedOut();
}

function onIdleTimeout(conn: H1Connection): void {
  conn.idleTimedOut();
}

function onBodyData(this: Readable, chunk: Buffer | string): void {
  const req = requestOf(this);
  (req?.slot as H1Connection | null | undefined)?.bodyData(req!, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
}

function onBodyEnd(this: Readable): void {
  const req = requestOf(this);
  (req?.slot as H1Connection | null | undefined)?.bodyEnd(req!);
}

export class H1Connection implements ResponseEvents, RequestSlot {
  /** Null until an asynchronous `connect` has delivered it. */
  socket: Socket | null = null;
  /** Set by the socket's 'error' listener, reported at 'close'. */
  error: Error | null = null;
  readonly #owner: ConnectionOwner;
  readonly #options: ConnectionOptions;
  readonly #parser: ResponseParser;
  #state = CONNECTING;
  /** The request on the connection (while connecting: the one it was opened for). */
  #req: H1Request | null;
  /** Responses completed: the connection is reused after the first. */
  #served = 0;
  #connectTimer: NodeJS.Timeout | null;
  #timedOut = false;
  #idleTimer: NodeJS.Timeout | null = null;
  #idleTimerMs = 0;
  #idleMs: number;
  // The current request.
  #received = false;
  #responded = false;
  #ended = false;
  #bodyDone = true;
  #bodyPaused = false;
  #sent = 0;

  constructor(owner: ConnectionOwner, options: ConnectionOptions, req: H1Request) {
    this.#owner = owner;
    this.#options = options;
    this.#idleMs = options.idleTimeoutMs;
    this.#parser = new ResponseParser(this, options.maxHeadSize);
    this.#req = req;
    req.slot = this;
    if (options.connect !== undefined) {
      // The opener keeps its own deadline. One that throws instead of rejecting fails the same way, later:
      // never from inside the constructor (the pool has not counted this connection yet; `dispatch` never
      // throws; and a retry opens connections from socket event handlers).
      this.#connectTimer = null;
      let opening: Promise<Socket>;
      try {
        opening = options.connect();
      } catch (err) {
        opening = Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      opening.then(
        (socket) => this.#opened(socket),
        (err: unknown) => this.#openFailed(err instanceof Error ? err : new Error(String(err))),
      );
      return;
    }
    const socket = netConnect({ host: options.host, port: options.port, noDelay: true });
    this.#attach(socket);
    socket.once('connect', onConnect);
    this.#connectTimer = setTimeout(onConnectTimeout, options.connectTimeoutMs, this);
  }

  #attach(raw: Socket): void {
    const socket = raw as TaggedSocket;
    socket[kConnection] = this;
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('drain', onDrain);
    this.socket = socket;
  }

  /**
   * An asynchronous `connect` delivered its socket. One destroyed already (it failed between its handshake and
   * now) is a connect failure, and is not attached: its 'close' may have been emitted or may still come (a
   * stream's `closed` turns true at `destroy`, before its 'close'), and must not reach {@link closed} (and the
   * pool's count of open sockets) a second time. A live one is attached whatever the connection's state, so
   * that its 'close' ends the count exactly once: a connection closed while it was opening (pool destroyed,
   * request aborted) destroys it at once.
   */
  #opened(socket: Socket): void {
    if (socket.destroyed) {
      socket.on('error', ignore); // an error still to be emitted has a listener, whoever opened it
      this.#openFailed(socket.errored ?? null);
      return;
    }
    this.#attach(socket);
    if (this.#state !== CONNECTING) {
      socket.destroy(); // closed while it was opening: its 'close' ends the count
      return;
    }
    this.connected();
  }

  /** An asynchronous `connect` failed: as a plain connect failure would; the socket count ends here either way. */
  #openFailed(err: Error | null): void {
    if (this.#state !== CONNECTING) {
      this.#owner.socketClosed(this); // closed while it was opening
      return;
    }
    this.error = err;
    this.closed();
  }

  // ---- lifecycle ---------------------------------------------------------------------------------------------

  connected(): void {
    if (this.#state !== CONNECTING) return;
    this.#clearConnectTimer();
    const req = this.#req!;
    this.#req = null;
    req.slot = null;
    this.#state = FREE;
    if (!this.assign(req)) this.#owner.released(this);
  }

  connectTimedOut(): void {
    if (this.#state !== CONNECTING) return;
    this.#timedOut = true;
    this.socket?.destroy();
  }

  /**
   * Puts `req` on this free connection: `onRequestStart`, then the request is written. False when the handler
   * aborted it in `onRequestStart` (nothing was written; the connection is still free).
   */
  assign(req: H1Request): boolean {
    if (!req.start()) return false;
    if (this.#state !== FREE) {
      // The handler destroyed the pool from onRequestStart: the connection went with it.
      req.fail(socketLost(this.#owner.address, null, false));
      return true;
    }
    this.#write(req);
    return true;
  }

  /** Kept free: the idle timer (re)starts. */
  park(): void {
    const ms = this.#idleMs;
    if (this.#idleTimer !== null && this.#idleTimerMs === ms) {
      this.#idleTimer.refresh();
      return;
    }
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(onIdleTimeout, ms, this);
    this.#idleTimer.unref();
    this.#idleTimerMs = ms;
  }

  idleTimedOut(): void {
    // The timer is left running while busy (refreshed on each return to free): it may fire then.
    if (this.#state === FREE) this.close();
  }

  /** Closes the connection now (its request, if any, is failed by the caller first). */
  close(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#clearConnectTimer();
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    this.#parser.stop();
    this.socket?.destroy();
    this.#owner.lost(this);
  }

  /** Fails the request on the connection, if any, with `err`, and closes it. */
  destroy(err: Error): void {
    this.#failRequest(err);
  }

  // ---- writing -----------------------------------------------------------------------------------------------

  #write(req: H1Request): void {
    this.#state = BUSY;
    this.#req = req;
    req.slot = this;
    this.#received = false;
    this.#responded = false;
    this.#ended = false;
    this.#parser.expect(req.method === 'HEAD');
    const socket = this.socket!;
    // Paused from onRequestStart (before it had a connection): the response waits.
    if (req.paused) socket.pause();
    else if (socket.isPaused()) socket.resume();
    const body = req.body;
    if (body === null) {
      this.#bodyDone = true;
      socket.write(req.head, 'latin1');
      return;
    }
    // `content-length: 0` with a body stream (an HTTP/2 request whose empty DATA frame ends it): complete once
    // the head is written; any byte of it is one too many.
    this.#bodyDone = req.contentLength === 0;
    this.#bodyPaused = false;
    this.#sent = 0;
    socket.write(req.head, 'latin1');
    body.on('data', onBodyData);
    body.on('end', onBodyEnd);
  }

  bodyData(req: H1Request, chunk: Buffer): void {
    if (req !== this.#req || this.#state !== BUSY) return;
    const length = chunk.length;
    if (length === 0) return;
    if (this.#bodyDone) {
      // More than the content-length announced (a chunked body is done only at its end).
      this.#failRequest(invalidRequest(this.#owner.address, `the request body is longer than its content-length (${req.contentLength})`));
      return;
    }
    const socket = this.socket!;
    let ok: boolean;
    if (req.contentLength === CHUNKED) {
      socket.cork();
      socket.write(`${length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else {
      const sent = this.#sent + length;
      if (sent > req.contentLength) {
        this.#failRequest(invalidRequest(this.#owner.address, `the request body is longer than its content-length (${req.contentLength})`));
        return;
      }
      this.#sent = sent;
      ok = socket.write(chunk);
      // Everything announced is written: the request is complete (its stream's 'end' may come later).
      if (sent === req.contentLength) this.#bodyDone = true;
    }
    if (!ok && !this.#bodyDone) {
      this.#bodyPaused = true;
      req.body!.pause();
    }
  }

  bodyEnd(req: H1Request): void {
    if (req !== this.#req || this.#state !== BUSY || this.#bodyDone) return;
    if (req.contentLength === CHUNKED) {
      this.socket!.write('0\r\n\r\n', 'latin1');
      this.#bodyDone = true;
      return;
    }
    this.#failRequest(invalidRequest(this.#owner.address, `the request body ended before its content-length (${this.#sent} of ${req.contentLength} bytes)`));
  }

  drained(): void {
    if (!this.#bodyPaused) return;
    this.#bodyPaused = false;
    const body = this.#req?.body;
    if (body != null && !body.destroyed) body.resume();
  }

  // ---- the controller (RequestSlot) --------------------------------------------------------------------------

  pauseFor(req: H1Request): void {
    if (req === this.#req && this.#state === BUSY) this.socket!.pause();
  }

  resumeFor(req: H1Request): void {
    if (req === this.#req && this.#state === BUSY) this.socket!.resume();
  }

  abortFor(req: H1Request, err: Error): void {
    if (req !== this.#req) return;
    // Whatever was written or read, the connection is mid-exchange: it cannot carry another request.
    this.#failRequest(err);
  }

  // ---- reading -----------------------------------------------------------------------------------------------

  received(chunk: Buffer): void {
    const state = this.#state;
    if (state === FREE) {
      // Nothing was asked: whatever this is, the connection cannot be trusted.
      this.close();
      return;
    }
    if (state !== BUSY) return;
    this.#received = true;
    try {
      this.#parser.execute(chunk);
    } catch (err) {
      this.#handlerThrew(err as Error);
      return;
    }
    if (this.#ended) this.#complete();
  }

  ended(): void {
    const state = this.#state;
    if (state === FREE) {
      this.close();
      return;
    }
    if (state !== BUSY) return;
    try {
      this.#parser.finish();
    } catch (err) {
      this.#handlerThrew(err as Error);
      return;
    }
    if (this.#ended) {
      this.#complete();
      return;
    }
    this.#lost();
  }

  closed(): void {
    const state = this.#state;
    if (state === CONNECTING) {
      const req = this.#req;
      this.#req = null;
      this.close();
      if (req !== null) req.fail(this.#timedOut ? connectTimeout(this.#owner.address, this.#options.connectTimeoutMs) : connectFailed(this.#owner.address, this.error));
    } else if (state === BUSY) {
      this.#lost();
    } else if (state === FREE) {
      this.close();
    }
    this.#owner.socketClosed(this);
  }

  /** The connection ended or broke under the request: sent again when that is safe (see the module comment), failed otherwise. */
  #lost(): void {
    const req = this.#req;
    this.#req = null;
    this.close();
    if (req === null || req.settled) return;
    req.slot = null;
    if (this.#served > 0 && !this.#received && req.body === null && !req.retried && RETRYABLE_METHODS.has(req.method)) {
      this.#owner.retry(req);
      return;
    }
    req.fail(socketLost(this.#owner.address, this.error, this.#responded));
  }

  /** Closes the connection and fails its request with `err`: closed first, so that the handler sees a consistent pool. */
  #failRequest(err: Error): void {
    const req = this.#req;
    this.#req = null;
    this.close();
    req?.fail(err);
  }

  /** A handler callback threw: its request fails with that error (or, once ended, the error propagates). */
  #handlerThrew(err: Error): void {
    const req = this.#req;
    if (req !== null && !req.settled) {
      this.#failRequest(err);
      return;
    }
    this.#req = null;
    this.close();
    throw err;
  }

  // ---- ResponseEvents ----------------------------------------------------------------------------------------

  onHead(status: number, headers: IncomingHttpHeaders, statusText: string): void {
    const req = this.#req!;
    this.#responded = true;
    req.handler.onResponseStart(req, status, headers, statusText);
  }

  onBody(chunk: Buffer): void {
    const req = this.#req!;
    req.handler.onResponseData(req, chunk);
  }

  onEnd(trailers: IncomingHttpHeaders): void {
    const req = this.#req!;
    this.#ended = true;
    this.#served++;
    // Settled first: anything the handler does from here on (abort, pause) is a no-op. A body not ended yet is
    // destroyed (the rest discarded): the server answered without it.
    req.settle();
    req.handler.onResponseEnd(req, trailers);
  }

  onParseError(reason: string): void {
    if (this.#state !== BUSY) return;
    this.#failRequest(malformedResponse(this.#owner.address, reason));
  }

  /** The response ended (reported): the connection is free again, or closed. */
  #complete(): void {
    this.#ended = false;
    this.#req = null;
    if (this.#state !== BUSY) return;
    const parser = this.#parser;
    if (!this.#bodyDone || !parser.keepAlive) {
      // Not all of the request was written (the server answered early), or the response ends the connection.
      this.close();
      return;
    }
    const serverMs = parser.keepAliveTimeoutMs;
    const ms = serverMs < 0 ? this.#options.idleTimeoutMs : Math.min(this.#options.idleTimeoutMs, serverMs - 1_000);
    if (ms <= 0) {
      this.close();
      return;
    }
    this.#idleMs = ms;
    if (this.socket!.isPaused()) this.socket!.resume();
    this.#state = FREE;
    this.#owner.released(this);
  }

  #clearConnectTimer(): void {
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
  }
}
