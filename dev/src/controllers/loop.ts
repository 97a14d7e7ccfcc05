/**
 * The reconcile loop every built-in controller runs: it follows changes of some stored resources and, for any burst
 * of them, reconciles once (level-triggered: the reconcile looks at the whole current state, not at the events).
 * A reconcile may ask to run again after a delay (for what time alone changes: minReadySeconds, progress
 * deadlines); each reconcile's answer replaces the previous one. Errors are logged, never thrown to the store's listeners. After {@link Reconciler.stop} nothing is
 * scheduled and no timer is left.
 */
import type { Logger } from '@loom/shared/runtime';
import type { Store, StoreEvent } from '../api/store.js';

/** What one reconcile returns: milliseconds until it must run again without a change, or undefined. */
export type Reconcile = () => number | undefined;

/** One watched resource (`<group>/<plural>`) and, optionally, which of its changes matter. */
export interface Watched {
  readonly resource: string;
  readonly relevant?: (event: StoreEvent) => boolean;
}

export class Reconciler {
  readonly #name: string;
  readonly #store: Store;
  readonly #watched: readonly Watched[];
  readonly #reconcile: Reconcile;
  readonly #log: Logger;
  #unwatch: (() => void)[] = [];
  #immediate: NodeJS.Immediate | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(name: string, store: Store, watched: readonly Watched[], reconcile: Reconcile, log: Logger) {
    this.#name = name;
    this.#store = store;
    this.#watched = watched;
    this.#reconcile = reconcile;
    this.#log = log;
  }

  /** Follows the resources from now on and reconciles once soon (for what exists already). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const from = this.#store.resourceVersion;
    for (const w of this.#watched) {
      this.#unwatch.push(
        this.#store.watch(w.resource, from, (event) => {
          try {
            if (w.relevant === undefined || w.relevant(event)) this.schedule();
          } catch (err) {
            this.#log.error({ component: 'controllers', controller: this.#name, err }, 'event filter failed');
          }
        }),
      );
    }
    this.schedule();
  }

  stop(): void {
    this.#running = false;
    for (const unwatch of this.#unwatch) unwatch();
    this.#unwatch = [];
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    this.#clearTimer();
  }

  /** Whether a reconcile is scheduled to run at the next turn of the event loop. */
  get pending(): boolean {
    return this.#immediate !== undefined;
  }

  /** Asks for a reconcile; any number of calls before it runs make one. */
  schedule(): void {
    if (!this.#running || this.#immediate !== undefined) return;
    this.#immediate = setImmediate(() => this.#run());
  }

  #run(): void {
    this.#immediate = undefined;
    if (!this.#running) return;
    let after: number | undefined;
    try {
      after = this.#reconcile();
    } catch (err) {
      this.#log.error({ component: 'controllers', controller: this.#name, err }, 'reconcile failed');
      return; // a timer already set stays
    }
    // The reconcile looked at everything: what it asks for now replaces what an earlier one asked for.
    this.#clearTimer();
    if (after !== undefined && this.#running) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.schedule();
      }, Math.max(0, after));
    }
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** A controller driven by one {@link Reconciler}: starting, stopping and `pending` are its loop's. */
export abstract class LoopController {
  protected abstract readonly loop: Reconciler;

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** Whether a reconcile is scheduled. */
  get pending(): boolean {
    return this.loop.pending;
  }
}
