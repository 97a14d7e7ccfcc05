/**
 * Full mTLS handshakes between two Loom leaves. The server runs in the helper process (see server.ts), the
 * clients here, so each side has a core. Every connection is a full handshake: the client never offers a
 * session and the server sends no tickets. Both sides verify the peer's chain against the root, the client
 * checks the server's SPIFFE ID, the server reads the client's (as a proxy does to authorize), then the
 * server writes one byte and closes; the client's handshake counts when that byte arrives.
 */
import { constants } from 'node:crypto';
import { connect, createSecureContext, createServer, type SecureContext, type SecureVersion, type Server } from 'node:tls';

export interface TlsIdentity {
  readonly keyPem: string;
  /** Leaf then chain, PEM. */
  readonly certPem: string;
  readonly rootPem: string;
  readonly spiffeId: string;
}

export interface HandshakeServerOptions {
  readonly identity: TlsIdentity;
  /** The SPIFFE ID the clients present. */
  readonly peerId: string;
  readonly version: SecureVersion;
}

export interface HandshakeServerStats {
  readonly handshakes: number;
  /** Connections whose client certificate did not carry `peerId` (must stay 0). */
  readonly wrongPeer: number;
  readonly tlsErrors: number;
}

/** A TLS server that completes the handshake, checks the client's identity, answers one byte and closes. */
export function startHandshakeServer(options: HandshakeServerOptions): { server: Server; stats: () => HandshakeServerStats; listening: Promise<number> } {
  let handshakes = 0;
  let wrongPeer = 0;
  let tlsErrors = 0;
  const { identity } = options;
  const server = createServer(
    {
      key: identity.keyPem,
      cert: identity.certPem,
      ca: [identity.rootPem],
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: options.version,
      maxVersion: options.version,
      secureOptions: constants.SSL_OP_NO_TICKET,
    },
    (socket) => {
      socket.on('error', () => undefined); // the client resets after reading the byte
      handshakes += 1;
      if (!socket.authorized || socket.getPeerCertificate().subjectaltname !== `URI:${options.peerId}`) wrongPeer += 1;
      socket.end('k');
    },
  );
  server.on('tlsClientError', () => {
    tlsErrors += 1;
  });
  const listening = new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('server has no TCP address'));
      else resolve(address.port);
    });
  });
  return { server, stats: () => ({ handshakes, wrongPeer, tlsErrors }), listening };
}

export interface HandshakeClient {
  /** One full handshake to `port`; resolves when the server's byte arrives. */
  handshake(port: number): Promise<void>;
  /** Protocol and key exchange group of the last handshake ("TLSv1.3", "X25519MLKEM768"). */
  readonly negotiated: { protocol: string; group: string };
}

/** A client with one secure context (parsed once, as a proxy holds it) presenting `identity`. */
export function handshakeClient(identity: TlsIdentity, serverId: string, version: SecureVersion): HandshakeClient {
  const secureContext: SecureContext = createSecureContext({ key: identity.keyPem, cert: identity.certPem, ca: [identity.rootPem], minVersion: version, maxVersion: version });
  const negotiated = { protocol: '', group: '' };
  const checkServerIdentity = (_host: string, cert: { subjectaltname?: string }): Error | undefined =>
    cert.subjectaltname === `URI:${serverId}` ? undefined : new Error(`server is ${cert.subjectaltname ?? 'anonymous'}, not ${serverId}`);
  return {
    negotiated,
    handshake(port) {
      return new Promise<void>((resolve, reject) => {
        let done = false;
        const socket = connect({ host: '127.0.0.1', port, secureContext, minVersion: version, maxVersion: version, checkServerIdentity });
        socket.once('data', () => {
          done = true;
          negotiated.protocol = socket.getProtocol() ?? '';
          negotiated.group = (socket.getEphemeralKeyInfo() as { name?: string } | null)?.name ?? '';
          socket.destroy();
          resolve();
        });
        socket.once('error', (error: Error) => {
          if (!done) reject(error);
          done = true;
        });
        socket.once('close', () => {
          if (!done) reject(new Error('the server closed before answering'));
          done = true;
        });
      });
    },
  };
}
