import t from 'tap';
import { internal, readSchema, someSchema } from '../../../src/api/crd/jsonschema.js';

t.test('readSchema: the typed view of a schema node', (t) => {
  const raw = {
    type: 'object',
    properties: { b: { type: 'string', default: null }, a: { type: 'integer', default: 0, maximum: 'ten' } },
    additionalProperties: false,
    items: [{ type: 'string' }],
    'x-kubernetes-preserve-unknown-fields': false,
    'x-kubernetes-validations': [{ rule: 'self.a > 0', reason: 'FieldValueInvalid' }],
  };
  const s = readSchema(raw);
  t.equal(s.type, 'object');
  t.same([...(s.properties?.keys() ?? [])], ['b', 'a'], 'properties in the order written');
  t.notOk(s.properties?.get('b')?.hasDefault, 'default: null is no default');
  t.ok(s.properties?.get('a')?.hasDefault, 'default: 0 is one');
  t.equal(s.properties?.get('a')?.maximum, undefined, 'a keyword of the wrong type reads as absent');
  t.same(s.additionalProperties, { allows: false });
  t.equal(s.itemsArray?.length, 1);
  t.equal(s.items, undefined);
  t.equal(s.preserveUnknownFields, false);
  t.same(s.validations, [{ rule: 'self.a > 0', message: '', messageExpression: '', reason: 'FieldValueInvalid', fieldPath: '' }]);
  t.equal(readSchema(raw), s, 'read once per raw node');
  t.equal(readSchema('nonsense').type, '', 'not an object: an empty schema');
  t.end();
});

t.test('someSchema visits every node', (t) => {
  const s = readSchema({ type: 'object', properties: { a: { type: 'array', items: { anyOf: [{ not: { default: 1 } }] } } } });
  t.ok(someSchema(s, (n) => n.hasDefault));
  t.notOk(someSchema(s, (n) => n.type === 'boolean'));
  t.ok(someSchema(readSchema({ type: 'object', additionalProperties: { type: 'boolean' } }), (n) => n.type === 'boolean'));
  t.end();
});

t.test('internal: the JSON Go writes for the internal JSONSchemaProps', (t) => {
  const text = internal(readSchema({ type: 'string', enum: ['a'], 'x-kubernetes-list-type': 'set' })).text;
  t.equal(
    text,
    '{"ID":"","Schema":"","Ref":null,"Description":"","Type":"string","Nullable":false,"Format":"","Title":"","Default":null,"Maximum":null,"ExclusiveMaximum":false,"Minimum":null,"ExclusiveMinimum":false,"MaxLength":null,"MinLength":null,"Pattern":"","MaxItems":null,"MinItems":null,"UniqueItems":false,"MultipleOf":null,"Enum":["a"],"MaxProperties":null,"MinProperties":null,"Required":null,"Items":null,"AllOf":null,"OneOf":null,"AnyOf":null,"Not":null,"Properties":null,"AdditionalProperties":null,"PatternProperties":null,"Dependencies":null,"AdditionalItems":null,"Definitions":null,"ExternalDocs":null,"Example":null,"XPreserveUnknownFields":null,"XEmbeddedResource":false,"XIntOrString":false,"XListMapKeys":null,"XListType":"set","XMapType":null,"XValidations":null}',
  );
  const nested = internal(readSchema({ type: 'object', properties: { z: { type: 'string' }, a: { type: 'integer' } }, additionalProperties: true })).text;
  t.match(nested, /"Properties":\{"a":\{"ID":"".*"Type":"integer".*\},"z":\{.*"Type":"string"/, 'properties sorted by name, as a Go map');
  t.match(nested, /"AdditionalProperties":\{"Allows":true,"Schema":null\}/);
  t.end();
});
