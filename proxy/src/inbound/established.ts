/**
 * Connections authorized once and then carried as bytes (opaque TCP, upgraded HTTP): when the policy changes
 * each is judged again, as if it arrived now; those the new policy denies are reset (event `authz.revoked`),
 * the others are left alone. A connection is tracked from the moment it is authorized, before the connection
 * to the application exists, so a policy change while that connect is under way applies to it too.
 * (HTTP requests are judged again by `InboundAuthz.reauthorize`, per connection, from the HTTP servers.)
 *
 * Connections carried as bytes have no idle limit by default, like the outbound side's: an idle database
 * pool or WebSocket stays up as long as both ends keep it (`idleTimeoutMs` > 0 sets one).
 */
import type { Socket } from 'node:net';
import type { HttpRequestView } from '@loom/shared/policy';
import type { Logger } from '@loom/shared/runtime';
import type { PolicySnapshot } from '../policy/snapshot.js';
import { relay, type Relay } from '../transport/relay.js';
import type { InboundAuthz } from './authorize.js';
import type { InboundConnection } from './connection.js';

export interface Established {
  readonly conn: InboundConnection;
  /** The request that opened an upgraded connection; undefined for opaque TCP. */
  readonly http: HttpRequestView | undefined;
  /** Resets the connection (both sides). */
  close(): void;
}

export class EstablishedConnections {
  readonly #entries = new Set<Established>();
  readonly #authz: InboundAuthz;
  readonly #log: Logger;

  constructor(authz: InboundAuthz, log: Logger) {
    this.#authz = authz;
    this.#log = log;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Tracks `conn` (opened by the request `http`; undefined for opaque TCP) from now on: call right after
   * authorizing it, before connecting to the application.
   */
  track(conn: InboundConnection, http: HttpRequestView | undefined): Tracked {
    const tracked = new Tracked(conn, http, this.#entries);
    this.#entries.add(tracked);
    return tracked;
  }

  /** Re-authorizes every connection under `snapshot`; closes those now denied. */
  reauthorize(snapshot: PolicySnapshot): void {
    let revoked = 0;
    for (const entry of [...this.#entries]) {
      const decision = this.#authz.decide(snapshot, entry.conn, entry.http);
      if (decision.allowed) continue;
      this.#entries.delete(entry);
      this.#authz.revoked(snapshot, entry.conn, decision, entry.http);
      entry.conn.failed = true;
      entry.close();
      revoked += 1;
    }
    if (revoked > 0) this.#log.debug({ event: 'authz.reauthorized', version: snapshot.version, revoked, kept: this.#entries.size }, 'connections re-authorized');
  }
}

/** Why a revoked connection's relay ended. */
const REVOKED = new Error('no longer authorized');

/** A connection tracked from its authorization on: before its relay exists (`revoked` then says a policy change denied it meanwhile), and while it runs. */
export class Tracked implements Established {
  readonly conn: InboundConnection;
  readonly http: HttpRequestView | undefined;
  /** A policy change denied the connection (its client side is reset; the caller drops the application side). */
  revoked = false;
  readonly #entries: Set<Established>;
  #relay: Relay | null = null;

  constructor(conn: InboundConnection, http: HttpRequestView | undefined, entries: Set<Established>) {
    this.conn = conn;
    this.http = http;
    this.#entries = entries;
  }

  /** The relay carrying the connection from now on (closed with it when revoked). */
  carriedBy(carrier: Relay): void {
    this.#relay = carrier;
  }

  close(): void {
    this.revoked = true;
    this.conn.raw.resetAndDestroy();
    this.#relay?.close(REVOKED);
  }

  /** The connection ended: no longer judged. */
  untrack(): void {
    this.#entries.delete(this);
  }
}

/** What carrying a connection as bytes needs (opaque TCP and tunnels). */
export interface BytesOptions {
  /** Connects to the application's `port` (on the application address, within the connect timeout). */
  readonly dial: (port: number) => Promise<Socket>;
  /** Close a relay idle (no bytes either way) this long; 0 = never (the default: see the module comment). */
  readonly idleTimeoutMs: number;
  readonly authz: InboundAuthz;
  readonly established: EstablishedConnections;
  readonly log: Logger;
}

/** A TCP connection to the application port of `conn`; on failure the error (logged, and the connection marked failed). */
export async function connectApp(conn: InboundConnection, options: BytesOptions): Promise<Socket | Error> {
  try {
    return await options.dial(conn.port);
  } catch (err) {
    options.log.debug({ event: 'app.connect_failed', peer: conn.peer, port: conn.port, err: err as Error }, 'the application refused the connection');
    conn.failed = true;
    return err as Error;
  }
}

/**
 * Relays `client` and `app` both ways until either ends; `tracked` (from `track`, still tracked) re-authorizes
 * it under the request that opened it: a policy that denies it resets both sides.
 */
export async function carry(tracked: Tracked, client: Socket, app: Socket, options: BytesOptions): Promise<void> {
  const carried = relay(client, app, { idleTimeoutMs: options.idleTimeoutMs });
  tracked.carriedBy(carried);
  const result = await carried.done;
  tracked.untrack();
  if (result.failure) tracked.conn.failed = true;
}
