import t from 'tap';
import { crdStatus, CUSTOM_RESOURCE_VERBS, resourceTypesOf, type CrdStatus } from '../../../src/api/crd/types.js';
import type { KubeObject } from '../../../src/api/store.js';
import { edited, smiCrd, widgetCrd } from './fixtures.js';

const T0 = new Date('2025-01-02T03:04:05.678Z');
const T1 = new Date('2025-01-02T04:00:00Z');
const stamp0 = '2025-01-02T03:04:05Z';
const stamp1 = '2025-01-02T04:00:00Z';

const withStatus = (crd: KubeObject, status: CrdStatus | Record<string, unknown>): KubeObject => ({ ...crd, status });
/** Another CRD of the group whose accepted names are `names`. */
const claimant = (name: string, names: Record<string, unknown>, group = 'example.com'): KubeObject =>
  edited(widgetCrd(), ['metadata.name', name], ['spec.group', group], ['status', { acceptedNames: names, conditions: [{ type: 'Established', status: 'True' }] }]);

const accepted = { type: 'NamesAccepted', status: 'True', lastTransitionTime: stamp0, reason: 'NoConflicts', message: 'no conflicts found' };
const establishedNow = { type: 'Established', status: 'True', lastTransitionTime: stamp0, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' };
const notEstablished = { type: 'Established', status: 'False', lastTransitionTime: stamp0, reason: 'NotAccepted', message: 'not all names are accepted' };
const widgetNames = { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' };

t.test('crdStatus of a new CRD: names accepted, Established, the storage version stored', (t) => {
  t.same(crdStatus(edited(widgetCrd(), ['spec.names', { plural: 'widgets', kind: 'Widget', shortNames: ['wd'], categories: ['all'] }]), [], T0), {
    conditions: [accepted, establishedNow],
    acceptedNames: { plural: 'widgets', singular: 'widget', shortNames: ['wd'], kind: 'Widget', listKind: 'WidgetList', categories: ['all'] },
    storedVersions: ['v1'],
  });
  t.same(crdStatus(edited(widgetCrd(), ['status', { acceptedNames: { plural: 'x', kind: 'X' } }]), [widgetCrd()], T0).acceptedNames, widgetNames, 'the status of the stored CRD is the start, not the one sent');
  t.end();
});

t.test('crdStatus: names another CRD of the group accepted are refused, each with its reason', (t) => {
  const cases: [string, KubeObject[], Record<string, unknown>, Record<string, unknown>][] = [
    [
      'plural',
      [claimant('a.example.com', { plural: 'widgets', kind: 'A' })],
      { plural: '', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      { reason: 'PluralConflict', message: '"widgets" is already in use' },
    ],
    ['singular (against a plural)', [claimant('a.example.com', { plural: 'widget', kind: 'A' })], { plural: 'widgets', kind: 'Widget', listKind: 'WidgetList' }, { reason: 'SingularConflict', message: '"widget" is already in use' }],
    ['kind', [claimant('a.example.com', { plural: 'as', kind: 'Widget' })], { plural: 'widgets', singular: 'widget', listKind: 'WidgetList', kind: '' }, { reason: 'KindConflict', message: '"Widget" is already in use' }],
    ['listKind (against a kind)', [claimant('a.example.com', { plural: 'as', kind: 'WidgetList' })], { plural: 'widgets', singular: 'widget', kind: 'Widget' }, { reason: 'ListKindConflict', message: '"WidgetList" is already in use' }],
    [
      'several: the last conflict found is reported',
      [claimant('a.example.com', { plural: 'widgets', kind: 'Widget' })],
      { plural: '', singular: 'widget', kind: '', listKind: 'WidgetList' },
      { reason: 'KindConflict', message: '"Widget" is already in use' },
    ],
  ];
  for (const [name, others, names, condition] of cases) {
    const status = crdStatus(widgetCrd(), others, T0);
    t.same(status.acceptedNames, names, `${name}: accepted names`);
    t.same(status.conditions, [{ ...accepted, status: 'False', ...condition }, notEstablished], `${name}: conditions`);
  }
  const shortNames = crdStatus(edited(widgetCrd(), ['spec.names.shortNames', ['w', 'wd', 'ok']]), [claimant('a.example.com', { plural: 'as', singular: 'w', shortNames: ['wd'], kind: 'A' })], T0);
  t.same(shortNames.conditions[0], { ...accepted, status: 'False', reason: 'ShortNamesConflict', message: '["w" is already in use, "wd" is already in use]' });
  t.same(shortNames.acceptedNames, widgetNames, 'no short names are accepted while one conflicts');
  t.same(crdStatus(widgetCrd(), [claimant('widgets.example.org', widgetNames, 'example.org')], T0).conditions, [accepted, establishedNow], 'another group does not conflict');
  t.end();
});

t.test('crdStatus over time: stable when nothing changes, Established stays, conflicts resolve', (t) => {
  const first = withStatus(widgetCrd(), crdStatus(widgetCrd(), [], T0));
  t.same(crdStatus(first, [], T1), first.status, 'the same status again, transition times kept');

  const more = edited(first, ['spec.names.shortNames', ['g']]);
  const other = claimant('gadgets.example.com', { plural: 'gadgets', singular: 'g', kind: 'Gadget' });
  const conflicted = crdStatus(more, [other], T1);
  t.same(conflicted.conditions, [{ ...accepted, status: 'False', lastTransitionTime: stamp1, reason: 'ShortNamesConflict', message: '"g" is already in use' }, establishedNow], 'an Established CRD stays Established');
  t.same(conflicted.acceptedNames, widgetNames);

  const resolved = crdStatus(withStatus(more, conflicted), [], T1);
  t.same(resolved.conditions, [{ ...accepted, lastTransitionTime: stamp1 }, establishedNow]);
  t.same(resolved.acceptedNames, { ...widgetNames, shortNames: ['g'] });

  const refused = withStatus(widgetCrd(), crdStatus(widgetCrd(), [claimant('a.example.com', { plural: 'widgets', kind: 'A' })], T0));
  t.same(crdStatus(refused, [], T1).conditions, [
    { ...accepted, lastTransitionTime: stamp1 },
    { ...establishedNow, lastTransitionTime: stamp1 },
  ], 'once the names are free, it is Established');

  const own = crdStatus(edited(first, ['spec.names.shortNames', ['widget']]), [], T1);
  t.same(own.conditions[0], { ...accepted, status: 'False', lastTransitionTime: stamp1, reason: 'ShortNamesConflict', message: '"widget" is already in use' }, 'its own other accepted names count as taken');

  const stored = withStatus(edited(first, ['spec.versions.0.storage', false], ['spec.versions.1', { name: 'v2', served: true, storage: true }]), {
    ...(first.status as CrdStatus),
    conditions: [{ type: 'KubernetesAPIApprovalPolicyConformant', status: 'True', reason: 'ApprovedAnnotation', message: 'ok', lastTransitionTime: stamp0 }, ...(first.status as CrdStatus).conditions],
  });
  const next = crdStatus(stored, [], T1);
  t.same(next.storedVersions, ['v1', 'v2'], 'a new storage version is added to those stored');
  t.same(
    next.conditions.map((c) => c.type),
    ['KubernetesAPIApprovalPolicyConformant', 'NamesAccepted', 'Established'],
    'other conditions are kept in place',
  );
  t.end();
});

t.test('resourceTypesOf: served versions, preferred first, by accepted names, once Established', (t) => {
  t.same(resourceTypesOf(widgetCrd()), [], 'not Established');
  const split = smiCrd('TrafficSplit');
  const status = crdStatus(split, [], T0);
  const types = resourceTypesOf(split, status);
  t.same(
    types.map((r) => r.version),
    ['v1alpha4', 'v1alpha3', 'v1alpha2', 'v1alpha1'],
  );
  t.same(resourceTypesOf(withStatus(split, status)), types, 'the status given or the one stored');
  t.same(types[0], {
    group: 'split.smi-spec.io',
    version: 'v1alpha4',
    plural: 'trafficsplits',
    singular: 'trafficsplit',
    kind: 'TrafficSplit',
    listKind: 'TrafficSplitList',
    namespaced: true,
    shortNames: ['ts'],
    categories: ['smi'],
    verbs: CUSTOM_RESOURCE_VERBS,
    status: false,
  });
  t.ok(Object.isFrozen(types[0]));

  const names = ['v1alpha1', 'v1', 'v2beta1', 'v1beta2', 'v10', 'foo', 'bar', 'v2', 'v3'];
  const many = edited(
    widgetCrd(),
    ['spec.scope', 'Cluster'],
    ['spec.versions', names.map((name) => ({ name, served: name !== 'v3', storage: name === 'v1', ...(name === 'v2' ? { subresources: { status: {} } } : {}) }))],
  );
  const manyTypes = resourceTypesOf(many, crdStatus(many, [], T0));
  t.same(manyTypes.map((r) => r.version), ['v10', 'v2', 'v1', 'v2beta1', 'v1beta2', 'v1alpha1', 'bar', 'foo'], 'GA, beta, alpha, higher first; others last, alphabetically; unserved left out');
  t.same(manyTypes.filter((r) => r.status).map((r) => r.version), ['v2'], 'the status subresource per version');
  t.ok(manyTypes.every((r) => !r.namespaced));

  const refused = crdStatus(widgetCrd(), [claimant('a.example.com', { plural: 'widgets', kind: 'A' })], T0);
  t.same(resourceTypesOf(widgetCrd(), refused), [], 'names not accepted: nothing served');
  const accepted = { ...crdStatus(widgetCrd(), [], T0), acceptedNames: { plural: 'widgets', kind: 'Widget' } };
  t.equal(resourceTypesOf(widgetCrd(), accepted)[0]?.listKind, 'WidgetList', 'listKind from kind when none was accepted');
  t.end();
});
