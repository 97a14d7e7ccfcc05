/**
 * What apiextensions.k8s.io/v1 allows in a CRD's `openAPIV3Schema` (validateCustomResourceDefinitionValidation
 * and ValidateCustomResourceDefinitionOpenAPISchema): supported keywords only, structural, defaults pruned and
 * valid, the Kubernetes extensions used consistently (list types, map types, int-or-string, embedded
 * resources), and with the status subresource only keywords that survive extracting `properties.status`.
 * `x-kubernetes-validations` rules get the static checks; CEL is not compiled.
 */
import { child, forbidden, goJson, index, invalid, key, notSupported, Rendered, required, goStruct, type FieldProblem } from './field.js';
import { internal, readSchema, someSchema, type Schema } from './jsonschema.js';
import { unsupportedField, validateDefaults, validateStructural } from './structural.js';

const TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const META = new Set(['apiVersion', 'kind', 'metadata']);

/** The options that change as the walk goes down (Kubernetes' specStandardValidator). */
interface Context {
  readonly allowDefaults: boolean;
  readonly disallowReason: string;
  readonly insideResourceMeta: boolean;
}

const noDefaults = (c: Context, reason: string): Context => ({ ...c, allowDefaults: false, disallowReason: reason });

/** Go's rendering of a *string (json: quoted, or null). */
const strPtr = (v: string | undefined): Rendered => new Rendered(goJson(v ?? null));

function keywordProblems(s: Schema, p: string, c: Context, out: FieldProblem[]): void {
  const at = (f: string): string => child(p, f);
  if (s.type !== '' && !TYPES.includes(s.type)) out.push(notSupported(at('type'), s.type, TYPES));
  if (s.hasDefault && !c.allowDefaults) out.push(forbidden(at('default'), c.disallowReason === '' ? 'must not be set' : `must not be set ${c.disallowReason}`));
  if (s.id !== '') out.push(forbidden(at('id'), 'id is not supported'));
  if (s.additionalItems !== undefined) out.push(forbidden(at('additionalItems'), 'additionalItems is not supported'));
  if ((s.patternProperties?.size ?? 0) > 0) out.push(forbidden(at('patternProperties'), 'patternProperties is not supported'));
  if ((s.definitions?.size ?? 0) > 0) out.push(forbidden(at('definitions'), 'definitions is not supported'));
  if (s.dependencies !== undefined) out.push(forbidden(at('dependencies'), 'dependencies is not supported'));
  if (s.ref !== undefined) out.push(forbidden(at('$ref'), '$ref is not supported'));
  if (s.type === 'null') out.push(forbidden(at('type'), 'type cannot be set to null, use nullable as an alternative'));
  if ((s.itemsArray?.length ?? 0) > 0) out.push(forbidden(at('items'), 'items must be a schema object and not an array'));
  if (c.insideResourceMeta && s.embeddedResource) out.push(forbidden(at('x-kubernetes-embedded-resource'), 'must not be used inside of resource meta'));
}

function listProblems(s: Schema, p: string, out: FieldProblem[]): void {
  const at = (f: string): string => child(p, f);
  if (s.preserveUnknownFields === false) out.push(invalid(at('x-kubernetes-preserve-unknown-fields'), false, 'must be true or undefined'));
  if (s.mapType !== undefined && s.type !== 'object') {
    const detail = 'must be object if x-kubernetes-map-type is specified';
    out.push(s.type === '' ? required(at('type'), detail) : invalid(at('type'), s.type, detail));
  }
  if (s.mapType !== undefined && s.mapType !== 'atomic' && s.mapType !== 'granular') out.push(notSupported(at('x-kubernetes-map-type'), s.mapType, ['atomic', 'granular']));
  const items = s.items;
  if (s.listType !== undefined && s.type !== 'array') {
    const detail = 'must be array if x-kubernetes-list-type is specified';
    out.push(s.type === '' ? required(at('type'), detail) : invalid(at('type'), s.type, detail));
  } else if (s.listType === 'set' && items !== undefined) {
    const detail = 'must be atomic as item of a list with x-kubernetes-list-type=set';
    if (items.type === 'array' && items.listType !== undefined && items.listType !== 'atomic') out.push(invalid(child(at('items'), 'x-kubernetes-list-type'), strPtr(items.listType), detail));
    if (items.type === 'object' && items.mapType !== 'atomic') out.push(invalid(child(at('items'), 'x-kubernetes-map-type'), strPtr(items.listType), detail));
  }
  if (s.listType !== undefined && !['atomic', 'set', 'map'].includes(s.listType)) out.push(notSupported(at('x-kubernetes-list-type'), s.listType, ['atomic', 'set', 'map']));
  const keys = s.listMapKeys ?? [];
  if (keys.length > 0) {
    const detail = 'must be map if x-kubernetes-list-map-keys is non-empty';
    if (s.listType === undefined) out.push(required(at('x-kubernetes-list-type'), detail));
    else if (s.listType !== 'map') out.push(invalid(at('x-kubernetes-list-type'), s.listType, detail));
  }
  if (s.listType === 'map') {
    if (keys.length === 0) out.push(required(at('x-kubernetes-list-map-keys'), 'must not be empty if x-kubernetes-list-type is map'));
    if (items === undefined && s.itemsArray === undefined) out.push(required(at('items'), 'must have a schema if x-kubernetes-list-type is map'));
    if (items === undefined && s.itemsArray !== undefined) {
      out.push(invalid(at('items'), goStruct([['Schema', null], ['JSONSchemas', s.itemsArray.map(internal)]]), 'must only have a single schema if x-kubernetes-list-type is map'));
    }
    if (items !== undefined && items.type !== 'object') out.push(invalid(child(at('items'), 'type'), items.type, "must be object if parent array's x-kubernetes-list-type is map"));
    if (items !== undefined && items.type === 'object') {
      const seen = new Set<string>();
      for (const k of keys) {
        const prop = items.properties?.get(k);
        if (prop === undefined) out.push(invalid(at('x-kubernetes-list-map-keys'), keys, 'entries must all be names of item properties'));
        else if (prop.type === 'array' || prop.type === 'object') {
          out.push(invalid(child(key(child(at('items'), 'properties'), k), 'type'), items.type, "must be a scalar type if parent array's x-kubernetes-list-type is map"));
        }
        if (seen.has(k)) out.push(invalid(at('x-kubernetes-list-map-keys'), keys, 'must not contain duplicate entries'));
        seen.add(k);
      }
    }
  }
  // Items of set and map lists, and the keys of map lists, cannot be null.
  if (items !== undefined && (s.listType === 'set' || s.listType === 'map')) {
    if (items.nullable) out.push(forbidden(child(at('items'), 'nullable'), `cannot be nullable when x-kubernetes-list-type is ${s.listType}`));
    if (s.listType === 'map') {
      const req = new Set(items.required ?? []);
      for (const k of keys) {
        const prop = items.properties?.get(k);
        if (prop === undefined) continue;
        const kp = key(child(at('items'), 'properties'), k);
        if (!req.has(k) && !prop.hasDefault) out.push(required(child(kp, 'default'), 'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property'));
        if (prop.nullable) out.push(forbidden(child(kp, 'nullable'), 'this property is in x-kubernetes-list-map-keys, so it cannot be nullable'));
      }
    }
  }
}

const REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];
const newlines = (s: string): boolean => /[\n\r]/.test(s);

function ruleProblems(s: Schema, p: string, out: FieldProblem[]): void {
  s.validations.forEach((r, i) => {
    const rp = index(child(p, 'x-kubernetes-validations'), i);
    const rule = r.rule.trim();
    const message = r.message.trim();
    if (rule === '') out.push(required(child(rp, 'rule'), 'rule is not specified'));
    else if (r.message !== '' && message === '') out.push(invalid(child(rp, 'message'), r.message, 'must be non-empty if specified'));
    else if (newlines(message)) out.push(invalid(child(rp, 'message'), r.message, 'must not contain line breaks'));
    else if (newlines(rule) && message === '') out.push(required(child(rp, 'message'), 'message must be specified if rule contains line breaks'));
    if (r.messageExpression !== '' && r.messageExpression.trim() === '') out.push(required(child(rp, 'messageExpression'), 'messageExpression must be non-empty if specified'));
    if (r.reason !== undefined && !REASONS.includes(r.reason)) out.push(notSupported(child(rp, 'reason'), r.reason, REASONS));
    if (r.fieldPath !== '' && r.fieldPath.trim() === '') out.push(invalid(child(rp, 'fieldPath'), r.fieldPath, 'must be non-empty if specified'));
    if (newlines(r.fieldPath)) out.push(invalid(child(rp, 'fieldPath'), r.fieldPath, 'must not contain line breaks'));
  });
}

function schemaProblems(s: Schema | undefined, p: string, c: Context, isRoot: boolean, out: FieldProblem[]): void {
  if (s === undefined) return;
  keywordProblems(s, p, c, out);
  if (s.uniqueItems) out.push(forbidden(child(p, 'uniqueItems'), 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  const ap = s.additionalProperties;
  if (ap !== undefined) {
    if ((s.properties?.size ?? 0) > 0 && (!ap.allows || ap.schema !== undefined)) {
      out.push(forbidden(child(p, 'additionalProperties'), 'additionalProperties and properties are mutual exclusive'));
    }
    const sub = c.insideResourceMeta ? noDefaults(c, 'inside additionalProperties applying to object metadata') : c;
    schemaProblems(ap.schema, child(p, 'additionalProperties'), sub, false, out);
  }
  for (const [k, prop] of s.properties ?? []) {
    let sub = c;
    if ((isRoot || s.embeddedResource) && META.has(k)) {
      sub = { ...sub, insideResourceMeta: true };
      if (isRoot) sub = noDefaults(sub, `in top-level ${k}`);
    }
    schemaProblems(prop, key(child(p, 'properties'), k), sub, false, out);
  }
  schemaProblems(s.not, child(p, 'not'), c, false, out);
  s.allOf.forEach((b, i) => schemaProblems(b, index(child(p, 'allOf'), i), c, false, out));
  s.oneOf.forEach((b, i) => schemaProblems(b, index(child(p, 'oneOf'), i), c, false, out));
  s.anyOf.forEach((b, i) => schemaProblems(b, index(child(p, 'anyOf'), i), c, false, out));
  for (const [k, d] of s.definitions ?? []) schemaProblems(d, key(child(p, 'definitions'), k), c, false, out);
  schemaProblems(s.items, child(p, 'items'), c, false, out);
  s.itemsArray?.forEach((b, i) => schemaProblems(b, index(child(p, 'items'), i), c, false, out));
  for (const [k, d] of s.dependencies ?? []) schemaProblems(d.schema, key(child(p, 'dependencies'), k), c, false, out);
  listProblems(s, p, out);
  ruleProblems(s, p, out);
}

/** The Go field names of JSONSchemaProps in declaration order, with the v1 keyword each comes from. */
const GO_FIELDS: readonly (readonly [string, string])[] = [
  ['id', 'ID'], ['$schema', 'Schema'], ['$ref', 'Ref'], ['description', 'Description'], ['type', 'Type'], ['nullable', 'Nullable'],
  ['format', 'Format'], ['title', 'Title'], ['default', 'Default'], ['maximum', 'Maximum'], ['exclusiveMaximum', 'ExclusiveMaximum'],
  ['minimum', 'Minimum'], ['exclusiveMinimum', 'ExclusiveMinimum'], ['maxLength', 'MaxLength'], ['minLength', 'MinLength'],
  ['pattern', 'Pattern'], ['maxItems', 'MaxItems'], ['minItems', 'MinItems'], ['uniqueItems', 'UniqueItems'], ['multipleOf', 'MultipleOf'],
  ['enum', 'Enum'], ['maxProperties', 'MaxProperties'], ['minProperties', 'MinProperties'], ['required', 'Required'], ['items', 'Items'],
  ['allOf', 'AllOf'], ['oneOf', 'OneOf'], ['anyOf', 'AnyOf'], ['not', 'Not'], ['properties', 'Properties'],
  ['additionalProperties', 'AdditionalProperties'], ['patternProperties', 'PatternProperties'], ['dependencies', 'Dependencies'],
  ['additionalItems', 'AdditionalItems'], ['definitions', 'Definitions'], ['externalDocs', 'ExternalDocs'], ['example', 'Example'],
  ['x-kubernetes-preserve-unknown-fields', 'XPreserveUnknownFields'], ['x-kubernetes-embedded-resource', 'XEmbeddedResource'],
  ['x-kubernetes-int-or-string', 'XIntOrString'], ['x-kubernetes-list-map-keys', 'XListMapKeys'], ['x-kubernetes-list-type', 'XListType'],
  ['x-kubernetes-map-type', 'XMapType'], ['x-kubernetes-validations', 'XValidations'],
];

const ROOT_WITH_STATUS = [
  'Description', 'Type', 'Format', 'Title', 'Maximum', 'ExclusiveMaximum', 'Minimum', 'ExclusiveMinimum', 'MaxLength', 'MinLength', 'Pattern',
  'MaxItems', 'MinItems', 'UniqueItems', 'MultipleOf', 'Required', 'Items', 'Properties', 'ExternalDocs', 'Example', 'XPreserveUnknownFields', 'XValidations',
];

/** With the status subresource, the root may only use keywords that still hold once `status` is validated apart. */
function statusRootProblem(s: Schema, p: string): FieldProblem | undefined {
  for (const [keyword, goName] of GO_FIELDS) {
    const v = s.raw[keyword];
    if (v === undefined || v === null || v === false || v === '') continue;
    if (goName === 'Type') {
      if (s.type !== 'object') return invalid(`${p}.openAPIV3Schema.type`, s.type, 'only "object" is allowed as the type at the root of the schema if the status subresource is enabled');
      continue;
    }
    if (!ROOT_WITH_STATUS.includes(goName)) {
      return invalid(`${p}.openAPIV3Schema`, internal(s), `only [${ROOT_WITH_STATUS.join(' ')}] fields are allowed at the root of the schema if the status subresource is enabled`);
    }
  }
  return undefined;
}

/**
 * The problems with one CustomResourceValidation (`{openAPIV3Schema}`) at `path` (`spec.validation` when all
 * versions share it, else `spec.versions[i].schema`, as Kubernetes reports them).
 */
export function schemaDefinitionProblems(validation: unknown, statusEnabled: boolean, path: string): FieldProblem[] {
  const raw = typeof validation === 'object' && validation !== null ? (validation as Record<string, unknown>).openAPIV3Schema : undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return [];
  const s = readSchema(raw);
  const p = child(path, 'openAPIV3Schema');
  const out: FieldProblem[] = [];
  if (statusEnabled) {
    const problem = statusRootProblem(s, path);
    if (problem !== undefined) out.push(problem);
  }
  if (s.nullable) out.push(forbidden(`${path}.openAPIV3Schema.nullable`, 'nullable cannot be true at the root'));
  const unsupported = unsupportedField(s);
  if (unsupported === undefined) {
    const structural = validateStructural(s, p);
    out.push(...(structural.length > 0 ? structural : validateDefaults(s, p)));
  }
  schemaProblems(s, p, { allowDefaults: true, disallowReason: '', insideResourceMeta: false }, true, out);
  if (out.length === 0 && unsupported !== undefined) out.push(invalid(p, '', unsupported));
  return out;
}

/** Whether a CustomResourceValidation's schema sets `default` anywhere. */
export function hasDefaults(validation: unknown): boolean {
  const raw = typeof validation === 'object' && validation !== null ? (validation as Record<string, unknown>).openAPIV3Schema : undefined;
  return raw !== undefined && someSchema(readSchema(raw), (s) => s.hasDefault);
}
