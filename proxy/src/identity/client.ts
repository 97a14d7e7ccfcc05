/**
 * The proxy's identity client (DESIGN §4): generates a key in-process, sends a CSR with the pod's projected
 * ServiceAccount token to the controller's `Identity/Certify`, checks what comes back, hands the
 * credentials to a {@link CredentialHolder}, and renews at ~2/3 of the leaf's life (with jitter). Failures
 * are retried with jittered exponential backoff (at least as long as the controller's retry pushback asks),
 * forever: before the first certificate, once a failing renewal leaves less than
 * {@link NOT_READY_REMAINING_LIFE} of the leaf's life, and after expiry the proxy is simply not ready.
 * Private keys never leave the process.
 *
 * Lifecycle: construct (no I/O), `start()`, `close()`. Time comes from the injected {@link Clock}.
 */
import { readFile } from 'node:fs/promises';
import { createCsr, DEFAULT_KEY_TYPE, generateKey, renewalTime, spiffeId, type KeyType, type WorkloadIdentity } from '@loom/shared/identity';
import { backoffDelayMs, silentLogger, type BackoffOptions, type Logger } from '@loom/shared/runtime';
import type { Registry } from 'prom-client';
import { certify, type CertifyTarget, type PendingCertify } from './certify.js';
import { Alarm, systemClock, type Clock } from './clock.js';
import { acceptCertifyResponse, parseTrustBundle, type WorkloadCredentials } from './credentials.js';
import { classifyFailure, TokenError, type CertifyFailure } from './failure.js';
import { CredentialHolder } from './holder.js';
import { identityMetrics, type IdentityMetrics } from './metrics.js';

/** First retry within 1 s, then doubling, at most 30 s apart (full jitter: each delay is drawn in [0, cap)). */
export const DEFAULT_CERTIFY_BACKOFF: BackoffOptions = Object.freeze({ initialMs: 1_000, maxMs: 30_000 });
/** Deadline of one Certify call (key generation and token read excluded). */
export const DEFAULT_CERTIFY_TIMEOUT_MS = 10_000;
/**
 * While renewal is failing, the proxy turns not ready once less than this fraction of the held leaf's
 * life (notAfter - notBefore) remains: 2.4 h before expiry for a 24 h leaf, ~5.6 h after renewal started
 * failing at ~2/3. Not ready removes the pod from its Services' endpoints before its certificate expires
 * (DESIGN §4: a failing renewal shows in /ready before expiry), while it keeps serving with the held
 * certificate: established and new connections still work until notAfter.
 */
export const NOT_READY_REMAINING_LIFE = 0.1;

export interface IdentityClientOptions {
  /** `host:port` of the controller's identity service (port 15010). */
  readonly controllerAddress: string;
  /** The DNS name in the controller's serving certificate (e.g. `loom-controller.loom-system.svc`) when the address host is not it. */
  readonly controllerServerName?: string;
  /** PEM roots for the controller's serving certificate, injected at pod creation. Later, the held trust bundle is trusted too. */
  readonly initialTrustPem: string;
  /** The projected ServiceAccount token (audience `loom`); read again for every attempt, as kubelet rotates it. */
  readonly tokenPath: string;
  /** The identity to ask for: `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`. */
  readonly identity: WorkloadIdentity;
  /** Key type of the proxy's key; ECDSA P-256 by default. */
  readonly keyType?: KeyType;
  readonly clock?: Clock;
  /** Uniform in [0, 1): backoff and renewal jitter. Math.random by default. */
  readonly random?: () => number;
  readonly backoff?: BackoffOptions;
  /** Deadline of each Certify call, ms; {@link DEFAULT_CERTIFY_TIMEOUT_MS} by default. */
  readonly callTimeoutMs?: number;
  readonly logger?: Logger;
  /** Where the identity metrics are registered (the proxy's registry); not registered when omitted. */
  readonly registry?: Registry;
  /** Holder to fill; a new one (on `clock`) when omitted. */
  readonly holder?: CredentialHolder;
}

/**
 * - `starting`: no certificate yet, requesting one.
 * - `ready`: a valid certificate is held; renewal is scheduled.
 * - `renewing`: a valid certificate is held and renewal is under way (failures so far: `consecutiveFailures`).
 * - `expiring`: renewal is failing and less than {@link NOT_READY_REMAINING_LIFE} of the held leaf's life
 *   remains: not ready, though the certificate is still valid and still served; still requesting.
 * - `expired`: the held certificate expired before a renewal succeeded; still requesting.
 * - `closed`: {@link IdentityClient.close} was called.
 */
export type IdentityState = 'starting' | 'ready' | 'renewing' | 'expiring' | 'expired' | 'closed';

export interface IdentityStatus {
  readonly state: IdentityState;
  /** What `/ready` reports: a valid certificate is held, and it is not about to expire with renewal failing. */
  readonly ready: boolean;
  /** Why not ready, one line (present exactly when `ready` is false). */
  readonly reason?: string;
  /** The identity asked for. */
  readonly spiffeId: string;
  /** The held leaf's notAfter, epoch ms. */
  readonly notAfter?: number;
  /** When the next request starts (renewal or retry), epoch ms. */
  readonly nextAttemptAt?: number;
  /** Failed requests since the last success. */
  readonly consecutiveFailures: number;
  readonly lastFailure?: CertifyFailure;
}

/**
 * What happened, for observers (tests, the admin server): issued / renewed, a failed attempt, readiness
 * lost to a failing renewal before expiry (`expiring`, with the `/ready` reason), expiry.
 */
export type IdentityEvent =
  | { readonly type: 'issued'; readonly credentials: WorkloadCredentials; readonly renewAt: number }
  | { readonly type: 'renewed'; readonly credentials: WorkloadCredentials; readonly renewAt: number }
  | { readonly type: 'failed'; readonly failure: CertifyFailure; readonly renewal: boolean; readonly consecutiveFailures: number; readonly retryAt: number }
  | { readonly type: 'expiring'; readonly notAfter: number; readonly consecutiveFailures: number; readonly reason: string }
  | { readonly type: 'expired'; readonly notAfter: number };

export type IdentityListener = (event: IdentityEvent) => void;

/** Options that cannot work; `message` is one line naming the option. */
export class IdentityConfigError extends Error {
  override readonly name = 'IdentityConfigError';
}

/** {@link IdentityClient.waitForCredentials} was pending when the client closed. */
export class IdentityClosedError extends Error {
  override readonly name = 'IdentityClosedError';
  constructor() {
    super('the identity client was closed before it obtained a certificate');
  }
}

export class IdentityClient {
  /** The credentials and TLS contexts; what the data path uses. */
  readonly holder: CredentialHolder;
  /** The SPIFFE ID this client asks for. */
  readonly spiffeId: string;

  readonly #target: Omit<CertifyTarget, 'trustPem'>;
  readonly #initialTrust: readonly string[];
  readonly #tokenPath: string;
  readonly #keyType: KeyType;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #backoff: BackoffOptions;
  readonly #callTimeoutMs: number;
  readonly #log: Logger;
  readonly #metrics: IdentityMetrics;
  readonly #listeners = new Set<IdentityListener>();
  readonly #waiters = new Set<{ resolve: (credentials: WorkloadCredentials) => void; reject: (error: Error) => void }>();
  /** The next request: renewal time, or a retry after a failure. */
  readonly #next: Alarm;
  /** When {@link NOT_READY_REMAINING_LIFE} of the held leaf's life remains: readiness drops then if renewal is failing. */
  readonly #expiring: Alarm;
  /** The held leaf's notAfter: readiness drops then unless a renewal succeeded. */
  readonly #expiry: Alarm;

  #started = false;
  #closed = false;
  #inFlight = false;
  #call: PendingCertify | undefined;
  #failures = 0;
  #lastFailure: CertifyFailure | undefined;
  /** The last failure reason logged at warn/error; repeats of it go to debug. */
  #lastLoggedReason: string | undefined;

  constructor(options: IdentityClientOptions) {
    const { trustDomain, namespace, serviceAccount } = options.identity;
    for (const [name, value] of Object.entries({ trustDomain, namespace, serviceAccount })) {
      if (value === '' || /[/\s]/.test(value)) throw new IdentityConfigError(`identity.${name} "${value}" is not a name (empty, or holds "/" or spaces)`);
    }
    if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/.test(options.controllerAddress)) {
      throw new IdentityConfigError(`controllerAddress "${options.controllerAddress}" is not host:port`);
    }
    if (options.tokenPath === '') throw new IdentityConfigError('tokenPath is empty');
    try {
      this.#initialTrust = parseTrustBundle([options.initialTrustPem]).pems;
    } catch (error) {
      throw new IdentityConfigError(`initialTrustPem: ${(error as Error).message}`);
    }
    this.#backoff = options.backoff ?? DEFAULT_CERTIFY_BACKOFF;
    try {
      backoffDelayMs(0, this.#backoff, () => 0);
    } catch (error) {
      throw new IdentityConfigError((error as Error).message);
    }
    this.#callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CERTIFY_TIMEOUT_MS;
    if (!(this.#callTimeoutMs > 0)) throw new IdentityConfigError(`callTimeoutMs must be positive, got ${this.#callTimeoutMs}`);

    this.spiffeId = spiffeId(trustDomain, namespace, serviceAccount);
    this.#target = {
      address: options.controllerAddress,
      ...(options.controllerServerName === undefined ? {} : { serverName: options.controllerServerName }),
    };
    this.#tokenPath = options.tokenPath;
    this.#keyType = options.keyType ?? DEFAULT_KEY_TYPE;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#log = (options.logger ?? silentLogger()).child({ component: 'identity' });
    this.holder = options.holder ?? new CredentialHolder({ clock: this.#clock, logger: this.#log });
    this.#metrics = identityMetrics(this.holder, options.registry);
    this.#next = new Alarm(this.#clock);
    this.#expiring = new Alarm(this.#clock);
    this.#expiry = new Alarm(this.#clock);
  }

  /**
   * What `/ready` reports: a valid certificate is held, and renewal is not failing with less than
   * {@link NOT_READY_REMAINING_LIFE} of its life left. The held certificate is served either way.
   */
  get ready(): boolean {
    return this.#readiness().ready;
  }

  status(): IdentityStatus {
    const held = this.holder.current();
    const readiness = this.#readiness();
    const state: IdentityState = this.#closed
      ? 'closed'
      : held === undefined
        ? 'starting'
        : !this.holder.ready
          ? 'expired'
          : !readiness.ready
            ? 'expiring'
            : this.#inFlight || this.#failures > 0
              ? 'renewing'
              : 'ready';
    const nextAttemptAt = this.#next.at;
    return {
      state,
      ready: readiness.ready,
      ...(readiness.ready ? {} : { reason: readiness.reason }),
      spiffeId: this.spiffeId,
      consecutiveFailures: this.#failures,
      ...(held === undefined ? {} : { notAfter: held.notAfter }),
      ...(nextAttemptAt === undefined ? {} : { nextAttemptAt }),
      ...(this.#lastFailure === undefined ? {} : { lastFailure: this.#lastFailure }),
    };
  }

  /** Readiness now, with the one-line reason when not ready. */
  #readiness(): { readonly ready: true } | { readonly ready: false; readonly reason: string } {
    if (this.#closed) return { ready: false, reason: 'the identity client is closed' };
    const held = this.holder.current();
    const last = this.#lastFailure;
    const times = `${this.#failures} ${this.#failures === 1 ? 'time' : 'times'}`;
    if (held === undefined) return { ready: false, reason: last === undefined ? 'no certificate yet' : `no certificate yet; the request has failed ${times}: ${last.reason}` };
    const failing = last === undefined ? '' : ` and renewal has failed ${times}: ${last.reason}`;
    if (!this.holder.ready) return { ready: false, reason: `certificate expired at ${isoTime(held.notAfter)}${failing}` };
    if (last !== undefined && this.#clock.now() >= notReadyAt(held)) return { ready: false, reason: `certificate expires at ${isoTime(held.notAfter)}${failing}` };
    return { ready: true };
  }

  /** Calls `listener` for every {@link IdentityEvent}. Returns the unsubscribe function. */
  subscribe(listener: IdentityListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Starts requesting a certificate (at once). Idempotent. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#log.info({ event: 'identity.starting', identity: this.spiffeId, controller: this.#target.address }, 'requesting a workload certificate');
    this.#attempt();
  }

  /** Resolves with the credentials once a valid certificate is held (at once if it is); rejects when the client closes first. */
  waitForCredentials(): Promise<WorkloadCredentials> {
    const held = this.holder.current();
    if (held !== undefined && this.holder.ready) return Promise.resolve(held);
    if (this.#closed) return Promise.reject(new IdentityClosedError());
    return new Promise((resolve, reject) => this.#waiters.add({ resolve, reject }));
  }

  /** Stops renewing: cancels timers and the call in flight. The held credentials stay in the holder. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#next.clear();
    this.#expiring.clear();
    this.#expiry.clear();
    this.#call?.cancel();
    this.#call = undefined;
    for (const waiter of this.#waiters) waiter.reject(new IdentityClosedError());
    this.#waiters.clear();
    this.#listeners.clear();
  }

  #attempt(): void {
    if (this.#closed || this.#inFlight) return;
    this.#inFlight = true;
    this.#run().catch((error: unknown) => {
      // #run handles its own failures; this is a bug guard, never a silent floating promise.
      this.#log.error({ event: 'identity.internal_error', err: error as Error }, 'identity client failed unexpectedly');
    });
  }

  async #run(): Promise<void> {
    try {
      const credentials = await this.#obtain();
      if (credentials === undefined || this.#closed) return;
      const renewal = this.holder.current() !== undefined;
      this.holder.install(credentials);
      this.#succeeded(credentials, renewal);
    } catch (error) {
      if (!this.#closed) this.#failed(classifyFailure(error));
    } finally {
      this.#inFlight = false;
    }
  }

  /** One request: token, key, CSR, Certify, checks. Undefined when the client closed meanwhile. */
  async #obtain(): Promise<WorkloadCredentials | undefined> {
    const token = await readToken(this.#tokenPath);
    const { privateKey, publicKey } = await generateKey(this.#keyType);
    if (this.#closed) return undefined;
    const csr = createCsr({ privateKey, publicKey, uris: [this.spiffeId] });
    const call = certify({ ...this.#target, trustPem: this.#controllerTrust() }, { csr, token }, this.#callTimeoutMs);
    this.#call = call;
    try {
      const response = await call.response;
      if (this.#closed) return undefined;
      return acceptCertifyResponse(response, { spiffeId: this.spiffeId, privateKey, publicKey, now: this.#clock.now() });
    } finally {
      if (this.#call === call) this.#call = undefined;
    }
  }

  /** Roots for the controller's serving certificate: the initial ones and the held bundle (root rotation). */
  #controllerTrust(): string {
    return [...new Set([...this.#initialTrust, ...(this.holder.current()?.trustBundle ?? [])])].join('');
  }

  #succeeded(credentials: WorkloadCredentials, renewal: boolean): void {
    const now = this.#clock.now();
    const renewAt = renewalTime({ notBefore: credentials.notBefore, notAfter: credentials.notAfter }, now, this.#random);
    this.#failures = 0;
    this.#lastFailure = undefined;
    this.#lastLoggedReason = undefined;
    this.#next.set(renewAt, () => this.#attempt());
    this.#expiring.set(notReadyAt(credentials), () => this.#becameUnready());
    this.#expiry.set(credentials.notAfter, () => this.#expired());
    this.#metrics.recordAttempt('success');
    this.#log.info(
      {
        event: renewal ? 'certificate.renewed' : 'certificate.issued',
        identity: credentials.spiffeId,
        serial: credentials.serialNumber,
        notAfter: new Date(credentials.notAfter).toISOString(),
        renewAt: new Date(renewAt).toISOString(),
      },
      renewal ? 'workload certificate renewed' : 'workload certificate issued',
    );
    for (const waiter of this.#waiters) waiter.resolve(credentials);
    this.#waiters.clear();
    this.#emit(renewal ? { type: 'renewed', credentials, renewAt } : { type: 'issued', credentials, renewAt });
  }

  #failed(failure: CertifyFailure): void {
    this.#failures += 1;
    this.#lastFailure = failure;
    const retryAt = this.#clock.now() + retryDelayMs(this.#failures - 1, this.#backoff, this.#random, failure.retryPushbackMs);
    this.#next.set(retryAt, () => this.#attempt());
    this.#metrics.recordAttempt('failure');
    const held = this.holder.current();
    const renewal = held !== undefined;
    const fields = {
      event: renewal ? 'certificate.renewal_failed' : 'certificate.issue_failed',
      identity: this.spiffeId,
      reason: failure.reason,
      kind: failure.kind,
      ...(failure.code === undefined ? {} : { code: failure.code }),
      consecutiveFailures: this.#failures,
      retryAt: new Date(retryAt).toISOString(),
      ...(held === undefined ? {} : { notAfter: new Date(held.notAfter).toISOString() }),
    };
    const message = renewal ? 'certificate renewal failed; retrying' : 'certificate request failed; retrying';
    if (failure.reason === this.#lastLoggedReason) this.#log.debug(fields, message);
    else if (failure.kind === 'unavailable') this.#log.warn(fields, message);
    else this.#log.error(fields, message);
    this.#lastLoggedReason = failure.reason;
    this.#emit({ type: 'failed', failure, renewal, consecutiveFailures: this.#failures, retryAt });
    // The first failure of a renewal that started (or ran) past the not-ready point.
    if (this.#failures === 1 && held !== undefined && this.#expiring.at === undefined) this.#becameUnready();
  }

  /** The not-ready point of the held leaf passed: report it if renewal is failing (and the leaf has not expired). */
  #becameUnready(): void {
    const held = this.holder.current();
    const readiness = this.#readiness();
    if (held === undefined || readiness.ready || !this.holder.ready || this.#closed) return;
    this.#log.error(
      {
        event: 'certificate.expiring',
        identity: held.spiffeId,
        serial: held.serialNumber,
        notAfter: isoTime(held.notAfter),
        consecutiveFailures: this.#failures,
        reason: this.#lastFailure?.reason,
      },
      'workload certificate close to expiry and renewal failing; not ready (still serving with it)',
    );
    this.#emit({ type: 'expiring', notAfter: held.notAfter, consecutiveFailures: this.#failures, reason: readiness.reason });
  }

  #expired(): void {
    const held = this.holder.current();
    if (held === undefined || this.holder.ready) return;
    this.#log.error(
      { event: 'certificate.expired', identity: held.spiffeId, serial: held.serialNumber, notAfter: new Date(held.notAfter).toISOString(), reason: this.#lastFailure?.reason },
      'workload certificate expired before it could be renewed; not ready',
    );
    this.#emit({ type: 'expired', notAfter: held.notAfter });
  }

  #emit(event: IdentityEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.#log.error({ event: 'identity.listener_failed', err: error as Error }, 'an identity listener threw');
      }
    }
  }
}

/** When readiness drops if renewal is failing: {@link NOT_READY_REMAINING_LIFE} of the leaf's life before notAfter. */
export function notReadyAt(validity: { readonly notBefore: number; readonly notAfter: number }): number {
  return validity.notAfter - Math.ceil(NOT_READY_REMAINING_LIFE * Math.max(0, validity.notAfter - validity.notBefore));
}

/**
 * Delay before retry number `attempt`: the jittered backoff, but at least the controller's retry pushback
 * (`grpc-retry-pushback-ms`), itself capped at `backoff.maxMs` so a bad trailer cannot stall the proxy.
 */
export function retryDelayMs(attempt: number, backoff: BackoffOptions, random: () => number, pushbackMs?: number): number {
  const delay = backoffDelayMs(attempt, backoff, random);
  return pushbackMs === undefined ? delay : Math.max(delay, Math.min(pushbackMs, backoff.maxMs));
}

const isoTime = (epochMs: number): string => new Date(epochMs).toISOString();

/** The projected token, trimmed; {@link TokenError} when it cannot be read or is empty. */
export async function readToken(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TokenError(`cannot read the ServiceAccount token ${path}: ${code ?? (error as Error).message}`);
  }
  const token = text.trim();
  if (token === '') throw new TokenError(`the ServiceAccount token file ${path} is empty`);
  return token;
}
