import t from 'tap';
import { BUILT_IN, type ResourceType } from '../../../src/api/registry.js';
import type { KubeObject } from '../../../src/api/store.js';
import { includeObjectOf, toPartialObjectMetadata, toPartialObjectMetadataList, toTable } from '../../../src/api/table/index.js';

const NOW = new Date('2024-05-01T12:00:00Z');
const type = (kind: string): ResourceType => BUILT_IN.find((r) => r.kind === kind) as ResourceType;

const cm = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'shop', uid: `uid-${name}`, resourceVersion: '7', creationTimestamp: '2024-05-01T11:00:00Z', labels: { app: 'web' } },
  data: { a: '1' },
});

t.test('a Table of a list', (t) => {
  const table = toTable(type('ConfigMap'), [cm('a'), cm('b')], { now: NOW, includeObject: 'Metadata', resourceVersion: '42' });
  t.same(Object.keys(table), ['kind', 'apiVersion', 'metadata', 'columnDefinitions', 'rows'], 'fields in the order Kubernetes writes them');
  t.equal(table['kind'], 'Table');
  t.equal(table['apiVersion'], 'meta.k8s.io/v1');
  t.same(table['metadata'], { resourceVersion: '42' });
  t.same(
    (table['columnDefinitions'] as { name: string; type: string; format: string; priority: number }[]).map((c) => [c.name, c.type, c.format, c.priority]),
    [
      ['Name', 'string', 'name', 0],
      ['Data', 'string', '', 0],
      ['Age', 'string', '', 0],
    ],
  );
  t.same(table['rows'], [
    { cells: ['a', 1, '60m'], object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cm('a').metadata } },
    { cells: ['b', 1, '60m'], object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cm('b').metadata } },
  ]);
  t.end();
});

t.test('includeObject, headers, versions and empty tables', (t) => {
  const rows = (table: Record<string, unknown>): { object: unknown; conditions?: unknown }[] => table['rows'] as { object: unknown }[];
  t.same(rows(toTable(type('ConfigMap'), [cm('a')], { now: NOW, includeObject: 'Object' }))[0]?.object, cm('a'), 'Object: the object itself');
  t.equal(rows(toTable(type('ConfigMap'), [cm('a')], { now: NOW, includeObject: 'None' }))[0]?.object, null, 'None: object null');
  const beta = toTable(type('ConfigMap'), [cm('a')], { now: NOW, includeObject: 'Metadata', version: 'v1beta1' });
  t.equal(beta['apiVersion'], 'meta.k8s.io/v1beta1');
  t.equal((rows(beta)[0]?.object as { apiVersion: string }).apiVersion, 'meta.k8s.io/v1beta1');
  t.equal(toTable(type('ConfigMap'), [cm('a')], { now: NOW, includeObject: 'None', noHeaders: true })['columnDefinitions'], null, 'noHeaders: columnDefinitions null');
  t.not(toTable(type('APIService'), [], { now: NOW, includeObject: 'None', noHeaders: true })['columnDefinitions'], null, 'the APIService convertor always sends headers');
  t.same(toTable(type('ConfigMap'), [], { now: NOW, includeObject: 'Metadata' })['rows'], [], 'printers: rows []');
  t.same(toTable(type('ConfigMap'), [], { now: NOW, includeObject: 'Metadata' })['metadata'], {}, 'no resourceVersion: metadata {}');
  t.equal(toTable(type('CustomResourceDefinition'), [], { now: NOW, includeObject: 'Metadata' })['rows'], null, 'the default convertor: rows null');
  const pod: KubeObject = { kind: 'Pod', metadata: { name: 'done' }, spec: { containers: [{ name: 'a' }] }, status: { phase: 'Succeeded' } };
  t.same(Object.keys(rows(toTable(type('Pod'), [pod], { now: NOW, includeObject: 'None' }))[0] ?? {}), ['cells', 'conditions', 'object'], 'row conditions before the object');
  t.end();
});

t.test('includeObject query values', (t) => {
  t.same(includeObjectOf(null), { includeObject: 'Metadata' });
  t.same(includeObjectOf(''), { includeObject: 'Metadata' });
  t.same(includeObjectOf('Metadata'), { includeObject: 'Metadata' });
  t.same(includeObjectOf('Object'), { includeObject: 'Object' });
  t.same(includeObjectOf('None'), { includeObject: 'None' });
  t.same(includeObjectOf('object'), { badRequest: `Unable to convert to Table as requested: includeObject: Invalid value: "object": must be 'Metadata', 'Object', 'None', or empty` });
  t.same(includeObjectOf('<x>'), { badRequest: `Unable to convert to Table as requested: includeObject: Invalid value: "\\u003cx\\u003e": must be 'Metadata', 'Object', 'None', or empty` });
  t.end();
});

t.test('PartialObjectMetadata and its list', (t) => {
  t.same(toPartialObjectMetadata(cm('a')), { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cm('a').metadata });
  t.same(toPartialObjectMetadataList([cm('a'), cm('b')], '42'), {
    kind: 'PartialObjectMetadataList',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: '42' },
    items: [toPartialObjectMetadata(cm('a')), toPartialObjectMetadata(cm('b'))],
  });
  t.same(toPartialObjectMetadataList([], '42', 'v1beta1'), { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1beta1', metadata: { resourceVersion: '42' }, items: null }, 'no items: null');
  t.end();
});
