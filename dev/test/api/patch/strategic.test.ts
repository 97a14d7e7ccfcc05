import t, { type Test } from 'tap';
import { PatchError } from '../../../src/api/patch/error.js';
import { applyStrategicMergePatch, type PatchSchema } from '../../../src/api/patch/strategic.js';
import { deepFreeze, sharesObjects } from './fixtures.js';

// A small schema exercising every strategy, in the shape of Kubernetes' own test type.
const schema: PatchSchema = deepFreeze({
  fields: {
    list: {
      strategy: 'merge',
      mergeKey: 'name',
      items: { fields: { sub: { strategy: 'merge', mergeKey: 'name' }, tags: { strategy: 'merge' } } },
    },
    tags: { strategy: 'merge' },
    ports: { strategy: 'merge', mergeKey: 'port' },
    replaced: { strategy: 'replace' },
    union: { strategy: 'retainKeys' },
    noKey: { strategy: 'merge' },
  },
});

interface Case {
  name: string;
  target: unknown;
  patch: unknown;
  expected: unknown;
}

function check(t: Test, cases: readonly Case[], schemaOf: (c: Case) => PatchSchema = () => schema): void {
  for (const c of cases) {
    const target = deepFreeze(c.target);
    const patch = deepFreeze(c.patch);
    const result = applyStrategicMergePatch(target, patch, schemaOf(c));
    t.strictSame(result, c.expected, c.name);
    t.notOk(sharesObjects(result, target, patch), `${c.name}: the result shares no object with the inputs`);
  }
}

t.test('maps, plain lists and sets', (t) => {
  check(t, [
    {
      name: 'maps merge recursively; null deletes; null for a missing member does nothing',
      target: { a: { b: 1, c: 2 }, d: 1 },
      patch: { a: { c: null, e: 3 }, d: null, z: null },
      expected: { a: { b: 1, e: 3 } },
    },
    {
      name: 'a list with no strategy (or a field the schema does not know) is replaced',
      target: { plain: [1, 2, 3], other: [{ name: 'a', v: 1 }] },
      patch: { plain: [4], other: [{ name: 'a', w: null }] },
      expected: { plain: [4], other: [{ name: 'a' }] },
    },
    {
      name: 'a list of primitives with merge strategy is a set: the patch\'s elements first, in its order',
      target: { tags: ['a', 'b'] },
      patch: { tags: ['c', 'a'] },
      expected: { tags: ['c', 'a', 'b'] },
    },
    {
      name: 'a member of another type is replaced by the patch\'s value',
      target: { m: 'text', list: 'x' },
      patch: { m: { a: null, b: 1 }, list: [{ name: 'a' }] },
      expected: { m: { b: 1 }, list: [{ name: 'a' }] },
    },
    {
      name: 'a map with replace strategy is replaced',
      target: { replaced: { a: 1 } },
      patch: { replaced: { b: 2, c: null } },
      expected: { replaced: { b: 2 } },
    },
    { name: 'an empty patch is a copy; a null target is {}', target: null, patch: {}, expected: {} },
  ]);
  t.end();
});

t.test('lists merged by key', (t) => {
  check(t, [
    {
      name: 'elements of the patch update their namesakes; nested merge lists merge too',
      target: { list: [{ name: 'a', v: 1 }, { name: 'b', v: 2, sub: [{ name: 'x', v: 1 }, { name: 'y' }], tags: ['p'] }] },
      patch: { list: [{ name: 'b', v: 3, sub: [{ name: 'x', v: null, w: 2 }], tags: ['q'] }] },
      expected: { list: [{ name: 'a', v: 1 }, { name: 'b', v: 3, sub: [{ name: 'x', w: 2 }, { name: 'y' }], tags: ['q', 'p'] }] },
    },
    {
      name: 'new elements come before the ones the patch does not name (as in Kubernetes)',
      target: { list: [{ name: 'a' }, { name: 'b' }] },
      patch: { list: [{ name: 'c' }] },
      expected: { list: [{ name: 'c' }, { name: 'a' }, { name: 'b' }] },
    },
    {
      name: 'updated and new elements keep the patch\'s order, others keep their place',
      target: { list: [{ name: 'a', v: 1 }, { name: 'b', v: 2 }] },
      patch: { list: [{ name: 'b', v: 3 }, { name: 'c' }] },
      expected: { list: [{ name: 'a', v: 1 }, { name: 'b', v: 3 }, { name: 'c' }] },
    },
    {
      name: 'numeric merge keys compare as numbers, not strings',
      target: { ports: [{ port: 80, name: 'http' }, { port: 443 }] },
      patch: { ports: [{ port: 80, targetPort: 8080 }, { port: '443', name: 'odd' }] },
      expected: { ports: [{ port: 80, name: 'http', targetPort: 8080 }, { port: '443', name: 'odd' }, { port: 443 }] },
    },
  ]);
  t.end();
});

t.test('directives', (t) => {
  check(t, [
    {
      name: '$patch: replace in a map replaces it (nulls and directives inside dropped)',
      target: { m: { a: 1, b: 2 }, n: 1 },
      patch: { m: { $patch: 'replace', c: 3, d: null, e: { $retainKeys: ['x'], x: 1 } } },
      expected: { m: { c: 3, e: { x: 1 } }, n: 1 },
    },
    { name: '$patch: replace at the top replaces the whole object', target: { a: 1 }, patch: { $patch: 'replace', b: 2 }, expected: { b: 2 } },
    { name: '$patch: delete in a map empties it', target: { m: { a: 1 }, n: 1 }, patch: { m: { $patch: 'delete' } }, expected: { m: {}, n: 1 } },
    { name: '$patch: merge states the default', target: { m: { a: 1 } }, patch: { m: { $patch: 'merge', b: 2 } }, expected: { m: { a: 1, b: 2 } } },
    {
      name: '{$patch: replace} in a list replaces the list by the patch\'s other elements',
      target: { list: [{ name: 'a' }, { name: 'b' }] },
      patch: { list: [{ name: 'c', v: 1 }, { $patch: 'replace' }] },
      expected: { list: [{ name: 'c', v: 1 }] },
    },
    {
      name: '{name, $patch: delete} removes every element with that key; a missing one is no error',
      target: { list: [{ name: 'a' }, { name: 'b' }, { name: 'a', dup: true }] },
      patch: { list: [{ name: 'a', $patch: 'delete' }, { name: 'zz', $patch: 'delete' }] },
      expected: { list: [{ name: 'b' }] },
    },
    {
      name: '{$patch: merge} in a list and on an element state the default',
      target: { list: [{ name: 'a', v: 1 }] },
      patch: { list: [{ $patch: 'merge' }, { name: 'a', $patch: 'merge', w: 2 }] },
      expected: { list: [{ name: 'a', v: 1, w: 2 }] },
    },
    {
      name: '$retainKeys drops the members it does not list (union types)',
      target: { union: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 }, stale: true } },
      patch: { union: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } },
      expected: { union: { type: 'Recreate' } },
    },
    {
      name: '$retainKeys keeps listed members the patch does not mention',
      target: { union: { type: 'A', a: { x: 1 }, b: { y: 2 } } },
      patch: { union: { $retainKeys: ['type', 'b'], type: 'B' } },
      expected: { union: { type: 'B', b: { y: 2 } } },
    },
    {
      name: '$deleteFromPrimitiveList removes from a set (missing elements and lists ignored), even a plain list',
      target: { tags: ['a', 'b', 'c'], plain: [1, 2, 3] },
      patch: { '$deleteFromPrimitiveList/tags': ['b', 'x'], '$deleteFromPrimitiveList/plain': [2], '$deleteFromPrimitiveList/none': ['a'] },
      expected: { tags: ['a', 'c'], plain: [1, 3] },
    },
    {
      name: '$deleteFromPrimitiveList wins over an addition of the same element',
      target: { tags: ['a'] },
      patch: { '$deleteFromPrimitiveList/tags': ['b'], tags: ['b'] },
      expected: { tags: ['a'] },
    },
    {
      name: '$setElementOrder orders the list; elements only the object has keep their neighbours',
      target: { list: [{ name: '1', other: 'a' }, { name: '2', v: 2 }, { name: '9' }, { name: '3', v: 3 }, { name: '4', v: 4 }] },
      patch: { '$setElementOrder/list': [{ name: '2' }, { name: '1' }, { name: '4' }, { name: '3' }] },
      expected: { list: [{ name: '2', v: 2 }, { name: '1', other: 'a' }, { name: '9' }, { name: '4', v: 4 }, { name: '3', v: 3 }] },
    },
    {
      // Kubernetes deletes in place and appends into the freed slot of the list it then orders by.
      name: '$setElementOrder with a deletion and an addition: Kubernetes\' order',
      target: { list: [{ name: '1' }, { name: '2', other: 'b' }, { name: '4', other: 'c' }] },
      patch: { '$setElementOrder/list': [{ name: '2' }, { name: '3' }], list: [{ name: '3' }, { name: '1', $patch: 'delete' }] },
      expected: { list: [{ name: '2', other: 'b' }, { name: '4', other: 'c' }, { name: '3' }] },
    },
    {
      name: '$setElementOrder of a set',
      target: { tags: ['1', '4', '2'] },
      patch: { '$setElementOrder/tags': ['3', '1', '2'], tags: ['3'] },
      expected: { tags: ['3', '1', '4', '2'] },
    },
    {
      name: '$setElementOrder of a list the object lacks, and of a list neither has',
      target: {},
      patch: { '$setElementOrder/list': [{ name: 'b' }, { name: 'a' }], list: [{ name: 'b' }, { name: 'a' }], '$setElementOrder/ports': [{ port: 1 }] },
      expected: { list: [{ name: 'b' }, { name: 'a' }] },
    },
    {
      name: 'a value the object lacks is stored without nulls, directives, or elements marked for deletion',
      target: {},
      patch: {
        m: {
          a: null,
          b: 1,
          $retainKeys: ['b'],
          '$setElementOrder/list': [{ name: 'y' }],
          list: [{ name: 'x', $patch: 'delete' }, { name: 'y', z: null }, { $patch: 'replace' }],
          gone: { $patch: 'delete' },
          kept: { $patch: 'replace', k: 1 },
        },
      },
      expected: { m: { b: 1, list: [{ name: 'y' }], kept: { k: 1 } } },
    },
  ]);
  t.end();
});

t.test('malformed patches', (t) => {
  const cases: [unknown, unknown, string, (400 | 422)?][] = [
    [{}, [], 'a strategic merge patch must be a JSON object, got array'],
    ['x', {}, 'a strategic merge patch applies to a JSON object, got string'],
    [{ list: [{ name: 'a' }] }, { list: [{ image: 'nginx', ports: [80] }] }, 'map: map[image:nginx ports:[80]] does not contain declared merge key: name'],
    [{ list: [{ name: 'a' }] }, { list: [{ $patch: 'delete', image: 'x' }] }, 'map: map[$patch:delete image:x] does not contain declared merge key: name'],
    [{ m: {} }, { m: { $patch: 'explode' } }, 'unknown patch type: explode in map: map[$patch:explode]'],
    [{ list: [{ name: 'a' }] }, { list: [{ name: 'a', $patch: 'move' }] }, 'unknown patch type: move in map: map[$patch:move name:a]'],
    [{}, { m: { $patch: 1, a: 1 } }, 'unknown patch type: 1 in map: map[$patch:1 a:1]'],
    [{ m: {} }, { m: { $foo: 1 } }, 'unknown strategic merge patch directive "$foo" in m'],
    [{}, { $setElementOrder: [] }, 'invalid patch format of setElementOrder list: "$setElementOrder"'],
    [{}, { '$setElementOrderX/list': [] }, 'invalid patch format of setElementOrder list: "$setElementOrderX/list"'],
    [{}, { $bogus: true }, 'unknown strategic merge patch directive "$bogus" in the patch'],
    [{ union: {} }, { union: { $retainKeys: 'type' } }, 'invalid patch format of retainKeys: $retainKeys must be a list of field names, got string'],
    [{ union: {} }, { union: { $retainKeys: ['type'], type: 'A', extra: 1 } }, 'invalid patch format of retainKeys: the patch sets "extra", which $retainKeys does not list'],
    [{ list: [] }, { '$setElementOrder/list': 'a' }, 'expected a []interface {}, but received a string'],
    [{ list: 'x' }, { '$setElementOrder/list': [] }, 'expected a []interface {}, but received a string'],
    [
      { list: [{ name: '1' }, { name: '3' }, { name: '2' }] },
      { '$setElementOrder/list': [{ name: '1' }, { name: '2' }, { name: '3' }], list: [{ name: '3', value: 3 }, { name: '1', value: 1 }] },
      "the order in patch list: [map[name:3 value:3] map[name:1 value:1]] doesn't match $setElementOrder list: [map[name:1] map[name:2] map[name:3]]",
    ],
    [{ list: [{ name: 'a' }] }, { '$setElementOrder/list': [{ nome: 'a' }], list: [{ name: 'a' }] }, 'map: map[nome:a] does not contain declared merge key: name'],
    [{ tags: ['a'] }, { '$deleteFromPrimitiveList/tags': 'a' }, 'invalid patch format of primitive list: $deleteFromPrimitiveList/tags must be a list of strings, numbers or booleans'],
    [{ tags: ['a'] }, { '$deleteFromPrimitiveList/tags': [{ a: 1 }] }, 'invalid patch format of primitive list: $deleteFromPrimitiveList/tags must be a list of strings, numbers or booleans'],
    [{}, { $deleteFromPrimitiveList: ['a'] }, 'invalid patch format of primitive list: "$deleteFromPrimitiveList"'],
    [{ tags: [] }, { tags: [['a']] }, 'lists of lists are not supported (tags)', 422],
    [{ tags: ['a'] }, { tags: [1] }, 'list element types are not identical: [a 1] (tags)'],
    [{ list: ['x'] }, { list: [{ name: 'a' }] }, 'list element types are not identical: [x map[name:a]] (list)'],
    [{ noKey: [{ a: 1 }] }, { noKey: [{ a: 2 }] }, 'cannot merge lists without merge key for noKey'],
    [{ list: [{ name: 'a', sub: [{ v: 1 }] }] }, { list: [{ name: 'a', sub: [{ name: 'x' }] }] }, 'map: map[v:1] does not contain declared merge key: name'],
  ];
  for (const [target, patch, message, status = 400] of cases) {
    t.throws(() => applyStrategicMergePatch(deepFreeze(target), deepFreeze(patch), schema), new PatchError(message, status), message);
    try {
      applyStrategicMergePatch(target, patch, schema);
    } catch (error) {
      t.equal((error as PatchError).status, status, `${message}: status ${status}`);
    }
  }
  t.end();
});
