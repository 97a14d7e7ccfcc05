/**
 * One pooled HTTP/2 client session to an endpoint (the peer proxy over `loom.h2`, or an unmeshed application
 * over h2c), shared by every request to it. A session that receives GOAWAY, fails or closes is dropped from
 * the pool at once — its streams in flight finish on it — and the next request opens a new one. Opening is
 * shared: requests that arrive while a session is being opened wait for that one.
 *
 * Settings: no server push; stream windows of 256 KiB and a 4 MiB connection window (node's 64 KiB default
 * throttles bulk bodies between proxies) — buffered only while a reader is slower than the sender; sessions
 * idle for `idleTimeoutMs` are closed gracefully.
 *
 * Metrics: a session opened with an {@link EdgeMetrics} is counted on it as a connection (`loom_tcp_*`: opened,
 * then closed with its bytes, a failure when the session or its socket failed).
 */
import { connect as h2Connect, type ClientHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { Logger } from '@loom/shared/runtime';
import type { EdgeMetrics } from '../metrics/families.js';

const STREAM_WINDOW = 256 * 1024;
const CONNECTION_WINDOW = 4 * 1024 * 1024;
/** Megabytes a session may buffer before nghttp2 refuses new streams (node's default is 10). */
const MAX_SESSION_MEMORY_MB = 64;

export interface H2OriginOptions {
  /** `http://address:port` (the session's default `:authority`; requests carry their own). */
  readonly authority: string;
  /** Opens a usable connection (TLS handshake and identity check done), or rejects with why not. */
  readonly connect: () => Promise<Socket>;
  readonly idleTimeoutMs: number;
  readonly log: Logger;
}

export class H2Origin {
  readonly #options: H2OriginOptions;
  #current: ClientHttp2Session | null = null;
  #opening: Promise<ClientHttp2Session> | null = null;
  #closed = false;
  /** Every session not yet closed (the current one and those draining after GOAWAY or retirement). */
  readonly #open = new Set<ClientHttp2Session>();

  constructor(options: H2OriginOptions) {
    this.#options = options;
  }

  /** The session to send on now, or `null` when one must be opened first ({@link open}). */
  ready(): ClientHttp2Session | null {
    const s = this.#current;
    if (s === null) return null;
    if (s.closed || s.destroyed) {
      this.#current = null;
      return null;
    }
    return s;
  }

  /**
   * Opens a session (or joins the opening in progress), counted as a connection on `edge` when given (by the
   * request that starts the opening). Rejects with the connect error.
   */
  open(edge: EdgeMetrics | null = null): Promise<ClientHttp2Session> {
    return (this.#opening ??= this.#connect(edge).finally(() => {
      this.#opening = null;
    }));
  }

  /** Drops `session` from the pool (it failed a request synchronously); it closes once its streams finish. */
  discard(session: ClientHttp2Session): void {
    if (this.#current === session) this.#current = null;
    if (!session.closed && !session.destroyed) session.close();
  }

  /** Sessions open (the pooled one and those still finishing streams). */
  get sessions(): number {
    return this.#open.size;
  }

  /** Graceful: no new streams; streams in flight finish. Sessions opened after this are closed once used. */
  close(): void {
    this.#closed = true;
    this.#current = null;
    for (const s of this.#open) if (!s.closed) s.close();
  }

  /** Now: every stream is reset. */
  destroy(): void {
    this.#closed = true;
    this.#current = null;
    for (const s of this.#open) s.destroy();
  }

  async #connect(edge: EdgeMetrics | null): Promise<ClientHttp2Session> {
    const socket = await this.#options.connect();
    if (edge !== null) countConnection(socket, edge);
    const session = h2Connect(this.#options.authority, {
      createConnection: () => socket,
      settings: { enablePush: false, initialWindowSize: STREAM_WINDOW },
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
    });
    this.#open.add(session);
    const drop = (): void => {
      if (this.#current === session) this.#current = null;
    };
    session.on('error', (err: Error) => {
      drop();
      this.#options.log.debug({ event: 'session.error', peer: this.#options.authority, err }, 'upstream HTTP/2 session failed');
    });
    session.on('goaway', drop);
    session.on('close', () => {
      drop();
      this.#open.delete(session);
    });
    session.on('connect', () => {
      try {
        session.setLocalWindowSize(CONNECTION_WINDOW);
      } catch {
        // the session is already closing
      }
    });
    session.setTimeout(this.#options.idleTimeoutMs, () => {
      drop();
      session.close();
    });
    if (this.#closed) {
      // Retired while connecting: serve the requests that were waiting, then close.
      setImmediate(() => session.close());
    } else {
      this.#current = session;
    }
    return session;
  }
}

/** Counts `socket` on `edge` from now until it closes (a failure when it closed on an error). */
function countConnection(socket: Socket, edge: EdgeMetrics): void {
  edge.connectionOpened();
  socket.once('close', (hadError: boolean) => edge.connectionClosed(hadError, socket.bytesRead, socket.bytesWritten));
}
