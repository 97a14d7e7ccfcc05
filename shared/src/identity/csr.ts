/**
 * PKCS#10 certificate signing requests (RFC 2986) carrying a SPIFFE ID: built by the proxy's identity client
 * (the key never leaves the process), parsed and verified by the CA. Structures via node-forge's ASN.1 codec,
 * signatures via node:crypto.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import * as a from './asn1.js';
import { digestOfSignatureOid, describeKey, keyTypeOf, signatureAlgorithm, type KeyType } from './keys.js';
import { pemDecodeAll, pemEncode } from './pem.js';

export const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
export const OID_SUBJECT_ALT_NAME = '2.5.29.17';

/** Subject alternative names of a CSR or certificate, by kind. */
export interface SubjectAltNames {
  readonly uris: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly emails: readonly string[];
  /** otherName, x400Address, directoryName, ediPartyName and registeredID entries. */
  readonly others: number;
}

export interface ParsedCsr {
  readonly publicKey: KeyObject;
  /** undefined when the key is of a type Loom does not accept (see {@link describeKey}). */
  readonly keyType: KeyType | undefined;
  readonly sans: SubjectAltNames;
  /** OIDs of requested extensions other than subjectAltName. */
  readonly otherExtensions: readonly string[];
  /** Subject DER (empty SEQUENCE when the subject is empty); never copied into a leaf. */
  readonly subjectDer: Buffer;
  /** The request's SubjectPublicKeyInfo, byte for byte (a certificate for this key embeds it as is). */
  readonly spkiDer: Buffer;
}

/** A CSR that cannot be read or whose signature does not verify. `message` is user-facing. */
export class CsrError extends Error {
  override readonly name = 'CsrError';
}

export interface CsrOptions {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** URI SANs; a workload CSR carries exactly one, its SPIFFE ID. */
  readonly uris: readonly string[];
  readonly dnsNames?: readonly string[];
}

/** Builds and signs a PEM CSR with an empty subject and a subjectAltName extension request. */
export function createCsr(options: CsrOptions): string {
  const keyType = keyTypeOf(options.privateKey);
  if (keyType === undefined) throw new CsrError(`unsupported key ${describeKey(options.privateKey)}`);
  const spki = options.publicKey.export({ type: 'spki', format: 'der' });
  const extensions = a.seq([a.seq([a.oid(OID_SUBJECT_ALT_NAME), a.octets(a.der(generalNames(options.uris, options.dnsNames ?? [])))])]);
  const infoDer = a.sequenceDer([
    a.smallInteger(0),
    a.seq([]),
    spki,
    a.implicitConstructed(0, [a.seq([a.oid(OID_EXTENSION_REQUEST), a.set([extensions])])]),
  ]);
  const algorithm = signatureAlgorithm(keyType);
  const signature = sign(algorithm.digest, infoDer, options.privateKey);
  return pemEncode('CERTIFICATE REQUEST', a.sequenceDer([infoDer, algorithmIdentifier(algorithm.oid, algorithm.nullParams), a.bitString(signature)]));
}

export function algorithmIdentifier(oid: string, nullParams: boolean): a.Asn1 {
  return a.seq(nullParams ? [a.oid(oid), a.nullValue()] : [a.oid(oid)]);
}

/** IA5String: the ASCII range (RFC 5280 encodes URIs and DNS names so; an IRI must be mapped to a URI first). */
const isIa5 = (value: string): boolean => /^\p{ASCII}*$/u.test(value);

/** `value` JSON-quoted and cut, for messages about names Loom did not write. */
function quoted(value: string, max = 200): string {
  const more = value.length - max;
  return more <= 0 ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, max))}…(${more} more character${more === 1 ? '' : 's'})`;
}

/**
 * GeneralNames with URI ([6]) and dNSName ([2]) entries. Both are IA5Strings: a name with a character
 * outside ASCII is refused with a {@link CsrError} (it would otherwise be written as Latin-1 bytes, or
 * mangled).
 */
export function generalNames(uris: readonly string[], dnsNames: readonly string[], ipAddresses: readonly string[] = []): a.Asn1 {
  const ia5 = (kind: string, value: string): string => {
    if (!isIa5(value)) throw new CsrError(`${kind} ${quoted(value)} has characters outside ASCII (an IA5String); percent-encode or punycode it`);
    return value;
  };
  return a.seq([
    ...dnsNames.map((name) => a.implicitPrimitive(2, ia5('DNS name', name))),
    ...uris.map((uri) => a.implicitPrimitive(6, ia5('URI', uri))),
    ...ipAddresses.map((ip) => a.implicitPrimitive(7, ipBytes(ip))),
  ]);
}

/** The 4 or 16 octets of an IPv4 or IPv6 address (an iPAddress GeneralName). */
function ipBytes(ip: string): Uint8Array {
  const family = isIP(ip);
  if (family === 0) throw new CsrError(`IP address ${quoted(ip)} is not an IPv4 or IPv6 address`);
  return family === 4 ? Uint8Array.from(ip.split('.').map(Number)) : ipv6Bytes(ip);
}

/** Expands a valid IPv6 address (`::` allowed, an embedded IPv4 tail too) to 16 octets. */
function ipv6Bytes(text: string): Uint8Array {
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = g.split('.').map(Number);
        out.push((b0 << 8) | b1, (b2 << 8) | b3);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const fill = tail === undefined ? [] : new Array<number>(8 - h.length - t.length).fill(0);
  const all = [...h, ...fill, ...t];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** Reads GeneralNames (the DER inside a subjectAltName extension's OCTET STRING). */
export function readGeneralNames(encoded: Uint8Array): SubjectAltNames {
  const uris: string[] = [];
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  const emails: string[] = [];
  let others = 0;
  const names = a.parseDer(encoded);
  if (!a.isSequence(names)) throw new CsrError('subjectAltName is not a SEQUENCE');
  for (const name of names.value) {
    const value = a.content(name);
    if (a.isContext(name, 6) && value !== undefined) uris.push(value.toString('latin1'));
    else if (a.isContext(name, 2) && value !== undefined) dnsNames.push(value.toString('latin1'));
    else if (a.isContext(name, 1) && value !== undefined) emails.push(value.toString('latin1'));
    else if (a.isContext(name, 7) && value !== undefined) ipAddresses.push(formatIp(value));
    else others += 1;
  }
  return { uris, dnsNames, ipAddresses, emails, others };
}

function formatIp(value: Buffer): string {
  if (value.length === 4) return [...value].join('.');
  if (value.length === 16) return (value.toString('hex').match(/.{4}/g) ?? []).join(':');
  return `<${value.length}-byte address>`;
}

/** Parses one PEM CSR and verifies its self-signature. Throws {@link CsrError} with a user-facing message. */
export function parseCsr(pem: string): ParsedCsr {
  let blocks;
  try {
    blocks = pemDecodeAll(pem);
  } catch (error) {
    const message = (error as Error).message;
    throw new CsrError(`CSR is not valid PEM: ${message.length <= 200 ? message : `${message.slice(0, 200)}…`}`);
  }
  if (blocks.length !== 1 || blocks[0]?.label !== 'CERTIFICATE REQUEST') {
    const unterminated = blocks.length === 0 && pem.includes('-----BEGIN ');
    const labels = blocks.slice(0, 5).map((block) => quoted(block.label, 40)).join(', ') + (blocks.length > 5 ? ` and ${blocks.length - 5} more` : '');
    const found = unterminated ? 'an unterminated PEM block' : blocks.length === 0 ? 'no PEM block' : labels;
    throw new CsrError(`expected exactly one "CERTIFICATE REQUEST" PEM block, found ${found}`);
  }
  try {
    return parseCsrDer(blocks[0].der);
  } catch (error) {
    if (error instanceof CsrError) throw error;
    throw new CsrError(`CSR is not a valid PKCS#10 request: ${(error as Error).message}`);
  }
}

function parseCsrDer(derBytes: Buffer): ParsedCsr {
  const outer = a.tlvSpan(derBytes, 0);
  if (outer.end !== derBytes.length) throw new CsrError('CSR has trailing bytes after the request');
  const infoSpan = a.tlvSpan(derBytes, outer.contentStart);
  const infoDer = derBytes.subarray(infoSpan.start, infoSpan.end);
  const request = a.parseDer(derBytes);
  const [info, algorithm, signatureNode] = a.children(request);
  const [version, subject, spki, attributes] = a.children(info);
  if (!a.isSequence(request) || !a.isSequence(info) || version === undefined || !a.isSequence(subject) || !a.isSequence(spki)) {
    throw new CsrError('CSR does not have the PKCS#10 structure');
  }
  if (a.content(version)?.equals(Buffer.of(0)) !== true) throw new CsrError('CSR version is not PKCS#10 v1');
  // The SubjectPublicKeyInfo's exact bytes: the third field of the request info.
  const subjectSpan = a.tlvSpan(derBytes, a.tlvSpan(derBytes, infoSpan.contentStart).end);
  const spkiSpan = a.tlvSpan(derBytes, subjectSpan.end);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: derBytes.subarray(spkiSpan.start, spkiSpan.end), format: 'der', type: 'spki' });
  } catch {
    throw new CsrError('CSR public key is not readable');
  }
  const algorithmOid = a.readOid(a.children(algorithm)[0]);
  const digest = algorithmOid === undefined ? undefined : signatureDigest(algorithmOid, publicKey);
  if (digest === undefined) {
    throw new CsrError(`CSR signature algorithm ${algorithmOid ?? '(missing)'} is not supported for its ${describeKey(publicKey)} key`);
  }
  const signatureBits = a.content(signatureNode);
  if (signatureBits === undefined || signatureBits[0] !== 0) throw new CsrError('CSR signature is not a whole-byte BIT STRING');
  let verified: boolean;
  try {
    verified = verify(digest, infoDer, publicKey, signatureBits.subarray(1));
  } catch {
    verified = false;
  }
  if (!verified) throw new CsrError('CSR signature does not verify against its public key');

  const sanLists = { uris: [] as string[], dnsNames: [] as string[], ipAddresses: [] as string[], emails: [] as string[], others: 0 };
  const otherExtensions: string[] = [];
  for (const attribute of attributes !== undefined && a.isContext(attributes, 0) ? a.children(attributes) : []) {
    const [type, values] = a.children(attribute);
    const typeOid = a.readOid(type);
    if (typeOid !== OID_EXTENSION_REQUEST) {
      otherExtensions.push(`attribute ${typeOid ?? '(unreadable)'}`);
      continue;
    }
    for (const extensions of a.children(values)) {
      for (const extension of a.children(extensions)) {
        const parts = a.children(extension);
        const extensionOid = a.readOid(parts[0]);
        const value = a.content(parts[parts.length - 1]);
        if (extensionOid === OID_SUBJECT_ALT_NAME && value !== undefined) {
          // Several subjectAltName requests are merged, so that none of their names escapes the checks.
          const names = readGeneralNames(value);
          sanLists.uris.push(...names.uris);
          sanLists.dnsNames.push(...names.dnsNames);
          sanLists.ipAddresses.push(...names.ipAddresses);
          sanLists.emails.push(...names.emails);
          sanLists.others += names.others;
        } else otherExtensions.push(extensionOid ?? '(unreadable)');
      }
    }
  }
  const sans: SubjectAltNames = sanLists;
  return { publicKey, keyType: keyTypeOf(publicKey), sans, otherExtensions, subjectDer: a.der(subject), spkiDer: Buffer.from(derBytes.subarray(spkiSpan.start, spkiSpan.end)) };
}

/**
 * The digest to verify a CSR signature with (null: the algorithm has none, EdDSA), or undefined when the
 * algorithm is unknown or does not belong to the key's type (an RSA signature labelled ECDSA is refused).
 */
function signatureDigest(oid: string, key: KeyObject): 'sha256' | 'sha384' | 'sha512' | null | undefined {
  const type = key.asymmetricKeyType;
  if (oid === OID_ED25519 || oid === OID_ED448) return type === (oid === OID_ED25519 ? 'ed25519' : 'ed448') ? null : undefined;
  const family = oid.startsWith('1.2.840.10045.4.3.') ? 'ec' : oid.startsWith('1.2.840.113549.1.1.') ? 'rsa' : undefined;
  return family !== undefined && family === type ? digestOfSignatureOid(oid) : undefined;
}

const OID_ED25519 = '1.3.101.112';
const OID_ED448 = '1.3.101.113';
