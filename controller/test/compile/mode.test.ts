import t from 'tap';
import { DiagnosticCode } from '@loom/shared/diagnostics';
import { DEFAULT_MESH_CONFIG, type MeshConfig, type Namespace, type Pod } from '@loom/shared/k8s';
import { DiagnosticBook } from '../../src/compile/diagnostics.js';
import { podSettings, readPorts } from '../../src/compile/mode.js';

type Md = Readonly<Record<string, string>>;

const ns = (annotations: Md = {}, labels: Md = {}): Namespace => ({ kind: 'Namespace', meta: { namespace: '', name: 'shop', labels, annotations } });
const pod = (annotations: Md = {}): Pod => ({
  kind: 'Pod',
  meta: { namespace: 'shop', name: 'web-1', labels: {}, annotations },
  serviceAccountName: 'web',
  containers: [{ name: 'web', ports: [] }, { name: 'loom-proxy', ports: [] }],
  initContainers: [],
  hostNetwork: false,
  podIPs: ['10.244.0.10'],
});
const strict: MeshConfig = DEFAULT_MESH_CONFIG;
const permissive: MeshConfig = { ...DEFAULT_MESH_CONFIG, mode: 'permissive' };
const MODE = 'loom.dev/mode';
const ALLOW = 'loom.dev/allow-unmeshed';

t.test('mode precedence: pod annotation > namespace annotation (or label) > loom-config', (t) => {
  const cases: [string, Pod, Namespace | undefined, MeshConfig, 'strict' | 'permissive'][] = [
    ['mesh default strict', pod(), ns(), strict, 'strict'],
    ['mesh default permissive', pod(), ns(), permissive, 'permissive'],
    ['no Namespace object: mesh default', pod(), undefined, permissive, 'permissive'],
    ['namespace annotation', pod(), ns({ [MODE]: 'permissive' }), strict, 'permissive'],
    ['namespace label', pod(), ns({}, { [MODE]: 'permissive' }), strict, 'permissive'],
    ['namespace annotation wins over its label', pod(), ns({ [MODE]: 'strict' }, { [MODE]: 'permissive' }), permissive, 'strict'],
    ['pod over namespace', pod({ [MODE]: 'strict' }), ns({ [MODE]: 'permissive' }), permissive, 'strict'],
    ['pod over mesh', pod({ [MODE]: 'permissive' }), ns(), strict, 'permissive'],
  ];
  for (const [name, p, n, config, want] of cases) {
    const book = new DiagnosticBook();
    t.equal(podSettings(p, n, config, book).mode, want, name);
    t.strictSame(book.all(), [], `${name}: no diagnostic`);
  }
  t.end();
});

t.test('bad mode values are reported and read as strict (fail closed)', (t) => {
  const book = new DiagnosticBook();
  t.equal(podSettings(pod({ [MODE]: 'Strict' }), ns({ [MODE]: 'enforcing' }), permissive, book).mode, 'strict');
  const ds = book.all();
  t.strictSame(
    ds.map((d) => [d.code, d.severity, `${d.object.kind} ${d.object.namespace}/${d.object.name}`, d.field]),
    [
      [DiagnosticCode.InvalidField, 'error', 'Namespace /shop', 'metadata.annotations["loom.dev/mode"]'],
      [DiagnosticCode.InvalidField, 'error', 'Pod shop/web-1', 'metadata.annotations["loom.dev/mode"]'],
    ],
  );
  t.match(ds[1]?.message, /must be "strict" or "permissive", got "Strict"; treated as "strict"/);
  const book2 = new DiagnosticBook();
  t.equal(podSettings(pod({ [MODE]: '' }), ns({ [MODE]: 'permissive' }), permissive, book2).mode, 'strict', 'an empty pod value is invalid too: strict');
  t.equal(book2.all().length, 1, 'and is reported');
  const book3 = new DiagnosticBook();
  t.equal(podSettings(pod(), ns({ [MODE]: 'off' }), permissive, book3).mode, 'strict', 'a bad namespace value makes its pods strict');
  t.equal(book3.all().length, 1);
  t.end();
});

t.test('bad allow-unmeshed values are reported and read as "false"', (t) => {
  const book = new DiagnosticBook();
  t.equal(podSettings(pod({ [ALLOW]: 'yes' }), ns({ [ALLOW]: 'true' }), strict, book).allowUnmeshed, false, "the pod's bad value still overrides the namespace, as false");
  const ds = book.all();
  t.equal(ds.length, 1);
  t.equal(ds[0]?.field, 'metadata.annotations["loom.dev/allow-unmeshed"]');
  t.match(ds[0]?.message, /must be "true" or "false", got "yes"; treated as "false"/);
  t.end();
});

t.test('allow-unmeshed: pod or namespace "true"; the pod\'s own value overrides its namespace', (t) => {
  const cases: [string, Pod, Namespace | undefined, boolean][] = [
    ['nothing', pod(), ns(), false],
    ['pod "true"', pod({ [ALLOW]: 'true' }), ns(), true],
    ['namespace "true"', pod(), ns({ [ALLOW]: 'true' }), true],
    ['namespace label "true"', pod(), ns({}, { [ALLOW]: 'true' }), true],
    ['pod "false" in an allow-unmeshed namespace', pod({ [ALLOW]: 'false' }), ns({ [ALLOW]: 'true' }), false],
    ['pod "true" in a namespace saying "false"', pod({ [ALLOW]: 'true' }), ns({ [ALLOW]: 'false' }), true],
    ['a bad value counts as "false" ("yes")', pod({ [ALLOW]: 'yes' }), ns(), false],
    ['a bad value counts as "false" ("True")', pod(), ns({ [ALLOW]: 'True' }), false],
    ['no Namespace object', pod(), undefined, false],
  ];
  for (const [name, p, n, want] of cases) t.equal(podSettings(p, n, strict, new DiagnosticBook()).allowUnmeshed, want, name);
  t.end();
});

t.test('opaque ports: namespace and pod lists are combined', (t) => {
  const s = podSettings(pod({ 'loom.dev/opaque-ports': '5432' }), ns({ 'loom.dev/opaque-ports': '9000-9001' }), strict, new DiagnosticBook());
  t.strictSame([...s.opaquePorts].sort((a, b) => a - b), [5432, 9000, 9001]);
  t.end();
});

t.test('readPorts: lists and ranges; bad entries are reported and skipped', (t) => {
  const ref = { kind: 'Pod', namespace: 'shop', name: 'web-1' };
  const cases: [string | undefined, number[], number][] = [
    [undefined, [], 0],
    ['', [], 0],
    ['8080', [8080], 0],
    ['8080,9000-9002', [8080, 9000, 9001, 9002], 0],
    [' 80 , ,443 ', [80, 443], 0],
    ['65535', [65535], 0],
    ['0', [], 1],
    ['65536', [], 1],
    ['99999', [], 1],
    ['9002-9000', [], 1],
    ['http', [], 1],
    ['80,x,443', [80, 443], 1],
    ['-5', [], 1],
    ['1-2-3', [], 1],
  ];
  for (const [value, want, problems] of cases) {
    const book = new DiagnosticBook();
    t.strictSame(readPorts(value, ref, book), want, JSON.stringify(value));
    const ds = book.all();
    t.equal(ds.length, problems, `${JSON.stringify(value)}: ${problems} diagnostic(s)`);
    for (const d of ds) {
      t.equal(d.field, 'metadata.annotations["loom.dev/opaque-ports"]');
      t.match(d.message, /comma-separated list of ports or ranges \(1-65535\)/);
    }
  }
  t.end();
});
