import t from 'tap';
import { describe } from '../../../src/api/crd/field.js';
import { hasDefaults, schemaDefinitionProblems } from '../../../src/api/crd/schema-rules.js';

type Json = Record<string, unknown>;

const P = 'spec.validation.openAPIV3Schema';
const obj = (properties: Json, extra: Json = {}): Json => ({ type: 'object', properties, ...extra });
const str = { type: 'string' };

/** The problems of a root schema holding `spec: <spec>` (or the given root). */
const problems = (schema: Json, status = false): string[] => schemaDefinitionProblems({ openAPIV3Schema: schema }, status, 'spec.validation').map(describe);
const withProp = (name: string, s: Json): Json => obj({ [name]: s });

t.test('structural schemas: every node typed, metadata restricted, value validations only restrict', (t) => {
  const cases: [string, Json, string[]][] = [
    ['valid', obj({ spec: obj({ a: str, l: { type: 'array', items: str } }) }), []],
    ['root without type', { properties: { spec: obj({}) } }, [`${P}.type: Required value: must not be empty at the root`]],
    ['root not an object', { type: 'string' }, [`${P}.type: Invalid value: "string": must be object at the root`]],
    ['field without type', withProp('spec', { properties: { a: str } }), [`${P}.properties[spec].type: Required value: must not be empty for specified object fields`]],
    ['items without type', withProp('l', { type: 'array', items: { minLength: 1 } }), [`${P}.properties[l].items.type: Required value: must not be empty for specified array items`]],
    ['array without items', withProp('l', { type: 'array' }), [`${P}.properties[l].items: Required value: must be specified`]],
    ['preserve-unknown-fields and int-or-string need no type', obj({ a: { 'x-kubernetes-preserve-unknown-fields': true }, b: { 'x-kubernetes-int-or-string': true } }), []],
    ['additionalProperties at the root', { type: 'object', additionalProperties: str }, [`${P}.additionalProperties: Forbidden: must not be used at the root`]],
    [
      'metadata may restrict name and generateName only',
      obj({ metadata: obj({ labels: { type: 'object' } }) }),
      [`${P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`],
    ],
    ['metadata restricting the name', obj({ metadata: obj({ name: { type: 'string', maxLength: 10 }, generateName: str }) }), []],
    ['metadata with a description', obj({ metadata: { type: 'object', description: 'meta' } }), [`${P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`]],
    ['metadata not an object', obj({ metadata: { type: 'string' } }), [`${P}.properties[metadata].type: Invalid value: "string": must be object`]],
    ['kind and apiVersion must be strings', obj({ kind: { type: 'integer' }, apiVersion: str }), [`${P}.properties[kind].type: Invalid value: "integer": must be string`]],
    ['a type inside anyOf', withProp('x', { type: 'string', anyOf: [{ type: 'string' }] }), [`${P}.properties[x].anyOf[0].type: Forbidden: must be empty to be structural`]],
    [
      'value validations must not specify',
      withProp('x', { type: 'string', oneOf: [{ description: 'd', nullable: true, default: 'a', 'x-kubernetes-list-type': 'set' }] }),
      [
        `${P}.properties[x].oneOf[0].default: Forbidden: must be undefined to be structural`,
        `${P}.properties[x].oneOf[0].description: Forbidden: must be empty to be structural`,
        `${P}.properties[x].oneOf[0].nullable: Forbidden: must be false to be structural`,
        `${P}.properties[x].oneOf[0].x-kubernetes-list-type: Forbidden: must be undefined to be structural`,
        `${P}.properties[x].oneOf[0].type: Required value: must be array if x-kubernetes-list-type is specified`,
      ],
    ],
    [
      'value validations name only what is specified',
      obj({ a: obj({}) }, { anyOf: [{ properties: { missing: { minLength: 1 }, a: { properties: { b: {} } } } }] }),
      [
        `${P}.properties[a].properties[b]: Required value: because it is defined in ${P}.anyOf[0].properties[a].properties[b]`,
        `${P}.properties[missing]: Required value: because it is defined in ${P}.anyOf[0].properties[missing]`,
      ],
    ],
    ['(Kubernetes checks that only for the value validations of the root)', withProp('o', obj({ a: str }, { anyOf: [{ properties: { missing: { minLength: 1 } } }] })), []],
    [
      'metadata in a nested context',
      withProp('o', obj({ metadata: { type: 'object' } }, { allOf: [{ properties: { metadata: { required: ['name'] } } }] })),
      [`${P}.properties[o].allOf[0].properties[metadata]: Forbidden: must not be specified in a nested context`],
    ],
    ['the int-or-string anyOf', withProp('x', { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] }), []],
    ['the int-or-string allOf', withProp('x', { 'x-kubernetes-int-or-string': true, allOf: [{ anyOf: [{ type: 'integer' }, { type: 'string' }] }, { maxLength: 3 }] }), []],
    [
      'not the int-or-string pattern',
      withProp('x', { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'boolean' }] }),
      [`${P}.properties[x].anyOf[0].type: Forbidden: must be empty to be structural`, `${P}.properties[x].anyOf[1].type: Forbidden: must be empty to be structural`],
    ],
    [
      'int-or-string with preserve-unknown-fields',
      withProp('x', { 'x-kubernetes-int-or-string': true, 'x-kubernetes-preserve-unknown-fields': true }),
      [`${P}.properties[x].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true`],
    ],
    [
      'embedded resource without type',
      withProp('e', { 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true }),
      [`${P}.properties[e].type: Required value: must be object if x-kubernetes-embedded-resource is true`],
    ],
    [
      'embedded resource that specifies nothing',
      withProp('e', { type: 'object', 'x-kubernetes-embedded-resource': true }),
      [`${P}.properties[e].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields`],
    ],
    [
      'errors are sorted by their text',
      obj({ b: { properties: {} }, a: { type: 'array' } }),
      [`${P}.properties[a].items: Required value: must be specified`, `${P}.properties[b].type: Required value: must not be empty for specified object fields`],
    ],
    [
      'an invalid pattern',
      withProp('x', { type: 'string', pattern: '(' }),
      [`${P}.properties[x].pattern: Invalid value: "(": must be a valid regular expression, but isn't: error parsing regexp: missing closing ): \`(\``],
    ],
  ];
  for (const [name, schema, want] of cases) t.same(problems(schema), want, name);
  t.end();
});

t.test('keywords and extensions Kubernetes does not allow, or allows only together', (t) => {
  const types = 'supported values: "array", "boolean", "integer", "number", "object", "string"';
  const cases: [string, Json, string[]][] = [
    ['unknown type', withProp('x', { type: 'int' }), [`${P}.properties[x].type: Unsupported value: "int": ${types}`]],
    ['type null', withProp('x', { type: 'null' }), [`${P}.properties[x].type: Unsupported value: "null": ${types}`, `${P}.properties[x].type: Forbidden: type cannot be set to null, use nullable as an alternative`]],
    ['nullable root', { type: 'object', nullable: true }, [`${P}.nullable: Forbidden: nullable cannot be true at the root`]],
    ['uniqueItems', withProp('l', { type: 'array', items: str, uniqueItems: true }), [`${P}.properties[l].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`]],
    ['$ref', withProp('x', { type: 'string', $ref: '#/x' }), [`${P}.properties[x].$ref: Forbidden: $ref is not supported`]],
    ['id', withProp('x', { type: 'string', id: 'x' }), [`${P}.properties[x].id: Forbidden: id is not supported`]],
    ['patternProperties', withProp('x', { type: 'object', patternProperties: { '^a': str } }), [`${P}.properties[x].patternProperties: Forbidden: patternProperties is not supported`]],
    ['definitions', withProp('x', { type: 'object', definitions: { d: str } }), [`${P}.properties[x].definitions: Forbidden: definitions is not supported`]],
    ['dependencies', withProp('x', { type: 'object', dependencies: { a: ['b'] } }), [`${P}.properties[x].dependencies: Forbidden: dependencies is not supported`]],
    ['additionalItems', withProp('x', { type: 'array', items: str, additionalItems: false }), [`${P}.properties[x].additionalItems: Forbidden: additionalItems is not supported`]],
    ['items as an array', withProp('l', { type: 'array', items: [str] }), [`${P}.properties[l].items: Forbidden: items must be a schema object and not an array`]],
    ['$schema: only the structural conversion notices', withProp('x', { type: 'string', $schema: 'http://json-schema.org/schema#' }), [`${P}: Invalid value: "": OpenAPIV3Schema 'schema' is not supported`]],
    ['properties with additionalProperties', withProp('m', obj({ a: str }, { additionalProperties: str })), [`${P}.properties[m].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`]],
    ['properties with additionalProperties: false', withProp('m', obj({ a: str }, { additionalProperties: false })), [`${P}.properties[m].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`]],
    ['properties with additionalProperties: true', withProp('m', obj({ a: str }, { additionalProperties: true })), []],
    ['preserve-unknown-fields false', withProp('x', { type: 'object', 'x-kubernetes-preserve-unknown-fields': false }), [`${P}.properties[x].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`]],
    ['map-type on a string', withProp('x', { type: 'string', 'x-kubernetes-map-type': 'atomic' }), [`${P}.properties[x].type: Invalid value: "string": must be object if x-kubernetes-map-type is specified`]],
    ['unknown map-type', withProp('x', { type: 'object', 'x-kubernetes-map-type': 'sealed' }), [`${P}.properties[x].x-kubernetes-map-type: Unsupported value: "sealed": supported values: "atomic", "granular"`]],
    ['list-type on an object', withProp('x', { type: 'object', 'x-kubernetes-list-type': 'set' }), [`${P}.properties[x].type: Invalid value: "object": must be array if x-kubernetes-list-type is specified`]],
    ['unknown list-type', withProp('l', { type: 'array', items: str, 'x-kubernetes-list-type': 'bag' }), [`${P}.properties[l].x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map"`]],
    [
      'list-map-keys without list-type map',
      withProp('l', { type: 'array', items: obj({ k: str }, { required: ['k'] }), 'x-kubernetes-list-map-keys': ['k'] }),
      [`${P}.properties[l].x-kubernetes-list-type: Required value: must be map if x-kubernetes-list-map-keys is non-empty`],
    ],
    [
      'list-map-keys on a set',
      withProp('l', { type: 'array', items: str, 'x-kubernetes-list-type': 'set', 'x-kubernetes-list-map-keys': ['k'] }),
      [`${P}.properties[l].x-kubernetes-list-type: Invalid value: "set": must be map if x-kubernetes-list-map-keys is non-empty`],
    ],
    ['a map list without keys', withProp('l', { type: 'array', items: obj({ k: str }), 'x-kubernetes-list-type': 'map' }), [`${P}.properties[l].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map`]],
    [
      'a map list of strings',
      withProp('l', { type: 'array', items: str, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['k'] }),
      [`${P}.properties[l].items.type: Invalid value: "string": must be object if parent array's x-kubernetes-list-type is map`],
    ],
    [
      'map keys that are not item properties, twice',
      withProp('l', { type: 'array', items: obj({ k: str }, { required: ['k'] }), 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['k', 'nope', 'k'] }),
      [
        `${P}.properties[l].x-kubernetes-list-map-keys: Invalid value: ["k","nope","k"]: entries must all be names of item properties`,
        `${P}.properties[l].x-kubernetes-list-map-keys: Invalid value: ["k","nope","k"]: must not contain duplicate entries`,
      ],
    ],
    [
      'a map key of object type, optional and nullable',
      withProp('l', { type: 'array', items: obj({ k: { type: 'object', nullable: true } }), 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['k'] }),
      [
        `${P}.properties[l].items.properties[k].type: Invalid value: "object": must be a scalar type if parent array's x-kubernetes-list-type is map`,
        `${P}.properties[l].items.properties[k].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property`,
        `${P}.properties[l].items.properties[k].nullable: Forbidden: this property is in x-kubernetes-list-map-keys, so it cannot be nullable`,
      ],
    ],
    ['a map key with a default', withProp('l', { type: 'array', items: obj({ k: { type: 'string', default: 'tcp' } }), 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['k'] }), []],
    [
      'a set of granular objects, nullable',
      withProp('l', { type: 'array', items: { type: 'object', nullable: true }, 'x-kubernetes-list-type': 'set' }),
      [
        `${P}.properties[l].items.x-kubernetes-map-type: Invalid value: null: must be atomic as item of a list with x-kubernetes-list-type=set`,
        `${P}.properties[l].items.nullable: Forbidden: cannot be nullable when x-kubernetes-list-type is set`,
      ],
    ],
    [
      'a set of map lists',
      withProp('l', { type: 'array', items: { type: 'array', items: obj({ k: str }, { required: ['k'] }), 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['k'] }, 'x-kubernetes-list-type': 'set' }),
      [`${P}.properties[l].items.x-kubernetes-list-type: Invalid value: "map": must be atomic as item of a list with x-kubernetes-list-type=set`],
    ],
    ['a set of atomic objects', withProp('l', { type: 'array', items: { type: 'object', 'x-kubernetes-map-type': 'atomic' }, 'x-kubernetes-list-type': 'set' }), []],
  ];
  for (const [name, schema, want] of cases) t.same(problems(schema), want, name);
  t.end();
});

t.test('x-kubernetes-validations: static checks only, CEL is not compiled', (t) => {
  const rules = (list: Json[]): Json => withProp('x', { type: 'integer', 'x-kubernetes-validations': list });
  const at = `${P}.properties[x].x-kubernetes-validations`;
  const cases: [string, Json[], string[]][] = [
    ['a rule that would not compile is accepted', [{ rule: 'self >>> nonsense(' }], []],
    ['no rule', [{ rule: '  ' }], [`${at}[0].rule: Required value: rule is not specified`]],
    ['a blank message', [{ rule: 'self > 0', message: ' ' }], [`${at}[0].message: Invalid value: " ": must be non-empty if specified`]],
    ['a message on two lines', [{ rule: 'self > 0', message: 'a\nb' }], [`${at}[0].message: Invalid value: "a\\nb": must not contain line breaks`]],
    ['a rule on two lines needs a message', [{ rule: 'self > 0 &&\nself < 9' }], [`${at}[0].message: Required value: message must be specified if rule contains line breaks`]],
    ['a blank messageExpression', [{ rule: 'self > 0', messageExpression: ' ' }], [`${at}[0].messageExpression: Required value: messageExpression must be non-empty if specified`]],
    [
      'an unknown reason',
      [{ rule: 'self > 0', reason: 'Because' }],
      [`${at}[0].reason: Unsupported value: "Because": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"`],
    ],
    ['a blank fieldPath', [{ rule: 'self > 0' }, { rule: 'self > 1', fieldPath: ' ' }], [`${at}[1].fieldPath: Invalid value: " ": must be non-empty if specified`]],
  ];
  for (const [name, list, want] of cases) t.same(problems(rules(list)), want, name);
  t.same(problems(withProp('x', { type: 'object', anyOf: [{ 'x-kubernetes-validations': [{ rule: 'true' }] }] })), [`${P}.properties[x].anyOf[0].x-kubernetes-validations: Forbidden: must be empty to be structural`], 'not inside anyOf');
  t.end();
});

t.test('defaults: allowed below the root, pruned, valid against their own schema', (t) => {
  const spec = (props: Json, extra: Json = {}): Json => withProp('spec', obj(props, extra));
  const at = `${P}.properties[spec]`;
  const cases: [string, Json, string[]][] = [
    ['valid defaults', spec({ replicas: { type: 'integer', default: 1 }, o: obj({ a: str }, { default: { a: 'x' } }) }), []],
    ['a default of the wrong type', spec({ replicas: { type: 'integer', default: 'one' } }), [`${at}.properties[replicas].default: Invalid value: "string":  in body must be of type integer: "string"`]],
    ['a default breaking a constraint', spec({ n: { type: 'integer', minimum: 5, default: 1 } }), [`${at}.properties[n].default: Invalid value: 1:  in body should be greater than or equal to 5`]],
    ['a default object missing a required field', spec({ o: obj({ a: str }, { required: ['a'], default: {} }) }), [`${at}.properties[o].default.a: Required value`]],
    ['a default with fields the schema drops', spec({ o: obj({ a: str }, { default: { zzz: 1, a: 'x' } }) }), [`${at}.properties[o].default: Invalid value: {"a":"x","zzz":1}: must not have unknown fields`]],
    ['a default inside items', spec({ l: { type: 'array', items: { type: 'string', default: 5 } } }), [`${at}.properties[l].items.default: Invalid value: "integer":  in body must be of type string: "integer"`]],
    [
      'an embedded resource default needs apiVersion and kind',
      spec({ e: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true, default: { metadata: {} } } }),
      [`${at}.properties[e].default.apiVersion: Required value`, `${at}.properties[e].default.kind: Required value`],
    ],
    ['no defaults in top-level metadata', obj({ metadata: { type: 'object', default: {} } }), [`${P}.properties[metadata].default: Forbidden: must not be set in top-level metadata`]],
    ['no defaults of apiVersion', obj({ apiVersion: { type: 'string', default: 'v1' } }), [`${P}.properties[apiVersion].default: Forbidden: must not be set in top-level apiVersion`]],
    [
      'not checked while the schema is not structural',
      spec({ n: { type: 'integer', default: 'x' }, bad: { properties: {} } }),
      [`${at}.properties[bad].type: Required value: must not be empty for specified object fields`],
    ],
  ];
  for (const [name, schema, want] of cases) t.same(problems(schema), want, name);
  t.ok(hasDefaults({ openAPIV3Schema: spec({ n: { type: 'integer', default: 0 } }) }));
  t.notOk(hasDefaults({ openAPIV3Schema: spec({ default: { type: 'integer' } }) }), 'a property named default is no default');
  t.notOk(hasDefaults({ openAPIV3Schema: spec({ n: { type: 'integer', default: null } }) }), 'default: null is no default');
  t.notOk(hasDefaults(undefined));
  t.end();
});

t.test('with the status subresource, the root may only hold what survives extracting status', (t) => {
  t.same(problems(obj({ status: obj({}) }), true), []);
  t.same(problems({ type: 'object', description: 'd', required: ['spec'], properties: { spec: obj({}) } }, true), []);
  t.same(problems({ type: 'array', items: str }, true), [
    `${P}.type: Invalid value: "array": only "object" is allowed as the type at the root of the schema if the status subresource is enabled`,
    `${P}.type: Invalid value: "array": must be object at the root`,
  ]);
  const [problem, ...rest] = schemaDefinitionProblems({ openAPIV3Schema: { type: 'object', minProperties: 1 } }, true, 'spec.validation');
  t.same(rest, []);
  t.equal(problem?.field, P);
  t.match(
    problem?.message,
    /^Invalid value: \{"ID":"","Schema":"","Ref":null,"Description":"","Type":"object",.*"MinProperties":1,.*"XValidations":null\}: only \[Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations\] fields are allowed at the root of the schema if the status subresource is enabled$/,
  );
  t.same(problems({ type: 'object', minProperties: 1 }, false), [], 'fine without the status subresource');
  t.same(schemaDefinitionProblems({}, false, 'spec.validation'), [], 'no schema, nothing to check here');
  t.same(schemaDefinitionProblems(undefined, false, 'spec.validation'), []);
  t.end();
});
