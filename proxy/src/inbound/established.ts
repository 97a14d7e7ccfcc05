/**
 * Connections authorized once and then carried as bytes (opaque TCP, upgraded HTTP): when the policy changes
 * each is judged again, as if it arrived now; those the new policy denies are reset (event `authz.revoked`),
 * the others are left alone. HTTP requests need no such list: each one is authorized against the policy in
 * force when it arrives, and one already in flight is never interrupted.
 */
import type { Socket } from 'node:net';
import type { HttpRequestView } from '@loom/shared/policy';
import type { Logger } from '@loom/shared/runtime';
import type { PolicySnapshot } from '../policy/snapshot.js';
import { connectPlain } from '../transport/connect.js';
import { relay } from '../transport/relay.js';
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

  /** Tracks `entry` until the returned function is called (when the connection ends). */
  add(entry: Established): () => void {
    this.#entries.add(entry);
    return () => this.#entries.delete(entry);
  }

  /** Re-authorizes every connection under `snapshot`; closes those now denied. */
  reauthorize(snapshot: PolicySnapshot): void {
    let revoked = 0;
    for (const entry of [...this.#entries]) {
      const decision = this.#authz.decide(snapshot, entry.conn, entry.http);
      if (decision.allowed) continue;
      this.#entries.delete(entry);
      this.#authz.revoked(entry.conn, decision, entry.http);
      entry.conn.failed = true;
      entry.close();
      revoked += 1;
    }
    if (revoked > 0) this.#log.debug({ event: 'authz.reauthorized', version: snapshot.version, revoked, kept: this.#entries.size }, 'connections re-authorized');
  }
}

/** What carrying a connection as bytes needs (opaque TCP and tunnels). */
export interface BytesOptions {
  readonly appAddress: string;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly authz: InboundAuthz;
  readonly established: EstablishedConnections;
  readonly log: Logger;
}

/** A TCP connection to the application port of `conn`; on failure the error (logged, and the connection marked failed). */
export async function connectApp(conn: InboundConnection, options: BytesOptions): Promise<Socket | Error> {
  try {
    return await connectPlain(options.appAddress, conn.port, options.connectTimeoutMs);
  } catch (err) {
    options.log.debug({ event: 'app.connect_failed', peer: conn.peer, port: conn.port, err: err as Error }, 'the application refused the connection');
    conn.failed = true;
    return err as Error;
  }
}

/**
 * Relays `client` and `app` both ways until either ends, tracked for re-authorization under the request that
 * opened it (`http`; undefined for opaque TCP): a policy that denies it resets both sides.
 */
export async function carry(conn: InboundConnection, client: Socket, app: Socket, http: HttpRequestView | undefined, options: BytesOptions): Promise<void> {
  const carried = relay(client, app, { idleTimeoutMs: options.idleTimeoutMs });
  const untrack = options.established.add({
    conn,
    http,
    close: () => {
      conn.raw.resetAndDestroy();
      carried.close(new Error('no longer authorized'));
    },
  });
  const result = await carried.done;
  untrack();
  if (result.failure) conn.failed = true;
}
