/**
 * Kubernetes' protobuf request bodies (`application/vnd.kubernetes.protobuf`) to the JSON object the API handles.
 *
 * A body is the magic `k8s\0` then a runtime.Unknown: { typeMeta { apiVersion, kind }, raw, contentEncoding,
 * contentType }, where `raw` is the object's message. The message is read with the schema tables (kinds.ts) into
 * what Go's JSON encoding of the same object would be: members named as in JSON, embedded messages inlined, bytes
 * as base64, Time as RFC 3339 (whole seconds), Quantity as its string, IntOrString as a number or a string, maps
 * as objects. Proto2 as Kubernetes writes it: value scalars are always on the wire and a zero one means absent,
 * pointer scalars only when set; repeated numbers may be packed or not. A field number the tables do not know is
 * refused (400) rather than dropped, naming the message and where it was. Pure.
 */
import { SCHEMA, messageForKind } from './kinds.js';
import type { Builtin, Field, Message, Scalar } from './schema.js';
import { Reader, WireError, WireType, decodeUtf8, wireTypeName } from './wire.js';

/** The media type of Kubernetes' protobuf encoding. */
export const KUBERNETES_PROTOBUF = 'application/vnd.kubernetes.protobuf';

/** The four bytes every Kubernetes protobuf body starts with: `k8s\0`. */
export const PROTOBUF_MAGIC: Uint8Array = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

/**
 * A body that cannot be decoded: 400 (BadRequest) when it is malformed or carries a field the local cluster does
 * not know, 415 (UnsupportedMediaType) when its kind or content encoding is not decoded from protobuf at all.
 */
export class ProtobufDecodeError extends Error {
  constructor(
    message: string,
    readonly code: 400 | 415 = 400,
  ) {
    super(message);
  }

  get reason(): 'BadRequest' | 'UnsupportedMediaType' {
    return this.code === 415 ? 'UnsupportedMediaType' : 'BadRequest';
  }
}

type Json = Record<string, unknown>;

/** Where the decoder stands, for error messages: the JSON path and the message being read. */
interface Context {
  /** The whole body, so offsets in messages are absolute. */
  readonly body: Uint8Array;
  readonly path: string;
  readonly message: string;
}

const at = (ctx: Context): string => (ctx.path === '' ? '' : ` at ${ctx.path}`);
const fail = (ctx: Context, what: string): ProtobufDecodeError => new ProtobufDecodeError(`invalid protobuf body: ${what} in ${ctx.message}${at(ctx)}`);

/** Runs `read`, turning a {@link WireError} into a message that says where in the body and the object it happened. */
function guarded<T>(ctx: Context, bytes: Uint8Array, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof WireError)) throw err;
    const offset = bytes.byteOffset - ctx.body.byteOffset + err.offset;
    throw fail(ctx, `${err.message} (byte ${offset})`);
  }
}

function expectWire(ctx: Context, field: Field, wire: number, expected: WireType): void {
  if (wire === expected) return;
  const name = field.json === '' ? '' : ` (${field.json})`;
  throw fail(ctx, `field ${field.number}${name} has wire type ${wireTypeName(wire)}, expected ${wireTypeName(expected)}`);
}

const member = (path: string, name: string): string => (name === '' ? path : path === '' ? name : `${path}.${name}`);

const messageNamed = (name: string): Message => {
  const message = SCHEMA.get(name);
  if (message === undefined) throw new Error(`the protobuf schema has no message ${name}`);
  return message;
};

// ---- scalars ----

const SCALAR_WIRE: Record<Scalar, WireType> = { string: WireType.Bytes, bytes: WireType.Bytes, bool: WireType.Varint, int32: WireType.Varint, int64: WireType.Varint };

function scalarFromVarint(scalar: Scalar, value: bigint): unknown {
  if (scalar === 'bool') return value !== 0n;
  if (scalar === 'int32') return Number(BigInt.asIntN(32, value));
  return Number(BigInt.asIntN(64, value));
}

function readScalar(reader: Reader, scalar: Scalar): unknown {
  if (scalar === 'string') return decodeUtf8(reader.bytes());
  if (scalar === 'bytes') return Buffer.from(reader.bytes()).toString('base64');
  return scalarFromVarint(scalar, reader.varint());
}

const isZero = (value: unknown): boolean => value === '' || value === 0 || value === false;

// ---- builtins ----

/** Reads a builtin's own small message, field by field, refusing fields it does not have. */
function builtinFields(bytes: Uint8Array, ctx: Context, fields: Record<number, Scalar>): Map<number, unknown[]> {
  const out = new Map<number, unknown[]>();
  const reader = new Reader(bytes);
  guarded(ctx, bytes, () => {
    while (!reader.done) {
      const { field, wire } = reader.tag();
      const scalar = fields[field];
      if (scalar === undefined) throw fail(ctx, `unknown field number ${field}`);
      if (wire !== SCALAR_WIRE[scalar]) throw fail(ctx, `field ${field} has wire type ${wireTypeName(wire)}, expected ${wireTypeName(SCALAR_WIRE[scalar])}`);
      const values = out.get(field) ?? [];
      values.push(readScalar(reader, scalar));
      out.set(field, values);
    }
  });
  return out;
}

const last = (values: unknown[] | undefined): unknown => values?.[values.length - 1];
const lastString = (values: unknown[] | undefined): string | undefined => {
  const value = last(values);
  return typeof value === 'string' ? value : undefined;
};
const lastNumber = (values: unknown[] | undefined): number | undefined => {
  const value = last(values);
  return typeof value === 'number' ? value : undefined;
};

/** Seconds from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, the range of metav1.Timestamp. */
const MIN_SECONDS = -62135596800;
const MAX_SECONDS = 253402300799;

/** metav1.Time: { seconds = 1; nanos = 2; } as `2006-01-02T15:04:05Z`; Go keeps whole seconds only, as its JSON does. */
function timestamp(bytes: Uint8Array, ctx: Context): string | undefined {
  // An empty Time is Go's zero time, which JSON writes as null: left out.
  if (bytes.length === 0) return undefined;
  const fields = builtinFields(bytes, ctx, { 1: 'int64', 2: 'int32' });
  const seconds = lastNumber(fields.get(1)) ?? 0;
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) throw fail(ctx, `timestamp ${seconds} s is outside 0001-01-01..9999-12-31`);
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
}

function decodeBuiltin(builtin: Builtin, bytes: Uint8Array, ctx: Context): unknown {
  switch (builtin) {
    case 'Time':
      return timestamp(bytes, ctx);
    case 'Quantity': {
      // The zero Quantity writes as "0".
      return lastString(builtinFields(bytes, ctx, { 1: 'string' }).get(1)) ?? '0';
    }
    case 'IntOrString': {
      const fields = builtinFields(bytes, ctx, { 1: 'int64', 2: 'int32', 3: 'string' });
      const type = lastNumber(fields.get(1)) ?? 0;
      if (type === 0) return lastNumber(fields.get(2)) ?? 0;
      if (type === 1) return lastString(fields.get(3)) ?? '';
      throw fail(ctx, `IntOrString type ${type} is neither 0 (int) nor 1 (string)`);
    }
    case 'FieldsV1': {
      const fields = builtinFields(bytes, ctx, { 1: 'bytes' });
      const raw = lastString(fields.get(1)) ?? '';
      if (raw === '') return undefined;
      try {
        return JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as unknown;
      } catch {
        throw fail(ctx, 'FieldsV1 does not hold a JSON document');
      }
    }
    case 'ExtraValue':
      return (builtinFields(bytes, ctx, { 1: 'string' }).get(1) ?? []).filter((v) => typeof v === 'string');
  }
}

// ---- messages ----

/**
 * Reads one value of a non-map field whose tag has been read. `ctx` is the message holding the field (wire type
 * errors name it), `path` where the value goes (nested messages and builtins report from there).
 */
function readValue(reader: Reader, field: Field, wire: number, ctx: Context, path: string): unknown {
  const type = field.type;
  if (type.kind === 'scalar') {
    expectWire(ctx, field, wire, SCALAR_WIRE[type.scalar]);
    return readScalar(reader, type.scalar);
  }
  expectWire(ctx, field, wire, WireType.Bytes);
  const bytes = reader.bytes();
  if (type.kind === 'builtin') return decodeBuiltin(type.builtin, bytes, { ...ctx, path, message: `${ctx.message} field ${field.number} (${type.builtin})` });
  const out: Json = {};
  decodeInto(messageNamed(type.message), bytes, out, { ...ctx, path, message: type.message });
  return out;
}

const entryName = (message: string, json: string): string => `${message}.${json.charAt(0).toUpperCase()}${json.slice(1)}Entry`;

/** A map entry { key = 1; value = 2; }; a missing key is "", a missing value its type's zero. */
function readEntry(bytes: Uint8Array, field: Field, ctx: Context): [string, unknown] {
  const entry = { ...ctx, message: entryName(ctx.message, field.json) };
  const reader = new Reader(bytes);
  let key = '';
  let value: unknown;
  guarded(entry, bytes, () => {
    while (!reader.done) {
      const { field: number, wire } = reader.tag();
      if (number === 1) {
        if (wire !== WireType.Bytes) throw fail(entry, `field 1 (key) has wire type ${wireTypeName(wire)}, expected ${wireTypeName(WireType.Bytes)}`);
        key = decodeUtf8(reader.bytes());
      } else if (number === 2) {
        value = readValue(reader, { ...field, number: 2, json: 'value', label: 'single' }, wire, entry, `${entry.path}[${JSON.stringify(key)}]`);
      } else {
        throw fail(entry, `unknown field number ${number}`);
      }
    }
  });
  if (value === undefined) {
    const type = field.type;
    if (type.kind === 'scalar') value = type.scalar === 'bool' ? false : type.scalar === 'int32' || type.scalar === 'int64' ? 0 : '';
    else if (type.kind === 'builtin') value = decodeBuiltin(type.builtin, new Uint8Array(0), entry);
    else value = {};
  }
  return [key, value];
}

const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function objectAt(into: Json, name: string): Json {
  const existing = into[name];
  if (isJson(existing)) return existing;
  const created: Json = {};
  into[name] = created;
  return created;
}

function arrayAt(into: Json, name: string): unknown[] {
  const existing = into[name];
  if (Array.isArray(existing)) return existing as unknown[];
  const created: unknown[] = [];
  into[name] = created;
  return created;
}

/**
 * Reads `bytes` as `message` into `into` (JSON members are added; a message field seen twice is merged, a scalar
 * seen twice keeps the last value, repeated fields append: protobuf's rules).
 */
function decodeInto(message: Message, bytes: Uint8Array, into: Json, ctx: Context): void {
  const reader = new Reader(bytes);
  guarded(ctx, bytes, () => {
    while (!reader.done) {
      const { field: number, wire } = reader.tag();
      const field = message.fields.get(number);
      if (field === undefined) {
        throw new ProtobufDecodeError(
          `invalid protobuf body: unknown field number ${number} in ${message.name}${at(ctx)}; the local cluster does not decode it (send this object as JSON instead)`,
        );
      }
      const path = member(ctx.path, field.json);
      switch (field.label) {
        case 'inline': {
          expectWire(ctx, field, wire, WireType.Bytes);
          const type = field.type;
          if (type.kind !== 'message') throw new Error(`${message.name} field ${number}: only messages are embedded`);
          decodeInto(messageNamed(type.message), reader.bytes(), into, { ...ctx, message: type.message });
          break;
        }
        case 'map': {
          expectWire(ctx, field, wire, WireType.Bytes);
          const [key, value] = readEntry(reader.bytes(), field, { ...ctx, path });
          // An own member even for keys like `__proto__`, as JSON.parse makes them.
          Object.defineProperty(objectAt(into, field.json), key, { value, enumerable: true, writable: true, configurable: true });
          break;
        }
        case 'repeated': {
          const list = arrayAt(into, field.json);
          const type = field.type;
          if (type.kind === 'scalar' && SCALAR_WIRE[type.scalar] === WireType.Varint && wire === WireType.Bytes) {
            // Packed: a run of varints.
            const packed = reader.bytes();
            const inner = new Reader(packed);
            guarded(ctx, packed, () => {
              while (!inner.done) list.push(scalarFromVarint(type.scalar, inner.varint()));
            });
          } else {
            const value = readValue(reader, field, wire, ctx, `${path}[${list.length}]`);
            list.push(value ?? null);
          }
          break;
        }
        case 'single': {
          const type = field.type;
          if (type.kind === 'message') {
            expectWire(ctx, field, wire, WireType.Bytes);
            decodeInto(messageNamed(type.message), reader.bytes(), objectAt(into, field.json), { ...ctx, path, message: type.message });
            break;
          }
          const value = readValue(reader, field, wire, ctx, path);
          if (value === undefined || (type.kind === 'scalar' && !field.pointer && isZero(value))) delete into[field.json];
          else into[field.json] = value;
          break;
        }
      }
    }
  });
}

/** Decodes `bytes` as the message named `name` (fully qualified), as {@link decodeKubernetesProtobuf} decodes `raw`. */
export function decodeMessage(name: string, bytes: Uint8Array): Json {
  const out: Json = {};
  decodeInto(messageNamed(name), bytes, out, { body: bytes, path: '', message: name });
  return out;
}

interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
  contentType: string;
}

const UNKNOWN = 'k8s.io.apimachinery.pkg.runtime.Unknown';
const TYPE_META = 'k8s.io.apimachinery.pkg.runtime.TypeMeta';

function stringField(reader: Reader, wire: number, ctx: Context, number: number, name: string): string {
  if (wire !== WireType.Bytes) throw fail(ctx, `field ${number} (${name}) has wire type ${wireTypeName(wire)}, expected ${wireTypeName(WireType.Bytes)}`);
  return decodeUtf8(reader.bytes());
}

function readEnvelope(body: Uint8Array): Envelope {
  const envelope: Envelope = { apiVersion: '', kind: '', raw: new Uint8Array(0), contentEncoding: '', contentType: '' };
  const bytes = body.subarray(PROTOBUF_MAGIC.length);
  const ctx: Context = { body, path: '', message: UNKNOWN };
  const reader = new Reader(bytes);
  guarded(ctx, bytes, () => {
    while (!reader.done) {
      const { field, wire } = reader.tag();
      if (field === 1) {
        if (wire !== WireType.Bytes) throw fail(ctx, `field 1 (typeMeta) has wire type ${wireTypeName(wire)}, expected ${wireTypeName(WireType.Bytes)}`);
        const typeMeta = reader.bytes();
        const inner = new Reader(typeMeta);
        const tctx = { ...ctx, message: TYPE_META };
        guarded(tctx, typeMeta, () => {
          while (!inner.done) {
            const tag = inner.tag();
            if (tag.field === 1) envelope.apiVersion = stringField(inner, tag.wire, tctx, 1, 'apiVersion');
            else if (tag.field === 2) envelope.kind = stringField(inner, tag.wire, tctx, 2, 'kind');
            else throw fail(tctx, `unknown field number ${tag.field}`);
          }
        });
      } else if (field === 2) {
        if (wire !== WireType.Bytes) throw fail(ctx, `field 2 (raw) has wire type ${wireTypeName(wire)}, expected ${wireTypeName(WireType.Bytes)}`);
        envelope.raw = reader.bytes();
      } else if (field === 3) {
        envelope.contentEncoding = stringField(reader, wire, ctx, 3, 'contentEncoding');
      } else if (field === 4) {
        envelope.contentType = stringField(reader, wire, ctx, 4, 'contentType');
      } else {
        throw fail(ctx, `unknown field number ${field}`);
      }
    }
  });
  return envelope;
}

const hasMagic = (body: Uint8Array): boolean => body.length >= PROTOBUF_MAGIC.length && PROTOBUF_MAGIC.every((b, i) => body[i] === b);

/**
 * The JSON object a Kubernetes protobuf body carries, with `apiVersion` and `kind` from its envelope first.
 * Throws {@link ProtobufDecodeError}: 400 for a malformed body or an unknown field, 415 for a kind the local
 * cluster does not decode from protobuf or a content encoding it does not support.
 */
export function decodeKubernetesProtobuf(body: Uint8Array): Json {
  if (!hasMagic(body)) throw new ProtobufDecodeError(`the request body is not Kubernetes protobuf: it does not start with "k8s\\x00"`);
  const envelope = readEnvelope(body);
  if (envelope.contentEncoding !== '') throw new ProtobufDecodeError(`protobuf content encoding ${JSON.stringify(envelope.contentEncoding)} is not supported`, 415);
  if (envelope.contentType !== '' && envelope.contentType !== KUBERNETES_PROTOBUF) {
    throw new ProtobufDecodeError(`a protobuf envelope holding ${JSON.stringify(envelope.contentType)} is not supported`, 415);
  }
  if (envelope.apiVersion === '' || envelope.kind === '') throw new ProtobufDecodeError('invalid protobuf body: the envelope does not name the apiVersion and kind of the object');
  const message = messageForKind(envelope.apiVersion, envelope.kind);
  if (message === undefined) {
    throw new ProtobufDecodeError(`the local cluster does not decode ${envelope.kind} (${envelope.apiVersion}) from protobuf; send it as JSON (application/json)`, 415);
  }
  const out: Json = { apiVersion: envelope.apiVersion, kind: envelope.kind };
  decodeInto(message, envelope.raw, out, { body, path: '', message: message.name });
  return out;
}
