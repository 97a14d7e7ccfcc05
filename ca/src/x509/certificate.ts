/**
 * Building and signing X.509 v3 certificates: structures with node-forge's ASN.1 codec (through
 * `@loom/shared/identity`), the signature with node:crypto (native ECDSA/RSA). Pure apart from the signing.
 */
import { createHash, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { asn1 as a, algorithmIdentifier, generalNames, keyTypeOf, describeKey, pemEncode, signatureAlgorithm } from '@loom/shared/identity';
import { KEY_USAGE, OID } from './oids.js';

export interface CertificateTemplate {
  /** DER of the subject Name; `emptyName()` for workload leaves (their identity is the SAN). */
  readonly subjectDer: Buffer;
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Positive serial; {@link randomSerial} when omitted. */
  readonly serial?: Buffer;
  readonly isCa: boolean;
  /** basicConstraints pathLenConstraint for CA certificates. */
  readonly pathLength?: number;
  readonly uris?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /**
   * The exact SubjectPublicKeyInfo DER of `publicKey` when the caller already has it (a CSR carries it):
   * exporting a key through OpenSSL costs as much as an ECDSA signature, and it would be done twice.
   */
  readonly spkiDer?: Buffer;
}

export interface SigningIssuer {
  /** DER of the issuer's subject Name (the new certificate's issuer). */
  readonly subjectDer: Buffer;
  readonly privateKey: KeyObject;
  /** The issuer's subjectKeyIdentifier, written as the authorityKeyIdentifier. */
  readonly keyIdentifier: Buffer;
}

export interface SignedCertificate {
  readonly der: Buffer;
  readonly pem: string;
  /** The serial as X509Certificate.serialNumber spells it (upper-case hex of the magnitude). */
  readonly serialNumber: string;
  /** Validity as encoded (whole seconds). */
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The parsed certificate, built on first access (issuance itself does not need it). */
  readonly certificate: X509Certificate;
}

/** 16 random bytes with the top bit clear: a positive 127-bit serial (RFC 5280 allows up to 20 octets). */
export function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f || 0x01;
  return serial;
}

/** Upper-case hex of an INTEGER's magnitude, as X509Certificate.serialNumber spells serials. */
function serialHex(serial: Buffer): string {
  let start = 0;
  while (start < serial.length - 1 && serial[start] === 0) start += 1;
  return serial.subarray(start).toString('hex').toUpperCase();
}

const wholeSeconds = (date: Date): Date => new Date(Math.floor(date.getTime() / 1000) * 1000);

/** Name DER with the given attributes in order (O, CN, ...), each a UTF8String. */
export function nameDer(attributes: readonly (readonly [oid: string, value: string])[]): Buffer {
  return a.der(a.seq(attributes.map(([type, value]) => a.set([a.seq([a.oid(type), a.utf8(value)])]))));
}

export const emptyName = (): Buffer => a.der(a.seq([]));

/**
 * subjectKeyIdentifier per RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. Takes the key or
 * its SubjectPublicKeyInfo DER.
 */
export function keyIdentifier(publicKey: KeyObject | Buffer): Buffer {
  const spki = a.parseDer(Buffer.isBuffer(publicKey) ? publicKey : publicKey.export({ type: 'spki', format: 'der' }));
  const bits = a.content(a.children(spki)[1]) ?? Buffer.alloc(0);
  return createHash('sha1').update(bits.subarray(1)).digest();
}

function extension(oid: string, critical: boolean, value: a.Asn1): a.Asn1 {
  const parts = [a.oid(oid)];
  if (critical) parts.push(a.bool(true));
  parts.push(a.octets(a.der(value)));
  return a.seq(parts);
}

/** A keyUsage BIT STRING in DER-minimal form (trailing zero bits dropped and counted as unused). */
function keyUsage(bits: readonly number[]): a.Asn1 {
  let mask = 0;
  for (const bit of bits) mask |= 0x8000 >> bit;
  const bytes = mask & 0xff ? [mask >> 8, mask & 0xff] : [mask >> 8];
  const last = bytes[bytes.length - 1] ?? 0;
  let unused = 0;
  while (unused < 7 && !(last & (1 << unused))) unused += 1;
  return a.bitString(Buffer.from(bytes), unused);
}

/** Signs `template` with `issuer`'s key. */
export function signCertificate(template: CertificateTemplate, issuer: SigningIssuer): SignedCertificate {
  const keyType = keyTypeOf(issuer.privateKey);
  if (keyType === undefined) throw new Error(`unsupported signing key ${describeKey(issuer.privateKey)}`);
  const algorithm = signatureAlgorithm(keyType);
  const emptySubject = template.subjectDer.length <= 2;
  const subjectIsRsa = keyTypeOf(template.publicKey)?.startsWith('rsa') === true;
  const usage = template.isCa
    ? [KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]
    : subjectIsRsa
      ? [KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment]
      : [KEY_USAGE.digitalSignature];
  const constraints = template.isCa ? [a.bool(true), ...(template.pathLength === undefined ? [] : [a.smallInteger(template.pathLength)])] : [];

  const extensions: a.Asn1[] = [extension(OID.basicConstraints, true, a.seq(constraints)), extension(OID.keyUsage, true, keyUsage(usage))];
  if (!template.isCa) extensions.push(extension(OID.extKeyUsage, false, a.seq([a.oid(OID.serverAuth), a.oid(OID.clientAuth)])));
  const uris = template.uris ?? [];
  const dnsNames = template.dnsNames ?? [];
  const ipAddresses = template.ipAddresses ?? [];
  // RFC 5280 §4.2.1.6: with an empty subject the SAN carries the identity and must be critical.
  if (uris.length > 0 || dnsNames.length > 0 || ipAddresses.length > 0) {
    extensions.push(extension(OID.subjectAltName, emptySubject, generalNames(uris, dnsNames, ipAddresses)));
  }
  const spkiDer = template.spkiDer ?? template.publicKey.export({ type: 'spki', format: 'der' });
  extensions.push(extension(OID.subjectKeyIdentifier, false, a.octets(keyIdentifier(spkiDer))));
  extensions.push(extension(OID.authorityKeyIdentifier, false, a.seq([a.implicitPrimitive(0, issuer.keyIdentifier)])));

  const algorithmId = algorithmIdentifier(algorithm.oid, algorithm.nullParams);
  const serial = template.serial ?? randomSerial();
  const tbs = a.sequenceDer([
    a.explicit(0, a.smallInteger(2)),
    a.unsignedInteger(serial),
    algorithmId,
    issuer.subjectDer,
    a.seq([a.time(template.notBefore), a.time(template.notAfter)]),
    template.subjectDer,
    spkiDer,
    a.explicit(3, a.seq(extensions)),
  ]);
  const signature = sign(algorithm.digest, tbs, issuer.privateKey);
  const der = a.sequenceDer([tbs, algorithmId, a.bitString(signature)]);
  let parsed: X509Certificate | undefined;
  return {
    der,
    pem: pemEncode('CERTIFICATE', der),
    serialNumber: serialHex(serial),
    notBefore: wholeSeconds(template.notBefore),
    notAfter: wholeSeconds(template.notAfter),
    get certificate() {
      parsed ??= new X509Certificate(der);
      return parsed;
    },
  };
}

/** Self-signs `template` with `privateKey` (which must match `template.publicKey`). */
export function signSelf(template: CertificateTemplate, privateKey: KeyObject): SignedCertificate {
  return signCertificate(template, { subjectDer: template.subjectDer, privateKey, keyIdentifier: keyIdentifier(template.publicKey) });
}

/** The exact DER spans of a certificate's TBSCertificate fields (version [0] included when present). */
function tbsFieldSpans(der: Buffer): { readonly start: number; readonly end: number }[] {
  const outer = a.tlvSpan(der, 0);
  const tbs = a.tlvSpan(der, outer.contentStart);
  const spans: { start: number; end: number }[] = [];
  for (let offset = tbs.contentStart; offset < tbs.end; ) {
    const span = a.tlvSpan(der, offset);
    spans.push({ start: span.start, end: span.end });
    offset = span.end;
  }
  return spans;
}

/**
 * DER of a certificate's subject Name, byte for byte as in its TBSCertificate (a leaf's issuer field must
 * match its issuer's subject exactly; a decode/re-encode round trip need not preserve it).
 */
export function subjectDerOf(certificate: X509Certificate): Buffer {
  const der = certificate.raw;
  const spans = tbsFieldSpans(der);
  // version [0] is present in v3 certificates: version, serial, signature, issuer, validity, subject
  const offset = der[spans[0]?.start ?? 0] === 0xa0 ? 1 : 0;
  const subject = spans[offset + 4];
  if (subject === undefined) throw new Error('certificate has no subject');
  return Buffer.from(der.subarray(subject.start, subject.end));
}

/** The value (the DER inside extnValue's OCTET STRING) of a certificate's extension `oid`, or undefined. */
export function extensionValue(certificate: X509Certificate, oid: string): Buffer | undefined {
  const tbs = a.children(a.parseDer(certificate.raw))[0];
  const extensions = a.children(tbs).find((field) => a.isContext(field, 3));
  for (const extension of a.children(a.children(extensions)[0])) {
    const parts = a.children(extension);
    if (a.readOid(parts[0]) === oid) return a.content(parts[parts.length - 1]);
  }
  return undefined;
}

/** The key identifier in a certificate's subjectKeyIdentifier extension, or undefined when it has none. */
export function subjectKeyIdentifierOf(certificate: X509Certificate): Buffer | undefined {
  const value = extensionValue(certificate, OID.subjectKeyIdentifier);
  return value === undefined ? undefined : a.content(a.parseDer(value));
}

/** The keyUsage bit numbers ({@link KEY_USAGE}) a certificate asserts, or undefined when it has no keyUsage. */
export function keyUsageOf(certificate: X509Certificate): number[] | undefined {
  const value = extensionValue(certificate, OID.keyUsage);
  if (value === undefined) return undefined;
  const bits = a.content(a.parseDer(value)) ?? Buffer.alloc(0);
  const usage: number[] = [];
  for (let bit = 0; bit < (bits.length - 1) * 8; bit += 1) {
    if ((bits[1 + (bit >> 3)] ?? 0) & (0x80 >> (bit & 7))) usage.push(bit);
  }
  return usage;
}
