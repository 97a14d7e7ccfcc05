import t from 'tap';
import { formatDiagnostic } from '../../src/diagnostics.js';
import { parseManifests } from '../../src/manifests/parse.js';

t.test('multi-document YAML; empty documents skipped', (t) => {
  const text = `---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
# only a comment
---
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
...
`;
  const r = parseManifests(text, 'shop.yaml');
  t.strictSame(r.diagnostics, []);
  t.strictSame(r.objects, [
    { raw: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }, source: 'shop.yaml', index: 0 },
    { raw: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web', namespace: 'shop' } }, source: 'shop.yaml', index: 1 },
  ]);
  t.strictSame(parseManifests('', 'empty.yaml'), { objects: [], diagnostics: [] });
  t.strictSame(parseManifests('# nothing\n', 'c.yaml'), { objects: [], diagnostics: [] });
  t.end();
});

t.test('JSON, including kubectl List output', (t) => {
  const json = JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' } },
      { apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit', metadata: { name: 'b' } },
    ],
    metadata: { resourceVersion: '' },
  });
  const r = parseManifests(json, 'list.json');
  t.strictSame(r.diagnostics, []);
  t.strictSame(r.objects.map((o) => [o.index, (o.raw as { kind: string }).kind]), [[0, 'Service'], [1, 'TrafficSplit']]);
  t.strictSame(parseManifests('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}', 'p.json').objects.length, 1);
  t.end();
});

t.test('typed lists are expanded and their items get apiVersion and kind', (t) => {
  const r = parseManifests(`
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplitList
items:
- metadata: {name: a}
  spec: {service: s, backends: []}
- kind: TrafficSplit
  apiVersion: split.smi-spec.io/v1alpha3
  metadata: {name: b}
`, 'splits.yaml');
  t.strictSame(r.objects.map((o) => o.raw), [
    { apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit', metadata: { name: 'a' }, spec: { service: 's', backends: [] } },
    { kind: 'TrafficSplit', apiVersion: 'split.smi-spec.io/v1alpha3', metadata: { name: 'b' } },
  ]);
  const empty = parseManifests('apiVersion: v1\nkind: List\nitems: []\n', 'e.yaml');
  t.strictSame(empty, { objects: [], diagnostics: [] });
  const bad = parseManifests('apiVersion: v1\nkind: List\nitems: {a: 1}\n', 'b.yaml');
  t.strictSame(bad.diagnostics.map(formatDiagnostic), ['b.yaml: Manifest document 1: document 1: items must be a list, got an object']);
  t.end();
});

t.test('syntax errors name the file and the line; other documents still parse', (t) => {
  const text = `apiVersion: v1
kind: Namespace
metadata: {name: ok}
---
apiVersion: v1
kind: Service
metadata:
  name: broken
   namespace: shop
---
apiVersion: v1
kind: Namespace
metadata: {name: after}
`;
  const r = parseManifests(text, 'deploy/app.yaml');
  t.strictSame(r.objects.map((o) => (o.raw as { metadata: { name: string } }).metadata.name), ['ok', 'after']);
  t.ok(r.diagnostics.length >= 1);
  const d = r.diagnostics[0];
  t.match(d, { code: 'MalformedManifest', severity: 'error', source: 'deploy/app.yaml', object: { name: 'document 2' } });
  t.match(d?.message, /^line 8, column \d+: Nested mappings/);
  if (d !== undefined) t.match(formatDiagnostic(d), /^deploy\/app\.yaml: Manifest document 2: line 8/);

  const dup = parseManifests('a: 1\na: 2\n', 'dup.yaml');
  t.match(dup.diagnostics, [{ code: 'MalformedManifest', message: /^line 2, column 1: .*[Uu]nique/ }]);
  const unclosed = parseManifests('{"apiVersion": "v1", "kind": ', 'bad.json');
  t.match(unclosed.diagnostics, [{ code: 'MalformedManifest', source: 'bad.json', message: /^line 1, column \d+: / }]);
  t.end();
});

t.test('documents that are not objects are reported', (t) => {
  const r = parseManifests('just a string\n---\n- a\n- b\n---\n42\n', 'x.yaml');
  t.strictSame(r.objects, []);
  t.strictSame(r.diagnostics.map((d) => d.message), [
    'document 1 is a string, not a Kubernetes object (a map with apiVersion, kind and metadata)',
    'document 2 is a list, not a Kubernetes object (a map with apiVersion, kind and metadata)',
    'document 3 is a number, not a Kubernetes object (a map with apiVersion, kind and metadata)',
  ]);
  t.end();
});

t.test('alias bombs are refused', (t) => {
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]'].join('\n');
  const r = parseManifests(bomb, 'bomb.yaml');
  t.strictSame(r.objects, []);
  t.match(r.diagnostics, [{ code: 'MalformedManifest' }]);
  t.end();
});
