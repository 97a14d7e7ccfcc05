import t from 'tap';
import { BUILT_IN, type ResourceType } from '../../../src/api/registry.js';
import { negotiate, parseAccept, type Negotiation } from '../../../src/api/table/negotiate.js';

const KUBECTL_GET = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
/** client-go's metadata client (metadata informers): list, and get/watch. */
const METADATA_LIST = 'application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const METADATA_GET = 'application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
const JSON_ONLY = { notAcceptable: 'only the following media types are accepted: application/json' };

const pods = BUILT_IN.find((r) => r.kind === 'Pod') as ResourceType;
const deployments = BUILT_IN.find((r) => r.kind === 'Deployment') as ResourceType;
const splits: ResourceType = { ...pods, group: 'split.smi-spec.io', version: 'v1alpha4', plural: 'trafficsplits', kind: 'TrafficSplit', listKind: 'TrafficSplitList' };

t.test('what a list answers for each Accept header', (t) => {
  const cases: [string | undefined, Negotiation][] = [
    [undefined, { as: 'Object' }],
    ['', { as: 'Object' }],
    [KUBECTL_GET, { as: 'Table', version: 'v1' }],
    ['application/json;as=Table;v=v1beta1;g=meta.k8s.io', { as: 'Table', version: 'v1beta1' }],
    ['application/json', { as: 'Object' }],
    ['application/json, */*', { as: 'Object' }],
    ['*/*', { as: 'Object' }],
    ['*', { as: 'Object' }],
    ['application/*', { as: 'Object' }],
    ['*/*;as=Table;g=meta.k8s.io;v=v1', { as: 'Table', version: 'v1' }],
    ['application/vnd.kubernetes.protobuf,application/json', { as: 'Object' }],
    ['application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json', { as: 'Object' }],
    [METADATA_LIST, { as: 'PartialObjectMetadataList', version: 'v1' }],
    ['application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1beta1', { as: 'PartialObjectMetadataList', version: 'v1beta1' }],
    ['application/json;as=Table;g=meta.k8s.io;v=v1;q=0.5, application/json', { as: 'Object' }],
    ['application/json;q=0.9, application/json;as=Table;g=meta.k8s.io;v=v1', { as: 'Table', version: 'v1' }],
    ['*/*;q=0.8, application/json;as=Table;g=meta.k8s.io;v=v1;q=0.8', { as: 'Table', version: 'v1' }],
    ['application/json;q=0', { as: 'Object' }],
    ['application/json;q=bogus', { as: 'Object' }],
    ['application/json;stream=watch', { as: 'Object' }],
    [' application/json ; as=Table ; g=meta.k8s.io ; v=v1 ', { as: 'Table', version: 'v1' }],
    ['application/json;as=Foo;g=meta.k8s.io;v=v1, application/json', { as: 'Object' }],
    ['application/vnd.kubernetes.protobuf', { as: 'Object' }], // client-go decodes JSON by its Content-Type
    ['application/yaml', JSON_ONLY],
    ['application/cbor', JSON_ONLY],
    ['application/yaml;as=Table;g=meta.k8s.io;v=v1', JSON_ONLY],
    ['application/json;as=Table;v=v1', JSON_ONLY],
    ['application/json;as=Table;g=meta.k8s.io;v=v2', JSON_ONLY],
    ['application/json;as=Table;g=meta.k8s.io', JSON_ONLY],
    ['application/json;v=v1', JSON_ONLY],
    ['application/json;stream=other', JSON_ONLY],
    ['application/json;sv=v2', JSON_ONLY],
    ['Application/JSON', JSON_ONLY],
    ['application/json/x', JSON_ONLY],
    ['text/html', JSON_ONLY],
    ['   ', JSON_ONLY],
  ];
  for (const [accept, want] of cases) t.same(negotiate(accept, { list: true, watch: false, type: pods }), want, String(accept));
  t.end();
});

t.test('PartialObjectMetadata must fit: one object, or a list', (t) => {
  t.same(negotiate(METADATA_GET, { list: false, watch: false, type: pods }), { as: 'PartialObjectMetadata', version: 'v1' });
  t.same(negotiate(METADATA_GET, { list: true, watch: true, type: pods }), { as: 'PartialObjectMetadata', version: 'v1' }, 'a watch: each event is one object');
  t.same(negotiate(METADATA_GET, { list: true, watch: false, type: pods }), { notAcceptable: 'you requested PartialObjectMetadata, but the requested object is a list (*core.PodList)', afterRead: true });
  t.same(negotiate(METADATA_GET, { list: true, watch: false, type: splits }), { notAcceptable: 'you requested PartialObjectMetadata, but the requested object is a list (*unstructured.UnstructuredList)', afterRead: true });
  t.same(negotiate(METADATA_LIST, { list: false, watch: false, type: deployments }), { notAcceptable: 'you requested PartialObjectMetadataList, but the requested object is not a list (*apps.Deployment)', afterRead: true });
  t.same(negotiate(METADATA_LIST, { list: true, watch: true, type: pods }), { as: 'PartialObjectMetadataList', version: 'v1' }, 'a watch negotiates it (and then cannot encode events)');
  t.same(negotiate(KUBECTL_GET, { list: false, watch: false, type: pods }), { as: 'Table', version: 'v1' }, 'a single GET as a Table');
  t.end();
});

t.test('parseAccept keeps goautoneg semantics', (t) => {
  t.same(parseAccept(KUBECTL_GET), [
    { type: 'application', subType: 'json', q: 1, params: { as: 'Table', v: 'v1', g: 'meta.k8s.io' } },
    { type: 'application', subType: 'json', q: 1, params: { as: 'Table', v: 'v1beta1', g: 'meta.k8s.io' } },
    { type: 'application', subType: 'json', q: 1, params: {} },
  ]);
  t.same(
    parseAccept('*/*;q=0.5, text/*;q=0.5, text/plain;q=0.5, a/b;q=0.9').map((c) => `${c.type}/${c.subType}`),
    ['a/b', 'text/plain', 'text/*', '*/*'],
  );
  t.same(parseAccept('a/b;x;y=1=2;z = 3 ,noslash'), [{ type: 'a', subType: 'b', q: 1, params: { z: '3' } }], 'malformed parameters and clauses are dropped');
  t.equal(parseAccept('a/b;q=0.3')[0]?.q, Math.fround(0.3), 'q is a float32');
  t.end();
});
