/**
 * Issuers: the certificate + key that sign leaves. Either a self-signed root Loom creates, or an
 * operator-supplied CA (root or intermediate, with its chain). Loading validates everything up front and
 * explains what is wrong; a broken issuer is never silently replaced.
 */
import { createPrivateKey, createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { DEFAULT_KEY_TYPE, asn1, describeKey, generateKeySync, keyTypeOf, splitPemCertificates, type KeyType } from '@loom/shared/identity';
import { extensionValue, keyIdentifier, keyUsageOf, nameDer, signSelf, subjectDerOf, subjectKeyIdentifierOf } from './x509/certificate.js';
import { KEY_USAGE, OID } from './x509/oids.js';
import { uriSans } from './verify.js';

export interface Issuer {
  readonly certificate: X509Certificate;
  /** The issuer certificate, PEM. */
  readonly pem: string;
  /** Certificates above the issuer up to, excluding, the root (PEM); empty when the issuer is a root. */
  readonly intermediates: readonly string[];
  /** The self-signed root this issuer chains to (itself when it is a root). */
  readonly root: X509Certificate;
  /** The issuer is itself the root (leaves then carry no intermediates). */
  readonly isRoot: boolean;
  readonly privateKey: KeyObject;
  readonly keyType: KeyType;
  /** DER of the issuer's subject Name (written as each leaf's issuer). */
  readonly subjectDer: Buffer;
  /** The issuer's subjectKeyIdentifier (written as each leaf's authorityKeyIdentifier). */
  readonly keyIdentifier: Buffer;
}

/** An issuer that cannot be used; `message` names the file or field and what is wrong. */
export class IssuerError extends Error {
  override readonly name = 'IssuerError';
}

export const DAY_MS = 86_400_000;
/**
 * How far in the future an issuer's (or its chain's) notBefore may lie: clocks differ by a little. Beyond
 * it, every leaf would start in the future (a leaf never starts before its issuer), so it is refused.
 */
export const ISSUER_CLOCK_SKEW_MS = 5 * 60_000;
export const DEFAULT_ROOT_LIFETIME_MS = 365 * DAY_MS;

export interface RootOptions {
  readonly trustDomain: string;
  readonly keyType?: KeyType;
  readonly lifetimeMs?: number;
  /** Epoch milliseconds; Date.now() when omitted. */
  readonly now?: number;
}

/**
 * A new self-signed root. Its common name carries the creation time and a random tag, so that any two roots
 * have distinct names — the old and new roots of a rotation, and roots made within the same second (chain
 * building matches by name before key identifier, and errors would otherwise depend on which second it
 * was); its URI SAN is the trust domain.
 */
export function createRoot(options: RootOptions): Issuer {
  const now = options.now ?? Date.now();
  const { privateKey, publicKey } = generateKeySync(options.keyType ?? DEFAULT_KEY_TYPE);
  const stamp = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
  const subjectDer = nameDer([
    // RFC 5280 caps both at 64 characters: the trust domain (up to 255) goes in O, cut to fit; the URI SAN
    // below carries it in full.
    [OID.organization, `Loom ${options.trustDomain}`.slice(0, 64)],
    [OID.commonName, `Loom root CA ${stamp} ${randomBytes(4).toString('hex')}`],
  ]);
  const signed = signSelf(
    {
      subjectDer,
      publicKey,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + (options.lifetimeMs ?? DEFAULT_ROOT_LIFETIME_MS)),
      isCa: true,
      uris: [`spiffe://${options.trustDomain}`],
    },
    privateKey,
  );
  return issuerFrom(signed.certificate, [], signed.certificate, privateKey, 'the new root');
}

/**
 * Runs `read`, which decodes part `what` of `certificate` with Loom's own ASN.1 reader (node-forge's,
 * stricter than OpenSSL: it throws on some encodings OpenSSL accepts), turning any failure into an
 * {@link IssuerError} naming `source`: a malformed certificate in a store is reported, never a crash.
 */
function readField<T>(certificate: X509Certificate, source: string, what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof IssuerError) throw error;
    const detail = (error instanceof Error ? error.message : String(error)).split('\n', 1)[0]?.replace(/\.$/, '') ?? '';
    throw new IssuerError(`${source}: the ${what} of ${describe(certificate)} is malformed (${detail})`);
  }
}

function issuerFrom(certificate: X509Certificate, intermediates: readonly X509Certificate[], root: X509Certificate, privateKey: KeyObject, source: string): Issuer {
  const keyType = keyTypeOf(privateKey);
  if (keyType === undefined) throw new IssuerError(`issuer key ${describeKey(privateKey)} is not supported (use EC P-256/P-384 or RSA 2048-4096)`);
  // The SPIFFE URI SANs of the issuer and its root say which trust domain the CA is for (checked when
  // the CA is opened): read them here, where a malformed one can be blamed on its file.
  for (const cert of new Set([certificate, root])) readField(cert, source, 'subjectAltName extension', () => uriSans(cert));
  return {
    certificate,
    pem: certificate.toString(),
    intermediates: intermediates.map((cert) => cert.toString()),
    root,
    isRoot: root.fingerprint256 === certificate.fingerprint256,
    privateKey,
    keyType,
    subjectDer: readField(certificate, source, 'subject', () => subjectDerOf(certificate)),
    // The leaves' authorityKeyIdentifier must equal the issuer's own subjectKeyIdentifier, however an
    // operator's CA computed it (OpenSSL refuses the chain otherwise); computed only when it has none.
    keyIdentifier: readField(certificate, source, 'subjectKeyIdentifier extension', () => subjectKeyIdentifierOf(certificate)) ?? keyIdentifier(certificate.publicKey),
  };
}

const isSelfSigned = (cert: X509Certificate): boolean => cert.checkIssued(cert) && cert.verify(cert.publicKey);

/** `"O=Loom, CN=..."`, or the serial when the subject is empty (workload leaves). For messages. */
export function describeCertificate(cert: Pick<X509Certificate, 'subject' | 'serialNumber'>): string {
  // node reports an empty subject as undefined although its typings say string
  const subject = (cert.subject as string | undefined) ?? '';
  return subject === '' ? `the certificate with serial ${cert.serialNumber} (empty subject)` : `"${subject.replace(/\n/g, ', ')}"`;
}
const describe = describeCertificate;

/** basicConstraints says CA:TRUE (whatever keyUsage says; node's `ca` requires both). */
function assertsCa(certificate: X509Certificate): boolean {
  const value = extensionValue(certificate, OID.basicConstraints);
  if (value === undefined) return false;
  const [flag] = asn1.children(asn1.parseDer(value));
  return flag !== undefined && asn1.content(flag)?.[0] === 0xff;
}

function parseCertificates(pem: string, source: string): X509Certificate[] {
  let blocks: string[];
  try {
    blocks = splitPemCertificates(pem);
  } catch (error) {
    throw new IssuerError(`${source}: ${(error as Error).message}`);
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new IssuerError(`${source}: certificate ${index + 1} is not a valid X.509 certificate`);
    }
  });
}

/** Parses PEM certificates; throws {@link IssuerError} naming `source`. */
export function readCertificates(pem: string, source: string): X509Certificate[] {
  const certificates = parseCertificates(pem, source);
  if (certificates.length === 0) throw new IssuerError(`${source}: no PEM certificate found`);
  return certificates;
}

export interface LoadIssuerInput {
  /** The issuer certificate, optionally followed by its chain (intermediates, optionally the root). */
  readonly certPem: string;
  readonly keyPem: string;
  /** Roots that may anchor the chain when `certPem` does not end in a root. */
  readonly roots: readonly X509Certificate[];
  /** For messages: where the certificate and key came from ("tls.crt", "next.crt"...). */
  readonly certSource: string;
  readonly keySource: string;
  /** Epoch milliseconds, to refuse an expired issuer (or one not valid yet, beyond {@link ISSUER_CLOCK_SKEW_MS}). */
  readonly now: number;
}

/** Loads and validates an issuer. Every check that fails throws an {@link IssuerError} saying which. */
export function loadIssuer(input: LoadIssuerInput): Issuer {
  const [certificate, ...rest] = readCertificates(input.certPem, input.certSource);
  if (certificate === undefined) throw new IssuerError(`${input.certSource}: no PEM certificate found`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(input.keyPem);
  } catch (error) {
    throw new IssuerError(`${input.keySource}: not a readable private key (${(error as Error).message.replace(/^error:\S+:/, '')})`);
  }
  const fromKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!fromKey.equals(certificate.publicKey.export({ type: 'spki', format: 'der' }))) {
    throw new IssuerError(`${input.keySource} does not match the certificate in ${input.certSource} (${describe(certificate)})`);
  }
  if (keyTypeOf(privateKey) === undefined) {
    throw new IssuerError(`${input.keySource}: issuer key ${describeKey(privateKey)} is not supported (use EC P-256/P-384 or RSA 2048-4096)`);
  }
  const usage = readField(certificate, input.certSource, 'keyUsage extension', () => keyUsageOf(certificate));
  if (usage !== undefined && !usage.includes(KEY_USAGE.keyCertSign)) {
    const ca = readField(certificate, input.certSource, 'basicConstraints extension', () => assertsCa(certificate));
    const why = ca ? 'may not sign certificates (its keyUsage lacks keyCertSign)' : 'is not a CA certificate (basicConstraints CA:FALSE)';
    throw new IssuerError(`${input.certSource}: ${describe(certificate)} ${why}`);
  }
  if (!certificate.ca) throw new IssuerError(`${input.certSource}: ${describe(certificate)} is not a CA certificate (basicConstraints CA:FALSE)`);
  const inValidity = (cert: X509Certificate): void => {
    const notAfter = Date.parse(cert.validTo);
    if (notAfter <= input.now) throw new IssuerError(`${input.certSource}: ${describe(cert)} expired at ${new Date(notAfter).toISOString()}`);
    const notBefore = Date.parse(cert.validFrom);
    if (notBefore > input.now + ISSUER_CLOCK_SKEW_MS) {
      throw new IssuerError(
        `${input.certSource}: ${describe(cert)} is not valid before ${new Date(notBefore).toISOString()} (now ${new Date(input.now).toISOString()}): ` +
          'every leaf it anchors would start in the future; check the clock or use a certificate valid now',
      );
    }
  };
  inValidity(certificate);

  // Walk up: each certificate must be issued and signed by the next; end at a self-signed root, taken
  // from the file or from the roots.
  const intermediates: X509Certificate[] = [];
  let current = certificate;
  const pool = [...rest];
  for (;;) {
    if (isSelfSigned(current)) return issuerFrom(certificate, intermediates, current, privateKey, input.certSource);
    const parentIndex = pool.findIndex((candidate) => current.checkIssued(candidate) && current.verify(candidate.publicKey));
    if (parentIndex >= 0) {
      const [parent] = pool.splice(parentIndex, 1) as [X509Certificate];
      inValidity(parent);
      if (!isSelfSigned(parent)) intermediates.push(parent);
      current = parent;
      continue;
    }
    const root = input.roots.find((candidate) => current.checkIssued(candidate) && current.verify(candidate.publicKey) && isSelfSigned(candidate));
    if (root !== undefined) {
      inValidity(root);
      return issuerFrom(certificate, intermediates, root, privateKey, input.certSource);
    }
    throw new IssuerError(
      `${input.certSource}: cannot find who issued ${describe(current)} (issuer "${((current.issuer as string | undefined) ?? '').replace(/\n/g, ', ')}"); ` +
        'append its chain to the certificate file or add its root to the trust bundle',
    );
  }
}
