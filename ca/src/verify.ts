/**
 * Chain verification outside TLS: `loom ca status`, tests and diagnostics. (The data path leaves chain
 * verification to OpenSSL through node:tls.) Native: node:crypto X509Certificate.
 */
import { X509Certificate } from 'node:crypto';
import { linkChain, parseSpiffeId, readGeneralNames, type WorkloadIdentity } from '@loom/shared/identity';
import { extensionValue } from './x509/certificate.js';
import { OID } from './x509/oids.js';

export interface VerifiedLeaf {
  /** The leaf's single SPIFFE URI SAN. */
  readonly spiffeId: string;
  readonly identity: WorkloadIdentity | null;
  readonly notAfter: Date;
  /** The bundle root the chain ends at. */
  readonly root: X509Certificate;
}

export class ChainError extends Error {
  override readonly name = 'ChainError';
}

/**
 * URI SANs of a certificate, read from its DER (node's `subjectAltName` text quotes and escapes names that
 * contain commas or quotes, so it is not parsed here).
 */
export function uriSans(certificate: X509Certificate): string[] {
  const value = extensionValue(certificate, OID.subjectAltName);
  return value === undefined ? [] : [...readGeneralNames(value).uris];
}

/**
 * Verifies `chain` (leaf first, then intermediates) against `bundle` at time `now`: every link issued and
 * signed by the next, every certificate within its validity, CAs above the leaf, ending at a bundle root.
 */
export function verifyChain(chain: readonly (string | X509Certificate)[], bundle: readonly (string | X509Certificate)[], now: number = Date.now()): VerifiedLeaf {
  const certs = chain.map((entry) => (typeof entry === 'string' ? new X509Certificate(entry) : entry));
  const roots = bundle.map((entry) => (typeof entry === 'string' ? new X509Certificate(entry) : entry));
  const [leaf] = certs;
  if (leaf === undefined) throw new ChainError('empty certificate chain');
  const at = new Date(now).toISOString();
  const check = (cert: X509Certificate, role: string): void => {
    if (Date.parse(cert.validFrom) > now) throw new ChainError(`${role} is not valid before ${new Date(cert.validFrom).toISOString()} (now ${at})`);
    if (Date.parse(cert.validTo) <= now) throw new ChainError(`${role} expired at ${new Date(cert.validTo).toISOString()} (now ${at})`);
  };
  check(leaf, 'leaf');
  if (leaf.ca) throw new ChainError('leaf is a CA certificate');
  const linked = linkChain(certs, roots);
  if ('problem' in linked) throw new ChainError(linked.problem.replace(/^the /, ''));
  for (const [index, parent] of certs.slice(1).entries()) check(parent, `chain certificate ${index + 2}`);
  const root = linked.anchors.find((anchor) => Date.parse(anchor.validTo) > now) ?? linked.anchors[0];
  if (root === undefined) throw new ChainError('chain does not end at a root of the trust bundle');
  check(root, 'root');
  const uris = uriSans(leaf);
  if (uris.length !== 1 || uris[0] === undefined) throw new ChainError(`leaf must carry exactly one URI SAN, found ${uris.length}`);
  return { spiffeId: uris[0], identity: parseSpiffeId(uris[0]), notAfter: new Date(leaf.validTo), root };
}
