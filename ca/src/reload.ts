/**
 * Keeping a running controller's CA in step with its store: `loom ca rotate` (or an operator replacing the
 * Secret) changes the store, and the controller must sign with — and distribute — what the store now holds.
 * The rotation timing depends on it: after a switch, leaves from the old issuer must stop.
 *
 * A {@link CaReloader} polls the store (a Secret watch would do as well; polling every few seconds is cheap
 * and works for both stores), decodes any new revision and swaps it into the authority atomically. A
 * revision that does not decode is logged and skipped: the authority keeps signing with the last good
 * material rather than stopping or, worse, regenerating.
 */
import type { Logger } from '@loom/shared/runtime';
import type { CertificateAuthority } from './authority.js';
import type { CaMaterial } from './material.js';
import { CaOpenError, decodeStored } from './open.js';
import type { CaStore, StoredCa } from './store/index.js';

export const DEFAULT_RELOAD_INTERVAL_MS = 10_000;

export type ReloadOutcome =
  | { readonly result: 'unchanged' }
  | { readonly result: 'reloaded'; readonly material: CaMaterial; readonly revision: string }
  | { readonly result: 'invalid'; readonly reason: string; readonly revision: string }
  | { readonly result: 'unreadable'; readonly reason: string };

export interface CaReloaderOptions {
  readonly store: CaStore;
  readonly authority: CertificateAuthority;
  /** The revision the authority's material came from (OpenedCa.stored). */
  readonly loaded: StoredCa;
  readonly intervalMs?: number;
  readonly now?: () => number;
  readonly logger?: Logger;
  /** Called after each successful swap (e.g. to push the new trust bundle to proxies). */
  readonly onReload?: (material: CaMaterial) => void;
}

export class CaReloader {
  readonly #options: CaReloaderOptions;
  #revision: string;
  /** The last revision that failed to decode, so it is logged once, not every poll. */
  #badRevision: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<ReloadOutcome> | undefined;

  constructor(options: CaReloaderOptions) {
    this.#options = options;
    this.#revision = options.loaded.revision;
  }

  /** Polls every `intervalMs` until {@link stop}. The timer does not keep the process alive. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.check(), this.#options.intervalMs ?? DEFAULT_RELOAD_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads the store once and swaps in a new revision if there is one. Concurrent calls share one read. */
  check(): Promise<ReloadOutcome> {
    this.#running ??= this.#check().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #check(): Promise<ReloadOutcome> {
    const { store, authority, logger } = this.#options;
    const log = logger?.child({ component: 'ca' });
    let stored: StoredCa | undefined;
    try {
      stored = await store.load();
    } catch (error) {
      const reason = (error as Error).message;
      log?.warn({ event: 'ca.reload_failed', store: store.description, reason }, 'cannot read the CA store; still signing with the loaded CA');
      return { result: 'unreadable', reason };
    }
    if (stored === undefined) {
      const reason = `${store.description} is empty now`;
      if (this.#badRevision !== '') log?.error({ event: 'ca.reload_invalid', store: store.description, reason }, 'CA store emptied; still signing with the loaded CA');
      this.#badRevision = '';
      return { result: 'invalid', reason, revision: '' };
    }
    if (stored.revision === this.#revision) return { result: 'unchanged' };
    let material: CaMaterial;
    try {
      material = decodeStored(store, stored, (this.#options.now ?? Date.now)());
    } catch (error) {
      if (!(error instanceof CaOpenError)) throw error;
      if (this.#badRevision !== stored.revision) {
        log?.error({ event: 'ca.reload_invalid', store: store.description, reason: error.message }, 'new CA store content is unusable; still signing with the loaded CA');
      }
      this.#badRevision = stored.revision;
      return { result: 'invalid', reason: error.message, revision: stored.revision };
    }
    authority.replace(material);
    this.#revision = stored.revision;
    this.#badRevision = undefined;
    log?.info(
      { event: 'ca.reloaded', store: store.description, issuer: material.issuer.certificate.fingerprint256, phase: material.rotation?.phase ?? 'steady' },
      'CA store changed; signing with its issuer and distributing its bundle',
    );
    this.#options.onReload?.(material);
    return { result: 'reloaded', material, revision: stored.revision };
  }
}
