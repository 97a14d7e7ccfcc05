/**
 * DER building and reading for the handful of X.509 / PKCS#10 structures Loom needs, on node-forge's ASN.1
 * codec. node-forge models bytes as binary strings; these helpers keep Buffers at the edges. Signatures and
 * keys never go through here: they are node:crypto's (native).
 */
import forge from 'node-forge';

export type Asn1 = forge.asn1.Asn1;

const { asn1 } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

const bytes = (buffer: Uint8Array): string => Buffer.from(buffer).toString('latin1');

export const der = (node: Asn1): Buffer => Buffer.from(asn1.toDer(node).getBytes(), 'latin1');

/** Parses one DER value. Bit strings stay opaque (node-forge would otherwise guess at nested DER). */
export function parseDer(buffer: Uint8Array): Asn1 {
  // node-forge accepts an options object here although its typings only declare `strict`.
  const options = { strict: true, decodeBitStrings: false } as unknown as boolean;
  return asn1.fromDer(bytes(buffer), options);
}

export const seq = (items: Asn1[]): Asn1 => asn1.create(U, T.SEQUENCE, true, items);
export const set = (items: Asn1[]): Asn1 => asn1.create(U, T.SET, true, items);
export const oid = (dotted: string): Asn1 => asn1.create(U, T.OID, false, asn1.oidToDer(dotted).getBytes());
export const nullValue = (): Asn1 => asn1.create(U, T.NULL, false, '');
export const bool = (value: boolean): Asn1 => asn1.create(U, T.BOOLEAN, false, value ? '\xff' : '\x00');
export const utf8 = (text: string): Asn1 => asn1.create(U, T.UTF8, false, forge.util.encodeUtf8(text));
export const octets = (value: Uint8Array): Asn1 => asn1.create(U, T.OCTETSTRING, false, bytes(value));
/** A BIT STRING with no unused bits. */
export const bitString = (value: Uint8Array, unusedBits = 0): Asn1 =>
  asn1.create(U, T.BITSTRING, false, String.fromCharCode(unusedBits) + bytes(value));
/** A value already in DER, embedded as is (parsed, so node-forge can re-emit it). */
export const raw = (encoded: Uint8Array): Asn1 => parseDer(encoded);

/** DER header (tag + definite length) for `length` content bytes. */
function header(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.of(tag, length);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest & 0xff);
  return Buffer.of(tag, 0x80 | octets.length, ...octets);
}

/**
 * A SEQUENCE of parts given as node-forge nodes or as DER already encoded, concatenated without re-parsing:
 * signed structures embed their exact signed bytes, and large parts are not decoded only to be re-encoded.
 */
export function sequenceDer(parts: readonly (Asn1 | Uint8Array)[]): Buffer {
  const encoded = parts.map((part) => (part instanceof Uint8Array ? Buffer.from(part.buffer, part.byteOffset, part.byteLength) : der(part)));
  const length = encoded.reduce((sum, part) => sum + part.length, 0);
  return Buffer.concat([header(0x30, length), ...encoded]);
}

/** A non-negative INTEGER from big-endian magnitude bytes (a leading zero is added when the top bit is set). */
export function unsignedInteger(magnitude: Uint8Array): Asn1 {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start += 1;
  const trimmed = Buffer.from(magnitude.subarray(start));
  const value = (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), trimmed]) : trimmed;
  return asn1.create(U, T.INTEGER, false, bytes(value.length === 0 ? Buffer.of(0) : value));
}

export const smallInteger = (value: number): Asn1 => asn1.create(U, T.INTEGER, false, asn1.integerToDer(value).getBytes());

/** `[n] EXPLICIT` around `inner`. */
export const explicit = (tag: number, inner: Asn1): Asn1 => asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, true, [inner]);
/** `[n] IMPLICIT` primitive with the given content bytes. */
export const implicitPrimitive = (tag: number, content: string | Uint8Array): Asn1 =>
  asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, false, typeof content === 'string' ? content : bytes(content));
/** `[n] IMPLICIT` constructed with the given children. */
export const implicitConstructed = (tag: number, children: Asn1[]): Asn1 => asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, true, children);

/** X.509 Time: UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). Seconds precision. */
export function time(date: Date): Asn1 {
  const whole = new Date(Math.floor(date.getTime() / 1000) * 1000);
  return whole.getUTCFullYear() < 2050
    ? asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(whole))
    : asn1.create(U, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(whole));
}

// ---- reading -------------------------------------------------------------------------------------------

export const isSequence = (node: Asn1 | undefined): node is Asn1 & { value: Asn1[] } =>
  node !== undefined && node.tagClass === U && node.type === T.SEQUENCE && Array.isArray(node.value);

export const children = (node: Asn1 | undefined): Asn1[] => (node !== undefined && Array.isArray(node.value) ? node.value : []);

/** The dotted OID of an OBJECT IDENTIFIER node, or undefined. */
export function readOid(node: Asn1 | undefined): string | undefined {
  if (node === undefined || node.tagClass !== U || node.type !== T.OID || typeof node.value !== 'string') return undefined;
  return asn1.derToOid(node.value);
}

/** Content bytes of a primitive node. */
export function content(node: Asn1 | undefined): Buffer | undefined {
  return node !== undefined && typeof node.value === 'string' ? Buffer.from(node.value, 'latin1') : undefined;
}

export const isContext = (node: Asn1, tag: number): boolean => node.tagClass === asn1.Class.CONTEXT_SPECIFIC && (node.type as number) === tag;

/**
 * The byte ranges of one DER TLV at `offset`: where its content starts and where it ends. Signed structures
 * must be verified over their exact original bytes, which a decode/re-encode round trip need not preserve.
 */
export function tlvSpan(buffer: Uint8Array, offset: number): { readonly start: number; readonly contentStart: number; readonly end: number } {
  let cursor = offset + 1; // single-byte tags only: every tag in X.509's outer structures is one
  const first = buffer[cursor];
  if (first === undefined) throw new Error('truncated DER');
  cursor += 1;
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new Error('unsupported DER length');
    length = 0;
    for (let i = 0; i < count; i += 1) {
      const byte = buffer[cursor];
      if (byte === undefined) throw new Error('truncated DER');
      length = length * 256 + byte;
      cursor += 1;
    }
  }
  const end = cursor + length;
  if (end > buffer.length) throw new Error('truncated DER');
  return { start: offset, contentStart: cursor, end };
}
