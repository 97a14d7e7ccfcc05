/**
 * Mesh mTLS termination on a socket the proxy already accepted (and sniffed), and the ClientHello reading that
 * decides whether to terminate at all: only a ClientHello offering one of the mesh ALPN protocols is a Loom
 * proxy; any other TLS is an unmeshed client talking TLS to the application, carried as opaque bytes.
 */
import type { Socket } from 'node:net';
import { TLSSocket, type PeerCertificate, type SecureContext } from 'node:tls';
import { peerSpiffeId } from '../identity/tls.js';
import { peek } from './peek.js';

// ---- ClientHello ------------------------------------------------------------------------------------------

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXTENSION_ALPN = 0x0010;
const RECORD_HEADER = 5;
/** TLSPlaintext.length may not exceed 2^14 (RFC 8446 §5.1). */
const MAX_RECORD = 1 << 14;
/** Largest ClientHello we wait for; real ones are a few KiB at most (post-quantum key shares included). */
export const MAX_CLIENT_HELLO = 64 * 1024;

/**
 * The ALPN protocols a TLS ClientHello offers, from the first bytes a client sent. Pure.
 * - `string[]`: a complete ClientHello (empty when it carries no ALPN extension);
 * - `'incomplete'`: a plausible prefix of one; read more and ask again;
 * - `'not-tls'`: not a TLS handshake starting with a ClientHello, malformed, or larger than {@link MAX_CLIENT_HELLO}.
 * The handshake message may span several records (RFC 8446 §5.1); they are reassembled.
 */
export function clientHelloAlpn(buf: Uint8Array): string[] | 'incomplete' | 'not-tls' {
  const message = handshakeMessage(buf);
  if (typeof message === 'string') return message;
  return parseClientHello(message);
}

/** The first handshake message (header included), reassembled from consecutive handshake records. */
function handshakeMessage(buf: Uint8Array): Uint8Array | 'incomplete' | 'not-tls' {
  const parts: Uint8Array[] = [];
  let have = 0;
  let need = -1; // whole message length (4-byte header + body) once the header is known
  for (let offset = 0; need === -1 || have < need; ) {
    if (buf.length < offset + RECORD_HEADER) return plausiblePrefix(buf, offset);
    if (buf[offset] !== RECORD_HANDSHAKE || buf[offset + 1] !== 0x03) return 'not-tls';
    const length = (buf[offset + 3]! << 8) | buf[offset + 4]!;
    if (length === 0 || length > MAX_RECORD) return 'not-tls';
    const start = offset + RECORD_HEADER;
    const available = Math.min(length, buf.length - start);
    if (available > 0) parts.push(buf.subarray(start, start + available));
    have += available;
    if (have > 0 && firstByte(parts) !== HANDSHAKE_CLIENT_HELLO) return 'not-tls';
    if (need === -1 && have >= 4) {
      const header = joined(parts).subarray(0, 4);
      need = 4 + ((header[1]! << 16) | (header[2]! << 8) | header[3]!);
      if (need > MAX_CLIENT_HELLO) return 'not-tls';
    }
    if (available < length) break; // the record is cut short: that is all there is
    offset = start + length;
  }
  if (need === -1 || have < need) return 'incomplete';
  return joined(parts).subarray(0, need);
}

function firstByte(parts: readonly Uint8Array[]): number {
  return parts[0]![0]!;
}

function joined(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** `incomplete` when the bytes from `offset` could still start a handshake record, else `not-tls`. */
function plausiblePrefix(buf: Uint8Array, offset: number): 'incomplete' | 'not-tls' {
  if (buf.length > offset && buf[offset] !== RECORD_HANDSHAKE) return 'not-tls';
  if (buf.length > offset + 1 && buf[offset + 1] !== 0x03) return 'not-tls';
  return 'incomplete';
}

/** ClientHello body (RFC 8446 §4.1.2) → ALPN names (RFC 7301 §3.1). `message` starts at the handshake header. */
function parseClientHello(message: Uint8Array): string[] | 'not-tls' {
  const end = message.length;
  let p = 4 + 2 + 32; // header, legacy_version, random
  if (p + 1 > end) return 'not-tls';
  p += 1 + message[p]!; // legacy_session_id
  if (p + 2 > end) return 'not-tls';
  p += 2 + ((message[p]! << 8) | message[p + 1]!); // cipher_suites
  if (p + 1 > end) return 'not-tls';
  p += 1 + message[p]!; // legacy_compression_methods
  if (p === end) return []; // no extensions (TLS 1.2 and older may omit them)
  if (p + 2 > end) return 'not-tls';
  const extensionsEnd = p + 2 + ((message[p]! << 8) | message[p + 1]!);
  if (extensionsEnd > end) return 'not-tls';
  p += 2;
  while (p + 4 <= extensionsEnd) {
    const type = (message[p]! << 8) | message[p + 1]!;
    const length = (message[p + 2]! << 8) | message[p + 3]!;
    p += 4;
    if (p + length > extensionsEnd) return 'not-tls';
    if (type === EXTENSION_ALPN) return alpnNames(message, p, p + length);
    p += length;
  }
  return p === extensionsEnd ? [] : 'not-tls';
}

function alpnNames(message: Uint8Array, start: number, end: number): string[] | 'not-tls' {
  if (start + 2 > end) return 'not-tls';
  const listEnd = start + 2 + ((message[start]! << 8) | message[start + 1]!);
  if (listEnd !== end) return 'not-tls';
  const names: string[] = [];
  for (let p = start + 2; p < listEnd; ) {
    const length = message[p]!;
    if (length === 0 || p + 1 + length > listEnd) return 'not-tls';
    names.push(Buffer.from(message.buffer, message.byteOffset + p + 1, length).toString('latin1'));
    p += 1 + length;
  }
  return names;
}

export type ClientHelloRead =
  | { readonly kind: 'hello'; readonly alpn: readonly string[] }
  | { readonly kind: 'not-tls' }
  /** The ClientHello did not complete in time. */
  | { readonly kind: 'timeout' }
  | { readonly kind: 'closed' };

/**
 * Reads until the ClientHello is complete (or proves not to be one), then puts every byte back: the socket is
 * left paused with them buffered, for a TLSSocket (or a relay) to read from the start. Never rejects.
 */
export async function readClientHello(socket: Socket, timeoutMs: number): Promise<ClientHelloRead> {
  const peeked = await peek(socket, timeoutMs, clientHelloAlpn);
  switch (peeked.kind) {
    case 'decided':
      return peeked.value === 'not-tls' ? NOT_TLS : { kind: 'hello', alpn: peeked.value };
    case 'timeout':
      return TIMEOUT;
    case 'closed':
      return CLOSED;
  }
}

const NOT_TLS: ClientHelloRead = Object.freeze({ kind: 'not-tls' });
const TIMEOUT: ClientHelloRead = Object.freeze({ kind: 'timeout' });
const CLOSED: ClientHelloRead = Object.freeze({ kind: 'closed' });

/** True when `offered` names one of `ours`. */
export function offersAny(offered: readonly string[], ours: readonly string[]): boolean {
  for (const name of offered) if (ours.includes(name)) return true;
  return false;
}

// ---- termination ------------------------------------------------------------------------------------------

export interface MeshTlsOptions {
  /** The server context (our certificate, the trust bundle as the only roots; a session id context for resumption). */
  readonly secureContext: SecureContext;
  readonly alpn: readonly string[];
  /** The handshake must finish within this long. */
  readonly handshakeTimeoutMs: number;
}

export type MeshTlsResult =
  /** `resumed`: a TLS session resumed from a ticket (the identity is the one its first handshake verified). */
  | { readonly ok: true; readonly socket: TLSSocket; readonly identity: string; readonly alpn: string; readonly resumed: boolean }
  /** `reason`: one sentence for the log. The raw socket is destroyed. */
  | { readonly ok: false; readonly reason: string };

interface VerifyingHandle {
  verifyError?: () => Error | null;
}

/**
 * The chain verification result of a server-side TLSSocket. Node verifies client certificates only for sockets a
 * `tls.Server` creates (its `secure` handler reads the handle's `verifyError()` and sets `authorized`); a TLSSocket
 * built around an accepted socket gets `requestCert`/`rejectUnauthorized` applied to OpenSSL, which always
 * accepts and defers the verdict to that call. So the same call is made here, failing closed if it is missing.
 */
function verifyError(socket: TLSSocket): Error | null {
  const handle = (socket as unknown as { _handle?: VerifyingHandle | null })._handle;
  if (typeof handle?.verifyError !== 'function') return new Error('the TLS handle offers no verification result');
  return handle.verifyError();
}

/**
 * A resumed session carries the client certificate verified by its first handshake, with that verdict; OpenSSL
 * does not check it again (every other check below does run again). A ticket may outlive the certificate
 * (tickets last `MESH_SESSION_TIMEOUT_S` of identity/tls.ts, a short-lived certificate can expire sooner): such a
 * session is refused like an expired certificate. A changed trust bundle needs no check here: it comes with a
 * new server context, whose new ticket keys make older tickets unusable.
 */
function expiredOnResumption(certificate: PeerCertificate, now: number): boolean {
  const notAfter = Date.parse(certificate.valid_to);
  return !(notAfter > now);
}

/** `unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`, without Node's hints after `;`. */
function describeVerifyError(err: Error): string {
  const code = (err as { code?: string }).code;
  const message = err.message.split(';')[0] ?? err.message;
  return code === undefined ? message : `${message} (${code})`;
}

/**
 * Terminates mesh mTLS on `raw` (bytes already read are replayed to the TLS layer): TLS 1.3 with the given
 * context, a client certificate required and verified against the trust bundle, one of `alpn` negotiated, and
 * the client's SPIFFE ID read from its certificate. On failure `raw` is destroyed and the reason returned.
 * The TLS socket keeps an `error` listener (errors end in `close`); its owner adds its own handlers.
 */
export function acceptMeshTls(raw: Socket, options: MeshTlsOptions): Promise<MeshTlsResult> {
  return new Promise<MeshTlsResult>((resolve) => {
    const socket = new TLSSocket(raw, {
      isServer: true,
      secureContext: options.secureContext,
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: [...options.alpn],
    });
    let settled = false;
    const fail = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      raw.destroy();
      resolve({ ok: false, reason });
    };
    const timer = setTimeout(() => fail(`TLS handshake not finished within ${options.handshakeTimeoutMs} ms`), options.handshakeTimeoutMs);
    const onClose = (): void => fail('the client closed the connection during the TLS handshake');
    socket.on('error', (err: Error) => fail(`TLS handshake failed: ${err.message}`));
    socket.once('close', onClose);
    socket.once('secure', () => {
      if (settled) return;
      const refused = verifyError(socket);
      if (refused !== null) return fail(`client certificate refused: ${describeVerifyError(refused)}`);
      const certificate = socket.getPeerCertificate();
      const resumed = socket.isSessionReused();
      if (resumed && expiredOnResumption(certificate, Date.now())) return fail('client certificate refused: certificate has expired (resumed session)');
      const identity = peerSpiffeId(certificate);
      if (identity === undefined) return fail('client certificate refused: it carries no single SPIFFE ID');
      const alpn = socket.alpnProtocol;
      if (typeof alpn !== 'string' || !options.alpn.includes(alpn)) return fail('no mesh ALPN protocol was negotiated');
      settled = true;
      clearTimeout(timer);
      socket.removeListener('close', onClose);
      socket.authorized = true;
      // A server-side TLSSocket not made by tls.Server stays `secureConnecting` forever, and an http2 session
      // would wait for a `secureConnect` that never comes; the handshake is done, say so.
      (socket as unknown as { secureConnecting: boolean }).secureConnecting = false;
      resolve({ ok: true, socket, identity, alpn, resumed });
    });
  });
}
