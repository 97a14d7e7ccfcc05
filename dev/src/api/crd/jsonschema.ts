/**
 * A CRD's `openAPIV3Schema` (apiextensions.k8s.io/v1 JSONSchemaProps) read into a typed tree once, so the
 * validators do not re-inspect raw JSON. Keywords of the wrong JSON type are read as absent (Kubernetes would
 * have refused to decode such a CRD). Also: the Go rendering of the internal JSONSchemaProps, which some
 * Kubernetes error messages print as the bad value.
 */
import { goStruct, type Rendered } from './field.js';

export interface ValidationRule {
  readonly rule: string;
  readonly message: string;
  readonly messageExpression: string;
  readonly reason?: string;
  readonly fieldPath: string;
  readonly optionalOldSelf?: boolean;
}

export interface SchemaOrBool {
  readonly allows: boolean;
  readonly schema?: Schema;
}

export interface Schema {
  /** The node as written. */
  readonly raw: Readonly<Record<string, unknown>>;
  readonly id: string;
  readonly schemaUrl: string;
  readonly ref?: string;
  readonly description: string;
  /** '' when absent. */
  readonly type: string;
  readonly nullable: boolean;
  readonly format: string;
  readonly title: string;
  /** Present only for a non-null `default` (a JSON null is no default to Kubernetes). */
  readonly default?: unknown;
  readonly hasDefault: boolean;
  readonly maximum?: number;
  readonly exclusiveMaximum: boolean;
  readonly minimum?: number;
  readonly exclusiveMinimum: boolean;
  readonly maxLength?: number;
  readonly minLength?: number;
  readonly pattern: string;
  readonly maxItems?: number;
  readonly minItems?: number;
  readonly uniqueItems: boolean;
  readonly multipleOf?: number;
  readonly enum?: readonly unknown[];
  readonly maxProperties?: number;
  readonly minProperties?: number;
  readonly required?: readonly string[];
  /** `items` as one schema. */
  readonly items?: Schema;
  /** `items` as an array of schemas (forbidden in CRDs). */
  readonly itemsArray?: readonly Schema[];
  readonly allOf: readonly Schema[];
  readonly oneOf: readonly Schema[];
  readonly anyOf: readonly Schema[];
  readonly not?: Schema;
  /** In the order written. */
  readonly properties?: ReadonlyMap<string, Schema>;
  readonly additionalProperties?: SchemaOrBool;
  readonly patternProperties?: ReadonlyMap<string, Schema>;
  readonly dependencies?: ReadonlyMap<string, { readonly schema?: Schema; readonly property?: readonly string[] }>;
  readonly additionalItems?: SchemaOrBool;
  readonly definitions?: ReadonlyMap<string, Schema>;
  readonly externalDocs?: { readonly description: string; readonly url: string };
  readonly example?: unknown;
  /** undefined, true, or (invalid) false. */
  readonly preserveUnknownFields?: boolean;
  readonly embeddedResource: boolean;
  readonly intOrString: boolean;
  readonly listMapKeys?: readonly string[];
  readonly listType?: string;
  readonly mapType?: string;
  readonly validations: readonly ValidationRule[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const optStr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const bool = (v: unknown): boolean => v === true;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);
const strings = (v: unknown): readonly string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);

const cache = new WeakMap<object, Schema>();

function readMap(v: unknown): ReadonlyMap<string, Schema> | undefined {
  if (!isRecord(v)) return undefined;
  return new Map(Object.entries(v).map(([k, s]) => [k, readSchema(s)]));
}

function schemaOrBool(v: unknown): SchemaOrBool | undefined {
  if (typeof v === 'boolean') return { allows: v };
  if (isRecord(v)) return { allows: true, schema: readSchema(v) };
  return undefined;
}

function rule(v: unknown): ValidationRule {
  const r = isRecord(v) ? v : {};
  const reason = optStr(r.reason);
  const optionalOldSelf = typeof r.optionalOldSelf === 'boolean' ? r.optionalOldSelf : undefined;
  return {
    rule: str(r.rule),
    message: str(r.message),
    messageExpression: str(r.messageExpression),
    ...(reason === undefined ? {} : { reason }),
    fieldPath: str(r.fieldPath),
    ...(optionalOldSelf === undefined ? {} : { optionalOldSelf }),
  };
}

/** The typed view of a raw schema node (cached per raw object). */
export function readSchema(raw: unknown): Schema {
  if (isRecord(raw)) {
    const hit = cache.get(raw);
    if (hit !== undefined) return hit;
  }
  const r = isRecord(raw) ? raw : {};
  const items = r.items;
  const deps = isRecord(r.dependencies)
    ? new Map(
        Object.entries(r.dependencies).map(([k, d]) => {
          const property = strings(d);
          return [k, Array.isArray(d) ? { ...(property === undefined ? {} : { property }) } : { schema: readSchema(d) }];
        }),
      )
    : undefined;
  const docs = isRecord(r.externalDocs) ? { description: str(r.externalDocs.description), url: str(r.externalDocs.url) } : undefined;
  const opt = <K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } => (v === undefined ? {} : ({ [k]: v } as { [P in K]?: V }));
  const s: Schema = {
    raw: r,
    id: str(r.id),
    schemaUrl: str(r.$schema),
    ...opt('ref', optStr(r.$ref)),
    description: str(r.description),
    type: str(r.type),
    nullable: bool(r.nullable),
    format: str(r.format),
    title: str(r.title),
    ...(r.default === undefined || r.default === null ? {} : { default: r.default }),
    hasDefault: r.default !== undefined && r.default !== null,
    ...opt('maximum', num(r.maximum)),
    exclusiveMaximum: bool(r.exclusiveMaximum),
    ...opt('minimum', num(r.minimum)),
    exclusiveMinimum: bool(r.exclusiveMinimum),
    ...opt('maxLength', int(r.maxLength)),
    ...opt('minLength', int(r.minLength)),
    pattern: str(r.pattern),
    ...opt('maxItems', int(r.maxItems)),
    ...opt('minItems', int(r.minItems)),
    uniqueItems: bool(r.uniqueItems),
    ...opt('multipleOf', num(r.multipleOf)),
    ...opt('enum', Array.isArray(r.enum) ? (r.enum as unknown[]) : undefined),
    ...opt('maxProperties', int(r.maxProperties)),
    ...opt('minProperties', int(r.minProperties)),
    ...opt('required', strings(r.required)),
    ...(isRecord(items) ? { items: readSchema(items) } : {}),
    ...(Array.isArray(items) ? { itemsArray: items.map(readSchema) } : {}),
    allOf: Array.isArray(r.allOf) ? r.allOf.map(readSchema) : [],
    oneOf: Array.isArray(r.oneOf) ? r.oneOf.map(readSchema) : [],
    anyOf: Array.isArray(r.anyOf) ? r.anyOf.map(readSchema) : [],
    ...(isRecord(r.not) ? { not: readSchema(r.not) } : {}),
    ...opt('properties', readMap(r.properties)),
    ...opt('additionalProperties', schemaOrBool(r.additionalProperties)),
    ...opt('patternProperties', readMap(r.patternProperties)),
    ...opt('dependencies', deps),
    ...opt('additionalItems', schemaOrBool(r.additionalItems)),
    ...opt('definitions', readMap(r.definitions)),
    ...opt('externalDocs', docs),
    ...(r.example === undefined || r.example === null ? {} : { example: r.example }),
    ...opt('preserveUnknownFields', typeof r['x-kubernetes-preserve-unknown-fields'] === 'boolean' ? r['x-kubernetes-preserve-unknown-fields'] : undefined),
    embeddedResource: bool(r['x-kubernetes-embedded-resource']),
    intOrString: bool(r['x-kubernetes-int-or-string']),
    ...opt('listMapKeys', strings(r['x-kubernetes-list-map-keys'])),
    ...opt('listType', optStr(r['x-kubernetes-list-type'])),
    ...opt('mapType', optStr(r['x-kubernetes-map-type'])),
    validations: Array.isArray(r['x-kubernetes-validations']) ? r['x-kubernetes-validations'].map(rule) : [],
  };
  if (isRecord(raw)) cache.set(raw, s);
  return s;
}

/** Visits s and every schema below it (items, properties, additionalProperties, allOf/anyOf/oneOf/not, ...). */
export function someSchema(s: Schema | undefined, pred: (s: Schema) => boolean): boolean {
  if (s === undefined) return false;
  if (pred(s)) return true;
  const below: (Schema | undefined)[] = [
    s.items,
    ...(s.itemsArray ?? []),
    ...s.allOf,
    ...s.anyOf,
    ...s.oneOf,
    s.not,
    ...(s.properties?.values() ?? []),
    s.additionalProperties?.schema,
    ...(s.patternProperties?.values() ?? []),
    s.additionalItems?.schema,
    ...(s.definitions?.values() ?? []),
    ...[...(s.dependencies?.values() ?? [])].map((d) => d.schema),
  ];
  return below.some((b) => someSchema(b, pred));
}

// ---- Go's json.Marshal of the internal (untagged) apiextensions types, for error values ----

const ptr = (v: unknown): unknown => (v === undefined ? null : v);
const orBool = (v: SchemaOrBool | undefined): unknown => (v === undefined ? null : goStruct([['Allows', v.allows], ['Schema', v.schema === undefined ? null : internal(v.schema)]]));
const list = (l: readonly Schema[]): unknown => (l.length === 0 ? null : l.map(internal));

function schemaMap(m: ReadonlyMap<string, Schema> | undefined): unknown {
  return m === undefined ? null : Object.fromEntries([...m].map(([k, v]) => [k, internal(v)]));
}

/** The internal JSONSchemaProps as Go's encoding/json writes it (Go field names, in declaration order). */
export function internal(s: Schema): Rendered {
  const items = s.items === undefined && s.itemsArray === undefined ? null : goStruct([['Schema', s.items === undefined ? null : internal(s.items)], ['JSONSchemas', s.itemsArray?.map(internal) ?? null]]);
  const deps = s.dependencies === undefined ? null : Object.fromEntries([...s.dependencies].map(([k, d]) => [k, goStruct([['Schema', d.schema === undefined ? null : internal(d.schema)], ['Property', d.property ?? null]])]));
  const rules =
    s.validations.length === 0
      ? null
      : s.validations.map((v) =>
          goStruct([
            ['Rule', v.rule],
            ['Message', v.message],
            ['MessageExpression', v.messageExpression],
            ['Reason', ptr(v.reason)],
            ['FieldPath', v.fieldPath],
            ['OptionalOldSelf', ptr(v.optionalOldSelf)],
          ]),
        );
  return goStruct([
    ['ID', s.id],
    ['Schema', s.schemaUrl],
    ['Ref', ptr(s.ref)],
    ['Description', s.description],
    ['Type', s.type],
    ['Nullable', s.nullable],
    ['Format', s.format],
    ['Title', s.title],
    ['Default', ptr(s.default)],
    ['Maximum', ptr(s.maximum)],
    ['ExclusiveMaximum', s.exclusiveMaximum],
    ['Minimum', ptr(s.minimum)],
    ['ExclusiveMinimum', s.exclusiveMinimum],
    ['MaxLength', ptr(s.maxLength)],
    ['MinLength', ptr(s.minLength)],
    ['Pattern', s.pattern],
    ['MaxItems', ptr(s.maxItems)],
    ['MinItems', ptr(s.minItems)],
    ['UniqueItems', s.uniqueItems],
    ['MultipleOf', ptr(s.multipleOf)],
    ['Enum', ptr(s.enum)],
    ['MaxProperties', ptr(s.maxProperties)],
    ['MinProperties', ptr(s.minProperties)],
    ['Required', ptr(s.required)],
    ['Items', items],
    ['AllOf', list(s.allOf)],
    ['OneOf', list(s.oneOf)],
    ['AnyOf', list(s.anyOf)],
    ['Not', s.not === undefined ? null : internal(s.not)],
    ['Properties', schemaMap(s.properties)],
    ['AdditionalProperties', orBool(s.additionalProperties)],
    ['PatternProperties', schemaMap(s.patternProperties)],
    ['Dependencies', deps],
    ['AdditionalItems', orBool(s.additionalItems)],
    ['Definitions', schemaMap(s.definitions)],
    ['ExternalDocs', s.externalDocs === undefined ? null : goStruct([['Description', s.externalDocs.description], ['URL', s.externalDocs.url]])],
    ['Example', ptr(s.example)],
    ['XPreserveUnknownFields', ptr(s.preserveUnknownFields)],
    ['XEmbeddedResource', s.embeddedResource],
    ['XIntOrString', s.intOrString],
    ['XListMapKeys', ptr(s.listMapKeys)],
    ['XListType', ptr(s.listType)],
    ['XMapType', ptr(s.mapType)],
    ['XValidations', rules],
  ]);
}
