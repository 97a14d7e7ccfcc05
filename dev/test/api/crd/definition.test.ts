import t from 'tap';
import { byPriority, compareKubeAwareVersions, defaultCrd, hasStatusSubresource, isEstablished, readCrd, schemaOf, storageVersionOf } from '../../../src/api/crd/definition.js';
import { edited, smiCrd, widgetCrd } from './fixtures.js';

t.test('compareKubeAwareVersions orders versions as Kubernetes does', (t) => {
  const cases: [string, string, number][] = [
    ['v1', 'v1', 0],
    ['v2', 'v1', 1],
    ['v1', 'v1beta1', 1],
    ['v1beta1', 'v1alpha1', 1],
    ['v1beta2', 'v1beta1', 1],
    ['v2alpha1', 'v1beta1', -1],
    ['v10', 'v9', 1],
    ['v1alpha10', 'v1alpha9', 1],
    ['v1', 'foo', 1],
    ['foo', 'v1alpha1', -1],
    ['bar', 'foo', 1],
    ['v1gamma1', 'v1alpha1', -1],
  ];
  for (const [a, b, sign] of cases) t.equal(Math.sign(compareKubeAwareVersions(a, b)), sign, `${a} vs ${b}`);
  t.same(byPriority(['v1alpha1', 'v1beta1', 'v1', 'v2', 'v11alpha2', 'v2beta1', 'zeta', 'alpha']), ['v2', 'v1', 'v2beta1', 'v1beta1', 'v11alpha2', 'v1alpha1', 'alpha', 'zeta']);
  t.end();
});

t.test('readCrd and its questions', (t) => {
  const split = readCrd(smiCrd('TrafficSplit'));
  t.equal(split.group, 'split.smi-spec.io');
  t.equal(split.names.kind, 'TrafficSplit');
  t.same(split.versions?.map((v) => v.name), ['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4']);
  t.equal(storageVersionOf(split), 'v1alpha4');
  t.equal((schemaOf(split, 'v1alpha2') as { type: string }).type, 'object');
  t.equal(schemaOf(split, 'v9'), undefined);
  t.notOk(isEstablished(split));
  t.ok(isEstablished(readCrd(edited(widgetCrd(), ['status.conditions', [{ type: 'Established', status: 'True' }]]))));
  t.ok(hasStatusSubresource(readCrd(edited(widgetCrd(), ['spec.versions.0.subresources', { status: {} }])), 'v1'));
  t.notOk(hasStatusSubresource(readCrd(widgetCrd()), 'v1'));
  const odd = readCrd({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'x' }, spec: { names: 'x', versions: [null, { name: 5 }] } });
  t.same([odd.group, odd.names.plural, odd.versions?.map((v) => v.name)], ['', '', ['', '']], 'wrongly typed fields read as empty');
  t.equal(readCrd({ apiVersion: 'v1', kind: 'X', metadata: { name: 'x' } }).versions, undefined, 'no spec');
  t.end();
});

t.test('defaultCrd leaves a CRD without spec alone', (t) => {
  const bare = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'x' } };
  t.same(defaultCrd(bare), bare);
  t.same((defaultCrd(edited(widgetCrd(), ['spec.names', { plural: 'widgets' }])).spec as { names: unknown }).names, { plural: 'widgets', singular: '' }, 'no kind: singular empty, no listKind');
  t.end();
});
