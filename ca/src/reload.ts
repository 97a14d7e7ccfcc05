/**
 * Keeping a running controller's CA in step with its store: `loom ca rotate` (or an operator replacing the
 * Secret) changes the store, and the controller must sign with — and distribute — what the store now holds.
 * The rotation timing depends on it: after a switch, leaves from the old issuer must stop.
 *
 * A {@link CaReloader} polls the store (a Secret watch would do as well; polling every few seconds is cheap
 * and works for both stores), decodes any new revision, checks it is for the authority's trust domain (as
 * openCa does at startup) and swaps it into the authority atomically. A revision that does not decode or
 * is for another trust domain — or fails in any way at all — is logged once and skipped: the authority
 * keeps signing with the last good material rather than stopping or, worse, regenerating. Nothing a store
 * holds, and nothing an `onReload` listener does, can make the reloader throw or stop.
 */
import type { Logger } from '@loom/shared/runtime';
import type { CertificateAuthority } from './authority.js';
import type { CaMaterial } from './material.js';
import { CaOpenError, checkTrustDomain, decodeStored } from './open.js';
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
  /**
   * Called after each successful swap (e.g. to push the new trust bundle to proxies); may be async. A
   * listener that throws, or whose promise rejects, is logged (`ca.reload_listener_failed`); the swap
   * stands. A returned promise is not awaited.
   */
  readonly onReload?: (material: CaMaterial) => unknown;
}

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> =>
  (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n', 1)[0] ?? '';

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
    this.#timer = setInterval(() => {
      // check() does not reject; should a bug make it, the poll is logged and the next one runs.
      this.check().catch((error: unknown) => {
        this.#log()?.error({ event: 'ca.reload_failed', store: this.#options.store.description, reason: messageOf(error) }, 'CA reload check failed');
      });
    }, this.#options.intervalMs ?? DEFAULT_RELOAD_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #log(): Logger | undefined {
    return this.#options.logger?.child({ component: 'ca' });
  }

  /**
   * Reads the store once and swaps in a new revision if there is one. Concurrent calls share one read.
   * Never rejects: every failure is an outcome (`unreadable`, `invalid`).
   */
  check(): Promise<ReloadOutcome> {
    this.#running ??= this.#check().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #check(): Promise<ReloadOutcome> {
    const { store, authority } = this.#options;
    const log = this.#log();
    let stored: StoredCa | undefined;
    try {
      stored = await store.load();
    } catch (error) {
      const reason = messageOf(error);
      log?.warn({ event: 'ca.reload_failed', store: store.description, reason }, 'cannot read the CA store; still signing with the loaded CA');
      return { result: 'unreadable', reason };
    }
    if (stored === undefined) return this.#invalid('', `${store.description} is empty now`);
    if (stored.revision === this.#revision) return { result: 'unchanged' };
    let material: CaMaterial;
    try {
      material = decodeStored(store, stored, (this.#options.now ?? Date.now)());
      checkTrustDomain(store, material, authority.trustDomain);
    } catch (error) {
      // Anything at all: a CaOpenError says what is wrong; anything else is a bug, still not a reason to stop.
      return this.#invalid(stored.revision, error instanceof CaOpenError ? error.message : `${store.description}: cannot decode the CA: ${messageOf(error)}`);
    }
    authority.replace(material);
    this.#revision = stored.revision;
    this.#badRevision = undefined;
    log?.info(
      { event: 'ca.reloaded', store: store.description, issuer: material.issuer.certificate.fingerprint256, phase: material.rotation?.phase ?? 'steady' },
      'CA store changed; signing with its issuer and distributing its bundle',
    );
    this.#notify(material);
    return { result: 'reloaded', material, revision: stored.revision };
  }

  /** An unusable revision ('' for an emptied store): logged once per revision, then skipped. */
  #invalid(revision: string, reason: string): ReloadOutcome {
    if (this.#badRevision !== revision) {
      this.#log()?.error({ event: 'ca.reload_invalid', store: this.#options.store.description, reason }, 'the CA store content is unusable; still signing with the loaded CA');
    }
    this.#badRevision = revision;
    return { result: 'invalid', reason, revision };
  }

  #notify(material: CaMaterial): void {
    const failed = (error: unknown): void => {
      this.#log()?.error({ event: 'ca.reload_listener_failed', store: this.#options.store.description, reason: messageOf(error) }, 'a CA reload listener failed');
    };
    try {
      const result = this.#options.onReload?.(material);
      if (isPromiseLike(result)) Promise.resolve(result).catch(failed);
    } catch (error) {
      failed(error);
    }
  }
}
