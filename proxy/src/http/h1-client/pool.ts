/**
 * HTTP/1.1 keep-alive connections to one server (`host:port`), one request at a time on each, bounded:
 * - a request takes the most recently freed connection (LIFO: the others idle out first); without one, and
 *   with fewer than `maxConnections` open, it opens a connection of its own (and waits for that one);
 * - beyond `maxConnections`, requests wait in a FIFO queue, at most `maxQueued` of them (more are refused at
 *   once with LOOM_H1_QUEUE_FULL); a connection freed by a finished response takes the next one waiting, and a
 *   connection lost makes room for a new one;
 * - `close()` refuses new requests, lets those in flight and waiting finish, closing connections as they
 *   free up; `destroy()` fails everything now. Both resolve once every socket has closed; both are idempotent.
 *
 * `dispatch` never throws: every failure reaches the handler's `onResponseError` (refusals on the next tick,
 * never from inside `dispatch`). No logging: failures go to the handler, whose caller decides what to say.
 */
import type { Socket } from 'node:net';
import { invalidRequest, poolClosed, queueFull } from './errors.js';
import { H1Connection, type ConnectionOptions, type ConnectionOwner } from './connection.js';
import { DEFAULT_MAX_HEAD_SIZE } from './parse.js';
import { H1Request, type H1DispatchOptions, type H1Handler, type RequestOwner } from './request.js';

export const DEFAULT_MAX_CONNECTIONS = 256;
export const DEFAULT_MAX_QUEUED = 1024;
/** A free connection is closed after this long (or the server's `Keep-Alive: timeout` less 1 s, when smaller). */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 4_000;

export interface H1PoolOptions {
  /** The server's address (an IP address or a name). */
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs: number;
  /** Connections open at most (connecting, busy or free); {@link DEFAULT_MAX_CONNECTIONS}. */
  readonly maxConnections?: number;
  /** Requests waiting for a connection at most; {@link DEFAULT_MAX_QUEUED}. */
  readonly maxQueued?: number;
  /** {@link DEFAULT_KEEP_ALIVE_TIMEOUT_MS}. */
  readonly keepAliveTimeoutMs?: number;
  /** Largest response head (and trailer section), bytes; 64 KiB by default. */
  readonly maxHeadSize?: number;
  /** Opens each connection instead of a plain TCP connect (mesh TLS): resolves with a socket ready for bytes. */
  readonly connect?: () => Promise<Socket>;
}

export interface H1PoolStats {
  /** Connections open (connecting, busy or free). */
  readonly connections: number;
  /** Free connections. */
  readonly idle: number;
  /** Connections carrying (or connecting for) a request. */
  readonly busy: number;
  /** Requests waiting for a connection. */
  readonly queued: number;
}

function failLater(req: H1Request, err: Error): void {
  req.fail(err);
}

export class H1Pool implements ConnectionOwner, RequestOwner {
  /** `host:port` (IPv6 in brackets): in messages, and the Host field of requests without one. */
  readonly address: string;
  readonly #connection: ConnectionOptions;
  readonly #maxConnections: number;
  readonly #maxQueued: number;
  /** Free connections, most recently freed last. */
  readonly #idle: H1Connection[] = [];
  readonly #queue: H1Request[] = [];
  readonly #all = new Set<H1Connection>();
  /** Sockets not closed yet (connections lost may still be closing). */
  #sockets = 0;
  #closing = false;
  #destroyed = false;
  #closed: Promise<void> | null = null;
  #resolveClosed: (() => void) | null = null;

  constructor(options: H1PoolOptions) {
    this.address = options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
    this.#connection = {
      host: options.host,
      port: options.port,
      connectTimeoutMs: options.connectTimeoutMs,
      idleTimeoutMs: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
      maxHeadSize: options.maxHeadSize ?? DEFAULT_MAX_HEAD_SIZE,
      ...(options.connect === undefined ? {} : { connect: options.connect }),
    };
    this.#maxConnections = Math.max(1, options.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
    this.#maxQueued = Math.max(0, options.maxQueued ?? DEFAULT_MAX_QUEUED);
  }

  /** Sends a request; its outcome reaches `handler` (see `request.ts`). Never throws. */
  dispatch(options: H1DispatchOptions, handler: H1Handler): void {
    const req = new H1Request(this, options, handler);
    if (this.#closing) {
      process.nextTick(failLater, req, poolClosed(this.address, this.#destroyed));
      return;
    }
    if (req.problem !== null) {
      process.nextTick(failLater, req, invalidRequest(this.address, req.problem));
      return;
    }
    this.#route(req, false);
  }

  stats(): H1PoolStats {
    const connections = this.#all.size;
    const idle = this.#idle.length;
    return { connections, idle, busy: connections - idle, queued: this.#queue.length };
  }

  /** Refuses new requests; those in flight and waiting finish, then every connection closes. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      for (const conn of this.#idle.splice(0)) conn.close();
    }
    return this.#whenClosed();
  }

  /** Fails every request now (LOOM_H1_CLOSED) and closes every connection. */
  destroy(): Promise<void> {
    if (!this.#destroyed) {
      this.#closing = true;
      this.#destroyed = true;
      const err = poolClosed(this.address, true);
      for (const req of this.#queue.splice(0)) {
        req.queued = false;
        req.fail(err);
      }
      for (const conn of [...this.#all]) conn.destroy(err);
    }
    return this.#whenClosed();
  }

  /** A connection for `req`: a free one (unless `fresh`), a new one, or a place in the queue. */
  #route(req: H1Request, fresh: boolean): void {
    if (!fresh) {
      const conn = this.#idle.pop();
      if (conn !== undefined) {
        if (!conn.assign(req)) this.#park(conn); // aborted in onRequestStart: nothing written, still free
        return;
      }
    }
    if (this.#all.size < this.#maxConnections) {
      this.#open(req);
      return;
    }
    if (fresh) {
      // A retry: first in line (not counted against the queue bound: it was admitted already).
      req.queued = true;
      this.#queue.unshift(req);
      return;
    }
    if (this.#queue.length >= this.#maxQueued) {
      process.nextTick(failLater, req, queueFull(this.address, this.#all.size, this.#queue.length));
      return;
    }
    req.queued = true;
    this.#queue.push(req);
  }

  #open(req: H1Request): void {
    this.#sockets++;
    this.#all.add(new H1Connection(this, this.#connection, req));
  }

  #park(conn: H1Connection): void {
    if (this.#closing) {
      conn.close();
      return;
    }
    this.#idle.push(conn);
    conn.park();
  }

  #next(): H1Request | undefined {
    const req = this.#queue.shift();
    if (req !== undefined) req.queued = false;
    return req;
  }

  #checkClosed(): void {
    if (this.#resolveClosed === null || this.#all.size > 0 || this.#queue.length > 0 || this.#sockets > 0) return;
    const resolve = this.#resolveClosed;
    this.#resolveClosed = null;
    resolve();
  }

  #whenClosed(): Promise<void> {
    if (this.#closed === null) {
      this.#closed = new Promise<void>((resolve) => {
        this.#resolveClosed = resolve;
      });
      this.#checkClosed();
    }
    return this.#closed;
  }

  // ---- ConnectionOwner ---------------------------------------------------------------------------------------

  released(conn: H1Connection): void {
    for (let req = this.#next(); req !== undefined; req = this.#next()) {
      if (conn.assign(req)) return;
    }
    this.#park(conn);
  }

  lost(conn: H1Connection): void {
    if (!this.#all.delete(conn)) return;
    const i = this.#idle.lastIndexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    // Room for a request waiting.
    while (this.#queue.length > 0 && this.#all.size < this.#maxConnections && !this.#destroyed) this.#open(this.#next()!);
    this.#checkClosed();
  }

  socketClosed(): void {
    this.#sockets--;
    this.#checkClosed();
  }

  retry(req: H1Request): void {
    req.retried = true;
    if (this.#destroyed) req.fail(poolClosed(this.address, true));
    else this.#route(req, true);
  }

  // ---- RequestOwner ------------------------------------------------------------------------------------------

  cancel(req: H1Request): void {
    if (!req.queued) return;
    req.queued = false;
    const i = this.#queue.indexOf(req);
    if (i >= 0) this.#queue.splice(i, 1);
    this.#checkClosed();
  }
}
