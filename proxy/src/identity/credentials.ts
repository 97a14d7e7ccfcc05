/**
 * The proxy's workload credentials (key, certificate chain, trust bundle) and the checks that make a
 * Certify response acceptable. Pure: node:crypto X509Certificate parses and verifies (native), nothing
 * here does I/O or reads the time.
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { linkChain, pemDecodeAll, pemEncode } from '@loom/shared/identity';

/** What the proxy holds and serves: everything a TLS context needs, plus facts for readiness and metrics. */
export interface WorkloadCredentials {
  /** The private key, PKCS#8 PEM. It never leaves the process. */
  readonly keyPem: string;
  /** The leaf then its intermediates, concatenated PEM (what node:tls `cert` expects). */
  readonly certChainPem: string;
  /** The same chain, one PEM certificate per entry. */
  readonly chain: readonly string[];
  /** PEM roots trusted for peers, one per entry. */
  readonly trustBundle: readonly string[];
  /** The leaf's single URI SAN. */
  readonly spiffeId: string;
  /** The leaf's serial number, upper-case hex (as X509Certificate and getPeerCertificate() print it). */
  readonly serialNumber: string;
  /** Validity of the leaf, epoch milliseconds. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** Credentials or a trust bundle that cannot be used; `message` is one line, for logs and users. */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

/** The certificates of a text holding one or more PEM CERTIFICATE blocks; throws {@link CredentialsError}. */
function certificatesOf(text: string, what: string): X509Certificate[] {
  let blocks;
  try {
    blocks = pemDecodeAll(text);
  } catch (error) {
    throw new CredentialsError(`${what} is not valid PEM: ${(error as Error).message}`);
  }
  const certificates = blocks.filter((block) => block.label === 'CERTIFICATE');
  if (certificates.length === 0 || certificates.length !== blocks.length) {
    throw new CredentialsError(`${what} must hold PEM certificates only, found ${blocks.length === 0 ? 'no PEM block' : blocks.map((b) => `"${b.label}"`).join(', ')}`);
  }
  return certificates.map((block, index) => {
    try {
      return new X509Certificate(block.der);
    } catch (error) {
      throw new CredentialsError(`${what}${certificates.length > 1 ? ` (certificate ${index + 1})` : ''} is not an X.509 certificate: ${(error as Error).message}`);
    }
  });
}

/** Extended key usages a mesh leaf must carry: it serves (inbound) and connects (outbound). */
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const USAGE_NAMES: Readonly<Record<string, string>> = { [SERVER_AUTH]: 'serverAuth', [CLIENT_AUTH]: 'clientAuth', '1.3.6.1.5.5.7.3.3': 'codeSigning', '1.3.6.1.5.5.7.3.4': 'emailProtection' };
const usageName = (oid: string): string => USAGE_NAMES[oid] ?? oid;

const pemOf = (certificate: X509Certificate): string => pemEncode('CERTIFICATE', certificate.raw);

/** A parsed trust bundle: CA certificates, deduplicated, in the order given. */
export interface TrustBundle {
  readonly pems: readonly string[];
  readonly certificates: readonly X509Certificate[];
}

/**
 * Parses a trust bundle: entries of one or more PEM certificates each (the wire carries one per entry), all
 * CA certificates, at least one. Duplicates are dropped. Throws {@link CredentialsError}.
 */
export function parseTrustBundle(entries: readonly string[]): TrustBundle {
  const seen = new Set<string>();
  const certificates: X509Certificate[] = [];
  for (const [index, entry] of entries.entries()) {
    for (const certificate of certificatesOf(entry, `trust bundle entry ${index + 1}`)) {
      if (!certificate.ca) throw new CredentialsError(`trust bundle entry ${index + 1} is not a CA certificate (${describe(certificate)})`);
      if (seen.has(certificate.fingerprint256)) continue;
      seen.add(certificate.fingerprint256);
      certificates.push(certificate);
    }
  }
  if (certificates.length === 0) throw new CredentialsError('trust bundle is empty');
  return { pems: certificates.map(pemOf), certificates };
}

/** "subject CN=x, serial 0A1B…" or the SANs, for messages. */
function describe(certificate: X509Certificate): string {
  // An empty subject (workload leaves have one) reads as undefined, whatever the typings say.
  const subject = ((certificate.subject as string | undefined) ?? '').replace(/\n/g, ', ');
  return `${subject === '' ? certificate.subjectAltName ?? 'no subject' : subject}, serial ${certificate.serialNumber}`;
}

/** The SAN string a workload leaf must carry, exactly (X509Certificate.subjectAltName format). */
const sanOf = (spiffeId: string): string => `URI:${spiffeId}`;

/**
 * Whether `chain` (leaf first) links up, each certificate signed by the next, to a root of `roots`. Returns
 * the reason it does not, or undefined. Structure only: validity periods are not looked at.
 */
export function chainProblem(chain: readonly X509Certificate[], roots: readonly X509Certificate[]): string | undefined {
  const linked = linkChain(chain, roots);
  return 'problem' in linked ? linked.problem : undefined;
}

/**
 * How far ahead of our clock a leaf's notBefore may be: the controller backdates leaves, so a leaf that
 * starts later than this comes from a controller (or a proxy) whose clock is off, and peers would refuse it.
 */
export const MAX_NOT_BEFORE_SKEW_MS = 5 * 60_000;

/** What the proxy asked for in one Certify attempt. */
export interface CertifyExpectation {
  readonly spiffeId: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /**
   * Epoch milliseconds: a chain that has expired by then, a leaf not valid until more than
   * {@link MAX_NOT_BEFORE_SKEW_MS} later, or a chain whose anchoring root has expired is refused.
   */
  readonly now: number;
}

/** The fields of a CertifyResponse the proxy uses (the generated `CertifyResponse__Output` is one). */
export interface CertifyResponseFields {
  readonly certificateChain: readonly string[];
  readonly trustBundle: readonly string[];
}

/**
 * Checks a Certify response before the proxy relies on it and returns the credentials it makes: every chain
 * entry one certificate; the leaf not a CA, for OUR public key, carrying exactly our SPIFFE ID (one URI SAN,
 * nothing else) and the extended key usages serverAuth and clientAuth; the chain linking up to a root of
 * the returned bundle that has not expired; nothing in the chain expired at `now`; the leaf valid from at
 * most {@link MAX_NOT_BEFORE_SKEW_MS} after `now` (clock skew). The
 * leaf's own validity is authoritative; the response's `not_after` / `renew_after` are not trusted.
 * Throws {@link CredentialsError} naming the first problem.
 */
export function acceptCertifyResponse(response: CertifyResponseFields, expected: CertifyExpectation): WorkloadCredentials {
  if (response.certificateChain.length === 0) throw new CredentialsError('the response carries no certificate chain');
  const chain = response.certificateChain.map((entry, index) => {
    const certificates = certificatesOf(entry, `certificate_chain entry ${index + 1}`);
    if (certificates.length !== 1) throw new CredentialsError(`certificate_chain entry ${index + 1} holds ${certificates.length} certificates, expected 1`);
    return certificates[0] as X509Certificate;
  });
  const bundle = parseTrustBundle(response.trustBundle);
  return credentialsOf(chain, bundle, expected.privateKey, expected);
}

/**
 * Credentials from PEM material held elsewhere (a test leaf, a file): the same checks as a Certify
 * response, except that the expected identity is whatever the leaf carries when `spiffeId` is omitted.
 */
export function credentialsFromPem(material: {
  readonly keyPem: string;
  readonly certChainPem: string;
  readonly trustBundle: readonly string[];
  readonly spiffeId?: string;
  readonly now: number;
}): WorkloadCredentials {
  const chain = certificatesOf(material.certChainPem, 'certificate chain');
  const bundle = parseTrustBundle(material.trustBundle);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: material.keyPem, format: 'pem' });
  } catch (error) {
    throw new CredentialsError(`private key is not a PEM key: ${(error as Error).message}`);
  }
  const leafSan = (chain[0] as X509Certificate).subjectAltName ?? '';
  const spiffeId = material.spiffeId ?? (leafSan.startsWith('URI:') ? leafSan.slice(4) : '');
  return credentialsOf(chain, bundle, privateKey, { spiffeId, now: material.now, publicKey: undefined });
}

function credentialsOf(
  chain: readonly X509Certificate[],
  bundle: TrustBundle,
  privateKey: KeyObject,
  expected: { readonly spiffeId: string; readonly now: number; readonly publicKey: KeyObject | undefined },
): WorkloadCredentials {
  const leaf = chain[0];
  if (leaf === undefined) throw new CredentialsError('the certificate chain is empty');
  if (leaf.ca) throw new CredentialsError('the leaf is a CA certificate');
  const san = leaf.subjectAltName ?? '';
  if (san !== sanOf(expected.spiffeId)) {
    throw new CredentialsError(`the leaf is for ${san === '' ? 'no subjectAltName' : `"${san}"`}, expected exactly "${sanOf(expected.spiffeId)}"`);
  }
  const ourKey = expected.publicKey ?? createPublicKey(privateKey);
  if (!leaf.publicKey.equals(ourKey)) throw new CredentialsError('the leaf certifies another public key than ours');
  const usages = leaf.keyUsage as readonly string[] | undefined;
  if (usages === undefined || !usages.includes(SERVER_AUTH) || !usages.includes(CLIENT_AUTH)) {
    throw new CredentialsError(`the leaf's extended key usage is ${usages === undefined ? 'absent' : `[${usages.map(usageName).join(', ')}]`}, expected serverAuth and clientAuth`);
  }
  const linked = linkChain(chain, bundle.certificates);
  if ('problem' in linked) throw new CredentialsError(linked.problem);
  for (const [index, certificate] of chain.entries()) {
    const notAfter = Date.parse(certificate.validTo);
    if (notAfter <= expected.now) {
      throw new CredentialsError(`${index === 0 ? 'the leaf' : `chain certificate ${index + 1}`} expired at ${new Date(notAfter).toISOString()}`);
    }
  }
  const leafNotBefore = Date.parse(leaf.validFrom);
  if (leafNotBefore > expected.now + MAX_NOT_BEFORE_SKEW_MS) {
    throw new CredentialsError(
      `the leaf is not valid before ${new Date(leafNotBefore).toISOString()}, more than ${MAX_NOT_BEFORE_SKEW_MS / 60_000} min after our clock (${new Date(expected.now).toISOString()}): clock skew`,
    );
  }
  // Several bundle roots may share a key (a re-issued root); one that is still valid is enough.
  if (!linked.anchors.some((root) => Date.parse(root.validTo) > expected.now)) {
    const [root] = linked.anchors;
    throw new CredentialsError(`the root anchoring the chain (${root === undefined ? 'none' : describe(root)}) expired at ${root === undefined ? '?' : new Date(Date.parse(root.validTo)).toISOString()}`);
  }
  const pems = chain.map(pemOf);
  return Object.freeze({
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certChainPem: pems.join(''),
    chain: Object.freeze(pems),
    trustBundle: Object.freeze([...bundle.pems]),
    spiffeId: expected.spiffeId,
    serialNumber: leaf.serialNumber,
    notBefore: leafNotBefore,
    notAfter: Date.parse(leaf.validTo),
  });
}
