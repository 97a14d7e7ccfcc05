import t from 'tap';
import { SchemaError, compileSchema, type PackageTable } from '../../../src/api/protobuf/schema.js';

const table = (messages: PackageTable['messages'], pkg = 'test.v1', alias = 'test'): PackageTable => ({ package: pkg, alias, messages });

t.test('compileSchema: the notation for scalars, pointers, repeated, maps, builtins, embedded and qualified messages', (t) => {
  const other = table({ Ref: { 1: 'name string' } }, 'other.v1', 'other');
  const schema = compileSchema([
    other,
    table({
      Thing: {
        1: 'name string',
        2: 'replicas *int32',
        3: 'items []Item',
        4: 'labels map[string]string',
        5: 'created Time',
        6: '...Item',
        7: 'ref other.Ref',
        8: 'sizes map[string]Quantity',
      },
      Item: { 1: 'data bytes' },
    }),
  ]);
  const thing = schema.get('test.v1.Thing');
  t.ok(thing, 'messages are named by package');
  t.strictSame(thing?.fields.get(1), { number: 1, json: 'name', label: 'single', pointer: false, type: { kind: 'scalar', scalar: 'string' } });
  t.strictSame(thing?.fields.get(2), { number: 2, json: 'replicas', label: 'single', pointer: true, type: { kind: 'scalar', scalar: 'int32' } });
  t.strictSame(thing?.fields.get(3), { number: 3, json: 'items', label: 'repeated', pointer: false, type: { kind: 'message', message: 'test.v1.Item' } });
  t.strictSame(thing?.fields.get(4), { number: 4, json: 'labels', label: 'map', pointer: false, type: { kind: 'scalar', scalar: 'string' } });
  t.strictSame(thing?.fields.get(5), { number: 5, json: 'created', label: 'single', pointer: false, type: { kind: 'builtin', builtin: 'Time' } });
  t.strictSame(thing?.fields.get(6), { number: 6, json: '', label: 'inline', pointer: false, type: { kind: 'message', message: 'test.v1.Item' } });
  t.strictSame(thing?.fields.get(7), { number: 7, json: 'ref', label: 'single', pointer: false, type: { kind: 'message', message: 'other.v1.Ref' } });
  t.strictSame(thing?.fields.get(8), { number: 8, json: 'sizes', label: 'map', pointer: false, type: { kind: 'builtin', builtin: 'Quantity' } });
  t.end();
});

t.test('compileSchema: malformed tables are refused, naming the message and field', (t) => {
  const cases: [string, PackageTable['messages'], RegExp][] = [
    ['unknown scalar', { M: { 1: 'x uint64' } }, /test\.v1\.M field 1: unknown type "uint64"/],
    ['unknown message', { M: { 1: 'x Missing' } }, /test\.v1\.M field 1: unknown message test\.v1\.Missing/],
    ['unknown package alias', { M: { 1: 'x nope.Thing' } }, /unknown type "nope\.Thing"/],
    ['no type', { M: { 1: 'x' } }, /cannot parse "x"/],
    ['pointer to a message', { M: { 1: 'x *N' }, N: {} }, /only scalars are marked as pointers/],
    ['pointer to a builtin', { M: { 1: 'x *Quantity' } }, /only scalars are marked as pointers/],
    ['embedded scalar', { M: { 1: '...string' } }, /only messages can be embedded/],
    ['a JSON member twice', { M: { 1: 'x string', 2: 'x int32' } }, /JSON member x appears twice/],
    ['field number 0', { M: { 0: 'x string' } }, /field 0: not a field number/],
  ];
  for (const [name, messages, message] of cases) {
    t.throws(() => compileSchema([table(messages)]), message, name);
    try {
      compileSchema([table(messages)]);
    } catch (err) {
      t.ok(err instanceof SchemaError, `${name}: a SchemaError`);
    }
  }
  t.end();
});
