/** Which requests a webhook's rules, matchPolicy and selectors cover (pure; the calls are in admission.test.ts). */
import t from 'tap';
import type { Rule, Webhook } from '../../../src/api/webhooks/config.js';
import { webhooksOf } from '../../../src/api/webhooks/config.js';
import { invocationFor, isEmptySelector, isExempt, ruleMatches, selectorProblem, selects, type RequestTarget } from '../../../src/api/webhooks/matching.js';

const rule = (r: Partial<Rule> = {}): Rule => ({ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: '*', ...r });
const podCreate: RequestTarget = { operation: 'CREATE', group: '', version: 'v1', resource: 'pods', subresource: '', namespace: 'shop' };

t.test('rules: operations, groups, versions, resources and subresources, scope', (t) => {
  const cases: [string, Partial<Rule>, Partial<RequestTarget>, boolean][] = [
    ['the same request', {}, {}, true],
    ['another operation', {}, { operation: 'UPDATE' }, false],
    ['operation *', { operations: ['*'] }, { operation: 'DELETE' }, true],
    ['one of several operations', { operations: ['UPDATE', 'CREATE'] }, {}, true],
    ['another group', {}, { group: 'apps' }, false],
    ['group *', { apiGroups: ['*'] }, { group: 'apps' }, true],
    ['another version', {}, { version: 'v2' }, false],
    ['version *', { apiVersions: ['*'] }, { version: 'v2' }, true],
    ['another resource', {}, { resource: 'services' }, false],
    ['resource * (no subresources)', { resources: ['*'] }, { resource: 'services' }, true],
    ['resource * does not cover a subresource', { resources: ['*'] }, { subresource: 'status' }, false],
    ['a resource does not cover its subresources', {}, { subresource: 'status' }, false],
    ['pods/status covers the status subresource', { resources: ['pods/status'] }, { subresource: 'status' }, true],
    ['pods/status does not cover pods', { resources: ['pods/status'] }, {}, false],
    ['pods/* covers pods and every subresource', { resources: ['pods/*'] }, { subresource: 'ephemeralcontainers' }, true],
    ['pods/* covers pods itself', { resources: ['pods/*'] }, {}, true],
    ['*/* covers everything', { resources: ['*/*'] }, { resource: 'deployments', subresource: 'scale' }, true],
    ['*/scale covers every scale subresource', { resources: ['*/scale'], apiGroups: ['apps'] }, { group: 'apps', resource: 'deployments', subresource: 'scale' }, true],
    ['*/scale does not cover the resource', { resources: ['*/scale'] }, {}, false],
    ['no resources', { resources: [] }, {}, false],
    ['scope Namespaced: a namespaced object', { scope: 'Namespaced' }, {}, true],
    ['scope Namespaced: a cluster-scoped object', { scope: 'Namespaced', resources: ['*'] }, { resource: 'nodes', namespace: '' }, false],
    ['scope Namespaced: a Namespace (its name is the request namespace)', { scope: 'Namespaced', resources: ['namespaces'], operations: ['UPDATE'] }, { resource: 'namespaces', operation: 'UPDATE', namespace: 'shop' }, false],
    ['scope Cluster: a Namespace', { scope: 'Cluster', resources: ['namespaces'], operations: ['UPDATE'] }, { resource: 'namespaces', operation: 'UPDATE', namespace: 'shop' }, true],
    ['scope Cluster: a cluster-scoped object', { scope: 'Cluster', resources: ['*'] }, { resource: 'nodes', namespace: '' }, true],
    ['scope Cluster: a pod', { scope: 'Cluster' }, {}, false],
    ['an unknown scope', { scope: 'Everywhere' }, {}, false],
  ];
  for (const [name, r, request, expected] of cases) t.equal(ruleMatches(rule(r), { ...podCreate, ...request }), expected, name);
  t.end();
});

const hookWith = (rules: Partial<Rule>[], matchPolicy?: string): Webhook => {
  const [hook] = webhooksOf(
    [{ metadata: { name: 'c' }, webhooks: [{ name: 'h.loom.test', rules: rules.map((r) => rule(r)), ...(matchPolicy === undefined ? {} : { matchPolicy }) }] }],
    'mutating',
  );
  if (hook === undefined) throw new Error('no webhook');
  return hook;
};

t.test('matchPolicy: Equivalent (the default) sends a request in another served version its rules list; Exact does not', (t) => {
  const target: RequestTarget = { operation: 'CREATE', group: 'split.smi-spec.io', version: 'v1alpha4', resource: 'trafficsplits', subresource: '', namespace: 'shop' };
  const rules = [{ apiGroups: ['split.smi-spec.io'], apiVersions: ['v1alpha2'], resources: ['trafficsplits'] }];
  const served = ['v1alpha4', 'v1alpha3', 'v1alpha2'];
  t.strictSame(invocationFor(hookWith(rules), target, 'TrafficSplit', served), { group: 'split.smi-spec.io', version: 'v1alpha2', resource: 'trafficsplits', subresource: '', kind: 'TrafficSplit' });
  t.equal(invocationFor(hookWith(rules, 'Exact'), target, 'TrafficSplit', served), undefined, 'Exact');
  t.equal(invocationFor(hookWith(rules), target, 'TrafficSplit', ['v1alpha4']), undefined, 'the listed version is not served');
  t.strictSame(
    invocationFor(hookWith([...rules, { apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }]), target, 'TrafficSplit', served)?.version,
    'v1alpha4',
    'a rule listing the requested version wins over an equivalent one',
  );
  t.strictSame(
    invocationFor(hookWith([{ apiGroups: ['split.smi-spec.io'], apiVersions: ['v1alpha3', 'v1alpha2'], resources: ['trafficsplits'] }]), target, 'TrafficSplit', served)?.version,
    'v1alpha3',
    'the versions are tried in the order given',
  );
  t.end();
});

t.test('webhook configurations are decoded with v1 defaults, sorted by name', (t) => {
  const hooks = webhooksOf(
    [
      { metadata: { name: 'zeta' }, webhooks: [{ name: 'z1' }] },
      { metadata: { name: 'alpha' }, webhooks: [{ name: 'a1', failurePolicy: 'Ignore', matchPolicy: 'Exact', timeoutSeconds: 3, reinvocationPolicy: 'IfNeeded' }, 'not a webhook', { name: 'a2', timeoutSeconds: 31 }] },
    ],
    'mutating',
  );
  t.strictSame(
    hooks.map((h) => h.uid),
    ['alpha/a1/0', 'alpha/a2/2', 'zeta/z1/0'],
  );
  const [a1, a2, z1] = hooks;
  t.strictSame([a1?.failurePolicy, a1?.matchPolicy, a1?.timeoutSeconds, a1?.reinvocationPolicy], ['Ignore', 'Exact', 3, 'IfNeeded']);
  t.strictSame([z1?.failurePolicy, z1?.matchPolicy, z1?.timeoutSeconds, z1?.reinvocationPolicy, z1?.namespaceSelector], ['Fail', 'Equivalent', 10, 'Never', {}]);
  t.equal(a2?.problem, 'timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds');
  const [validating] = webhooksOf([{ metadata: { name: 'v' }, webhooks: [{ name: 'v1', reinvocationPolicy: 'IfNeeded' }] }], 'validating');
  t.equal(validating?.reinvocationPolicy, 'Never', 'validating webhooks are not reinvoked');
  t.end();
});

t.test('selectors and exempt kinds', (t) => {
  t.equal(selectorProblem({ matchLabels: { inject: 'yes' } }, 'namespaceSelector'), null);
  t.match(selectorProblem({ matchExpressions: [{ key: 'a', operator: 'Near' }] }, 'namespaceSelector'), /^namespaceSelector\.matchExpressions\[0\]\.operator: Invalid value: "Near"/);
  t.ok(isEmptySelector({}));
  t.ok(isEmptySelector({ matchLabels: {}, matchExpressions: [] }));
  t.notOk(isEmptySelector({ matchExpressions: [{ key: 'a', operator: 'Exists' }] }));
  t.ok(selects({ matchLabels: { a: '1' } }, { a: '1', b: '2' }));
  t.notOk(selects({ matchLabels: { a: '1' } }, undefined));
  t.ok(selects({ matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] }, undefined));
  t.ok(isExempt('admissionregistration.k8s.io', 'MutatingWebhookConfiguration'));
  t.ok(isExempt('admissionregistration.k8s.io', 'ValidatingWebhookConfiguration'));
  t.notOk(isExempt('', 'Pod'));
  t.notOk(isExempt('admissionregistration.k8s.io', 'Pod'));
  t.end();
});
