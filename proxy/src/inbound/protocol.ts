/**
 * What an inbound connection carries, decided from what detection saw, the ClientHello's ALPN offer, and the
 * port's declared protocol; and how long to wait for the first bytes. Pure.
 *
 * - A ClientHello offering a mesh ALPN protocol comes from a Loom proxy: terminate mTLS; the negotiated ALPN
 *   then names the carried protocol (`meshProtocol`).
 * - Any other bytes come from an unmeshed (plaintext) client. TLS without a mesh ALPN is the client's own TLS to
 *   the application: opaque, whatever the declaration. Otherwise the declared protocol wins; undeclared ports
 *   use what detection saw, and nothing within the deadline (server-speaks-first) is opaque.
 *
 * Waiting for the first bytes (`firstBytesWaitMs`, `tlsOrPlaintext`): on a port with a declared protocol the
 * first bytes only have to tell mesh TLS from plaintext (the first byte does: a TLS handshake record starts with
 * 0x16), never which plaintext protocol. On undeclared ports detection waits up to `detectTimeoutMs` for bytes
 * to classify. On a port declared opaque whose policy lets plaintext clients in, a silent client is a
 * server-speaks-first one (MySQL, SMTP...) waiting for the application's greeting; mesh clients always speak
 * first, and a client proxy sends its ClientHello as soon as its TCP connection is up, so the proxy waits only
 * {@link MESH_HELLO_WAIT_MS} for it before serving the connection as plaintext. The cost of that rule: a client
 * proxy stalled longer than that between connecting and writing its ClientHello is served as plaintext (its
 * handshake then fails and its connection is closed; the client proxy's next attempt succeeds). Where plaintext
 * clients are refused anyway (strict mode without `allow-unmeshed`), nothing but a ClientHello can be served,
 * so the full `detectTimeoutMs` applies and a slow client proxy is never turned away. HTTP ports (declared or
 * detected) keep the full deadline: HTTP clients speak first.
 */
import type { AppProtocol } from '@loom/shared/policy';
import type { Detection } from '../transport/detect.js';
import { declaredProtocol, detectedProtocol, type ServeAs } from '../transport/protocol.js';
import { ALPN_HTTP1, ALPN_HTTP2, ALPN_OPAQUE } from '../wire.js';

/** How the proxy serves a connection (after TLS termination for mesh connections). */
export type Carried = ServeAs;

/** The protocol named by a negotiated mesh ALPN, or null for anything else. */
export function meshProtocol(alpn: string): Carried | null {
  switch (alpn) {
    case ALPN_HTTP2:
      return 'http2';
    case ALPN_HTTP1:
      return 'http1';
    case ALPN_OPAQUE:
      return 'opaque';
    default:
      return null;
  }
}

/** The protocol of a plaintext (not mesh TLS) connection. */
export function plaintextProtocol(detected: Detection['kind'], declared: AppProtocol): Carried {
  if (detected === 'tls') return 'opaque';
  const byDeclaration = declaredProtocol(declared);
  if (byDeclaration !== 'detect') return byDeclaration;
  const byDetection = detectedProtocol({ kind: detected });
  return byDetection === 'closed' ? 'opaque' : byDetection;
}

/** How long a port declared opaque, open to plaintext clients, waits for a mesh ClientHello (see the module comment). */
export const MESH_HELLO_WAIT_MS = 50;

/**
 * How long to wait for a connection's first bytes before serving it as a silent plaintext client: `declared`
 * the port's declared protocol, `plaintextServed` whether the policy may admit a plaintext client on it.
 */
export function firstBytesWaitMs(declared: AppProtocol, plaintextServed: boolean, detectTimeoutMs: number): number {
  if (declared === 'opaque' && plaintextServed) return Math.min(MESH_HELLO_WAIT_MS, detectTimeoutMs);
  return detectTimeoutMs;
}

/** TLS (a handshake record: 0x16, then major version 3) or not, from the first bytes: all a declared port needs. */
export function tlsOrPlaintext(first: Buffer): 'tls' | 'plaintext' | 'incomplete' {
  if (first.length === 0) return 'incomplete';
  return first[0] === 0x16 && (first.length < 2 || first[1] === 0x03) ? 'tls' : 'plaintext';
}
