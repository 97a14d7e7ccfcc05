/**
 * The protocol buffers wire format: a reader of varints and length-delimited fields with bounds checked on every
 * read, and the few writers the server's own protobuf answers need. Knows nothing of Kubernetes' messages
 * (schema.ts and decode.ts do). Pure.
 */

/** Wire types (the low three bits of a field's tag). Groups (3, 4) are deprecated and unused by Kubernetes. */
export const WireType = { Varint: 0, Fixed64: 1, Bytes: 2, StartGroup: 3, EndGroup: 4, Fixed32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const WIRE_NAMES: Record<number, string> = { 0: 'varint', 1: 'fixed64', 2: 'length-delimited', 3: 'start-group', 4: 'end-group', 5: 'fixed32' };

/** `0 (varint)`, `2 (length-delimited)`: how error messages name a wire type. */
export const wireTypeName = (wire: number): string => `${wire} (${WIRE_NAMES[wire] ?? 'invalid'})`;

/** Malformed wire data: truncated, an overlong varint, an invalid tag. `offset` is where the reader stood. */
export class WireError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** The largest field number protobuf allows (2^29 - 1). */
export const MAX_FIELD_NUMBER = 0x1fffffff;

/** A cursor over `bytes[start, end)`; every read advances it or throws {@link WireError}. */
export class Reader {
  readonly #bytes: Uint8Array;
  readonly #end: number;
  #pos: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.#bytes = bytes;
    this.#pos = start;
    this.#end = end;
  }

  /** Whether everything has been read. */
  get done(): boolean {
    return this.#pos >= this.#end;
  }

  /** The absolute offset of the next byte. */
  get offset(): number {
    return this.#pos;
  }

  #byte(): number {
    if (this.#pos >= this.#end) throw new WireError('unexpected end of data', this.#pos);
    return this.#bytes[this.#pos++] ?? 0;
  }

  /** A varint as an unsigned 64-bit integer (at most 10 bytes; bits beyond 64 are dropped, as Go does). */
  varint(): bigint {
    const start = this.#pos;
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.#byte();
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, value);
    }
    throw new WireError('varint longer than 10 bytes', start);
  }

  /** A varint that must fit a JavaScript number exactly (tags and lengths). */
  uint(): number {
    const start = this.#pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.#byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(value)) throw new WireError('length or tag out of range', start);
        return value;
      }
      scale *= 128;
    }
    throw new WireError('varint longer than 10 bytes', start);
  }

  /** A field's tag: its number (1..2^29-1) and wire type. */
  tag(): { readonly field: number; readonly wire: number } {
    const start = this.#pos;
    const key = this.uint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0 || field > MAX_FIELD_NUMBER) throw new WireError(`invalid field number ${field}`, start);
    return { field, wire };
  }

  /** A length-delimited field's bytes (a view, not a copy). */
  bytes(): Uint8Array {
    const start = this.#pos;
    const length = this.uint();
    if (length > this.#end - this.#pos) throw new WireError(`length ${length} runs past the end of the data`, start);
    const out = this.#bytes.subarray(this.#pos, this.#pos + length);
    this.#pos += length;
    return out;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** A string field's bytes as text; invalid UTF-8 becomes U+FFFD, as Go's JSON encoder writes such strings (a leading BOM is kept). */
export const decodeUtf8 = (bytes: Uint8Array): string => utf8.decode(bytes);

// ---- write side ----

/** An unsigned varint (a non-negative safe integer). */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value} as a varint`);
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** A length-delimited field: tag (wire type 2), length, `payload` (a string is written as UTF-8). */
export function lengthDelimited(field: number, payload: Uint8Array | string): Uint8Array {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return Buffer.concat([encodeVarint(field * 8 + WireType.Bytes), encodeVarint(bytes.length), bytes]);
}
