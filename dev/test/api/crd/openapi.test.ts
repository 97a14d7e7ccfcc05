import t from 'tap';
import { describe } from '../../../src/api/crd/field.js';
import { readSchema } from '../../../src/api/crd/jsonschema.js';
import { jsonEqual, validateValue } from '../../../src/api/crd/openapi.js';

type Json = Record<string, unknown>;

/** Problems with `spec.<name>: value` when `spec.<name>` has `schema`, as Kubernetes prints them. */
function field(name: string, schema: Json, value: unknown): string[] {
  const root = { type: 'object', properties: { spec: { type: 'object', properties: { [name]: schema } } } };
  return validateValue(readSchema(root), { spec: { [name]: value } }).map(describe);
}

const NIL = '<nil>: Invalid value: ""';

t.test('types, as kube-openapi names the type it found', (t) => {
  const cases: [string, Json, unknown, string[]][] = [
    ['integer given a string', { type: 'integer' }, '3', ['spec.x: Invalid value: "string": spec.x in body must be of type integer: "string"']],
    [
      'integer given a float: the type, and the range check of integers',
      { type: 'integer' },
      2.5,
      ['spec.x: Invalid value: "number": spec.x in body must be of type integer: "number"', `${NIL}: Checked value must be of type integer (default format) in spec.x`],
    ],
    ['integer given a whole number', { type: 'integer' }, 3, []],
    ['number given an integer', { type: 'number' }, 3, []],
    ['boolean given a string', { type: 'boolean' }, 'true', ['spec.x: Invalid value: "string": spec.x in body must be of type boolean: "string"']],
    ['object given an array', { type: 'object' }, [], ['spec.x: Invalid value: "array": spec.x in body must be of type object: "array"']],
    ['array given an object', { type: 'array', items: { type: 'string' } }, {}, ['spec.x: Invalid value: "object": spec.x in body must be of type array: "object"']],
    ['string given null', { type: 'string' }, null, ['spec.x: Invalid value: "null": spec.x in body must be of type string: "null"']],
    ['nullable string given null', { type: 'string', nullable: true }, null, []],
    ['no type: anything goes', {}, { a: [1] }, []],
    ['int-or-string given a number', { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] }, 80, []],
    ['int-or-string given a string', { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] }, '80%', []],
    [
      'int-or-string given a boolean: the type, the anyOf, and its first branch',
      { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
      true,
      [
        'spec.x: Invalid value: "boolean": spec.x in body must be of type integer,string: "boolean"',
        `${NIL}: "spec.x" must validate at least one schema (anyOf)`,
        'spec.x: Invalid value: "boolean": spec.x in body must be of type integer: "boolean"',
      ],
    ],
    ['int-or-string without anyOf given null', { 'x-kubernetes-int-or-string': true }, null, ['spec.x: Invalid value: "null": spec.x in body must be of type integer,string: "null"']],
  ];
  for (const [name, schema, value, want] of cases) t.same(field('x', schema, value), want, name);
  t.end();
});

t.test('formats: string formats checked, numeric formats bound the range', (t) => {
  const cases: [string, Json, unknown, string[]][] = [
    ['date-time', { type: 'string', format: 'date-time' }, 'nope', ['spec.x: Invalid value: "nope": spec.x in body must be of type date-time: "nope"']],
    ['date-time valid', { type: 'string', format: 'date-time' }, '2024-01-01T00:00:00Z', []],
    ['byte', { type: 'string', format: 'byte' }, 'not base64!', ['spec.x: Invalid value: "not base64!": spec.x in body must be of type byte: "not base64!"']],
    ['unsupported string format: not checked', { type: 'string', format: 'color' }, 'anything', []],
    ['int32 on a string: stripped', { type: 'string', format: 'int32' }, 'abc', []],
    ['int32 in range', { type: 'integer', format: 'int32' }, 2147483647, []],
    ['int32 out of range', { type: 'integer', format: 'int32' }, 2147483648, [`${NIL}: Checked value must be of type integer with format int32 in spec.x`]],
    ['int64 out of range', { type: 'integer' }, 1e20, [`${NIL}: Checked value must be of type integer (default format) in spec.x`]],
    ['float out of range', { type: 'number', format: 'float' }, 1e39, [`${NIL}: Checked value must be of type number with format float in spec.x`]],
    ['int32 given a boolean', { type: 'integer', format: 'int32' }, true, ['spec.x: Invalid value: "": spec.x in body must be of type int32: ""']],
    [
      'int32 given a float',
      { type: 'integer', format: 'int32' },
      1.5,
      ['spec.x: Invalid value: "float64": spec.x in body must be of type int32: "float64"', `${NIL}: Checked value must be of type integer with format int32 in spec.x`],
    ],
  ];
  for (const [name, schema, value, want] of cases) t.same(field('x', schema, value), want, name);
  t.end();
});

t.test('numbers: bounds and multipleOf, with Kubernetes quirks for integers', (t) => {
  const cases: [string, Json, unknown, string[]][] = [
    ['maximum', { type: 'integer', maximum: 10 }, 11, ['spec.x: Invalid value: 11: spec.x in body should be less than or equal to 10']],
    ['maximum reached', { type: 'integer', maximum: 10 }, 10, []],
    ['exclusive maximum', { type: 'integer', maximum: 10, exclusiveMaximum: true }, 10, ['spec.x: Invalid value: 10: spec.x in body should be less than 10']],
    ['minimum', { type: 'integer', minimum: 1 }, 0, ['spec.x: Invalid value: 0: spec.x in body should be greater than or equal to 1']],
    ['exclusive minimum', { type: 'integer', minimum: 1, exclusiveMinimum: true }, 1, ['spec.x: Invalid value: 1: spec.x in body should be greater than 1']],
    ['float against a bound printed as Go prints float64', { type: 'number', maximum: 1e6 }, 1000000.5, ['spec.x: Invalid value: 1.0000005e+06: spec.x in body should be less than or equal to 1e+06']],
    ['an integer is compared with the bound truncated (1 passes minimum 1.5)', { type: 'number', minimum: 1.5 }, 1, []],
    ['a float is not', { type: 'number', minimum: 1.5 }, 1.25, ['spec.x: Invalid value: 1.25: spec.x in body should be greater than or equal to 1.5']],
    [
      'a fractional bound on an integer type',
      { type: 'integer', maximum: 2.5 },
      3,
      [`${NIL}: Maximum boundary value must be of type integer (default format) in spec.x`, 'spec.x: Invalid value: 3: spec.x in body should be less than or equal to 2.5'],
    ],
    ['multipleOf', { type: 'integer', multipleOf: 5 }, 7, ['spec.x: Invalid value: 7: spec.x in body should be a multiple of 5']],
    ['multipleOf met', { type: 'integer', multipleOf: 5 }, -15, []],
    ['fractional multipleOf', { type: 'number', multipleOf: 0.5 }, 1.25, ['spec.x: Invalid value: 1.25: spec.x in body should be a multiple of 0.5']],
    ['fractional multipleOf met', { type: 'number', multipleOf: 0.1 }, 0.3, []],
    ['fractional multipleOf truncated to 0 for an integer value', { type: 'number', multipleOf: 0.5 }, 3, ['spec.x: Invalid value: 0: factor MultipleOf declared for spec.x must be positive: 0']],
    ['multipleOf, minimum and maximum all reported, in that order', { type: 'integer', multipleOf: 2, minimum: 5, maximum: 1 }, 3, [
      'spec.x: Invalid value: 3: spec.x in body should be a multiple of 2',
      'spec.x: Invalid value: 3: spec.x in body should be greater than or equal to 5',
      'spec.x: Invalid value: 3: spec.x in body should be less than or equal to 1',
    ]],
  ];
  for (const [name, schema, value, want] of cases) t.same(field('x', schema, value), want, name);
  t.end();
});

t.test('strings, enums, arrays and objects', (t) => {
  const cases: [string, Json, unknown, string[]][] = [
    ['enum', { type: 'string', enum: ['a', 'b'] }, 'x', ['spec.x: Unsupported value: "x": supported values: "a", "b"']],
    ['enum of numbers', { type: 'integer', enum: [1, 2] }, 3, ['spec.x: Unsupported value: 3: supported values: "1", "2"']],
    ['enum of objects', { type: 'object', enum: [{ b: 1, a: 2 }] }, { a: 1 }, ['spec.x: Unsupported value: {"a":1}: supported values: "{\\"a\\":2,\\"b\\":1}"']],
    ['enum object match ignores key order', { type: 'object', enum: [{ b: 1, a: 2 }] }, { a: 2, b: 1 }, []],
    ['enum: a float matches an integer after truncation, as in Go', { type: 'number', enum: [1] }, 1.5, []],
    ['enum never matches null', { type: 'string', nullable: true, enum: ['a', null] }, null, ['spec.x: Unsupported value: null: supported values: "a", "null"']],
    ['maxLength counts characters', { type: 'string', maxLength: 3 }, '日本語', []],
    ['maxLength', { type: 'string', maxLength: 3 }, 'abcd', ['spec.x: Too long: may not be more than 3 bytes']],
    ['maxLength is reported alone', { type: 'string', maxLength: 3, pattern: '^[a-z]+$' }, 'ABCD', ['spec.x: Too long: may not be more than 3 bytes']],
    ['minLength', { type: 'string', minLength: 3 }, 'ab', ['spec.x: Invalid value: "ab": spec.x in body should be at least 3 chars long']],
    ['pattern', { type: 'string', pattern: '^[a-z]+$' }, 'ABC', ['spec.x: Invalid value: "ABC": spec.x in body should match \'^[a-z]+$\'']],
    ['broken pattern', { type: 'string', pattern: '(' }, 'x', ["spec.x: Invalid value: \"x\": spec.x in body should match '(, but pattern is invalid: error parsing regexp: missing closing ): `(`'"]],
    ['maxItems', { type: 'array', items: { type: 'integer' }, maxItems: 2 }, [1, 2, 3], ['spec.x: Too many: 3: must have at most 2 items']],
    ['maxItems 1', { type: 'array', items: { type: 'integer' }, maxItems: 1 }, [1, 2], ['spec.x: Too many: 2: must have at most 1 item']],
    ['minItems', { type: 'array', items: { type: 'integer' }, minItems: 2 }, [1], ['spec.x: Invalid value: 1: spec.x in body should have at least 2 items']],
    ['uniqueItems', { type: 'array', items: { type: 'object' }, uniqueItems: true }, [{ a: 1 }, { a: 1 }], ['spec.x: Invalid value: "": spec.x in body shouldn\'t contain duplicates']],
    [
      'items are validated at their index',
      { type: 'array', items: { type: 'string' } },
      ['a', 2, 'c', false],
      ['spec.x[1]: Invalid value: "integer": spec.x[1] in body must be of type string: "integer"', 'spec.x[3]: Invalid value: "boolean": spec.x[3] in body must be of type string: "boolean"'],
    ],
    ['maxProperties reads like maxItems', { type: 'object', maxProperties: 2 }, { a: 1, b: 2, c: 3 }, ['spec.x: Too many: 3: must have at most 2 items']],
    ['minProperties', { type: 'object', minProperties: 1 }, {}, ['spec.x: Invalid value: 0: spec.x in body should have at least 1 properties']],
    ['required', { type: 'object', required: ['a', 'b'] }, { b: null }, ['spec.x.a: Required value']],
    ['additionalProperties false', { type: 'object', additionalProperties: false }, { k: 1 }, ['spec.x: Invalid value: "k": spec.x.k in body is a forbidden property']],
    [
      'additionalProperties schema',
      { type: 'object', additionalProperties: { type: 'string' } },
      { k: 1, 'dotted.key': 'ok' },
      ['spec.x.k: Invalid value: "integer": spec.x.k in body must be of type string: "integer"'],
    ],
    ['additionalProperties true', { type: 'object', additionalProperties: true }, { k: { deep: 1 } }, []],
  ];
  for (const [name, schema, value, want] of cases) t.same(field('x', schema, value), want, name);
  t.end();
});

t.test('allOf, anyOf, oneOf and not: messages on <nil>, then the errors of the branch that matched most', (t) => {
  const props = { a: { type: 'integer' }, b: { type: 'string' } };
  const cases: [string, Json, unknown, string[]][] = [
    [
      'anyOf reports its best branch: the one that got furthest',
      { type: 'object', properties: props, anyOf: [{ required: ['a'] }, { properties: { b: { enum: ['x'] } }, required: ['b'] }] },
      { b: 'y' },
      [`${NIL}: "spec.x" must validate at least one schema (anyOf)`, 'spec.x.b: Unsupported value: "y": supported values: "x"'],
    ],
    ['anyOf met by one branch', { type: 'object', properties: props, anyOf: [{ required: ['a'] }, { required: ['b'] }] }, { b: 'y' }, []],
    [
      'oneOf met by none: the first failing branch (ties go to the first)',
      { type: 'object', properties: props, oneOf: [{ required: ['a'] }, { required: ['b'] }] },
      {},
      [`${NIL}: "spec.x" must validate one and only one schema (oneOf). Found none valid`, 'spec.x.a: Required value'],
    ],
    [
      'oneOf met by two',
      { type: 'object', properties: props, oneOf: [{ required: ['a'] }, { required: ['b'] }] },
      { a: 1, b: 'y' },
      [`${NIL}: "spec.x" must validate one and only one schema (oneOf). Found 2 valid alternatives`],
    ],
    ['oneOf met by one', { type: 'object', properties: props, oneOf: [{ required: ['a'] }, { required: ['b'] }] }, { a: 1 }, []],
    [
      'allOf met by none',
      { type: 'object', properties: props, allOf: [{ required: ['a'] }, { required: ['b'] }] },
      {},
      ['spec.x.a: Required value', 'spec.x.b: Required value', `${NIL}: "spec.x" must validate all the schemas (allOf). None validated`],
    ],
    [
      'allOf met by some',
      { type: 'object', properties: props, allOf: [{ required: ['a'] }, { required: ['b'] }] },
      { a: 1 },
      ['spec.x.b: Required value', `${NIL}: "spec.x" must validate all the schemas (allOf)`],
    ],
    [
      'the same error twice is reported once',
      { type: 'object', properties: props, allOf: [{ required: ['a'] }, { required: ['a'] }] },
      {},
      ['spec.x.a: Required value', `${NIL}: "spec.x" must validate all the schemas (allOf). None validated`],
    ],
    ['not', { type: 'object', properties: props, not: { required: ['a'] } }, { a: 1 }, [`${NIL}: "spec.x" must not validate the schema (not)`]],
    ['not, not matched', { type: 'object', properties: props, not: { required: ['a'] } }, { b: 'x' }, []],
  ];
  for (const [name, schema, value, want] of cases) t.same(field('x', schema, value), want, name);
  t.end();
});

t.test('paths: at the root, under a base path, relative names in messages', (t) => {
  const root = readSchema({ type: 'object', required: ['spec'], minProperties: 2, properties: { spec: { type: 'object' } } });
  t.same(validateValue(root, { a: 1 }).map(describe), ['<nil>: Invalid value: 1:  in body should have at least 2 properties', 'spec: Required value'], 'the root has no name: <nil>');
  const status = readSchema({ type: 'object', properties: { replicas: { type: 'integer' } }, required: ['ready'] });
  t.same(
    validateValue(status, { replicas: 'x' }, 'status').map(describe),
    ['status.replicas: Invalid value: "string": replicas in body must be of type integer: "string"', 'status.ready: Required value'],
    'under status, names are relative to it',
  );
  const scalar = readSchema({ type: 'integer', anyOf: [{ enum: [5] }] });
  t.same(
    validateValue(scalar, 'x', 'spec.validation.openAPIV3Schema.properties[n].default').map(describe),
    [
      'spec.validation.openAPIV3Schema.properties[n].default: Invalid value: "string":  in body must be of type integer: "string"',
      'spec.validation.openAPIV3Schema.properties[n].default: Invalid value: "": "" must validate at least one schema (anyOf)',
      'spec.validation.openAPIV3Schema.properties[n].default: Unsupported value: "x": supported values: "5"',
    ],
    'a value of its own: the base path, an empty name',
  );
  t.same(validateValue(scalar, 5), []);
  t.same(validateValue(scalar, 7).map(describe), ['<nil>: Invalid value: "": "" must validate at least one schema (anyOf)', '<nil>: Unsupported value: 7: supported values: "5"']);
  t.end();
});

t.test('jsonEqual compares decoded JSON', (t) => {
  t.ok(jsonEqual({ a: [1, { b: null }] }, { a: [1, { b: null }] }));
  t.ok(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 }));
  t.notOk(jsonEqual({ a: 1 }, { a: 1, b: undefined }));
  t.notOk(jsonEqual([1, 2], [2, 1]));
  t.notOk(jsonEqual({}, []));
  t.notOk(jsonEqual('1', 1));
  t.end();
});
