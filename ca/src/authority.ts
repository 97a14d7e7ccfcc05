/**
 * The certificate authority: signs workload leaves from CSRs and the controller's own serving certificates,
 * with the active issuer of a {@link CaMaterial}. Material changes (rotation, reload) swap atomically with
 * {@link CertificateAuthority.replace}; a signing call uses one consistent material from start to end.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { parseCsr, parseSpiffeId, renewAfter, spiffeId, CsrError, describeKey, type WorkloadIdentity } from '@loom/shared/identity';
import type { CaMaterial } from './material.js';
import { listed, quote, shown } from './messages.js';
import { emptyName, signCertificate } from './x509/certificate.js';
import { OID } from './x509/oids.js';

export const DEFAULT_LEAF_LIFETIME_MS = 24 * 3_600_000;
/** Leaves are backdated by this much, so a peer whose clock is slightly behind accepts them at once. */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;
/** The shortest leaf Loom will issue; an issuer closer than this to its own expiry is refused. */
export const MIN_LEAF_LIFETIME_MS = 10 * 60_000;

export interface AuthorityOptions {
  readonly trustDomain: string;
  readonly leafLifetimeMs?: number;
  readonly clockSkewMs?: number;
  /** Epoch milliseconds; injectable for tests. */
  readonly now?: () => number;
}

export interface IssuedCertificate {
  /** The leaf, PEM. */
  readonly certificatePem: string;
  /** The leaf followed by the intermediates up to, excluding, the root (CertifyResponse.certificate_chain). */
  readonly chain: readonly string[];
  /** Root PEMs to trust for peers (CertifyResponse.trust_bundle). */
  readonly trustBundle: readonly string[];
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** When renewal should start (2/3 of the life), before the client's jitter. */
  readonly renewAfter: Date;
}

/**
 * Why a CSR was refused. `code` maps onto gRPC status codes: `invalid-argument` for a CSR that is malformed,
 * badly signed, of an unaccepted key type, or asking for more than one SPIFFE ID; `permission-denied` for a
 * well-formed CSR asking for another identity than the caller's.
 */
export class CsrRefused extends Error {
  override readonly name = 'CsrRefused';
  constructor(
    readonly code: 'invalid-argument' | 'permission-denied',
    message: string,
    /** What the CSR asked for, when it was readable. */
    readonly requested?: string,
  ) {
    super(message);
  }
}

/** Names of extensions a CSR may request, for refusal messages. */
const EXTENSION_NAMES: Readonly<Record<string, string>> = {
  [OID.basicConstraints]: 'basicConstraints',
  [OID.keyUsage]: 'keyUsage',
  [OID.extKeyUsage]: 'extKeyUsage',
  [OID.subjectKeyIdentifier]: 'subjectKeyIdentifier',
  [OID.authorityKeyIdentifier]: 'authorityKeyIdentifier',
  '2.5.29.30': 'nameConstraints',
};

/** The subject alternative names of a leaf signed without a CSR. */
export interface LeafNames {
  readonly uris?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

/** "ns/<ns> sa/<sa>" for messages; a name that is not plain text is quoted, escaped and cut. */
export const describeIdentity = (identity: WorkloadIdentity): string => `ns/${shown(identity.namespace)} sa/${shown(identity.serviceAccount)}`;

/** Key types a CSR may carry, for refusal messages. */
export const ACCEPTED_KEYS = 'ECDSA P-256 or P-384, or RSA 2048, 3072 or 4096 bits';

export class CertificateAuthority {
  #material: CaMaterial;
  #bundlePem: readonly string[];
  readonly #trustDomain: string;
  readonly #leafLifetimeMs: number;
  readonly #clockSkewMs: number;
  readonly #now: () => number;

  constructor(material: CaMaterial, options: AuthorityOptions) {
    this.#material = material;
    this.#bundlePem = Object.freeze(material.bundle.map((root) => root.toString()));
    this.#trustDomain = options.trustDomain;
    this.#leafLifetimeMs = options.leafLifetimeMs ?? DEFAULT_LEAF_LIFETIME_MS;
    this.#clockSkewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
    this.#now = options.now ?? Date.now;
    if (!(this.#leafLifetimeMs >= MIN_LEAF_LIFETIME_MS)) throw new RangeError(`leaf lifetime must be at least ${MIN_LEAF_LIFETIME_MS / 60_000} minutes`);
  }

  get material(): CaMaterial {
    return this.#material;
  }

  get trustDomain(): string {
    return this.#trustDomain;
  }

  /** The PEM roots proxies should trust. */
  get trustBundle(): readonly string[] {
    return this.#bundlePem;
  }

  /** Swaps in new material (after a rotation step or a reload); later signatures use it. */
  replace(material: CaMaterial): void {
    this.#material = material;
    this.#bundlePem = Object.freeze(material.bundle.map((root) => root.toString()));
  }

  /**
   * Verifies a workload CSR and signs it for `caller`, the identity its credentials proved. The leaf carries
   * exactly the caller's SPIFFE ID and nothing else the CSR asked for. Throws {@link CsrRefused}.
   */
  signWorkloadCsr(csrPem: string, caller: WorkloadIdentity): IssuedCertificate {
    let csr;
    try {
      csr = parseCsr(csrPem);
    } catch (error) {
      if (error instanceof CsrError) throw new CsrRefused('invalid-argument', error.message);
      throw error;
    }
    if (csr.keyType === undefined) {
      throw new CsrRefused('invalid-argument', `CSR key ${describeKey(csr.publicKey)} is not accepted (use ${ACCEPTED_KEYS})`);
    }
    const { uris, dnsNames, ipAddresses, emails, others } = csr.sans;
    const extras = [
      ...dnsNames.map((name) => `DNS:${shown(name)}`),
      ...ipAddresses.map((ip) => `IP:${ip}`),
      ...emails.map((email) => `email:${shown(email)}`),
      ...(others > 0 ? [`${others} other name(s)`] : []),
    ];
    if (uris.length !== 1 || extras.length > 0) {
      const asked = listed([...uris.map((uri) => `URI:${shown(uri)}`), ...extras]) || 'none';
      throw new CsrRefused('invalid-argument', `CSR must ask for exactly one SAN, the SPIFFE ID URI; it asks for ${asked}`);
    }
    if (csr.otherExtensions.length > 0) {
      const named = csr.otherExtensions.map((oid) => {
        if (EXTENSION_NAMES[oid] !== undefined) return `${EXTENSION_NAMES[oid]} (${oid})`;
        return oid.startsWith('attribute ') ? `attribute ${shown(oid.slice('attribute '.length))}` : shown(oid);
      });
      throw new CsrRefused(
        'invalid-argument',
        `CSR requests extensions Loom does not grant (${listed(named)}); request only the SPIFFE ID subjectAltName`,
      );
    }
    const requestedUri = uris[0] ?? '';
    const requested = parseSpiffeId(requestedUri);
    const expected = spiffeId(caller.trustDomain, caller.namespace, caller.serviceAccount);
    if (requestedUri !== expected) {
      const asked = requested === null ? quote(requestedUri) : requested.trustDomain !== caller.trustDomain ? `trust domain ${quote(requested.trustDomain)}` : describeIdentity(requested);
      throw new CsrRefused('permission-denied', `token is for ${describeIdentity(caller)}, CSR asks for ${asked}`, shown(requestedUri));
    }
    if (caller.trustDomain !== this.#trustDomain) {
      throw new CsrRefused('permission-denied', `CSR asks for trust domain ${quote(caller.trustDomain)}; this CA issues for "${this.#trustDomain}" only`, shown(requestedUri));
    }
    return this.#sign(csr.publicKey, csr.spkiDer, { uris: [expected] }, undefined);
  }

  /**
   * Signs a leaf for `publicKey` with the given SANs, no CSR involved: the controller's own serving
   * certificates (SPIFFE ID + DNS names) and `loom ca issue`.
   */
  issue(publicKey: KeyObject, names: LeafNames, lifetimeMs?: number): IssuedCertificate {
    return this.#sign(publicKey, undefined, names, lifetimeMs);
  }

  #sign(publicKey: KeyObject, spkiDer: Buffer | undefined, names: LeafNames, lifetimeMs: number | undefined): IssuedCertificate {
    const material = this.#material;
    const issuer = material.issuer;
    const now = this.#now();
    if (lifetimeMs !== undefined && !(lifetimeMs >= MIN_LEAF_LIFETIME_MS)) {
      throw new RangeError(`leaf lifetime must be at least ${MIN_LEAF_LIFETIME_MS / 60_000} minutes`);
    }
    const issuerNotAfter = Date.parse(issuer.certificate.validTo);
    const notAfter = Math.min(now + (lifetimeMs ?? this.#leafLifetimeMs), issuerNotAfter);
    if (notAfter - now < MIN_LEAF_LIFETIME_MS) {
      throw new Error(`the issuer expires at ${new Date(issuerNotAfter).toISOString()}: too soon to issue leaves; rotate the CA (loom ca rotate)`);
    }
    const notBefore = Math.max(now - this.#clockSkewMs, Date.parse(issuer.certificate.validFrom));
    const signed = signCertificate(
      {
        subjectDer: emptyName(),
        publicKey,
        ...(spkiDer === undefined ? {} : { spkiDer }),
        notBefore: new Date(notBefore),
        notAfter: new Date(notAfter),
        isCa: false,
        ...(names.uris === undefined ? {} : { uris: names.uris }),
        ...(names.dnsNames === undefined ? {} : { dnsNames: names.dnsNames }),
        ...(names.ipAddresses === undefined ? {} : { ipAddresses: names.ipAddresses }),
      },
      issuer,
    );
    const validity = { notBefore: signed.notBefore.getTime(), notAfter: signed.notAfter.getTime() };
    return {
      certificatePem: signed.pem,
      chain: issuer.isRoot ? [signed.pem] : [signed.pem, issuer.pem, ...issuer.intermediates],
      trustBundle: this.#bundlePem,
      serial: signed.serialNumber,
      notBefore: new Date(validity.notBefore),
      notAfter: new Date(validity.notAfter),
      renewAfter: new Date(renewAfter(validity)),
    };
  }
}

/** Parsed certificates of a PEM chain, for callers that hold PEM strings. */
export const parseChain = (chain: readonly string[]): X509Certificate[] => chain.map((pem) => new X509Certificate(pem));
