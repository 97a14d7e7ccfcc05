import { join } from 'node:path';
import t from 'tap';
import { DiagnosticCode } from '@loom/shared/diagnostics';
import { loadManifests, ManifestPathError, readManifestFiles } from '../../src/sources/manifests.js';

const SVC = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {clusterIP: 10.96.0.1, ports: [{name: http, port: 80}]}
`;
const SA = `{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web", "namespace": "shop"}}`;

t.test('readManifestFiles reads directories recursively, sorted, skipping hidden entries and other files', async (t) => {
  const dir = t.testdir({
    'b.yaml': SVC,
    'a.yml': SVC,
    nested: { 'z.json': SA, 'notes.txt': 'not a manifest', deeper: { 'c.YAML': SVC } },
    '.hidden.yaml': 'not: read',
    '.git': { 'x.yaml': 'not: read' },
  });
  const files = await readManifestFiles(['.'], dir);
  t.strictSame(
    files.map((f) => f.path),
    ['a.yml', 'b.yaml', join('nested', 'deeper', 'c.YAML'), join('nested', 'z.json')],
    'paths relative to what the user passed',
  );
  t.equal(files[0]?.text, SVC);

  const byName = await readManifestFiles([join(dir, 'nested')]);
  t.strictSame(byName.map((f) => f.path), [join(dir, 'nested', 'deeper', 'c.YAML'), join(dir, 'nested', 'z.json')], 'absolute paths stay absolute');
  const single = await readManifestFiles(['nested/notes.txt'], dir);
  t.strictSame(single.map((f) => f.path), ['nested/notes.txt'], 'a file named explicitly is read whatever its extension');
  const several = await readManifestFiles(['b.yaml', 'a.yml'], dir);
  t.strictSame(several.map((f) => f.path), ['b.yaml', 'a.yml'], 'explicit files keep the order given');
});

t.test('readManifestFiles: a missing path or a directory without manifests is an error naming it', async (t) => {
  const dir = t.testdir({ empty: {}, docs: { 'README.md': '# hi' } });
  await t.rejects(readManifestFiles(['does/not/exist.yaml'], dir), new ManifestPathError('does/not/exist.yaml', 'no such file or directory'));
  await t.rejects(readManifestFiles(['does/not/exist.yaml'], dir), { message: 'does/not/exist.yaml: no such file or directory', code: 'MANIFEST_PATH' });
  await t.rejects(readManifestFiles(['empty'], dir), { message: 'empty: directory contains no .yaml, .yml or .json files' });
  await t.rejects(readManifestFiles(['docs'], dir), { message: 'docs: directory contains no .yaml, .yml or .json files' });
});

t.test('loadManifests: objects, ignored kinds and every diagnostic, sorted, with the file named', (t) => {
  const loaded = loadManifests([
    {
      path: 'app.yaml',
      text: `${SVC}---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
---
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: {name: bad, namespace: shop}
spec: {service: web, backends: [{service: web-v2, weight: -1}]}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
`,
    },
    { path: 'broken.yaml', text: 'apiVersion: v1\nkind: Service\nkind: Pod\n' },
    { path: 'list.json', text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [JSON.parse(SA)] }) },
    { path: 'again.yaml', text: SVC },
  ]);
  t.strictSame(
    loaded.objects.map((o) => `${o.object.kind} ${o.object.meta.namespace}/${o.object.meta.name} (${o.source ?? ''})`),
    ['Service shop/web (app.yaml)', 'ServiceAccount shop/web (list.json)', 'Service shop/web (again.yaml)'],
  );
  t.strictSame(loaded.others.map((o) => o.source), ['app.yaml'], 'the Deployment is kept for tools, not modelled');
  t.equal(loaded.snapshot.services.length, 1, 'the duplicate Service is one object in the snapshot');
  t.strictSame(
    loaded.diagnostics.map((d) => [d.code, d.severity, d.object.kind, d.source]),
    [
      [DiagnosticCode.MalformedManifest, 'error', 'Manifest', 'broken.yaml'],
      [DiagnosticCode.DuplicateObject, 'warning', 'Service', 'again.yaml'],
      [DiagnosticCode.InvalidField, 'error', 'TrafficSplit', 'app.yaml'],
      [DiagnosticCode.UnknownKind, 'warning', 'Widget', 'app.yaml'],
    ],
  );
  t.match(loaded.diagnostics[0]?.message, /^line 3, column 1: .*unique/, 'syntax errors carry the line');
  t.end();
});
