/**
 * Holds the proxy's current credentials and the node:tls secure contexts built from them. A context is
 * built once per change (new certificate or new trust bundle) and replaced as a whole: connections
 * handshake with whichever context is current when they start and keep it for their life, so a renewal
 * or a bundle swap never disturbs an established connection.
 */
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions, type Server } from 'node:tls';
import { silentLogger, type Logger } from '@loom/shared/runtime';
import { systemClock, type Clock } from './clock.js';
import { chainProblem, CredentialsError, parseTrustBundle, type WorkloadCredentials } from './credentials.js';
import { secureContextOptions, serverContextOptions } from './tls.js';

/** Why the credentials changed: a new certificate (issuance, renewal) or a new trust bundle. */
export type CredentialChangeReason = 'certificate' | 'trust-bundle';

export interface CredentialChange {
  readonly reason: CredentialChangeReason;
  /** The credentials now held (the new bundle included). */
  readonly credentials: WorkloadCredentials;
}

export type CredentialListener = (change: CredentialChange) => void;

export interface CredentialHolderOptions {
  /** Decides readiness (a held certificate past its notAfter is not ready); the system clock by default. */
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** One consistent generation: credentials and the contexts built from exactly them. */
interface Generation {
  readonly credentials: WorkloadCredentials;
  readonly chain: readonly X509Certificate[];
  /** The server context's options (session resumption included). */
  readonly options: SecureContextOptions;
  readonly server: SecureContext;
  readonly client: SecureContext;
}

export class CredentialHolder {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #listeners = new Set<CredentialListener>();
  #current: Generation | undefined;

  constructor(options: CredentialHolderOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger();
  }

  /** The credentials held now, or undefined before the first certificate. */
  current(): WorkloadCredentials | undefined {
    return this.#current?.credentials;
  }

  /** A certificate is held and has not expired. */
  get ready(): boolean {
    const credentials = this.#current?.credentials;
    return credentials !== undefined && this.#clock.now() < credentials.notAfter;
  }

  /** The context for accepting mesh connections (pass to SNICallback, or see {@link attachToServer}). */
  serverContext(): SecureContext | undefined {
    return this.#current?.server;
  }

  /** The context for opening mesh connections: `tls.connect({ secureContext, checkServerIdentity })`. */
  clientContext(): SecureContext | undefined {
    return this.#current?.client;
  }

  /** The options the current server context was built from, for APIs that take options (`server.setSecureContext`). */
  contextOptions(): SecureContextOptions | undefined {
    return this.#current?.options;
  }

  /**
   * Holds new credentials (already checked: {@link acceptCertifyResponse} / {@link credentialsFromPem}) with
   * the trust bundle they came with, and notifies listeners.
   */
  install(credentials: WorkloadCredentials): void {
    const chain = credentials.chain.map((pem) => new X509Certificate(pem));
    this.#swap(this.#generation(credentials, chain), 'certificate');
  }

  /**
   * Replaces the trust bundle (the policy stream delivers changes) and rebuilds the contexts. Returns false
   * when nothing changed. Throws {@link CredentialsError} for a bundle that is empty or not CA certificates.
   * Before the first certificate the bundle is only checked: the one that comes with the certificate is
   * newer. The latest bundle wins, whether it came from the stream or with a renewed certificate.
   */
  setTrustBundle(pems: readonly string[]): boolean {
    const bundle = parseTrustBundle(pems);
    const held = this.#current;
    if (held === undefined) return false;
    if (sameList(held.credentials.trustBundle, bundle.pems)) return false;
    const problem = chainProblem(held.chain, bundle.certificates);
    if (problem !== undefined) {
      // Peers that trust only the new bundle will refuse us until we renew; say so, but obey the controller.
      this.#log.warn({ event: 'trust_bundle.excludes_own_chain', identity: held.credentials.spiffeId, reason: problem }, 'the new trust bundle does not cover our own certificate');
    }
    this.#swap(this.#generation({ ...held.credentials, trustBundle: Object.freeze([...bundle.pems]) }, held.chain), 'trust-bundle');
    return true;
  }

  /** Calls `listener` after every change, contexts already rebuilt. Returns the unsubscribe function. */
  onChange(listener: CredentialListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Keeps `server`'s default secure context current: set now (when credentials are held) and after every
   * change, through `server.setSecureContext`. New handshakes use the new context, established connections
   * keep theirs. Peer verification stays the server's own options (`requestCert`, `rejectUnauthorized`).
   * Returns the function that detaches the server.
   */
  attachToServer(server: Server): () => void {
    const apply = (): void => {
      const options = this.contextOptions();
      if (options !== undefined) server.setSecureContext(options);
    };
    apply();
    return this.onChange(apply);
  }

  #generation(credentials: WorkloadCredentials, chain: readonly X509Certificate[]): Generation {
    const options = Object.freeze(serverContextOptions(credentials));
    try {
      return { credentials: Object.freeze(credentials), chain, options, server: createSecureContext(options), client: createSecureContext(secureContextOptions(credentials)) };
    } catch (error) {
      throw new CredentialsError(`cannot build a TLS context from the credentials: ${(error as Error).message}`);
    }
  }

  #swap(next: Generation, reason: CredentialChangeReason): void {
    this.#current = next;
    const change: CredentialChange = { reason, credentials: next.credentials };
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.#log.error({ event: 'credentials.listener_failed', err: error as Error }, 'a credentials listener threw');
      }
    }
  }
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((value, index) => value === b[index]);
