/**
 * A small cache whose entries expire at a time given per entry, bounded in size (the oldest entry goes
 * first). The clock is passed in, so expiry is tested without waiting.
 */
export class TtlCache<V> {
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** Insertion order is age order. */
  readonly #entries = new Map<string, { readonly value: V; readonly expiresAt: number }>();

  constructor(options: { readonly maxEntries: number; readonly now: () => number }) {
    if (!(Number.isInteger(options.maxEntries) && options.maxEntries >= 0)) {
      throw new RangeError(`cache size must be a non-negative integer, got ${String(options.maxEntries)}`);
    }
    this.#maxEntries = options.maxEntries;
    this.#now = options.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Stores `value` until `expiresAt` (epoch ms); an entry already expired is not stored. */
  set(key: string, value: V, expiresAt: number): void {
    const now = this.#now();
    this.#entries.delete(key);
    if (expiresAt <= now || this.#maxEntries === 0) return;
    if (this.#entries.size >= this.#maxEntries) {
      for (const [oldKey, entry] of this.#entries) {
        if (entry.expiresAt <= now) this.#entries.delete(oldKey);
      }
    }
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt });
  }
}
