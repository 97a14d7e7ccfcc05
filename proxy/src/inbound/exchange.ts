/**
 * One HTTP request from its arrival to the end of its response: the in-flight slot it holds and the request
 * metric recorded when it ends (exactly once, whatever ends it).
 */
import type { EdgeMetrics } from '../metrics/families.js';
import type { InboundConnection } from './connection.js';
import type { RequestLimit } from './limit.js';

export class Exchange {
  readonly conn: InboundConnection;
  /** Set once authorization admitted the request; the connection's unrouted edge until then. */
  edge: EdgeMetrics;
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

  /** Records the request: `status` 0 = no response; `failure` per http/classify. Idempotent. */
  finish(status: number, failure: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.conn.inFlight -= 1;
    if (this.#holdsSlot) this.#limit.release();
    this.edge.request(status, failure, (performance.now() - this.#started) / 1000);
    if (this.conn.inFlight === 0) this.conn.whenIdle?.();
  }
}
