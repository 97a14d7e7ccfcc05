/**
 * Keeping the controller's serving certificate fresh: like a proxy's leaf it lasts 24 h, so it is re-issued at
 * about 2/3 of its life (with jitter) and handed to whoever serves with it (e.g.
 * {@link IdentityServer.replaceCertificate}); new handshakes get the new certificate, established connections
 * keep theirs. A failed renewal is logged and retried; a CA change (rotation switch) calls {@link renewNow}.
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

export class ServingCertificateRenewer {
  readonly #options: ServingRenewerOptions;
  #timer: unknown;
  #stopped = false;
  #current: ServingCertificate | undefined;

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

  /** Re-issues now (and reschedules); resolves to the new certificate. */
  async renewNow(): Promise<ServingCertificate> {
    const { authority, certificate, onRenewed, logger } = this.#options;
    const renewed = await issueServingCertificate(authority, certificate);
    if (this.#stopped) return renewed;
    this.#current = renewed;
    logger?.info({ component: 'identity', event: 'serving_certificate.renewed', identity: renewed.spiffeId, notAfter: renewed.notAfter.toISOString() }, 'renewed the controller serving certificate');
    onRenewed(renewed);
    this.#schedule(this.#delayFor(renewed));
    return renewed;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) (this.#options.timers ?? systemTimers).clear(this.#timer);
    this.#timer = undefined;
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
      this.renewNow().catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        this.#options.logger?.error({ component: 'identity', event: 'serving_certificate.renewal_failed', reason }, 'cannot renew the controller serving certificate; retrying');
        this.#schedule(this.#options.retryMs ?? SERVING_RETRY_MS);
      });
    }, delayMs);
  }
}
