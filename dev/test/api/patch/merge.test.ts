import t from 'tap';
import { applyMergePatch } from '../../../src/api/patch/merge.js';
import { deepFreeze, sharesObjects } from './fixtures.js';

t.test('RFC 7386 appendix A', (t) => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, expected] of cases) {
    t.strictSame(applyMergePatch(deepFreeze(target), deepFreeze(patch)), expected, `${JSON.stringify(target)} + ${JSON.stringify(patch)}`);
  }
  t.end();
});

t.test('what kubectl and controllers send', (t) => {
  const deployment = () =>
    deepFreeze({
      metadata: { name: 'web', labels: { app: 'web', env: 'prod' }, annotations: { note: 'a' } },
      spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image: 'web:1' }, { name: 'log', image: 'log:1' }] } } },
    });
  const cases: { name: string; patch: unknown; expected: unknown }[] = [
    {
      name: 'kubectl label env- (a label removed)',
      patch: { metadata: { labels: { env: null } } },
      expected: { metadata: { name: 'web', labels: { app: 'web' }, annotations: { note: 'a' } }, spec: deployment().spec },
    },
    {
      name: 'kubectl annotate note=hi new=x',
      patch: { metadata: { annotations: { note: 'hi', new: 'x' } } },
      expected: { metadata: { name: 'web', labels: { app: 'web', env: 'prod' }, annotations: { note: 'hi', new: 'x' } }, spec: deployment().spec },
    },
    {
      name: 'kubectl scale: a number replaced deep inside',
      patch: { spec: { replicas: 5 } },
      expected: { ...deployment(), spec: { ...deployment().spec, replicas: 5 } },
    },
    {
      name: 'a list is replaced as a whole, never merged',
      patch: { spec: { template: { spec: { containers: [{ name: 'app', image: 'web:2' }] } } } },
      expected: { ...deployment(), spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image: 'web:2' }] } } } },
    },
    {
      name: 'null members of objects inside a list are dropped (as Kubernetes stores them), null elements stay',
      patch: { spec: { template: { spec: { containers: [{ name: 'app', image: null, args: [null, 'x'] }] } } } },
      expected: { ...deployment(), spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', args: [null, 'x'] }] } } } },
    },
    {
      name: 'null on a member that does not exist changes nothing',
      patch: { metadata: { labels: { missing: null } }, status: null },
      expected: deployment(),
    },
    {
      name: 'a whole subtree removed',
      patch: { spec: null, metadata: { annotations: null } },
      expected: { metadata: { name: 'web', labels: { app: 'web', env: 'prod' } } },
    },
    {
      name: 'an object replaces a string and a string an object',
      patch: { metadata: { name: { odd: true }, labels: 'flat' } },
      expected: { metadata: { name: { odd: true }, labels: 'flat', annotations: { note: 'a' } }, spec: deployment().spec },
    },
    {
      name: 'an empty patch is a copy',
      patch: {},
      expected: deployment(),
    },
  ];
  for (const c of cases) {
    const target = deployment();
    const patch = deepFreeze(c.patch);
    const result = applyMergePatch(target, patch);
    t.strictSame(result, c.expected, c.name);
    t.notOk(sharesObjects(result, target, patch), `${c.name}: the result shares no object with the inputs`);
  }
  t.end();
});

t.test('member order: kept members stay in place, new ones come last', (t) => {
  const result = applyMergePatch({ a: 1, b: 2, c: 3 }, { d: 4, b: 20, a: null });
  t.strictSame(Object.keys(result as object), ['b', 'c', 'd']);
  t.end();
});

t.test('"__proto__" is an ordinary member', (t) => {
  const patch = JSON.parse('{"metadata": {"__proto__": {"polluted": true}}}') as unknown;
  const result = applyMergePatch({ metadata: {} }, patch) as { metadata: Record<string, unknown> };
  t.ok(Object.hasOwn(result.metadata, '__proto__'));
  t.equal(Object.getPrototypeOf(result.metadata), Object.prototype);
  t.equal((result.metadata as { polluted?: unknown }).polluted, undefined);
  t.equal(({} as { polluted?: unknown }).polluted, undefined);
  const removed = applyMergePatch(JSON.parse('{"__proto__": 1, "a": 2}'), JSON.parse('{"__proto__": null}'));
  t.strictSame(Object.keys(removed as object), ['a']);
  t.end();
});
