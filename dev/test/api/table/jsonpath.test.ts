import t from 'tap';
import { GoByte, GoFloat, findResults, parseColumnPath, parseTemplate } from '../../../src/api/table/jsonpath.js';

const data = {
  kind: 'Thing',
  metadata: { name: 'a', labels: { 'app.kubernetes.io/name': 'shop', app: 'web' }, empty: null },
  spec: {
    replicas: 3,
    ratio: 1.5,
    enabled: false,
    containers: [
      { name: 'app', image: 'app:1', ports: [{ containerPort: 8080 }] },
      { name: 'side', image: 'envoy:1', ports: [] },
      { name: 'init', image: 'busybox' },
    ],
  },
  status: {
    conditions: [
      { type: 'Ready', status: 'True', count: 2 },
      { type: 'Synced', status: 'False', count: 5, ratio: 0.5 },
    ],
  },
};

/** What a column path finds in `data` (undefined: the evaluation failed). */
const find = (path: string, input: unknown = data): readonly unknown[] | undefined => {
  const template = parseColumnPath(path);
  if (template === undefined) throw new Error(`${path} does not parse`);
  return findResults(template, input);
};

t.test('paths and what they find', (t) => {
  const cases: [string, unknown[] | undefined][] = [
    ['.spec.replicas', [3]],
    ['.metadata.name', ['a']],
    ['.spec.missing', []],
    ['.spec.missing.deeper', []],
    ['.metadata.name.deeper', []],
    ['.metadata.empty', [null]],
    ['.metadata.empty.x', []],
    ['.spec.containers[0].image', ['app:1']],
    ['.spec.containers[-1].name', ['init']],
    ['.spec.containers[5].name', undefined],
    ['.spec.containers[1:3].name', ['side', 'init']],
    ['.spec.containers[0:3:2].name', ['app', 'init']],
    ['.spec.containers[*].name', ['app', 'side', 'init']],
    ['.spec.containers.name', []],
    ['.spec.containers[0,2].name', ['app', 'init']],
    ['.spec.replicas[0]', undefined],
    ['.spec.containers[2:2]', []],
    ['.spec.containers[0:3:0]', undefined],
    ["['spec']['replicas']", [3]],
    ['.status.conditions[?(@.type=="Ready")].status', ['True']],
    [".status.conditions[?(@.type=='Synced')].status", ['False']],
    ['.status.conditions[?(@.type!="Ready")].type', ['Synced']],
    ['.status.conditions[?(@.count>2)].type', ['Synced']],
    ['.status.conditions[?(@.count<=2)].type', ['Ready']],
    ['.status.conditions[?(@.count>=2)].type', ['Ready', 'Synced']],
    ['.status.conditions[?(@.count<5)].type', ['Ready']],
    ['.status.conditions[?(@.ratio)].type', ['Synced']],
    ['.status.conditions[?(@.count=="2")].type', undefined],
    ['.status.conditions[?(@.count==2.0)].type', undefined],
    ['.status.conditions[?(@.ratio==0.5)].type', ['Synced']],
    ['.status.conditions[?(@.type=="Nope")].status', []],
    ['.spec.enabled', [false]],
    ['.metadata.labels.app\\.kubernetes\\.io/name', ['shop']],
    [".metadata.labels['app.kubernetes.io/name']", []],
    ['..image', ['app:1', 'envoy:1', 'busybox']],
    ['.metadata.labels.*', ['shop', 'web']],
    ['.metadata.name.*', [new GoByte(97)]],
    ['.spec.replicas 1.0', [new GoFloat(1)]],
    ['.status.conditions[?(@.type == "Ready")].count', [2]],
    ['.spec.range', []],
    ['.spec range', undefined],
  ];
  for (const [path, want] of cases) t.same(find(path), want, path);
  t.end();
});

t.test('paths that do not parse', (t) => {
  const bad = ['.spec[', '.spec[?(@.a=="b")', '.spec[x]', '.spec.containers[-]', '.a}{.b{', ".spec['a", '.spec..*', '.a....b', '.spec %', '.spec[?(@.a=="b"]'];
  for (const path of bad) t.equal(parseColumnPath(path), undefined, path);
  t.throws(() => parseTemplate('{.a'), /unclosed action/);
  t.throws(() => parseTemplate('{.a[}'), /unterminated array/);
  t.throws(() => parseTemplate('{.a (}'), /unrecognized character in action: U\+0028 '\('/);
  t.same(findResults(parseTemplate('{.a#}'), { 'a#': 1 }), [1], 'a field name runs to the next terminator');
  t.same(findResults(parseTemplate('{.a}{.b}'), { a: 1, b: 2 }), [1], 'only the first action counts');
  t.end();
});

t.test('quoted literals unescape as Go strings', (t) => {
  t.same(find('.status.conditions[?(@.type=="Re\\x61dy")].count'), [2]);
  t.same(find(".status.conditions[?(@.type=='\\u0052eady')].count"), [2]);
  t.equal(parseColumnPath('.status.conditions[?(@.type=="Re\\qdy")].count'), undefined);
  t.end();
});
