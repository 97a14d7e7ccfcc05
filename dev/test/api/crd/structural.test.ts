import t from 'tap';
import { describe } from '../../../src/api/crd/field.js';
import { readSchema } from '../../../src/api/crd/jsonschema.js';
import { unsupportedField, validateDefaults, validateStructural } from '../../../src/api/crd/structural.js';

t.test('unsupportedField: what NewStructural refuses, the first found', (t) => {
  const cases: [Record<string, unknown>, string | undefined][] = [
    [{ type: 'object' }, undefined],
    [{ type: 'object', id: 'x', $ref: '#' }, "OpenAPIV3Schema 'id' is not supported"],
    [{ type: 'object', $schema: 'x' }, "OpenAPIV3Schema 'schema' is not supported"],
    [{ type: 'object', properties: { a: { $ref: '#/a' } } }, "OpenAPIV3Schema '$ref' is not supported"],
    [{ type: 'object', anyOf: [{ definitions: { d: {} } }] }, "OpenAPIV3Schema 'definitions' is not supported"],
    [{ type: 'object', 'x-kubernetes-preserve-unknown-fields': false }, "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined"],
    [{ type: 'array', items: [{ type: 'string' }] }, "OpenAPIV3Schema 'items' must be a schema, but is an array"],
    [{ type: 'object', additionalProperties: { additionalItems: true } }, "OpenAPIV3Schema 'additionalItems' is not supported"],
    [{ type: 'object', patternProperties: {} }, undefined],
  ];
  for (const [raw, want] of cases) t.equal(unsupportedField(readSchema(raw)), want, JSON.stringify(raw));
  t.end();
});

t.test('validateStructural and validateDefaults at a path of their own', (t) => {
  t.same(validateStructural(readSchema({ properties: { b: {}, a: {} } }), 'S').map(describe), [
    'S.properties[a].type: Required value: must not be empty for specified object fields',
    'S.properties[b].type: Required value: must not be empty for specified object fields',
    'S.type: Required value: must not be empty at the root',
  ]);
  t.same(validateDefaults(readSchema({ type: 'object', properties: { n: { type: 'integer', default: true }, l: { type: 'array', items: { type: 'integer', default: 1 } } } }), 'S').map(describe), [
    'S.properties[n].default: Invalid value: "boolean":  in body must be of type integer: "boolean"',
  ]);
  t.same(validateDefaults(readSchema({ type: 'object', properties: { metadata: { type: 'object', default: { x: 1 } } } }), 'S'), [], 'defaults inside metadata are left to the keyword check');
  t.end();
});
