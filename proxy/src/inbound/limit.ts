import { NEVER_SHED, type LoadShedder } from '../overload.js';

/**
 * Requests in flight across the inbound side, bounded: beyond the limit, or while the proxy is saturated
 * (`overload`), requests are shed (503 + retry-after).
 */
export class RequestLimit {
  readonly #max: number;
  readonly #overload: LoadShedder;
  #inFlight = 0;

  constructor(max: number, overload: LoadShedder = NEVER_SHED) {
    this.#max = max;
    this.#overload = overload;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes a slot; false when all are taken (the caller sheds the request and must not release). */
  tryAcquire(): boolean {
    if (this.#inFlight >= this.#max || this.#overload.shed()) return false;
    this.#inFlight += 1;
    return true;
  }

  release(): void {
    this.#inFlight -= 1;
  }
}
