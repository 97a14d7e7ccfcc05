/**
 * node:tls settings for mesh mTLS and the peer-identity checks that go with them. Both ends of a mesh
 * connection are Loom proxies, so the settings are strict: TLS 1.3 only, the trust bundle as the only
 * roots (the system store is never consulted), SPIFFE IDs instead of host names.
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate, SecureContextOptions } from 'node:tls';
import type { WorkloadCredentials } from './credentials.js';

/** Mesh connections negotiate TLS 1.3 and nothing older. */
export const MESH_TLS_MIN_VERSION = 'TLSv1.3';

/**
 * The session id context of mesh server contexts. OpenSSL refuses to resume a session on a server context
 * without one (a handshake failure, `session id context uninitialized`), and resumes only sessions made under
 * the same context: every mesh server context requires and verifies client certificates the same way.
 */
export const MESH_SESSION_ID_CONTEXT = 'loom.mesh.v1';

/**
 * Seconds a session ticket issued by a mesh server can be resumed (node's default for TLS servers). A resumed
 * session skips the certificate exchange: the peer identity is the one verified by the first handshake. Every
 * new credentials generation (renewal, trust bundle change) builds a new server context with new ticket keys,
 * so tickets never outlive the credentials or the trust bundle they were issued under.
 */
export const MESH_SESSION_TIMEOUT_S = 300;

/**
 * Options for `tls.createSecureContext` (or `server.setSecureContext`) from credentials: our key and
 * chain, the bundle as `ca` (replacing the default roots). Peer verification itself is enabled on the
 * socket or server (`requestCert` / `rejectUnauthorized`), not here.
 */
export function secureContextOptions(credentials: WorkloadCredentials, trustBundle: readonly string[] = credentials.trustBundle): SecureContextOptions {
  return {
    key: credentials.keyPem,
    cert: credentials.certChainPem,
    ca: [...trustBundle],
    minVersion: MESH_TLS_MIN_VERSION,
  };
}

/** {@link secureContextOptions} for the accepting side: TLS 1.3 session tickets resumable (see {@link MESH_SESSION_ID_CONTEXT}). */
export function serverContextOptions(credentials: WorkloadCredentials, trustBundle: readonly string[] = credentials.trustBundle): SecureContextOptions {
  return { ...secureContextOptions(credentials, trustBundle), sessionIdContext: MESH_SESSION_ID_CONTEXT, sessionTimeout: MESH_SESSION_TIMEOUT_S };
}

/**
 * The SPIFFE ID of a peer certificate: its single URI SAN when it carries exactly one SAN, that URI;
 * otherwise undefined. Accepts `getPeerCertificate()` results and X509Certificate objects.
 */
export function peerSpiffeId(certificate: Pick<PeerCertificate, 'subjectaltname'> | X509Certificate | null | undefined): string | undefined {
  if (certificate === null || certificate === undefined) return undefined;
  const san = certificate instanceof X509Certificate ? certificate.subjectAltName : certificate.subjectaltname;
  if (san === undefined || !san.startsWith('URI:')) return undefined;
  const uri = san.slice(4);
  // Node quotes values holding separators; a SPIFFE ID never needs quoting, and a second SAN adds ", ".
  return uri.startsWith('spiffe://') && !uri.includes(', ') && !uri.includes('"') ? uri : undefined;
}

/** A predicate over peer SPIFFE IDs: true admits the peer. */
export type PeerCheck = (id: string) => boolean;

/**
 * A `checkServerIdentity` for `tls.connect`: the server must present a certificate whose only SAN is a
 * SPIFFE ID that `expected` names (a string, or a predicate). Chain verification against the bundle has
 * already happened when this runs (`rejectUnauthorized` stays true).
 */
export function checkPeerIdentity(expected: string | PeerCheck): (host: string, certificate: PeerCertificate) => Error | undefined {
  const accept: PeerCheck = typeof expected === 'string' ? (id) => id === expected : expected;
  return (_host, certificate) => {
    const id = peerSpiffeId(certificate);
    if (id === undefined) return new Error(`peer certificate carries no single SPIFFE ID (subjectAltName ${certificate.subjectaltname ?? 'absent'})`);
    if (!accept(id)) return new Error(`peer is ${id}${typeof expected === 'string' ? `, expected ${expected}` : ', which is not accepted'}`);
    return undefined;
  };
}
