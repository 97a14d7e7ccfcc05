/**
 * The gRPC server for `loom.identity.v1.Identity` over TLS with the controller's serving certificate.
 *
 * Client certificates are requested but optional: a proxy's first Certify necessarily comes without one,
 * renewals may present theirs, and authentication rests on the ServiceAccount token either way. (grpc-js's
 * `ServerCredentials.createSsl` can only require or not request them; its certificate-provider credentials can
 * request them without requiring them, and also let the serving certificate be replaced while the server
 * runs — new handshakes use the new one, open connections keep theirs.) Messages above `maxMessageBytes`
 * are refused by grpc-js itself with RESOURCE_EXHAUSTED before any handler runs, uncounted and unlogged; the
 * default sits above the service's own request limit, so oversized requests normally reach the service,
 * which refuses them where they are counted and logged.
 */
import { createSecureContext } from 'node:tls';
import { experimental, Server, type ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { IdentityHandlers } from '@loom/shared/proto';
import { loadIdentityService } from '@loom/shared/proto';
import { DEFAULT_MAX_REQUEST_BYTES } from './service.js';

/** The hard limit on a received message: the service's request limit plus room for the protobuf framing and more. */
export const DEFAULT_MAX_MESSAGE_BYTES = DEFAULT_MAX_REQUEST_BYTES + 16 * 1024;
/** How long close() lets in-flight calls finish before cutting connections. */
export const DEFAULT_CLOSE_GRACE_MS = 5_000;

export interface IdentityServerOptions {
  readonly handlers: IdentityHandlers;
  /** Address to listen on, e.g. `0.0.0.0`, `::` or `127.0.0.1`. */
  readonly host: string;
  /** 0 picks a free port (read it back from {@link IdentityServer.port}). */
  readonly port: number;
  /** The serving key, PEM. */
  readonly key: string | Buffer;
  /** The serving certificate followed by its intermediates, PEM. */
  readonly certChain: string | Buffer;
  /** Roots to verify client certificates against, PEM; without them no client certificate is requested. */
  readonly rootCerts?: string | Buffer;
  /** Largest message grpc-js accepts (hard limit); default {@link DEFAULT_MAX_MESSAGE_BYTES}. */
  readonly maxMessageBytes?: number;
  /**
   * More services on the same server and port (the controller serves `loom.policy.v1.Policy` next to identity on
   * 15010; tests and benchmarks add a policy server here).
   */
  readonly additionalServices?: readonly { readonly definition: ServiceDefinition; readonly handlers: UntypedServiceImplementation }[];
}

export interface IdentityServer {
  readonly port: number;
  /** Serve a new certificate (renewal) from the next handshake on. */
  replaceCertificate(key: string | Buffer, certChain: string | Buffer): void;
  /** Replace the roots client certificates are checked against (CA rotation); only when started with roots. */
  replaceRootCerts(rootCerts: string | Buffer): void;
  /** Stops accepting calls, lets in-flight ones finish for up to `graceMs`, then closes. Idempotent. */
  close(graceMs?: number): Promise<void>;
}

type Listener<U> = (update: U | null) => void;

/** A certificate provider holding values in memory; listeners hear the current value right after subscribing, then every change. */
class MemoryCertificateProvider implements experimental.CertificateProvider {
  #identity: experimental.IdentityCertificateUpdate | null = null;
  #ca: experimental.CaCertificateUpdate | null = null;
  readonly #identityListeners = new Set<Listener<experimental.IdentityCertificateUpdate>>();
  readonly #caListeners = new Set<Listener<experimental.CaCertificateUpdate>>();

  setIdentity(update: experimental.IdentityCertificateUpdate): void {
    this.#identity = update;
    for (const listener of this.#identityListeners) listener(update);
  }

  setCa(update: experimental.CaCertificateUpdate): void {
    this.#ca = update;
    for (const listener of this.#caListeners) listener(update);
  }

  addIdentityCertificateListener(listener: Listener<experimental.IdentityCertificateUpdate>): void {
    this.#identityListeners.add(listener);
    // Asynchronously: grpc-js registers the listener before the watcher that consumes its updates.
    queueMicrotask(() => {
      if (this.#identityListeners.has(listener)) listener(this.#identity);
    });
  }

  removeIdentityCertificateListener(listener: Listener<experimental.IdentityCertificateUpdate>): void {
    this.#identityListeners.delete(listener);
  }

  addCaCertificateListener(listener: Listener<experimental.CaCertificateUpdate>): void {
    this.#caListeners.add(listener);
    queueMicrotask(() => {
      if (this.#caListeners.has(listener)) listener(this.#ca);
    });
  }

  removeCaCertificateListener(listener: Listener<experimental.CaCertificateUpdate>): void {
    this.#caListeners.delete(listener);
  }
}

const toBuffer = (value: string | Buffer): Buffer => (typeof value === 'string' ? Buffer.from(value) : value);

/** Fails now, with OpenSSL's reason, on a key/certificate pair grpc-js would otherwise reject silently per handshake. */
function checkedIdentity(key: string | Buffer, certChain: string | Buffer): experimental.IdentityCertificateUpdate {
  const update = { certificate: toBuffer(certChain), privateKey: toBuffer(key) };
  try {
    createSecureContext({ key: update.privateKey, cert: update.certificate });
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(`unusable serving key/certificate: ${/key values mismatch/.test(message) ? 'the key does not match the certificate' : message}`, { cause: error });
  }
  return update;
}

export async function startIdentityServer(options: IdentityServerOptions): Promise<IdentityServer> {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!(Number.isInteger(maxMessageBytes) && maxMessageBytes > 0)) throw new RangeError(`maxMessageBytes must be a positive integer, got ${String(options.maxMessageBytes)}`);

  const identity = new MemoryCertificateProvider();
  identity.setIdentity(checkedIdentity(options.key, options.certChain));
  const roots = options.rootCerts === undefined ? null : new MemoryCertificateProvider();
  if (roots !== null && options.rootCerts !== undefined) roots.setCa({ caCertificate: toBuffer(options.rootCerts) });
  // grpc-js names the parameters the other way round; the implementation takes (identity, ca, require).
  const credentials: ServerCredentials = experimental.createCertificateProviderServerCredentials(identity, roots, false);

  const server = new Server({ 'grpc.max_receive_message_length': maxMessageBytes });
  server.addService(loadIdentityService().service, options.handlers);
  for (const extra of options.additionalServices ?? []) server.addService(extra.definition, extra.handlers);
  const address = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, credentials, (error, bound) => (error === null ? resolve(bound) : reject(new Error(`cannot listen on ${address}: ${error.message}`))));
  });

  let closing: Promise<void> | undefined;
  return {
    port,
    replaceCertificate(key, certChain) {
      identity.setIdentity(checkedIdentity(key, certChain));
    },
    replaceRootCerts(rootCerts) {
      if (roots === null) throw new Error('the identity server was started without rootCerts: it does not request client certificates');
      roots.setCa({ caCertificate: toBuffer(rootCerts) });
    },
    close(graceMs = DEFAULT_CLOSE_GRACE_MS) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}
