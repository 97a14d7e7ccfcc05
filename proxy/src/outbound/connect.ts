/**
 * Opening connections to endpoints: plain TCP (unmeshed endpoints, passthrough) and mesh TLS (the contract of
 * `wire.ts`: TLS 1.3 with our certificate, the peer's SPIFFE ID checked against the one the policy expects,
 * ALPN naming what the connection carries). Both resolve only once the connection is usable, so a failure
 * here means nothing was sent; both bound the whole attempt by a timeout.
 *
 * The socket keeps an `error` listener for its whole life (errors are then reported through `close` and the
 * caller's own listeners), so an error between resolution and the caller's first listener cannot crash.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type PeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import type { MeshAlpn } from '../wire.js';

/** A connection could not be opened (refused, unreachable, timed out, TLS or identity failure). */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';
  /** The TCP connection was established and the TLS handshake failed (or timed out). */
  readonly inHandshake: boolean;

  constructor(message: string, inHandshake = false) {
    super(message);
    this.inHandshake = inHandshake;
  }
}

const ignore = (): void => {};

export interface MeshConnectOptions {
  readonly address: string;
  readonly port: number;
  readonly alpn: MeshAlpn;
  readonly secureContext: SecureContext;
  /** From `checkPeerIdentity(expected SPIFFE ID)`. */
  readonly checkServerIdentity: (host: string, certificate: PeerCertificate) => Error | undefined;
  readonly timeoutMs: number;
  /** A TLS session from an earlier connection to the same peer, for resumption. */
  readonly session?: Buffer | undefined;
  /** Receives session tickets for later resumption. */
  readonly onSession?: (session: Buffer) => void;
}

export function connectMesh(options: MeshConnectOptions): Promise<TLSSocket> {
  const { address, port, alpn } = options;
  const socket = tlsConnect({
    host: address,
    port,
    secureContext: options.secureContext,
    checkServerIdentity: options.checkServerIdentity,
    ALPNProtocols: [alpn],
    rejectUnauthorized: true,
    ...(options.session === undefined ? {} : { session: options.session }),
  });
  socket.setNoDelay(true);
  socket.on('error', ignore);
  if (options.onSession !== undefined) socket.on('session', options.onSession);
  return settle(socket, 'secureConnect', options.timeoutMs, `mesh connection to ${where(address, port)}`, () =>
    socket.alpnProtocol === alpn ? null : `the peer did not agree to ALPN ${alpn} (got ${socket.alpnProtocol === false ? 'none' : String(socket.alpnProtocol)})`,
  );
}

export function connectPlain(address: string, port: number, timeoutMs: number): Promise<Socket> {
  const socket = netConnect({ host: address, port, noDelay: true });
  socket.on('error', ignore);
  return settle(socket, 'connect', timeoutMs, `connection to ${where(address, port)}`, () => null);
}

function settle<S extends Socket>(socket: S, ready: 'connect' | 'secureConnect', timeoutMs: number, what: string, check: () => string | null): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    let connected = false;
    const onConnect = (): void => {
      connected = true;
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off(ready, onReady);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const fail = (reason: string): void => {
      cleanup();
      socket.destroy();
      reject(new ConnectError(`${what} failed: ${reason}`, connected && ready === 'secureConnect'));
    };
    const onReady = (): void => {
      const problem = check();
      if (problem !== null) return fail(problem);
      cleanup();
      resolve(socket);
    };
    const onError = (err: Error): void => fail(err.message);
    const onClose = (): void => fail('closed during the handshake');
    const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
    if (ready === 'secureConnect') socket.once('connect', onConnect);
    socket.once(ready, onReady);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}

function where(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
