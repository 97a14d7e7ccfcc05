/**
 * Schema tables for Kubernetes' protobuf messages: for each message, its field numbers with the JSON member each
 * becomes and how to read it. Tables are written compactly (see {@link PackageTable}) and compiled once into
 * {@link Message}s; a malformed table or a reference to an unknown message fails at compile time. Pure.
 */

/** Protobuf scalars Kubernetes uses (strings, enums and UIDs are all `string`). */
export type Scalar = 'string' | 'bool' | 'int32' | 'int64' | 'bytes';

/**
 * Messages with a JSON form of their own: `Time` (an RFC 3339 string), `Quantity` (its string), `IntOrString` (a
 * number or a string), `FieldsV1` (the JSON document it carries), `ExtraValue` (a string array).
 */
export type Builtin = 'Time' | 'Quantity' | 'IntOrString' | 'FieldsV1' | 'ExtraValue';

export const BUILTINS: readonly Builtin[] = ['Time', 'Quantity', 'IntOrString', 'FieldsV1', 'ExtraValue'];
const SCALARS: readonly Scalar[] = ['string', 'bool', 'int32', 'int64', 'bytes'];

export type FieldType =
  | { readonly kind: 'scalar'; readonly scalar: Scalar }
  | { readonly kind: 'builtin'; readonly builtin: Builtin }
  | { readonly kind: 'message'; readonly message: string };

export interface Field {
  readonly number: number;
  /** The JSON member; '' for an embedded message whose members join the parent's (`json:",inline"`). */
  readonly json: string;
  /** `map`: map<string, type>, entries are messages { key = 1; value = 2; }. */
  readonly label: 'single' | 'repeated' | 'map' | 'inline';
  /**
   * For scalars, a Go pointer: the field is on the wire only when set, so a zero value (`replicas: 0`,
   * `runAsUser: 0`, `automountServiceAccountToken: false`) is kept. A value scalar at its zero value is left out of
   * the JSON, as Go's JSON encoding leaves out an `omitempty` zero; to the API server both mean the same object.
   * Messages and builtins are kept whenever present (Go's `omitempty` never drops a struct), except a zero Time.
   */
  readonly pointer: boolean;
  readonly type: FieldType;
}

export interface Message {
  /** The fully qualified protobuf name (`k8s.io.api.core.v1.Container`), as error messages name it. */
  readonly name: string;
  readonly fields: ReadonlyMap<number, Field>;
}

/**
 * The messages of one protobuf package. Each message maps field numbers to `'<json> <type>'`, or `'...<Message>'`
 * for an embedded message. Types: a scalar, a builtin or a message name, prefixed by `*` (a pointer scalar), `[]`
 * (repeated) or `map[string]`; a message of another package is qualified by that package's alias (`meta.Time` is
 * not needed for builtins, `meta.ObjectMeta` is).
 */
export interface PackageTable {
  /** `k8s.io.api.core.v1` */
  readonly package: string;
  /** `core`: how other tables qualify this package's messages. */
  readonly alias: string;
  readonly messages: Readonly<Record<string, Readonly<Record<number, string>>>>;
}

export class SchemaError extends Error {}

function parseType(text: string, pkg: PackageTable, aliases: ReadonlyMap<string, PackageTable>, where: string): FieldType {
  if ((SCALARS as readonly string[]).includes(text)) return { kind: 'scalar', scalar: text as Scalar };
  if ((BUILTINS as readonly string[]).includes(text)) return { kind: 'builtin', builtin: text as Builtin };
  const dot = text.indexOf('.');
  const owner = dot < 0 ? pkg : aliases.get(text.slice(0, dot));
  const name = dot < 0 ? text : text.slice(dot + 1);
  if (owner === undefined || !/^[A-Z]\w*$/.test(name)) throw new SchemaError(`${where}: unknown type ${JSON.stringify(text)}`);
  return { kind: 'message', message: `${owner.package}.${name}` };
}

function parseField(number: number, spec: string, pkg: PackageTable, aliases: ReadonlyMap<string, PackageTable>, where: string): Field {
  if (spec.startsWith('...')) {
    const type = parseType(spec.slice(3), pkg, aliases, where);
    if (type.kind !== 'message') throw new SchemaError(`${where}: only messages can be embedded`);
    return { number, json: '', label: 'inline', pointer: false, type };
  }
  const match = /^([A-Za-z_$][\w$]*) (\*|\[\]|map\[string\])?(\S+)$/.exec(spec);
  if (match === null) throw new SchemaError(`${where}: cannot parse ${JSON.stringify(spec)}`);
  const [, json = '', prefix, typeText = ''] = match;
  const type = parseType(typeText, pkg, aliases, where);
  if (prefix === '*' && type.kind !== 'scalar') throw new SchemaError(`${where}: only scalars are marked as pointers (a message is kept whenever present)`);
  const label = prefix === '[]' ? 'repeated' : prefix === 'map[string]' ? 'map' : 'single';
  return { number, json, label, pointer: prefix === '*', type };
}

/** Compiles tables into messages by full name; throws {@link SchemaError} for malformed entries or unknown references. */
export function compileSchema(tables: readonly PackageTable[]): ReadonlyMap<string, Message> {
  const aliases = new Map(tables.map((t) => [t.alias, t]));
  const out = new Map<string, Message>();
  for (const pkg of tables) {
    for (const [name, entries] of Object.entries(pkg.messages)) {
      const full = `${pkg.package}.${name}`;
      const fields = new Map<number, Field>();
      const members = new Set<string>();
      for (const [key, spec] of Object.entries(entries)) {
        const number = Number(key);
        const where = `${full} field ${key}`;
        if (!Number.isInteger(number) || number < 1) throw new SchemaError(`${where}: not a field number`);
        const field = parseField(number, spec, pkg, aliases, where);
        if (field.json !== '' && members.has(field.json)) throw new SchemaError(`${where}: JSON member ${field.json} appears twice`);
        members.add(field.json);
        fields.set(number, field);
      }
      out.set(full, { name: full, fields });
    }
  }
  for (const message of out.values()) {
    for (const field of message.fields.values()) {
      if (field.type.kind === 'message' && !out.has(field.type.message)) throw new SchemaError(`${message.name} field ${field.number}: unknown message ${field.type.message}`);
    }
  }
  return out;
}
