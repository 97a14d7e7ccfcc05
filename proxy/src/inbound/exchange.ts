/**
 * One HTTP request from its arrival to the end of its response: the in-flight slot it holds, the request
 * metric recorded when it ends (exactly once, whatever ends it), and, once admitted, its place in the
 * connection's set of requests that a policy change judges again (`revoke` resets it when the new policy
 * denies it). Each protocol's subclass knows how to reset its request.
 */
import type { HttpRequestView } from '@loom/shared/policy';
import type { EdgeMetrics } from '../metrics/families.js';
import type { InboundConnection } from './connection.js';
import type { RequestLimit } from './limit.js';

export abstract class Exchange {
  readonly conn: InboundConnection;
  /** Set once authorization admitted the request; the connection's unrouted edge until then. */
  edge: EdgeMetrics;
  /** The request as authorization saw it, once admitted (`undefined` before, or for requests never admitted). */
  view: HttpRequestView | undefined = undefined;
  readonly #limit: RequestLimit;
  readonly #started = performance.now();
  #holdsSlot = false;
  #done = false;

  constructor(conn: InboundConnection, limit: RequestLimit) {
    this.conn = conn;
    this.edge = conn.unrouted();
    this.#limit = limit;
    conn.inFlight += 1;
  }

  /** Takes an in-flight slot; false when the proxy is at its limit (shed the request). */
  admit(): boolean {
    this.#holdsSlot = this.#limit.tryAcquire();
    return this.#holdsSlot;
  }

  /** Authorization admitted the request (`view`) on `edge`: it is judged again on every policy change until it ends. */
  authorized(view: HttpRequestView, edge: EdgeMetrics): void {
    this.view = view;
    this.edge = edge;
    this.conn.exchanges.add(this);
  }

  /** A policy change denies the request now: reset it (its end is recorded through `finish` as usual). */
  abstract revoke(): void;

  /** Records the request: `status` 0 = no response; `failure` per http/classify. Idempotent. */
  finish(status: number, failure: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.conn.inFlight -= 1;
    this.conn.exchanges.delete(this);
    if (this.#holdsSlot) this.#limit.release();
    this.edge.request(status, failure, (performance.now() - this.#started) / 1000);
    if (this.conn.inFlight === 0) this.conn.whenIdle?.();
  }
}
