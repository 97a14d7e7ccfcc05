import t from 'tap';
import { BUILT_IN, type ResourceType } from '../../../src/api/registry.js';
import type { KubeObject } from '../../../src/api/store.js';
import { watchEncoder } from '../../../src/api/table/index.js';

const NOW = new Date('2024-05-01T12:00:00Z');
const namespaces = BUILT_IN.find((r) => r.kind === 'Namespace') as ResourceType;
const ns = (name: string, rv: string): KubeObject => ({ kind: 'Namespace', apiVersion: 'v1', metadata: { name, resourceVersion: rv, creationTimestamp: '2024-05-01T11:59:00Z' }, status: { phase: 'Active' } });
const gone = { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' };

t.test('Table events: headers on the first event only, one row each', (t) => {
  const encode = watchEncoder(namespaces, { as: 'Table', version: 'v1' }, { includeObject: 'None', now: () => NOW });
  const first = encode(ns('a', '5')) as Record<string, unknown>;
  const second = encode(ns('b', '6')) as Record<string, unknown>;
  t.equal(first['kind'], 'Table');
  t.same(first['metadata'], { resourceVersion: '5' }, "the object's resourceVersion");
  t.equal((first['columnDefinitions'] as unknown[]).length, 3);
  t.same(first['rows'], [{ cells: ['a', 'Active', '60s'], object: null }]);
  t.equal(second['columnDefinitions'], null);
  t.same(second['rows'], [{ cells: ['b', 'Active', '60s'], object: null }]);
  t.end();
});

t.test('an ERROR event first passes its Status and uses up the headers', (t) => {
  const encode = watchEncoder(namespaces, { as: 'Table', version: 'v1' }, { includeObject: 'Metadata', now: () => NOW });
  t.equal(encode(gone), gone);
  t.equal((encode(ns('a', '5')) as Record<string, unknown>)['columnDefinitions'], null);
  t.end();
});

t.test('the other forms', (t) => {
  const object = ns('a', '5');
  t.equal(watchEncoder(namespaces, { as: 'Object' }, { includeObject: 'Metadata' })(object), object);
  t.same(watchEncoder(namespaces, { as: 'PartialObjectMetadata', version: 'v1beta1' }, { includeObject: 'Metadata' })(object), { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1beta1', metadata: object.metadata });
  t.equal(watchEncoder(namespaces, { as: 'PartialObjectMetadata', version: 'v1' }, { includeObject: 'Metadata' })(gone), gone);
  t.equal(watchEncoder(namespaces, { as: 'PartialObjectMetadataList', version: 'v1' }, { includeObject: 'Metadata' })(object), undefined, 'nothing to send: the stream ends');
  t.end();
});
