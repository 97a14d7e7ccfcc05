/**
 * `@loom/ca/testing`: throwaway roots, intermediates and leaves minted at test time (no certificate is ever
 * committed). Everything is real: keys from node:crypto, certificates signed exactly as production signs them.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { asn1, createCsr, generateKeySync, pemEncode, spiffeId, type KeyType } from '@loom/shared/identity';
import { CertificateAuthority, type IssuedCertificate } from '../authority.js';
import { createRoot, loadIssuer, type Issuer } from '../issuer.js';
import type { CaMaterial } from '../material.js';
import { nameDer, signCertificate } from '../x509/certificate.js';
import { OID } from '../x509/oids.js';

export interface TestCaOptions {
  readonly trustDomain?: string;
  readonly keyType?: KeyType;
  /** Epoch milliseconds for every signature of this CA; Date.now() when omitted. */
  readonly now?: () => number;
  readonly leafLifetimeMs?: number;
  readonly rootLifetimeMs?: number;
}

export interface TestLeaf extends IssuedCertificate {
  readonly privateKey: KeyObject;
  readonly keyPem: string;
  /** The chain as one PEM string (what `tls` `cert` expects). */
  readonly certPem: string;
  readonly spiffeId: string;
}

export interface TestCa {
  readonly issuer: Issuer;
  readonly material: CaMaterial;
  readonly authority: CertificateAuthority;
  readonly trustDomain: string;
  /** The root, PEM. */
  readonly rootPem: string;
  /** A leaf for `spiffe://<td>/ns/<namespace>/sa/<serviceAccount>`, through the CSR path a proxy uses. */
  leaf(namespace: string, serviceAccount: string, keyType?: KeyType): TestLeaf;
  /** A leaf for arbitrary SANs (e.g. a server certificate with DNS names), bypassing the CSR checks. */
  leafFor(names: { readonly uris?: readonly string[]; readonly dnsNames?: readonly string[] }, keyType?: KeyType): TestLeaf;
}

export function mintCa(options: TestCaOptions = {}): TestCa {
  const trustDomain = options.trustDomain ?? 'cluster.local';
  const now = options.now ?? Date.now;
  const issuer = createRoot({
    trustDomain,
    now: now(),
    ...(options.keyType === undefined ? {} : { keyType: options.keyType }),
    ...(options.rootLifetimeMs === undefined ? {} : { lifetimeMs: options.rootLifetimeMs }),
  });
  return wrap({ issuer, bundle: [issuer.root] }, trustDomain, now, options.leafLifetimeMs);
}

/** An intermediate issuer signed by `parent`, as an operator would supply one (cert + key + chain). */
export function mintIntermediate(parent: Issuer, options: { readonly name?: string; readonly now?: number; readonly lifetimeMs?: number } = {}): Issuer {
  const now = options.now ?? Date.now();
  const { privateKey, publicKey } = generateKeySync('ec-p256');
  const signed = signCertificate(
    {
      subjectDer: nameDer([[OID.commonName, options.name ?? 'Loom test intermediate']]),
      publicKey,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + (options.lifetimeMs ?? 30 * 86_400_000)),
      isCa: true,
      pathLength: 0,
    },
    parent,
  );
  const certPem = [signed.pem, ...(parent.isRoot ? [] : [parent.pem, ...parent.intermediates])].join('');
  return loadIssuer({
    certPem,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    roots: [parent.root],
    certSource: 'intermediate',
    keySource: 'intermediate key',
    now,
  });
}

/** A test CA around existing material (e.g. an intermediate from {@link mintIntermediate}). */
export function caFrom(material: CaMaterial, options: { readonly trustDomain?: string; readonly now?: () => number; readonly leafLifetimeMs?: number } = {}): TestCa {
  return wrap(material, options.trustDomain ?? 'cluster.local', options.now ?? Date.now, options.leafLifetimeMs);
}

function wrap(material: CaMaterial, trustDomain: string, now: () => number, leafLifetimeMs: number | undefined): TestCa {
  const authority = new CertificateAuthority(material, { trustDomain, now, ...(leafLifetimeMs === undefined ? {} : { leafLifetimeMs }) });
  const finish = (issued: IssuedCertificate, privateKey: KeyObject, id: string): TestLeaf => ({
    ...issued,
    privateKey,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certPem: issued.chain.join(''),
    spiffeId: id,
  });
  return {
    issuer: material.issuer,
    material,
    authority,
    trustDomain,
    rootPem: material.issuer.root.toString(),
    leaf(namespace, serviceAccount, keyType = 'ec-p256') {
      const key = generateKeySync(keyType);
      const id = spiffeId(trustDomain, namespace, serviceAccount);
      const issued = authority.signWorkloadCsr(createCsr({ ...key, uris: [id] }), { trustDomain, namespace, serviceAccount });
      return finish(issued, key.privateKey, id);
    },
    leafFor(names, keyType = 'ec-p256') {
      const key = generateKeySync(keyType);
      return finish(authority.issue(key.publicKey, names), key.privateKey, names.uris?.[0] ?? '');
    },
  };
}

/**
 * `pem` (a certificate) with the DER inside its `extension` extension claiming 3 bytes more than the
 * extension holds. OpenSSL still parses the certificate (it flags it invalid: no longer a CA, and its
 * signature no longer verifies); Loom's stricter ASN.1 reader throws on that extension. For tests of a
 * store holding a malformed certificate. Only for certificates whose extension lengths are short-form.
 */
export function corruptExtension(pem: string, extension: 'keyUsage' | 'subjectAltName' | 'subjectKeyIdentifier'): string {
  const der = Buffer.from(new X509Certificate(pem).raw);
  const oid = asn1.der(asn1.oid(OID[extension]));
  let at = der.indexOf(oid);
  if (at < 0) throw new Error(`the certificate has no ${extension} extension`);
  at += oid.length;
  if (der[at] === 0x01) at += 3; // critical BOOLEAN
  const innerLength = at + 3; // OCTET STRING tag, its length, then the inner value's tag and length
  const length = der[innerLength];
  if (der[at] !== 0x04 || length === undefined || length >= 0x7d) throw new Error(`cannot corrupt this ${extension} extension`);
  der[innerLength] = length + 3;
  return pemEncode('CERTIFICATE', der);
}
