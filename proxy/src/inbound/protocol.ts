/**
 * What an inbound connection carries, decided from what detection saw, the ClientHello's ALPN offer, and the
 * port's declared protocol. Pure.
 *
 * - A ClientHello offering a mesh ALPN protocol comes from a Loom proxy: terminate mTLS; the negotiated ALPN
 *   then names the carried protocol (`meshProtocol`).
 * - Any other bytes come from an unmeshed (plaintext) client. TLS without a mesh ALPN is the client's own TLS to
 *   the application: opaque, whatever the declaration. Otherwise the declared protocol wins; undeclared ports
 *   use what detection saw, and nothing within the deadline (server-speaks-first) is opaque.
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
