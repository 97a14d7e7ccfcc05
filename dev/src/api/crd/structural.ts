/**
 * Structural schemas (pkg/apiserver/schema: NewStructural, ValidateStructural) and the check of `default`
 * values (pkg/apiserver/schema/defaulting, ValidateDefaults), as kube-apiserver applies them to every CRD
 * schema in apiextensions.k8s.io/v1. A schema is structural when every node says its type (unless it is
 * int-or-string or preserves unknown fields), value validations (allOf/anyOf/oneOf/not) only restrict what the
 * structural part specifies, and `metadata` only constrains name and generateName.
 */
import { child, forbidden, index, invalid, key, required, type FieldProblem } from './field.js';
import type { Schema } from './jsonschema.js';
import { jsonEqual, validateValue } from './openapi.js';
import { compilePattern } from './pattern.js';
import { pruneValue, validateEmbedded } from './schema.js';

/**
 * Why NewStructural would refuse the schema (fields a structural schema cannot hold), or undefined. Kubernetes
 * reports this only when no other schema error is found, since the other checks name these fields too.
 */
export function unsupportedField(s: Schema): string | undefined {
  const fields: [boolean, string][] = [
    [s.id !== '', 'id'],
    [s.schemaUrl !== '', 'schema'],
    [s.ref !== undefined && s.ref !== '', '$ref'],
    [(s.patternProperties?.size ?? 0) > 0, 'patternProperties'],
    [(s.dependencies?.size ?? 0) > 0, 'dependencies'],
    [s.additionalItems !== undefined, 'additionalItems'],
    [(s.definitions?.size ?? 0) > 0, 'definitions'],
  ];
  const found = fields.find(([bad]) => bad);
  if (found !== undefined) return `OpenAPIV3Schema '${found[1]}' is not supported`;
  for (const v of [s.not, ...s.allOf, ...s.anyOf, ...s.oneOf]) {
    const why = v === undefined ? undefined : unsupportedField(v);
    if (why !== undefined) return why;
  }
  if (s.preserveUnknownFields === false) return "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined";
  if (s.itemsArray !== undefined && s.itemsArray.length > 0) return "OpenAPIV3Schema 'items' must be a schema, but is an array";
  for (const v of [s.items, ...(s.properties?.values() ?? []), s.additionalProperties?.schema]) {
    const why = v === undefined ? undefined : unsupportedField(v);
    if (why !== undefined) return why;
  }
  return undefined;
}

type Level = 'root' | 'item' | 'field';

const zero = (v: unknown): boolean => v === false || v === '' || v === null || v === undefined;

/** A value-validation branch that is exactly `{type: <t>}` (one half of the int-or-string pattern). */
const onlyType = (b: Schema | undefined, t: string): boolean => b !== undefined && b.type === t && Object.entries(b.raw).every(([k, v]) => k === 'type' || zero(v));
const intOrStringAnyOf = (anyOf: readonly Schema[]): boolean => anyOf.length === 2 && onlyType(anyOf[0], 'integer') && onlyType(anyOf[1], 'string');

function valueValidation(s: Schema, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean, p: string, out: FieldProblem[]): void {
  if (!skipAnyOf) s.anyOf.forEach((b, i) => nested(b, false, index(child(p, 'anyOf'), i), out));
  s.allOf.forEach((b, i) => nested(b, skipFirstAllOfAnyOf && i === 0, index(child(p, 'allOf'), i), out));
  s.oneOf.forEach((b, i) => nested(b, false, index(child(p, 'oneOf'), i), out));
  if (s.not !== undefined) nested(s.not, false, child(p, 'not'), out);
  if (s.pattern !== '') {
    const re = compilePattern(s.pattern);
    if (typeof re === 'string') out.push(invalid(child(p, 'pattern'), s.pattern, `must be a valid regular expression, but isn't: ${re}`));
  }
}

/** A node under allOf/anyOf/oneOf/not: it may only restrict, not specify. */
function nested(n: Schema, skipAnyOf: boolean, p: string, out: FieldProblem[]): void {
  valueValidation(n, skipAnyOf, false, p, out);
  if (n.items !== undefined) nested(n.items, false, child(p, 'items'), out);
  for (const [k, prop] of n.properties ?? []) nested(prop, false, key(child(p, 'properties'), k), out);
  const at = (f: string): string => child(p, f);
  if (n.type !== '') out.push(forbidden(at('type'), 'must be empty to be structural'));
  if (n.additionalProperties !== undefined && (n.additionalProperties.allows || n.additionalProperties.schema !== undefined)) {
    out.push(forbidden(at('additionalProperties'), 'must be undefined to be structural'));
  }
  if (n.hasDefault) out.push(forbidden(at('default'), 'must be undefined to be structural'));
  if (n.title !== '') out.push(forbidden(at('title'), 'must be empty to be structural'));
  if (n.description !== '') out.push(forbidden(at('description'), 'must be empty to be structural'));
  if (n.nullable) out.push(forbidden(at('nullable'), 'must be false to be structural'));
  if (n.preserveUnknownFields === true) out.push(forbidden(at('x-kubernetes-preserve-unknown-fields'), 'must be false to be structural'));
  if (n.embeddedResource) out.push(forbidden(at('x-kubernetes-embedded-resource'), 'must be false to be structural'));
  if (n.intOrString) out.push(forbidden(at('x-kubernetes-int-or-string'), 'must be false to be structural'));
  if ((n.listMapKeys?.length ?? 0) > 0) out.push(forbidden(at('x-kubernetes-list-map-keys'), 'must be empty to be structural'));
  if (n.listType !== undefined) out.push(forbidden(at('x-kubernetes-list-type'), 'must be undefined to be structural'));
  if (n.mapType !== undefined) out.push(forbidden(at('x-kubernetes-map-type'), 'must be undefined to be structural'));
  if (n.validations.length > 0) out.push(forbidden(at('x-kubernetes-validations'), 'must be empty to be structural'));
  if (n.properties?.has('metadata') === true) out.push(forbidden(key(child(p, 'properties'), 'metadata'), 'must not be specified in a nested context'));
}

/** Root metadata may say it is an object and restrict name and generateName; nothing else. */
function rootMetadataOnlyNames(m: Schema): boolean {
  const props = m.properties;
  const names = props === undefined ? 0 : [...props.keys()].filter((k) => k === 'name' || k === 'generateName').length;
  const propsCleared = props === undefined || (names > 0 && names === props.size);
  const emptyList = (k: string, v: unknown): boolean => ['enum', 'allOf', 'anyOf', 'oneOf'].includes(k) && Array.isArray(v) && v.length === 0;
  return propsCleared && Object.entries(m.raw).every(([k, v]) => k === 'type' || k === 'default' || k === 'properties' || zero(v) || emptyList(k, v));
}

function invariants(s: Schema, lvl: Level, p: string, out: FieldProblem[]): void {
  const at = (f: string): string => child(p, f);
  if (s.type === 'array' && s.items === undefined) out.push(required(at('items'), 'must be specified'));
  if (s.items !== undefined) invariants(s.items, 'item', at('items'), out);
  for (const [k, prop] of s.properties ?? []) invariants(prop, 'field', key(at('properties'), k), out);
  if (s.additionalProperties !== undefined) {
    if (lvl === 'root') out.push(forbidden(at('additionalProperties'), 'must not be used at the root'));
    if (s.additionalProperties.schema !== undefined) invariants(s.additionalProperties.schema, 'field', at('additionalProperties'), out);
  }
  const preserve = s.preserveUnknownFields === true;
  if (s.intOrString && preserve) out.push(invalid(at('x-kubernetes-preserve-unknown-fields'), true, 'must be false if x-kubernetes-int-or-string is true'));
  if (s.intOrString && s.embeddedResource) out.push(invalid(at('x-kubernetes-embedded-resource'), true, 'must be false if x-kubernetes-int-or-string is true'));
  valueValidation(s, intOrStringAnyOf(s.anyOf), s.allOf.length >= 1 && intOrStringAnyOf(s.allOf[0]?.anyOf ?? []), p, out);

  const checkMetadata = lvl === 'root' || s.embeddedResource;
  if (s.embeddedResource && s.type !== 'object') {
    const detail = 'must be object if x-kubernetes-embedded-resource is true';
    out.push(s.type === '' ? required(at('type'), detail) : invalid(at('type'), s.type, detail));
  } else if (s.type === '' && !s.intOrString && !preserve) {
    const where = { root: 'at the root', item: 'for specified array items', field: 'for specified object fields' }[lvl];
    out.push(required(at('type'), `must not be empty ${where}`));
  }
  if (s.embeddedResource && s.additionalProperties !== undefined) out.push(forbidden(at('additionalProperties'), 'must not be used if x-kubernetes-embedded-resource is set'));
  if (lvl === 'root' && s.type !== '' && s.type !== 'object') out.push(invalid(at('type'), s.type, 'must be object at the root'));
  for (const meta of ['kind', 'apiVersion']) {
    const m = s.properties?.get(meta);
    if (m !== undefined && checkMetadata && m.type !== 'string') out.push(invalid(child(key(at('properties'), meta), 'type'), m.type, 'must be string'));
  }
  const metadata = s.properties?.get('metadata');
  if (metadata !== undefined) {
    const mp = key(at('properties'), 'metadata');
    if (checkMetadata && metadata.type !== 'object') out.push(invalid(child(mp, 'type'), metadata.type, 'must be object'));
    if (lvl === 'root' && !rootMetadataOnlyNames(metadata)) {
      out.push(forbidden(mp, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
    }
  }
  if (s.embeddedResource && !preserve && (s.properties?.size ?? 0) === 0) {
    out.push(required(at('properties'), 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
}

function nestedComplete(v: Schema, s: Schema | undefined, sPath: string, vPath: string, out: FieldProblem[]): void {
  if (s === undefined) {
    out.push(required(sPath, `because it is defined in ${vPath}`));
    return;
  }
  valueComplete(v, s, sPath, vPath, out);
  if (v.items !== undefined) nestedComplete(v.items, s.items, child(sPath, 'items'), child(vPath, 'items'), out);
  for (const [k, vf] of v.properties ?? []) {
    const sf = s.properties?.get(k);
    const sp = key(child(sPath, 'properties'), k);
    const vp = key(child(vPath, 'properties'), k);
    if (sf === undefined) out.push(required(sp, `because it is defined in ${vp}`));
    else nestedComplete(vf, sf, sp, vp, out);
  }
}

/** Every property, items or additionalProperties a value validation names must exist in the structural part. */
function valueComplete(v: Schema, s: Schema, sPath: string, vPath: string, out: FieldProblem[]): void {
  if (v.not !== undefined) nestedComplete(v.not, s, sPath, child(vPath, 'not'), out);
  v.allOf.forEach((b, i) => nestedComplete(b, s, sPath, index(child(vPath, 'allOf'), i), out));
  v.anyOf.forEach((b, i) => nestedComplete(b, s, sPath, index(child(vPath, 'anyOf'), i), out));
  v.oneOf.forEach((b, i) => nestedComplete(b, s, sPath, index(child(vPath, 'oneOf'), i), out));
}

/** ValidateStructural: the problems, sorted by their text as Kubernetes sorts them. */
export function validateStructural(s: Schema, p: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  invariants(s, 'root', p, out);
  valueComplete(s, s, p, p, out);
  const text = (e: FieldProblem): string => `${e.field}: ${e.message}`;
  return out.sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}

const META = new Set(['apiVersion', 'kind', 'metadata']);

function defaults(s: Schema, p: string, insideMeta: boolean, out: FieldProblem[]): void {
  const inMeta = s.embeddedResource ? false : insideMeta;
  if (s.hasDefault && !inMeta) {
    const at = child(p, 'default');
    if (!jsonEqual(pruneValue(s.default, s, s.embeddedResource), s.default)) out.push(invalid(at, s.default, 'must not have unknown fields'));
    const embedded = validateEmbedded(at, s.default, s, s.embeddedResource);
    out.push(...(embedded.length > 0 ? embedded : validateValue(s, s.default, at)));
  }
  if (s.items !== undefined) defaults(s.items, child(p, 'items'), inMeta, out);
  for (const [k, sub] of s.properties ?? []) defaults(sub, key(child(p, 'properties'), k), inMeta || (s.embeddedResource && META.has(k)), out);
}

/**
 * ValidateDefaults: every `default` must be pruned already and valid against its own schema. (Defaults inside
 * apiVersion, kind or metadata of embedded resources are not checked here; Kubernetes forbids them at the root.)
 */
export function validateDefaults(s: Schema, p: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  defaults({ ...s, embeddedResource: true }, p, false, out);
  return out;
}
