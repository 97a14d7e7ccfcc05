import t from 'tap';
import type { PrinterColumn, ResourceType } from '../../../src/api/registry.js';
import type { KubeObject } from '../../../src/api/store.js';
import { DOC } from '../../../src/api/table/descriptions.js';
import { convertorFor } from '../../../src/api/table/printers.js';

const NOW = new Date('2024-05-01T12:00:00Z');

const customType = (printerColumns?: readonly PrinterColumn[]): ResourceType => ({
  group: 'split.smi-spec.io',
  version: 'v1alpha4',
  plural: 'trafficsplits',
  singular: 'trafficsplit',
  kind: 'TrafficSplit',
  listKind: 'TrafficSplitList',
  namespaced: true,
  shortNames: ['ts'],
  categories: ['smi'],
  verbs: ['get'],
  status: false,
  ...(printerColumns === undefined ? {} : { printerColumns }),
});

const split: KubeObject = {
  apiVersion: 'split.smi-spec.io/v1alpha4',
  kind: 'TrafficSplit',
  metadata: { name: 'orders', namespace: 'shop', creationTimestamp: '2024-05-01T11:55:00Z', labels: { b: '2', a: '<1>' } },
  spec: {
    service: 'orders',
    backends: [
      { service: 'orders-v1', weight: 90 },
      { service: 'orders-v2', weight: 10 },
    ],
    ratio: 0.25,
    big: 1234567.5,
    count: 7,
    enabled: true,
    nothing: null,
    since: '2024-04-30T12:00:00Z',
    notTime: 'tomorrow',
    empty: '',
  },
  status: { conditions: [{ type: 'Ready', status: 'True' }] },
};

const col = (name: string, type: string, jsonPath: string, extra: Partial<PrinterColumn> = {}): PrinterColumn => ({ name, type, jsonPath, ...extra });

t.test('no printer columns: NAME and the default AGE column', (t) => {
  for (const columns of [undefined, []]) {
    const convertor = convertorFor(customType(columns));
    t.same(convertor.columns, [
      { name: 'Name', type: 'string', format: 'name', description: DOC.objectMetaName, priority: 0 },
      { name: 'Age', type: 'date', format: '', description: DOC.objectMetaCreationTimestamp, priority: 0 },
    ]);
    t.same(convertor.row(split, NOW).cells, ['orders', '5m']);
  }
  t.end();
});

t.test('column definitions follow the CRD', (t) => {
  const convertor = convertorFor(customType([col('Service', 'string', '.spec.service', { description: 'The root service' }), col('Weight', 'integer', '.spec.backends[0].weight', { priority: 1, format: 'int32' })]));
  t.same(convertor.columns.slice(1), [
    { name: 'Service', type: 'string', format: '', description: 'The root service', priority: 0 },
    { name: 'Weight', type: 'integer', format: 'int32', description: 'Custom resource definition column (in JSONPath format): .spec.backends[0].weight', priority: 1 },
  ]);
  t.end();
});

t.test('cells by column type', (t) => {
  const cases: [string, string, unknown][] = [
    ['string', '.spec.service', 'orders'],
    ['string', '.spec.count', '7'],
    ['string', '.spec.ratio', '0.25'],
    ['string', '.spec.big', '1.2345675e+06'],
    ['string', '.spec.enabled', 'true'],
    ['string', '.spec.backends[0]', '{"service":"orders-v1","weight":90}'],
    ['string', '.spec.backends[*].service', 'orders-v1'],
    ['string', '.metadata.labels', '{"a":"\\u003c1\\u003e","b":"2"}'],
    ['string', '.spec.nothing', '<no value>'],
    ['string', '.spec.missing', null],
    ['string', '.spec.backends[5]', null],
    ['string', '.status.conditions[?(@.type=="Ready")].status', 'True'],
    ['string', '.status.conditions[?(@.type=="Synced")].status', null],
    ['integer', '.spec.count', 7],
    ['integer', '.spec.ratio', 0],
    ['integer', '.spec.big', 1234567],
    ['integer', '.spec.service', null],
    ['integer', '.spec.nothing', null],
    ['number', '.spec.count', 7],
    ['number', '.spec.ratio', 0.25],
    ['number', '.spec.enabled', null],
    ['boolean', '.spec.enabled', true],
    ['boolean', '.spec.count', null],
    ['date', '.spec.since', '24h'],
    ['date', '.metadata.creationTimestamp', '5m'],
    ['date', '.spec.notTime', '<invalid>'],
    ['date', '.spec.empty', '<unknown>'],
    ['date', '.spec.count', null],
    ['date', '.spec.missing', null],
    ['color', '.spec.service', null],
  ];
  for (const [type, path, want] of cases) {
    const convertor = convertorFor(customType([col('C', type, path)]));
    t.same(convertor.row(split, NOW).cells, ['orders', want], `${type} ${path}`);
  }
  t.end();
});

t.test('a column whose path does not parse ends the columns', (t) => {
  const convertor = convertorFor(customType([col('A', 'string', '.spec.service'), col('B', 'string', '.spec[x]'), col('C', 'string', '.spec.count')]));
  t.same(
    convertor.columns.map((c) => c.name),
    ['Name', 'A'],
  );
  t.same(convertor.row(split, NOW).cells, ['orders', 'orders']);
  t.end();
});

t.test('the convertor of a type is reused', (t) => {
  const type = customType([col('A', 'string', '.spec.service')]);
  t.equal(convertorFor(type), convertorFor(type));
  t.end();
});
