import t from 'tap';
import { describe } from '../../../src/api/crd/field.js';
import { defaultCrd, validateCrd, validateCrdStatus } from '../../../src/api/crd/validate.js';
import type { KubeObject } from '../../../src/api/store.js';
import { edited, smiCrds, widgetCrd, type Edit } from './fixtures.js';

const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const DNS1123 =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const FORM = '; desired format: https://host[/path]';
const TYPES = 'supported values: "array", "boolean", "integer", "number", "object", "string"';
const WIDGET_SCHEMA = { type: 'object', properties: { spec: { type: 'object', properties: { replicas: { type: 'integer' }, mode: { type: 'string' } } } } };
const v2 = { name: 'v2', served: true, storage: false, schema: { openAPIV3Schema: WIDGET_SCHEMA } };
const internalVersion = (name: string, storage: boolean): string =>
  `{"Name":"${name}","Served":true,"Storage":${storage},"Deprecated":false,"DeprecationWarning":null,"Schema":null,"Subresources":null,"AdditionalPrinterColumns":null,"SelectableFields":null}`;
const webhook = (extra: Record<string, unknown>): Edit => ['spec.conversion', { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], ...extra } }];

const problems = (crd: KubeObject, existing: KubeObject[] = []): string[] => validateCrd(crd, existing).map(describe);

t.test("Loom's SMI CRDs are valid in every version", (t) => {
  const crds = smiCrds();
  t.equal(crds.length, 6);
  for (const crd of crds) t.same(problems(crd), [], crd.metadata.name);
  t.end();
});

t.test('CRDs in every invalid shape, on create, with Kubernetes field paths and messages', (t) => {
  const cases: [string, Edit[], string[]][] = [
    ['valid', [], []],
    ['singular and listKind are defaulted', [['spec.names.singular', undefined], ['spec.names.listKind', undefined]], []],
    ['name not <plural>.<group>', [['metadata.name', 'gadgets.example.com']], ['metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group']],
    ['no group', [['spec.group', undefined]], ['metadata.name: Invalid value: "widgets.example.com": must be spec.names.plural+"."+spec.group', 'spec.group: Required value']],
    ['group without a dot', [['metadata.name', 'widgets.example'], ['spec.group', 'example']], ['spec.group: Invalid value: "example": should be a domain with at least one dot']],
    ['group not a DNS subdomain', [['metadata.name', 'widgets.Example.com'], ['spec.group', 'Example.com']], [`spec.group: Invalid value: "Example.com": ${DNS1123}`]],
    ['no scope', [['spec.scope', undefined]], ['spec.scope: Required value']],
    ['unknown scope', [['spec.scope', 'Global']], ['spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"']],
    ['no plural', [['spec.names.plural', undefined], ['metadata.name', '.example.com']], ['spec.names.plural: Required value']],
    ['no kind', [['spec.names.kind', undefined]], ['spec.names.kind: Required value']],
    ['no kind, nothing to default from', [['spec.names', { plural: 'widgets' }]], ['spec.names.singular: Required value', 'spec.names.kind: Required value', 'spec.names.listKind: Required value']],
    ['plural not a DNS-1035 label', [['metadata.name', 'Widgets.example.com'], ['spec.names.plural', 'Widgets']], [`spec.names.plural: Invalid value: "Widgets": ${DNS1035}`]],
    ['singular not a DNS-1035 label', [['spec.names.singular', 'a_widget']], [`spec.names.singular: Invalid value: "a_widget": ${DNS1035}`]],
    ['kind with a space', [['spec.names.kind', 'Wid get']], [`spec.names.kind: Invalid value: "Wid get": may have mixed case, but should otherwise match: ${DNS1035}`]],
    ['listKind with a dot', [['spec.names.listKind', 'Widget.List']], [`spec.names.listKind: Invalid value: "Widget.List": may have mixed case, but should otherwise match: ${DNS1035}`]],
    ['kind and listKind the same', [['spec.names.listKind', 'Widget']], ['spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same']],
    ['a bad short name', [['spec.names.shortNames', ['w', '1w']]], [`spec.names.shortNames[1]: Invalid value: "1w": ${DNS1035}`]],
    ['a bad category', [['spec.names.categories', ['all', 'Bad']]], [`spec.names.categories[1]: Invalid value: "Bad": ${DNS1035}`]],
    [
      'no versions',
      [['spec.versions', []]],
      ['spec.versions: Invalid value: []: must have exactly one version marked as storage version', 'status.storedVersions: Invalid value: null: must have at least one stored version'],
    ],
    [
      'versions missing',
      [['spec.versions', undefined]],
      ['spec.versions: Invalid value: null: must have exactly one version marked as storage version', 'status.storedVersions: Invalid value: null: must have at least one stored version'],
    ],
    [
      'no storage version',
      [['spec.versions.0.storage', false]],
      [`spec.versions: Invalid value: [${internalVersion('v1', false)}]: must have exactly one version marked as storage version`, 'status.storedVersions: Invalid value: null: must have at least one stored version'],
    ],
    [
      'two storage versions',
      [['spec.versions.1', { ...v2, storage: true }]],
      [
        `spec.versions: Invalid value: [${internalVersion('v1', true)},${internalVersion('v2', true)}]: must have exactly one version marked as storage version`,
        'status.storedVersions: Invalid value: ["v1"]: must have the storage version v2',
      ],
    ],
    ['a second version, not stored', [['spec.versions.1', v2]], []],
    [
      'a version twice',
      [['spec.versions.1', { ...v2, name: 'v1' }]],
      [`spec.versions: Invalid value: [${internalVersion('v1', true)},${internalVersion('v1', false)}]: must contain unique version names`],
    ],
    ['a version name that is no DNS-1035 label', [['spec.versions.0.name', 'V1']], [`spec.versions[0].name: Invalid value: "V1": ${DNS1035}`, `spec.version: Invalid value: "V1": ${DNS1035}`]],
    ['no schema', [['spec.versions.0.schema', undefined]], ['spec.versions[0].schema.openAPIV3Schema: Required value']],
    ['an empty schema', [['spec.versions.0.schema', {}]], ['spec.versions[0].schema.openAPIV3Schema: Required value']],
    ['one version without schema', [['spec.versions.1', { ...v2, schema: undefined }]], ['spec.versions[1].schema.openAPIV3Schema: Required value']],
    [
      'a schema shared by all versions is validated once, at spec.validation',
      [['spec.versions.0.schema.openAPIV3Schema.properties.spec.properties.replicas', { type: 'int' }], ['spec.versions.1', v2], ['spec.versions.1.schema.openAPIV3Schema.properties.spec.properties.replicas', { type: 'int' }]],
      [`spec.validation.openAPIV3Schema.properties[spec].properties[replicas].type: Unsupported value: "int": ${TYPES}`],
    ],
    [
      'schemas that differ are validated per version',
      [['spec.versions.0.schema.openAPIV3Schema.properties.spec.properties.replicas', { type: 'int' }], ['spec.versions.1', v2]],
      [`spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[replicas].type: Unsupported value: "int": ${TYPES}`],
    ],
    [
      'a single version: spec.validation',
      [['spec.versions.0.schema.openAPIV3Schema.properties.spec.type', undefined]],
      ['spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields'],
    ],
    [
      'different schemas per version: spec.versions[i].schema',
      [['spec.versions.1', { ...v2, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { properties: {} } } } } }]],
      ['spec.versions[1].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields'],
    ],
    ['a deprecation warning on a current version', [['spec.versions.0.deprecationWarning', 'old']], ['spec.versions[0].deprecationWarning: Invalid value: "old": can only be set for deprecated versions']],
    ['an empty deprecation warning', [['spec.versions.0.deprecated', true], ['spec.versions.0.deprecationWarning', '']], ['spec.versions[0].deprecationWarning: Invalid value: "": must not be an empty string']],
    [
      'a deprecation warning with a tab',
      [['spec.versions.0.deprecated', true], ['spec.versions.0.deprecationWarning', 'é o\tld']],
      ['spec.versions[0].deprecationWarning: Invalid value: "é o\\tld": must only contain printable UTF-8 characters; non-printable character found at index 4'],
    ],
    ['status and scale subresources', [['spec.versions.0.subresources', { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } }]], []],
    [
      'bad scale paths',
      [['spec.versions.0.subresources', { scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: '.spec.x', labelSelectorPath: '.metadata.labels' } }]],
      [
        'spec.subresources.scale.specReplicasPath: Invalid value: "spec.replicas": must be a simple json path starting with .',
        'spec.subresources.scale.statusReplicasPath: Invalid value: ".spec.x": should be a json path under .status',
        'spec.subresources.scale.labelSelectorPath: Invalid value: ".metadata.labels": should be a json path under either .spec or .status',
      ],
    ],
    ['scale paths missing', [['spec.versions.0.subresources', { scale: {} }]], ['spec.subresources.scale.specReplicasPath: Required value', 'spec.subresources.scale.statusReplicasPath: Required value']],
    ['subresources per version', [['spec.versions.1', { ...v2, subresources: { scale: { specReplicasPath: '.spec.r' } } }]], ['spec.versions[1].subresources.scale.statusReplicasPath: Required value']],
    [
      'the status subresource restricts the root of the schema',
      [['spec.versions.0.subresources', { status: {} }], ['spec.versions.0.schema.openAPIV3Schema.type', 'array']],
      [
        'spec.validation.openAPIV3Schema.type: Invalid value: "array": only "object" is allowed as the type at the root of the schema if the status subresource is enabled',
        'spec.validation.openAPIV3Schema.items: Required value: must be specified',
        'spec.validation.openAPIV3Schema.type: Invalid value: "array": must be object at the root',
      ],
    ],
    [
      'bad printer columns',
      [['spec.versions.0.additionalPrinterColumns', [{ name: '', type: 'str', format: 'weird', jsonPath: 'x' }, { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }, { name: 'N' }]]],
      [
        'spec.additionalPrinterColumns[0].name: Required value',
        'spec.additionalPrinterColumns[0].type: Invalid value: "str": must be one of boolean,date,integer,number,string',
        'spec.additionalPrinterColumns[0].format: Invalid value: "weird": must be one of byte,date,date-time,double,float,int32,int64,password',
        'spec.additionalPrinterColumns[0].JSONPath: Invalid value: "x": must be a simple json path starting with .',
        'spec.additionalPrinterColumns[2].type: Required value: must be one of boolean,date,integer,number,string',
        'spec.additionalPrinterColumns[2].JSONPath: Required value',
      ],
    ],
    ['conversion without a strategy', [['spec.conversion', {}]], ['spec.conversion.strategy: Required value']],
    ['an unknown conversion strategy', [['spec.conversion', { strategy: 'Magic' }]], ['spec.conversion.strategy: Unsupported value: "Magic": supported values: "None", "Webhook"']],
    [
      'a webhook without settings',
      [['spec.conversion', { strategy: 'Webhook' }]],
      ['spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook', 'spec.conversion.conversionReviewVersions: Required value'],
    ],
    ['a webhook with a url and a service', [webhook({ clientConfig: { url: 'https://x', service: { name: 'a', namespace: 'b' } } })], ['spec.conversion.webhookClientConfig: Required value: exactly one of url or service is required']],
    ['a webhook with neither', [webhook({ clientConfig: {} })], ['spec.conversion.webhookClientConfig: Required value: exactly one of url or service is required']],
    ['a webhook url', [webhook({ clientConfig: { url: 'https://convert.example.com:8443/convert' } })], []],
    [
      'a webhook url with everything Kubernetes forbids',
      [webhook({ clientConfig: { url: 'http://user:pw@host/x?q=1#frag' } })],
      [
        `spec.conversion.webhookClientConfig.url: Invalid value: "http": 'https' is the only allowed URL scheme${FORM}`,
        'spec.conversion.webhookClientConfig.url: Invalid value: "user:pw": user information is not permitted in the URL',
        'spec.conversion.webhookClientConfig.url: Invalid value: "frag": fragments are not permitted in the URL',
        'spec.conversion.webhookClientConfig.url: Invalid value: "q=1": query parameters are not permitted in the URL',
      ],
    ],
    ['a webhook url without host', [webhook({ clientConfig: { url: 'https:///convert' } })], [`spec.conversion.webhookClientConfig.url: Invalid value: "": host must be specified${FORM}`]],
    ['a webhook url Go cannot parse', [webhook({ clientConfig: { url: ':8443/x' } })], [`spec.conversion.webhookClientConfig.url: Required value: url must be a valid URL: parse ":8443/x": missing protocol scheme${FORM}`]],
    ['a webhook url with a bad port', [webhook({ clientConfig: { url: 'https://host:port/x' } })], [`spec.conversion.webhookClientConfig.url: Required value: url must be a valid URL: parse "https://host:port/x": invalid port ":port" after host${FORM}`]],
    [
      'a webhook service with nothing right',
      [webhook({ clientConfig: { service: { port: 0, path: 'x//' } } })],
      [
        'spec.conversion.webhookClientConfig.service.name: Required value',
        'spec.conversion.webhookClientConfig.service.namespace: Required value',
        'spec.conversion.webhookClientConfig.service.port: Invalid value: 0: port is not valid: must be between 1 and 65535, inclusive',
        "spec.conversion.webhookClientConfig.service.path: Invalid value: \"x//\": must start with a '/'",
        'spec.conversion.webhookClientConfig.service.path: Invalid value: "x//": segment[0] may not be empty',
        'spec.conversion.webhookClientConfig.service.path: Invalid value: "x//": segment[1] may not be empty',
      ],
    ],
    ['a webhook service path that is no DNS subdomain', [webhook({ clientConfig: { service: { name: 'a', namespace: 'b', path: '/ok/Convert/' } } })], [`spec.conversion.webhookClientConfig.service.path: Invalid value: "/ok/Convert/": segment[1]: ${DNS1123}`]],
    ['a webhook service path //', [webhook({ clientConfig: { service: { name: 'a', namespace: 'b', path: '//' } } })], ['spec.conversion.webhookClientConfig.service.path: Invalid value: "//": segment[0] may not be empty']],
    ['a webhook service with the default port', [webhook({ clientConfig: { service: { name: 'a', namespace: 'b', path: '/' } } })], []],
    [
      'conversion review versions Kubernetes does not speak',
      [['spec.conversion', { strategy: 'Webhook', webhook: { clientConfig: { url: 'https://x' }, conversionReviewVersions: ['v2', 'v2', 'V3'] } }]],
      [
        'spec.conversion.conversionReviewVersions[1]: Invalid value: "v2": duplicate version',
        `spec.conversion.conversionReviewVersions[2]: Invalid value: "V3": ${DNS1035}`,
        'spec.conversion.conversionReviewVersions: Invalid value: ["v2","v2","V3"]: must include at least one of v1, v1beta1',
      ],
    ],
    ['conversion review versions v1beta1 only', [['spec.conversion', { strategy: 'Webhook', webhook: { clientConfig: { url: 'https://x' }, conversionReviewVersions: ['v1beta1'] } }]], []],
    [
      'webhook settings without the Webhook strategy',
      [['spec.conversion', { strategy: 'None', webhook: { clientConfig: { url: 'https://x' }, conversionReviewVersions: ['v1'] } }]],
      ['spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not set to Webhook', 'spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is not set to Webhook'],
    ],
    [
      'preserveUnknownFields',
      [['spec.preserveUnknownFields', true]],
      ['spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead'],
    ],
    [
      'preserveUnknownFields with defaults and a webhook',
      [['spec.preserveUnknownFields', true], ['spec.versions.0.schema.openAPIV3Schema.properties.spec.properties.mode.default', 'a'], webhook({ clientConfig: { url: 'https://x' } })],
      [
        'spec.preserveUnknownFields: Invalid value: true: must be false in order to use defaults in the schema',
        'spec.conversion.strategy: Invalid value: "Webhook": must be None if spec.preserveUnknownFields is true',
        'spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead',
      ],
    ],
    [
      'a Kubernetes group without API approval',
      [['metadata.name', 'widgets.x.k8s.io'], ['spec.group', 'x.k8s.io']],
      ['metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111'],
    ],
    [
      'a Kubernetes group with a bad approval',
      [['metadata.name', 'widgets.kubernetes.io'], ['spec.group', 'kubernetes.io'], ['metadata.annotations', { 'api-approved.kubernetes.io': 'yes' }]],
      [
        'metadata.annotations[api-approved.kubernetes.io]: Invalid value: "yes": protected groups must have approval annotation "api-approved.kubernetes.io" with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111',
      ],
    ],
    ['a Kubernetes group, unapproved on purpose', [['metadata.name', 'widgets.x.k8s.io'], ['spec.group', 'x.k8s.io'], ['metadata.annotations', { 'api-approved.kubernetes.io': 'unapproved, testing only' }]], []],
    ['a Kubernetes group, approved', [['metadata.name', 'widgets.x.k8s.io'], ['spec.group', 'x.k8s.io'], ['metadata.annotations', { 'api-approved.kubernetes.io': 'https://github.com/kubernetes/enhancements/pull/1111' }]], []],
    ['a look-alike group is not protected', [['metadata.name', 'widgets.notk8s.io'], ['spec.group', 'notk8s.io']], []],
  ];
  for (const [name, edits, want] of cases) t.same(problems(edited(widgetCrd(), ...edits)), want, name);
  t.end();
});

t.test('the bad value of spec.versions is the internal form, schemas included when they differ', (t) => {
  const crd = edited(widgetCrd(), ['spec.versions.0.storage', false], ['spec.versions.1', { ...v2, schema: { openAPIV3Schema: { type: 'object' } } }]);
  const [problem] = validateCrd(crd, []);
  t.equal(problem?.field, 'spec.versions');
  t.match(problem?.message, /^Invalid value: \[\{"Name":"v1","Served":true,"Storage":false,"Deprecated":false,"DeprecationWarning":null,"Schema":\{"OpenAPIV3Schema":\{"ID":"","Schema":"","Ref":null,"Description":"","Type":"object",/);
  t.match(problem?.message, /"Name":"v2".*"Schema":\{"OpenAPIV3Schema":\{"ID":"".*"XValidations":null\}\},"Subresources":null,"AdditionalPrinterColumns":null,"SelectableFields":null\}\]: must have exactly one version marked as storage version$/);
  t.equal(problem?.reason, 'FieldValueInvalid');
  t.end();
});

t.test('updates: what may not change, and versions that were stored', (t) => {
  const established = (crd: KubeObject, status: Record<string, unknown> = {}): KubeObject =>
    edited(crd, ['status', { conditions: [{ type: 'Established', status: 'True' }], acceptedNames: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' }, storedVersions: ['v1'], ...status }]);
  const old = established(widgetCrd());
  const cases: [string, KubeObject, Edit[], string[]][] = [
    ['no change', old, [], []],
    ['a status sent with the update is ignored', old, [['status', { storedVersions: [] }]], []],
    ['scope of an established CRD', old, [['spec.scope', 'Cluster']], ['spec.scope: Invalid value: "Cluster": field is immutable']],
    ['scope before it is established', widgetCrd(), [['spec.scope', 'Cluster']], []],
    ['kind of an established CRD', old, [['spec.names.kind', 'Gadget'], ['spec.names.listKind', 'GadgetList']], ['spec.names.kind: Invalid value: "Gadget": field is immutable']],
    ['listKind may change', old, [['spec.names.listKind', 'Widgets']], []],
    ['group', widgetCrd(), [['spec.group', 'example.org']], ['spec.group: Invalid value: "example.org": field is immutable']],
    ['plural', widgetCrd(), [['spec.names.plural', 'gizmos']], ['spec.names.plural: Invalid value: "gizmos": field is immutable']],
    ['a new storage version, the old one kept', old, [['spec.versions.0.storage', false], ['spec.versions.1', { ...v2, storage: true }]], []],
    [
      'a stored version removed',
      old,
      [['spec.versions.0', { ...v2, storage: true }]],
      ['status.storedVersions[0]: Invalid value: "v1": missing from spec.versions; v1 was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v1 and removes v1 from status.storedVersions'],
    ],
    ['a stored version no longer served', established(widgetCrd(), { storedVersions: ['v1', 'v2'] }), [['spec.versions.1', { ...v2, served: false }]], []],
    [
      'bad accepted names in the stored status are reported',
      established(widgetCrd(), { acceptedNames: { plural: 'Widgets', kind: 'Widget' } }),
      [],
      [`status.acceptedNames.plural: Invalid value: "Widgets": ${DNS1035}`],
    ],
    ['an approval missing before and after', edited(widgetCrd(), ['metadata.name', 'widgets.x.k8s.io'], ['spec.group', 'x.k8s.io']), [], []],
    ['preserveUnknownFields kept from before', edited(widgetCrd(), ['spec.preserveUnknownFields', true]), [], []],
  ];
  for (const [name, before, edits, want] of cases) {
    const after = edited(before, ['status', undefined], ...edits);
    t.same(problems(after, [edited(before, ['metadata.name', 'other.example.com']), before]), want, name);
  }
  t.end();
});

t.test('validateCrdStatus: a /status write, only the accepted names', (t) => {
  t.same(validateCrdStatus(edited(widgetCrd(), ['status', { acceptedNames: { plural: 'widgets', kind: 'Widget' }, storedVersions: [] }])), []);
  t.same(validateCrdStatus(edited(widgetCrd(), ['status', { acceptedNames: { plural: 'widgets', kind: 'Widget', listKind: 'Widget', shortNames: ['-'] } }])).map(describe), [
    `status.acceptedNames.shortNames[0]: Invalid value: "-": ${DNS1035}`,
    'status.acceptedNames.listKind: Invalid value: "Widget": kind and listKind may not be the same',
  ]);
  t.end();
});

t.test('defaultCrd sets what decoding a v1 CRD sets', (t) => {
  const crd = defaultCrd(edited(widgetCrd(), ['spec.names', { plural: 'widgets', kind: 'Widget' }], webhook({ clientConfig: { service: { name: 'a', namespace: 'b' } } })));
  t.same((crd.spec as { names: unknown }).names, { plural: 'widgets', kind: 'Widget', singular: 'widget', listKind: 'WidgetList' });
  t.same((crd.spec as { conversion: unknown }).conversion, { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: { name: 'a', namespace: 'b', port: 443 } } } });
  t.same((defaultCrd(widgetCrd()).spec as { conversion: unknown }).conversion, { strategy: 'None' });
  const given = edited(widgetCrd(), ['spec.names.listKind', 'Widgets'], ['spec.conversion', { strategy: 'None' }]);
  t.same(defaultCrd(given), given, 'values given are kept');
  t.not(defaultCrd(given), given, 'a copy');
  t.end();
});
