/**
 * Keeping the controller's serving certificate fresh: like a proxy's leaf it lasts 24 h, so it is re-issued at
 * about 2/3 of its life (with jitter) and handed to whoever serves with it (e.g.
 * {@link IdentityServer.replaceCertificate}); new handshakes get the new certificate, established connections
 * keep theirs. A failed renewal is logged and retried. A CA change (rotation switch, reload) calls
 * {@link ServingCertificateRenewer.requestRenewal}, which never rejects.
 */
import type { CertificateAuthority } from '@loom/ca';
import { renewalTime } from '@loom/shared/identity';
import type { Logger } from '@loom/shared/runtime';
import { issueServingCertificate, type ServingCertificate, type ServingCertificateOptions } from './serving.js';

export const SERVING_RETRY_MS = 30_000;

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const systemTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, Math.min(ms, 2_147_483_647)).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ServingRenewerOptions {
  readonly authority: CertificateAuthority;
  readonly certificate?: ServingCertificateOptions;
  /** Receives every new certificate (not the initial one passed to {@link ServingCertificateRenewer.start}). */
  readonly onRenewed: (certificate: ServingCertificate) => void;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly timers?: Timers;
  readonly retryMs?: number;
  readonly logger?: Logger;
}

const ignore = (): void => undefined;

export class ServingCertificateRenewer {
  readonly #options: ServingRenewerOptions;
  #timer: unknown;
  #stopped = false;
  #current: ServingCertificate | undefined;
  /** The renewal running now, and the one queued behind it (at most one: later requests join it). */
  #running: Promise<ServingCertificate> | undefined;
  #queued: Promise<ServingCertificate> | undefined;

  constructor(options: ServingRenewerOptions) {
    this.#options = options;
  }

  get current(): ServingCertificate | undefined {
    return this.#current;
  }

  /** Schedules the renewal of `initial` (the certificate the server started with). */
  start(initial: ServingCertificate): void {
    this.#current = initial;
    this.#schedule(this.#delayFor(initial));
  }

  /**
   * Re-issue now, for a CA change: wire `CaReloader`'s `onReload` here. Never rejects (there is nothing to
   * await or catch): a failure is logged and retried after the retry delay. A request made while a renewal
   * runs is served by one more renewal after it, since the running one may have used the CA as it was.
   */
  requestRenewal(): void {
    this.renewNow().catch(ignore);
  }

  /**
   * Re-issues now (and reschedules); resolves to the new certificate. On failure it logs, schedules a retry
   * and rejects — callers that do not want the rejection use {@link requestRenewal}.
   */
  renewNow(): Promise<ServingCertificate> {
    if (this.#running === undefined) return this.#run();
    this.#queued ??= this.#running.then(ignore, ignore).then(() => {
      this.#queued = undefined;
      return this.#run();
    });
    return this.#queued;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) (this.#options.timers ?? systemTimers).clear(this.#timer);
    this.#timer = undefined;
  }

  #run(): Promise<ServingCertificate> {
    const run = this.#renewOnce().finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  /** One renewal; any failure (issuing, or `onRenewed` refusing the certificate) is logged and retried. */
  async #renewOnce(): Promise<ServingCertificate> {
    const { authority, certificate, onRenewed, logger } = this.#options;
    let renewed: ServingCertificate;
    try {
      renewed = await issueServingCertificate(authority, certificate);
      if (this.#stopped) return renewed;
      onRenewed(renewed);
    } catch (error) {
      const retryInMs = this.#options.retryMs ?? SERVING_RETRY_MS;
      const reason = error instanceof Error ? error.message : String(error);
      logger?.error({ component: 'identity', event: 'serving_certificate.renewal_failed', reason, retryInMs }, 'cannot renew the controller serving certificate; retrying');
      this.#schedule(retryInMs);
      throw error;
    }
    this.#current = renewed;
    logger?.info({ component: 'identity', event: 'serving_certificate.renewed', identity: renewed.spiffeId, notAfter: renewed.notAfter.toISOString() }, 'renewed the controller serving certificate');
    this.#schedule(this.#delayFor(renewed));
    return renewed;
  }

  #delayFor(certificate: ServingCertificate): number {
    const now = (this.#options.now ?? Date.now)();
    return renewalTime({ notBefore: certificate.notBefore.getTime(), notAfter: certificate.notAfter.getTime() }, now, this.#options.random) - now;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    const timers = this.#options.timers ?? systemTimers;
    if (this.#timer !== undefined) timers.clear(this.#timer);
    this.#timer = timers.set(() => {
      this.#timer = undefined;
      this.requestRenewal();
    }, delayMs);
  }
}
