import t from 'tap';
import { describe } from '../../../src/api/crd/field.js';
import { readCrd, schemaOf } from '../../../src/api/crd/definition.js';
import { applyDefaults, prune, unknownFieldMessages, validateObject, validateStatus } from '../../../src/api/crd/schema.js';
import { smiCrd } from './fixtures.js';

type Json = Record<string, unknown>;

const obj = (properties: Json, extra: Json = {}): Json => ({ type: 'object', properties, ...extra });
const str = { type: 'string' };
const root = (spec: Json, extra: Json = {}): Json => obj({ spec }, extra);

t.test('prune drops what the schema does not specify and reports where, sorted', (t) => {
  const schema = root(
    obj({
      a: str,
      list: { type: 'array', items: obj({ n: str }) },
      free: obj({ typed: obj({ k: str }) }, { 'x-kubernetes-preserve-unknown-fields': true }),
      map: { type: 'object', additionalProperties: obj({ v: { type: 'integer' } }) },
      anyMap: { type: 'object', additionalProperties: true },
      noneMap: { type: 'object', additionalProperties: false },
      embedded: obj({ spec: { type: 'object' } }, { 'x-kubernetes-embedded-resource': true }),
    }),
  );
  const input = {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w', weird: 1 },
    extra: 1,
    spec: {
      a: 'x',
      b: 1,
      list: [{ n: 'a', m: 1 }, { z: 2 }],
      free: { anything: { deep: 1 }, typed: { k: 'v', drop: 1 } },
      map: { one: { v: 1, w: 2 } },
      anyMap: { s: 'x', o: { inner: 1 } },
      noneMap: { k: 'v' },
      embedded: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', foo: 1 }, spec: { x: 1 }, status: {} },
    },
  };
  const before = structuredClone(input);
  const out = prune(schema, input);
  t.same(out.unknown, ['extra', 'spec.anyMap.o.inner', 'spec.b', 'spec.embedded.spec.x', 'spec.embedded.status', 'spec.free.typed.drop', 'spec.list[0].m', 'spec.list[1].z', 'spec.map.one.w']);
  t.same(out.object, {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w', weird: 1 },
    spec: {
      a: 'x',
      list: [{ n: 'a' }, {}],
      free: { anything: { deep: 1 }, typed: { k: 'v' } },
      map: { one: { v: 1 } },
      anyMap: { s: 'x', o: {} },
      noneMap: { k: 'v' },
      embedded: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', foo: 1 }, spec: {} },
    },
  });
  t.same(input, before, 'the input is not changed');
  t.same(unknownFieldMessages(out.unknown.slice(0, 2)), ['unknown field "extra"', 'unknown field "spec.anyMap.o.inner"']);
  t.end();
});

t.test('prune: nulls the schema does not allow go, unless a default will replace them', (t) => {
  const schema = root(obj({ a: str, b: { type: 'string', nullable: true }, c: { type: 'string', default: 'c' }, l: { type: 'array', items: str } }));
  const out = prune(schema, { spec: { a: null, b: null, c: null, l: [null] } });
  t.same(out.object, { spec: { b: null, c: null, l: [null] } });
  t.same(out.unknown, [], 'dropped nulls are not unknown fields');
  t.same(prune({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, { spec: { anything: [1] }, x: 1 }).unknown, [], 'a root that preserves unknown fields keeps all');
  t.same(prune(root(obj({})), { spec: 'not an object' }).object, { spec: 'not an object' }, 'scalars where objects belong are left to validation');
  t.end();
});

t.test('applyDefaults: top-down, defaults inside defaults, nulls replaced, defaults pruned', (t) => {
  const schema = root(
    obj(
      {
        replicas: { type: 'integer', default: 1 },
        mode: { type: 'string', default: 'a' },
        keep: { type: 'string', nullable: true, default: 'x' },
        list: { type: 'array', items: { type: 'string', default: 'd' } },
        map: { type: 'object', additionalProperties: { type: 'string', default: 'z' } },
        shaped: obj({ known: { type: 'integer' } }, { default: { known: 1, unknown: 2 } }),
      },
      { default: {} },
    ),
  );
  const cases: [string, Json, Json][] = [
    ['a missing object is defaulted, then its own properties', {}, { spec: { replicas: 1, mode: 'a', keep: 'x', shaped: { known: 1 } } }],
    ['values given are kept', { spec: { replicas: 3, mode: 'b', keep: 'y', shaped: {} } }, { spec: { replicas: 3, mode: 'b', keep: 'y', shaped: {} } }],
    ['non-nullable nulls are defaulted, nullable ones kept', { spec: { replicas: null, keep: null } }, { spec: { replicas: 1, mode: 'a', keep: null, shaped: { known: 1 } } }],
    ['null list items and map values get the items default', { spec: { list: [null, 'b'], map: { k: null, j: 'j' } } }, { spec: { replicas: 1, mode: 'a', keep: 'x', list: ['d', 'b'], map: { k: 'z', j: 'j' }, shaped: { known: 1 } } }],
  ];
  for (const [name, input, want] of cases) t.same(applyDefaults(schema, structuredClone(input)), want, name);
  const a: Json = {};
  t.equal(applyDefaults(schema, a), a, 'defaults in place, and returns the object');
  ((a.spec as Json).shaped as Json).known = 99;
  const b = applyDefaults(schema, {});
  t.same(b, { spec: { replicas: 1, mode: 'a', keep: 'x', shaped: { known: 1 } } }, 'every object gets its own copy of a default');
  t.end();
});

t.test('validateObject: schema, embedded resources, list types, in that order', (t) => {
  const embedded = { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true };
  const schema = root(
    obj({
      template: embedded,
      templates: { type: 'object', additionalProperties: embedded },
      list: { type: 'array', items: embedded },
      tags: { type: 'array', items: str, 'x-kubernetes-list-type': 'set' },
      objects: { type: 'array', items: { type: 'object', 'x-kubernetes-map-type': 'atomic' }, 'x-kubernetes-list-type': 'set' },
      ports: { type: 'array', items: obj({ name: str, v: { type: 'integer' } }), 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
      pairs: { type: 'array', items: obj({ port: { type: 'integer' }, protocol: str }), 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['port', 'protocol'] },
      mode: { type: 'string', enum: ['a'] },
      ruled: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self > 5' }] },
    }),
  );
  const dns1035 =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
  const cases: [string, Json, string[]][] = [
    ['valid (CEL rules are not evaluated)', { spec: { template: { apiVersion: 'v1', kind: 'Pod' }, tags: ['a', 'b'], ports: [{ name: 'a' }, { name: 'b' }], ruled: 1 } }, []],
    ['embedded: apiVersion and kind required', { spec: { template: { metadata: {} } } }, ['spec.template.apiVersion: Required value', 'spec.template.kind: Required value']],
    [
      'embedded: bad apiVersion and kind',
      { spec: { template: { apiVersion: 'a/b/c', kind: 'Bad_Kind' } } },
      ['spec.template.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c', `spec.template.kind: Invalid value: "Bad_Kind": may have mixed case, but should otherwise match: ${dns1035}`],
    ],
    ['embedded: not strings, empty', { spec: { template: { apiVersion: '', kind: 5 } } }, ['spec.template.apiVersion: Invalid value: "": must not be empty', 'spec.template.kind: Invalid value: 5: must be a string']],
    ['embedded in a map and a list', { spec: { templates: { a: { apiVersion: 'v1' } }, list: [{ kind: 'Pod' }] } }, ['spec.templates[a].kind: Required value', 'spec.list[0].apiVersion: Required value']],
    ['set: the second appearance of each repeated value', { spec: { tags: ['a', 'b', 'a', 'a', 'b'] } }, ['spec.tags[2]: Duplicate value: "a"', 'spec.tags[4]: Duplicate value: "b"']],
    ['set of objects compares them as JSON', { spec: { objects: [{ x: 1, y: 2 }, { y: 2, x: 1 }, { x: '1' }] } }, ['spec.objects[1]: Duplicate value: {"x":1,"y":2}']],
    ['map: one key', { spec: { ports: [{ name: 'a', v: 1 }, { name: 'a', v: 2 }, { v: 3 }, { v: 4 }] } }, ['spec.ports[1]: Duplicate value: {"name":"a"}', 'spec.ports[3]: Duplicate value: {}']],
    ['map: several keys', { spec: { pairs: [{ port: 80, protocol: 'TCP' }, { port: 80, protocol: 'UDP' }, { protocol: 'TCP', port: 80 }] } }, ['spec.pairs[2]: Duplicate value: {"port":80,"protocol":"TCP"}']],
    [
      'map: a non-object item stops the uniqueness check',
      { spec: { ports: [{ name: 'a' }, 'x', { name: 'a' }] } },
      ['spec.ports[1]: Invalid value: "string": spec.ports[1] in body must be of type object: "string"', 'spec.ports[1]: Invalid value: "x": must be an object for an array of list-type map'],
    ],
    ['schema errors come first', { spec: { mode: 'b', tags: ['x', 'x'] } }, ['spec.mode: Unsupported value: "b": supported values: "a"', 'spec.tags[1]: Duplicate value: "x"']],
  ];
  for (const [name, input, want] of cases) t.same(validateObject(schema, input).map(describe), want, name);
  t.end();
});

t.test('validateStatus: only status, against properties.status, names relative to it', (t) => {
  const schema = obj({
    spec: obj({ replicas: { type: 'integer' } }),
    status: obj({ replicas: { type: 'integer' }, tags: { type: 'array', items: str, 'x-kubernetes-list-type': 'set' } }, { required: ['replicas'] }),
  });
  t.same(validateStatus(schema, { spec: { replicas: 'bad' }, status: { replicas: 'x', tags: ['a', 'a'] } }).map(describe), [
    'status.replicas: Invalid value: "string": replicas in body must be of type integer: "string"',
    'status.tags[1]: Duplicate value: "a"',
  ]);
  t.same(validateStatus(schema, { status: {} }).map(describe), ['status.replicas: Required value']);
  t.same(validateStatus(schema, { spec: {} }), [], 'no status, nothing to validate');
  t.same(validateStatus(obj({ spec: obj({}) }), { status: { x: 1 } }), [], 'a schema without status validates nothing');
  t.end();
});

t.test('SMI objects against their CRD schemas: prune, default, validate', (t) => {
  const admit = (kind: string, version: string, spec: Json): { unknown: string[]; problems: string[]; object: Json } => {
    const schema = schemaOf(readCrd(smiCrd(kind)), version);
    const pruned = prune(schema, { apiVersion: `x/${version}`, kind, metadata: { name: 'o', namespace: 'n' }, spec });
    const object = applyDefaults(schema, pruned.object);
    return { unknown: pruned.unknown, problems: validateObject(schema, object).map(describe), object };
  };
  const split = (backends: Json[], extra: Json = {}): Json => ({ service: 'apex', backends, ...extra });
  const pattern = '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';
  const cases: [string, string, string, Json, string[], string[]][] = [
    ['TrafficSplit', 'v1alpha1', 'quantities', split([{ service: 'a', weight: '500m' }, { service: 'b', weight: 1 }]), [], []],
    ['TrafficSplit', 'v1alpha1', 'not a quantity', split([{ service: 'a', weight: 'abc' }]), [], [`spec.backends[0].weight: Invalid value: "abc": spec.backends[0].weight in body should match '${pattern}'`]],
    ['TrafficSplit', 'v1alpha1', 'matches are not in v1alpha1', split([{ service: 'a' }], { matches: [] }), ['spec.matches'], []],
    ['TrafficSplit', 'v1alpha2', 'a weight as a string', split([{ service: 'a', weight: '50' }]), [], ['spec.backends[0].weight: Invalid value: "string": spec.backends[0].weight in body must be of type integer: "string"']],
    ['TrafficSplit', 'v1alpha2', 'no weight, an extra field', split([{ service: 'a', extra: true }]), ['spec.backends[0].extra'], ['spec.backends[0].weight: Required value']],
    ['TrafficSplit', 'v1alpha3', 'a fractional weight passes type number', split([{ service: 'a', weight: 2.5 }], { matches: [{ kind: 'HTTPRouteGroup', name: 'r' }] }), [], []],
    ['TrafficSplit', 'v1alpha4', 'a negative weight', split([{ service: 'a', weight: -1 }]), [], ['spec.backends[0].weight: Invalid value: -1: spec.backends[0].weight in body should be greater than or equal to 0']],
    ['TrafficSplit', 'v1alpha4', 'no service', { backends: [] }, [], ['spec.service: Required value']],
    ['HTTPRouteGroup', 'v1alpha4', 'header values must be strings', { matches: [{ name: 'm', headers: { a: 1 } }] }, [], ['spec.matches[0].headers.a: Invalid value: "integer": spec.matches[0].headers.a in body must be of type string: "integer"']],
    ['TrafficTarget', 'v1alpha4', 'a destination kind SMI does not know', { destination: { kind: 'Pod', name: 'p' }, sources: [] }, [], ['spec.destination.kind: Unsupported value: "Pod": supported values: "ServiceAccount", "IdentityBinding"']],
    ['TCPRoute', 'v1alpha3', 'a spec that preserves unknown fields', { anything: { goes: [1] } }, [], []],
    ['TCPRoute', 'v1alpha4', 'ports out of range', { matches: { ports: [0, 80, 65536] } }, [], [
      'spec.matches.ports[0]: Invalid value: 0: spec.matches.ports[0] in body should be greater than or equal to 1',
      'spec.matches.ports[2]: Invalid value: 65536: spec.matches.ports[2] in body should be less than or equal to 65535',
    ]],
  ];
  for (const [kind, version, name, spec, unknown, want] of cases) {
    const got = admit(kind, version, spec);
    t.same(got.unknown, unknown, `${kind} ${version}, ${name}: pruned`);
    t.same(got.problems, want, `${kind} ${version}, ${name}: problems`);
  }
  t.end();
});
