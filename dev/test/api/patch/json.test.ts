import t from 'tap';
import { PatchError } from '../../../src/api/patch/error.js';
import { applyJsonPatch } from '../../../src/api/patch/json.js';
import { deepFreeze, sharesObjects } from './fixtures.js';

const pod = () =>
  deepFreeze({
    metadata: { name: 'web', labels: { app: 'web' }, annotations: { 'loom.dev/inject': 'enabled', 'a~b': 'tilde' } },
    spec: {
      containers: [
        { name: 'app', image: 'web:1', ports: [{ containerPort: 8080 }] },
        { name: 'log', image: 'log:1' },
      ],
      replicas: 1,
    },
  });

t.test('operations that apply', (t) => {
  const cases: { name: string; ops: unknown[]; expected: (doc: ReturnType<typeof pod>) => unknown }[] = [
    {
      name: 'add a member (an annotation whose key has a slash, escaped ~1)',
      ops: [{ op: 'add', path: '/metadata/annotations/loom.dev~1status', value: 'injected' }],
      expected: (d) => ({ ...d, metadata: { ...d.metadata, annotations: { ...d.metadata.annotations, 'loom.dev/status': 'injected' } } }),
    },
    {
      name: 'add replaces an existing member, in place',
      ops: [{ op: 'add', path: '/metadata/labels/app', value: 'other' }],
      expected: (d) => ({ ...d, metadata: { ...d.metadata, labels: { app: 'other' } } }),
    },
    {
      name: 'add inserts into a list at an index, "-" appends, the length itself appends too',
      ops: [
        { op: 'add', path: '/spec/containers/0', value: { name: 'init' } },
        { op: 'add', path: '/spec/containers/-', value: { name: 'proxy' } },
        { op: 'add', path: '/spec/containers/4', value: { name: 'last' } },
      ],
      expected: (d) => ({ ...d, spec: { ...d.spec, containers: [{ name: 'init' }, ...d.spec.containers, { name: 'proxy' }, { name: 'last' }] } }),
    },
    {
      name: 'a mutating webhook: sidecar appended, annotations object created, value null',
      ops: [
        { op: 'add', path: '/spec/containers/-', value: { name: 'loom-proxy', image: 'proxy:1' } },
        { op: 'add', path: '/metadata/annotations', value: { 'loom.dev/injected': 'true' } },
        { op: 'add', path: '/spec/hostNetwork', value: null },
      ],
      expected: (d) => ({
        metadata: { ...d.metadata, annotations: { 'loom.dev/injected': 'true' } },
        spec: { ...d.spec, containers: [...d.spec.containers, { name: 'loom-proxy', image: 'proxy:1' }], hostNetwork: null },
      }),
    },
    {
      name: 'remove a member (escaped ~0) and a list element',
      ops: [
        { op: 'remove', path: '/metadata/annotations/a~0b' },
        { op: 'remove', path: '/spec/containers/0' },
      ],
      expected: (d) => ({ metadata: { ...d.metadata, annotations: { 'loom.dev/inject': 'enabled' } }, spec: { ...d.spec, containers: [d.spec.containers[1]] } }),
    },
    {
      name: 'replace a member (keeping member order) and a list element',
      ops: [
        { op: 'replace', path: '/spec/containers', value: [] },
        { op: 'replace', path: '/metadata/name', value: 'api' },
        { op: 'add', path: '/spec/containers/0', value: 'x' },
        { op: 'replace', path: '/spec/containers/0', value: 'y' },
      ],
      expected: (d) => ({ metadata: { ...d.metadata, name: 'api' }, spec: { containers: ['y'], replicas: 1 } }),
    },
    {
      name: 'move a member and move within a list; moving onto itself changes nothing',
      ops: [
        { op: 'move', from: '/metadata/labels', path: '/spec/selector' },
        { op: 'move', from: '/spec/containers/0', path: '/spec/containers/1' },
        { op: 'move', from: '/spec/replicas', path: '/spec/replicas' },
      ],
      expected: (d) => ({
        metadata: { name: 'web', annotations: d.metadata.annotations },
        spec: { containers: [d.spec.containers[1], d.spec.containers[0]], replicas: 1, selector: { app: 'web' } },
      }),
    },
    {
      name: 'copy is deep: changing the copy leaves the source alone',
      ops: [
        { op: 'copy', from: '/spec/containers/0', path: '/spec/containers/-' },
        { op: 'replace', path: '/spec/containers/2/ports/0/containerPort', value: 9090 },
      ],
      expected: (d) => ({
        ...d,
        spec: { ...d.spec, containers: [...d.spec.containers, { name: 'app', image: 'web:1', ports: [{ containerPort: 9090 }] }] },
      }),
    },
    {
      name: 'test: objects compare whatever their member order; then the patch goes on',
      ops: [
        { op: 'test', path: '/spec/containers/0', value: { ports: [{ containerPort: 8080 }], image: 'web:1', name: 'app' } },
        { op: 'test', path: '/spec/replicas', value: 1 },
        { op: 'replace', path: '/spec/replicas', value: 3 },
      ],
      expected: (d) => ({ ...d, spec: { ...d.spec, replicas: 3 } }),
    },
    {
      name: 'the whole document: "" is the root',
      ops: [
        { op: 'test', path: '', value: pod() },
        { op: 'replace', path: '', value: { kind: 'Other' } },
        { op: 'add', path: '/', value: 'the empty key' },
      ],
      expected: () => ({ kind: 'Other', '': 'the empty key' }),
    },
    { name: 'no operations: a copy', ops: [], expected: (d) => d },
  ];
  for (const c of cases) {
    const target = pod();
    const ops = deepFreeze(c.ops);
    const result = applyJsonPatch(target, ops);
    t.strictSame(result, c.expected(pod()), c.name);
    t.notOk(sharesObjects(result, target, ops), `${c.name}: the result shares no object with the inputs`);
  }
  t.end();
});

t.test('malformed patches: 400, nothing applied', (t) => {
  const cases: [unknown, string][] = [
    [{ op: 'add', path: '/a', value: 1 }, 'json patch must be a JSON array of operations, got object'],
    [null, 'json patch must be a JSON array of operations, got null'],
    [['add'], 'json patch operation 0: must be an object with "op" and "path", got string'],
    [[{ path: '/a' }], 'json patch operation 0: missing "op"'],
    [[{ op: 'test', path: '', value: {} }, { op: 'rename', path: '/a' }], 'json patch operation 1: unknown op "rename"; must be add, remove, replace, move, copy or test'],
    [[{ op: 7, path: '/a' }], 'json patch operation 0: unknown op 7; must be add, remove, replace, move, copy or test'],
    [[{ op: 'remove' }], 'json patch operation 0 (remove): missing "path"'],
    [[{ op: 'remove', path: 3 }], 'json patch operation 0 (remove): "path" must be a string, got number'],
    [[{ op: 'remove', path: 'spec/replicas' }], 'json patch operation 0 (remove): invalid path "spec/replicas": a JSON pointer must be empty or start with "/"'],
    [[{ op: 'remove', path: '/metadata/a~2b' }], 'json patch operation 0 (remove): invalid path "/metadata/a~2b": "~" must be followed by 0 or 1 in the token "a~2b"'],
    [[{ op: 'add', path: '/spec/x' }], 'json patch operation 0 (add "/spec/x"): missing "value"'],
    [[{ op: 'replace', path: '/spec/replicas', value: undefined }], 'json patch operation 0 (replace "/spec/replicas"): missing "value"'],
    [[{ op: 'move', path: '/spec/x' }], 'json patch operation 0 (move to "/spec/x"): missing "from"'],
    [[{ op: 'copy', from: 'x', path: '/spec/x' }], 'json patch operation 0 (copy to "/spec/x"): invalid from "x": a JSON pointer must be empty or start with "/"'],
    [[{ op: 'move', from: '/spec', path: '/spec/inner' }], 'json patch operation 0 (move from "/spec" to "/spec/inner"): cannot move a value into one of its own children'],
    [[{ op: 'move', from: '', path: '/x' }], 'json patch operation 0 (move from "" to "/x"): cannot move a value into one of its own children'],
  ];
  for (const [ops, message] of cases) {
    const target = pod();
    t.throws(() => applyJsonPatch(target, deepFreeze(ops)), new PatchError(message, 400), message);
    const error = catchError(() => applyJsonPatch(target, ops));
    t.equal(error?.status, 400, `${message}: status 400`);
  }
  t.end();
});

t.test('operations that do not apply to this document: 422, naming the operation and why', (t) => {
  const cases: [unknown[], string][] = [
    [[{ op: 'replace', path: '/spec/paused', value: true }], 'json patch operation 0 (replace "/spec/paused"): "/spec/paused" does not exist'],
    [[{ op: 'remove', path: '/metadata/labels/tier' }], 'json patch operation 0 (remove "/metadata/labels/tier"): "/metadata/labels/tier" does not exist'],
    [[{ op: 'add', path: '/status/phase', value: 'Running' }], 'json patch operation 0 (add "/status/phase"): "/status" does not exist'],
    [[{ op: 'add', path: '/spec/replicas/x', value: 1 }], 'json patch operation 0 (add "/spec/replicas/x"): "/spec/replicas" is a number, not an object or a list'],
    [[{ op: 'remove', path: '/spec/replicas/x/y' }], 'json patch operation 0 (remove "/spec/replicas/x/y"): "/spec/replicas/x" does not exist: "/spec/replicas" is a number'],
    [[{ op: 'add', path: '/spec/containers/3', value: {} }], 'json patch operation 0 (add "/spec/containers/3"): index 3 is out of range for a list of 2 elements'],
    [[{ op: 'remove', path: '/spec/containers/2' }], 'json patch operation 0 (remove "/spec/containers/2"): "/spec/containers/2" does not exist: index 2 is out of range for a list of 2 elements'],
    [[{ op: 'replace', path: '/spec/containers/01/image', value: 'x' }], 'json patch operation 0 (replace "/spec/containers/01/image"): "/spec/containers/01" does not exist: "01" is not a list index'],
    [[{ op: 'add', path: '/spec/containers/-1', value: {} }], 'json patch operation 0 (add "/spec/containers/-1"): "-1" is not a list index'],
    [[{ op: 'remove', path: '/spec/containers/-' }], 'json patch operation 0 (remove "/spec/containers/-"): "/spec/containers/-" does not exist: index "-" refers to the nonexistent element after the last one'],
    [[{ op: 'remove', path: '' }], 'json patch operation 0 (remove ""): cannot remove the whole document'],
    [[{ op: 'copy', from: '/spec/volumes', path: '/spec/x' }], 'json patch operation 0 (copy from "/spec/volumes" to "/spec/x"): "/spec/volumes" does not exist'],
    [
      [
        { op: 'add', path: '/metadata/labels/tier', value: 'web' },
        { op: 'test', path: '/metadata/resourceVersion', value: '12' },
      ],
      'json patch operation 1 (test "/metadata/resourceVersion"): "/metadata/resourceVersion" does not exist',
    ],
    [[{ op: 'test', path: '/spec/replicas', value: '1' }], 'json patch operation 0 (test "/spec/replicas"): test failed: the value is 1, not "1"'],
    [[{ op: 'test', path: '/spec/containers/1', value: { name: 'log' } }], 'json patch operation 0 (test "/spec/containers/1"): test failed: the value is {"name":"log","image":"log:1"}, not {"name":"log"}'],
  ];
  for (const [ops, message] of cases) {
    const target = pod();
    t.throws(() => applyJsonPatch(target, deepFreeze(ops)), new PatchError(message, 422), message);
    t.equal(catchError(() => applyJsonPatch(target, ops))?.status, 422, `${message}: status 422`);
  }
  t.end();
});

t.test('more than 10000 operations: 413, as Kubernetes', (t) => {
  const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '', value: {} }));
  const error = catchError(() => applyJsonPatch({}, ops));
  t.equal(error?.message, 'The allowed maximum operations in a JSON patch is 10000, got 10001');
  t.equal(error?.status, 413);
  t.strictSame(applyJsonPatch({}, ops.slice(1)), {}, '10000 are applied');
  t.end();
});

t.test('a long value is cut short in the message', (t) => {
  const error = catchError(() => applyJsonPatch({ a: 'x'.repeat(500) }, [{ op: 'test', path: '/a', value: 'y' }]));
  t.ok(error !== undefined && error.message.length < 200, error?.message ?? 'no error');
  t.end();
});

function catchError(run: () => unknown): PatchError | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof PatchError) return error;
    throw error;
  }
  return undefined;
}
