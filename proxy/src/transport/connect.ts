/**
 * Opening connections: plain TCP (the inbound proxy to its application, the outbound proxy to unmeshed endpoints
 * and passthrough destinations) and mesh TLS (the contract of `wire.ts`: TLS 1.3 with our certificate, the peer's
 * SPIFFE ID checked against the one the policy expects, ALPN naming what the connection carries). Both resolve only
 * once the connection is usable, so a failure here means nothing was sent; both bound the whole attempt by a
 * timeout.
 *
 * The socket keeps an `error` listener for its whole life (errors are then reported through `close` and the
 * caller's own listeners), so an error between resolution and the caller's first listener cannot crash.
 *
 * TLS session resumption: node does not call `checkServerIdentity` on a resumed session (the server proves it holds
 * the session's secret, not its certificate again), so a session may only be offered to the identity it was
 * established with: `onSession` receives tickets only from connections whose identity check passed.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type PeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import type { MeshAlpn } from '../wire.js';
import { formatAddress } from './address.js';

/** The `code` of a connect that did not finish within its timeout. */
export const CONNECT_TIMEOUT = 'ERR_LOOM_CONNECT_TIMEOUT';

/** A connection could not be opened (refused, unreachable, timed out, TLS or identity failure). */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';
  /** The socket error's code (`ECONNREFUSED`...), {@link CONNECT_TIMEOUT}, or undefined (TLS or identity refusals). */
  readonly code: string | undefined;
  /** The TCP connection was established and the TLS handshake failed (or timed out). */
  readonly inHandshake: boolean;

  constructor(message: string, options: { readonly code?: string | undefined; readonly inHandshake?: boolean } = {}) {
    super(message);
    this.code = options.code;
    this.inHandshake = options.inHandshake ?? false;
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
  /** A TLS session from an earlier connection to the same peer identity, for resumption. */
  readonly session?: Buffer | undefined;
  /** Receives session tickets for later resumption (only from a connection whose identity check passed). */
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
  const onSession = options.onSession;
  return settle(socket, 'secureConnect', options.timeoutMs, `mesh connection to ${formatAddress(options)}`, () => {
    if (socket.alpnProtocol !== alpn) return `the peer did not agree to ALPN ${alpn} (got ${socket.alpnProtocol === false ? 'none' : String(socket.alpnProtocol)})`;
    // TLS 1.3 tickets arrive after the handshake: listening from here on keeps tickets of refused peers out.
    if (onSession !== undefined) socket.on('session', onSession);
    return null;
  });
}

export function connectPlain(address: string, port: number, timeoutMs: number): Promise<Socket> {
  const socket = netConnect({ host: address, port, noDelay: true });
  socket.on('error', ignore);
  return settle(socket, 'connect', timeoutMs, `connection to ${formatAddress({ address, port })}`, () => null);
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
    const fail = (reason: string, code?: string): void => {
      cleanup();
      socket.destroy();
      reject(new ConnectError(`${what} failed: ${reason}`, { code, inHandshake: connected && ready === 'secureConnect' }));
    };
    const onReady = (): void => {
      const problem = check();
      if (problem !== null) return fail(problem);
      cleanup();
      resolve(socket);
    };
    const onError = (err: NodeJS.ErrnoException): void => fail(err.message, err.code);
    const onClose = (): void => fail('closed during the handshake');
    const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`, CONNECT_TIMEOUT), timeoutMs);
    if (ready === 'secureConnect') socket.once('connect', onConnect);
    socket.once(ready, onReady);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}
