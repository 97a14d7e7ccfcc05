/** Requests in flight across the inbound side, bounded: beyond the limit requests are shed (503 + retry-after). */
export class RequestLimit {
  readonly #max: number;
  #inFlight = 0;

  constructor(max: number) {
    this.#max = max;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes a slot; false when all are taken (the caller sheds the request and must not release). */
  tryAcquire(): boolean {
    if (this.#inFlight >= this.#max) return false;
    this.#inFlight += 1;
    return true;
  }

  release(): void {
    this.#inFlight -= 1;
  }
}
