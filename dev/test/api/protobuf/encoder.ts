/**
 * A small protobuf writer for building test bodies field by field, independent of the decoder's schema tables:
 * each helper returns the bytes of one field (tag and value), `message` concatenates fields, `envelope` wraps a
 * message as Kubernetes does (`k8s\0` + runtime.Unknown).
 */

export type Bytes = Uint8Array;

const concat = (parts: readonly Bytes[]): Bytes => Uint8Array.from(Buffer.concat(parts));

/** A varint: unsigned, or a negative number as its 64-bit two's complement (10 bytes), as Go writes int32/int64. */
export function varintBytes(value: number | bigint): Bytes {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v === 0n ? low : low | 0x80);
  } while (v !== 0n);
  return Uint8Array.from(out);
}

export const tag = (field: number, wire: number): Bytes => varintBytes(field * 8 + wire);

/** A varint field (int32, int64, bool, enum). */
export const int = (field: number, value: number | bigint): Bytes => concat([tag(field, 0), varintBytes(value)]);
export const bool = (field: number, value: boolean): Bytes => int(field, value ? 1 : 0);

/** A length-delimited field with raw bytes. */
export const bytes = (field: number, value: Bytes | string): Bytes => {
  const data = typeof value === 'string' ? Uint8Array.from(Buffer.from(value, 'utf8')) : value;
  return concat([tag(field, 2), varintBytes(data.length), data]);
};
export const str = bytes;

/** A nested message field made of `fields`. */
export const sub = (field: number, ...fields: Bytes[]): Bytes => bytes(field, concat(fields));

/** The bytes of a message made of `fields`. */
export const message = (...fields: Bytes[]): Bytes => concat(fields);

/** A map entry: { key = 1; value = 2; } with `value` already a field numbered 2 (e.g. `str(2, 'v')`). */
export const entry = (field: number, key: string, value?: Bytes): Bytes => sub(field, str(1, key), ...(value === undefined ? [] : [value]));

/** A map<string, string> entry. */
export const label = (field: number, key: string, value: string): Bytes => entry(field, key, str(2, value));

/** A packed repeated varint field. */
export const packed = (field: number, values: readonly (number | bigint)[]): Bytes => bytes(field, concat(values.map(varintBytes)));

/** metav1.Time { seconds = 1; nanos = 2; } */
export const time = (field: number, seconds: number, nanos = 0): Bytes => sub(field, int(1, seconds), ...(nanos === 0 ? [] : [int(2, nanos)]));

/** IntOrString as Go writes it: every field, type 0 (int) or 1 (string). */
export const intOrString = (field: number, value: number | string): Bytes =>
  typeof value === 'number' ? sub(field, int(1, 0), int(2, value), str(3, '')) : sub(field, int(1, 1), int(2, 0), str(3, value));

/** Quantity { string = 1; } */
export const quantity = (field: number, value: string): Bytes => sub(field, str(1, value));

export const MAGIC = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

/** A Kubernetes protobuf body: magic, then runtime.Unknown { typeMeta { apiVersion, kind }, raw, ...extra }. */
export const envelope = (apiVersion: string, kind: string, raw: Bytes, ...extra: Bytes[]): Bytes => concat([MAGIC, sub(1, str(1, apiVersion), str(2, kind)), bytes(2, raw), ...extra]);
