import t from 'tap';
import {
  checkFieldSelector,
  fieldsOf,
  matchesFieldQuery,
  matchesLabelQuery,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from '../../src/api/selectors.js';
import type { FieldSelectorScope, LabelOperator } from '../../src/api/selectors.js';

// Kubernetes' own wording for label keys and values, double spaces included.
const NAME_PART =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const PREFIX_PART =
  "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const INTEGER = "for 'Gt', 'Lt' operators, the value must be an integer";

type Req = [key: string, operator: LabelOperator, values: string[]];

function parsed(query: string): Req[] {
  return parseLabelSelector(query).requirements.map((r) => [r.key, r.operator, [...r.values]]);
}

function labelError(query: string): string {
  try {
    parseLabelSelector(query);
  } catch (e) {
    if (e instanceof SelectorError) return e.message;
    throw e;
  }
  return '(parsed)';
}

function fieldError(query: string): string {
  try {
    parseFieldSelector(query);
  } catch (e) {
    if (e instanceof SelectorError) return e.message;
    throw e;
  }
  return '(parsed)';
}

t.test('parseLabelSelector: valid selectors, requirements sorted by key, values sorted and distinct', (t) => {
  const cases: [string, Req[]][] = [
    ['', []],
    [' \t\r\n', []],
    ['a=b', [['a', '=', ['b']]]],
    ['a==b', [['a', '==', ['b']]]],
    ['a!=b', [['a', '!=', ['b']]]],
    ['a in (x,y)', [['a', 'in', ['x', 'y']]]],
    ['a notin (y, x)', [['a', 'notin', ['x', 'y']]]],
    ['a', [['a', 'exists', []]]],
    ['!a', [['a', '!', []]]],
    ['! a', [['a', '!', []]]],
    ['a>3', [['a', 'gt', ['3']]]],
    ['a<3', [['a', 'lt', ['3']]]],
    ['a>007', [['a', 'gt', ['007']]]],
    ['a>9223372036854775807', [['a', 'gt', ['9223372036854775807']]]],
    ['a=', [['a', '=', ['']]]],
    ['a=,b', [['a', '=', ['']], ['b', 'exists', []]]],
    ['a in (x,x)', [['a', 'in', ['x']]]],
    ['a in ()', [['a', 'in', ['']]]],
    ['a in (,)', [['a', 'in', ['']]]],
    ['a in (x,)', [['a', 'in', ['', 'x']]]],
    ['a in (,x)', [['a', 'in', ['', 'x']]]],
    [
      'x in (foo,,baz),y,z notin ()',
      [
        ['x', 'in', ['', 'baz', 'foo']],
        ['y', 'exists', []],
        ['z', 'notin', ['']],
      ],
    ],
    [' tier = back , app ', [['app', 'exists', []], ['tier', '=', ['back']]]],
    ['a\tin\n(x ,\ty )', [['a', 'in', ['x', 'y']]]],
    ['in in (in)', [['in', 'in', ['in']]]],
    ['notin notin (notin)', [['notin', 'notin', ['notin']]]],
    ['notin', [['notin', 'exists', []]]],
    ['a=in', [['a', '=', ['in']]]],
    ['example.com/app=web,!app.kubernetes.io/managed-by', [['app.kubernetes.io/managed-by', '!', []], ['example.com/app', '=', ['web']]]],
    ['a=b,a=c', [['a', '=', ['b']], ['a', '=', ['c']]]],
    ['a=A_b-c.9', [['a', '=', ['A_b-c.9']]]],
    [`${'k'.repeat(63)}=${'v'.repeat(63)}`, [['k'.repeat(63), '=', ['v'.repeat(63)]]]],
    // Like Kubernetes' lexer, a NUL where a token starts ends the input; inside a word or operator it ends that token.
    ['\0a=b', []],
    ['a\0,b', [['a', 'exists', []], ['b', 'exists', []]]],
    ['a,\0b', [['a', 'exists', []], ['b', 'exists', []]]],
  ];
  for (const [query, want] of cases) t.strictSame(parsed(query), want, JSON.stringify(query));
  t.end();
});

t.test('parseLabelSelector: invalid selectors throw SelectorError with Kubernetes-like messages', (t) => {
  const cases: [string, string][] = [
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['a(', "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"],
    [',a', "found ',', expected: !, identifier, or 'end of string'"],
    ['=a', "found '=', expected: !, identifier, or 'end of string'"],
    ['!=a', "found '!=', expected: !, identifier, or 'end of string'"],
    ['a,', "found '', expected: identifier after ','"],
    ['a,,b', "found ',', expected: identifier after ','"],
    ['a,=b', "found '=', expected: identifier after ','"],
    ['a, \0b', "found '', expected: identifier after ','"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['a in (x) y', "found 'y', expected: ',' or 'end of string'"],
    ['!a=b', "found '=', expected: ',' or 'end of string'"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['!,a', "unable to parse requirement: found ',', expected: identifier"],
    ['a=!b', "unable to parse requirement: found '!', expected: identifier"],
    ['a===b', "unable to parse requirement: found '=', expected: identifier"],
    ['a=(b)', "unable to parse requirement: found '(', expected: identifier"],
    ['a<>1', "unable to parse requirement: found '>', expected: identifier"],
    ['a in', "unable to parse requirement: found '' expected: '('"],
    ['a in x', "unable to parse requirement: found 'x' expected: '('"],
    ['a in (x', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['a in (x y)', "unable to parse requirement: found 'y', expected: ',' or ')'"],
    ['a in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['a in (', "unable to parse requirement: found '', expected: ',', ')' or identifier"],
    ['a in (x,=)', "unable to parse requirement: found '=', expected: ',', or identifier"],
    ['a in (,', "unable to parse requirement: found '', expected: ',', or identifier"],
    ['-a', `unable to parse requirement: Invalid value: "-a": ${NAME_PART}`],
    ['a-=b', `unable to parse requirement: Invalid value: "a-": ${NAME_PART}`],
    [`${'k'.repeat(64)}`, `unable to parse requirement: Invalid value: "${'k'.repeat(64)}": name part must be no more than 63 bytes`],
    ['/a', 'unable to parse requirement: Invalid value: "/a": prefix part must be non-empty'],
    ['a/', `unable to parse requirement: Invalid value: "a/": name part must be non-empty; ${NAME_PART}`],
    ['Example.com/a', `unable to parse requirement: Invalid value: "Example.com/a": ${PREFIX_PART}`],
    [
      'a/b/c',
      `unable to parse requirement: Invalid value: "a/b/c": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ],
    ['ä=b', `unable to parse requirement: Invalid value: "ä": ${NAME_PART}`],
    ['a=-b', `unable to parse requirement: values[0][a]: Invalid value: "-b": ${VALUE}`],
    ['a=b/c', `unable to parse requirement: values[0][a]: Invalid value: "b/c": ${VALUE}`],
    [`a=${'v'.repeat(64)}`, `unable to parse requirement: values[0][a]: Invalid value: "${'v'.repeat(64)}": must be no more than 63 bytes`],
    [
      'a in (b,-y,-x)',
      `unable to parse requirement: [values[0][a]: Invalid value: "-x": ${VALUE}, values[1][a]: Invalid value: "-y": ${VALUE}]`,
    ],
    ['a>x', `unable to parse requirement: values[0]: Invalid value: "x": ${INTEGER}`],
    ['a>1.5', `unable to parse requirement: values[0]: Invalid value: "1.5": ${INTEGER}`],
    ['a<', `unable to parse requirement: values[0]: Invalid value: "": ${INTEGER}`],
    ['a>9223372036854775808', `unable to parse requirement: values[0]: Invalid value: "9223372036854775808": ${INTEGER}`],
    ['a>-1', `unable to parse requirement: values[0][a]: Invalid value: "-1": ${VALUE}`],
    ['a>_x', `unable to parse requirement: [values[0]: Invalid value: "_x": ${INTEGER}, values[0][a]: Invalid value: "_x": ${VALUE}]`],
    ['ok=1,a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
  ];
  for (const [query, want] of cases) t.equal(labelError(query), want, JSON.stringify(query));
  t.throws(() => parseLabelSelector('a b'), SelectorError);
  t.throws(() => parseLabelSelector('a b'), { name: 'SelectorError' });
  t.end();
});

t.test('matchesLabelQuery: Kubernetes semantics for every operator', (t) => {
  const labels = { app: 'web', tier: 'back', version: '10', empty: '' };
  const cases: [string, boolean][] = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['missing=x', false],
    ['app!=db', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['app in (web,db)', true],
    ['app in (db)', false],
    ['missing in (x)', false],
    ['app notin (db)', true],
    ['app notin (web)', false],
    ['missing notin (x)', true],
    ['app', true],
    ['missing', false],
    ['!app', false],
    ['!missing', true],
    ['empty', true],
    ['empty=', true],
    ['!empty', false],
    ['missing=', false],
    ['missing!=', true],
    ['empty in ()', true],
    ['app in ()', false],
    ['version>9', true],
    ['version<9', false],
    ['version>10', false],
    ['version<11', true],
    ['version>010', false],
    ['app>1', false],
    ['app<1', false],
    ['missing>1', false],
    ['missing<1', false],
    ['app=web,tier=back', true],
    ['app=web,tier=front', false],
    ['app=web,tier=back,!missing,version>2', true],
    ['APP=web', false],
    ['app=Web', false],
  ];
  for (const [query, want] of cases) t.equal(matchesLabelQuery(parseLabelSelector(query), labels), want, query);
  t.equal(matchesLabelQuery(parseLabelSelector('app!=x'), undefined), true, 'missing labels: != holds');
  t.equal(matchesLabelQuery(parseLabelSelector('app'), undefined), false, 'missing labels: exists fails');
  t.equal(matchesLabelQuery(parseLabelSelector(''), undefined), true, 'missing labels: everything');
  t.equal(matchesLabelQuery(parseLabelSelector('constructor'), {}), false, 'inherited object keys are not labels');
  t.equal(matchesLabelQuery(parseLabelSelector('!toString'), {}), true, 'inherited object keys do not exist');
  t.equal(matchesLabelQuery(parseLabelSelector('n>9223372036854775806'), { n: '9223372036854775807' }), true, '64-bit compare is exact');
  t.equal(matchesLabelQuery(parseLabelSelector('n<1'), { n: '99999999999999999999' }), false, 'a label beyond 64 bits is not an integer');
  t.end();
});

t.test('parseFieldSelector: terms, operators, escapes; requirements in sorted term order', (t) => {
  type F = [field: string, operator: '=' | '!=', value: string];
  const cases: [string, F[]][] = [
    ['', []],
    [',', []],
    ['metadata.name=web', [['metadata.name', '=', 'web']]],
    ['metadata.name==web', [['metadata.name', '=', 'web']]],
    ['metadata.name!=web', [['metadata.name', '!=', 'web']]],
    ['status.phase=Running,metadata.name=web', [['metadata.name', '=', 'web'], ['status.phase', '=', 'Running']]],
    ['a=b,,c=d', [['a', '=', 'b'], ['c', '=', 'd']]],
    ['a=', [['a', '=', '']]],
    ['=x', [['', '=', 'x']]],
    [' a = b ', [[' a ', '=', ' b ']]],
    ['a=!b', [['a', '=', '!b']]],
    ['a=x\\,y', [['a', '=', 'x,y']]],
    ['a=x\\=y', [['a', '=', 'x=y']]],
    ['a=x\\\\', [['a', '=', 'x\\']]],
    ['a=x\\\\,b=y', [['a', '=', 'x\\'], ['b', '=', 'y']]],
    ['a=\\,\\=\\\\', [['a', '=', ',=\\']]],
    ['a==', [['a', '=', '']]],
    ['a=é', [['a', '=', 'é']]],
    ['a\\=b', [['a\\', '=', 'b']]],
  ];
  for (const [query, want] of cases) {
    t.strictSame(
      parseFieldSelector(query).requirements.map((r) => [r.field, r.operator, r.value]),
      want,
      JSON.stringify(query),
    );
  }
  t.end();
});

t.test('parseFieldSelector: invalid selectors throw SelectorError', (t) => {
  const cases: [string, string][] = [
    ['abc', "invalid selector: 'abc'; can't understand 'abc'"],
    ['a=b,c', "invalid selector: 'a=b,c'; can't understand 'c'"],
    ['a!b', "invalid selector: 'a!b'; can't understand 'a!b'"],
    ['a=b=c', "invalid field selector: unescaped character in value: '='"],
    ['a!==b', "invalid field selector: unescaped character in value: '='"],
    ['a=x\\y', 'invalid field selector: invalid escape sequence: \\y'],
    ['a=x\\', 'invalid field selector: invalid escape sequence: \\'],
    ['a=x\\é', 'invalid field selector: invalid escape sequence: \\é'],
  ];
  for (const [query, want] of cases) t.equal(fieldError(query), want, JSON.stringify(query));
  t.end();
});

t.test('matchesFieldQuery: equality on the selectable fields; a missing field is ""', (t) => {
  const fields = { 'metadata.name': 'web', 'status.phase': 'Running', 'spec.nodeName': '' };
  const cases: [string, boolean][] = [
    ['', true],
    ['metadata.name=web', true],
    ['metadata.name==web', true],
    ['metadata.name=db', false],
    ['metadata.name!=db', true],
    ['metadata.name!=web', false],
    ['spec.nodeName=', true],
    ['spec.nodeName!=', false],
    ['status.podIP=', true],
    ['status.podIP!=', false],
    ['metadata.name=web,status.phase=Running', true],
    ['metadata.name=web,status.phase!=Running', false],
    ['constructor=', true],
    ['constructor!=', false],
  ];
  for (const [query, want] of cases) t.equal(matchesFieldQuery(parseFieldSelector(query), fields), want, query);
  t.end();
});

t.test('fieldsOf: selectable fields per resource, valued as the API server does', (t) => {
  const pod = {
    metadata: { name: 'web-1', namespace: 'shop' },
    spec: { nodeName: 'node1', restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'web', hostNetwork: true },
    status: { phase: 'Running', podIP: '10.0.0.9', podIPs: [{ ip: '10.0.0.7' }, { ip: 'fd00::7' }], nominatedNodeName: 'node2' },
  };
  t.strictSame(fieldsOf('pods', pod), {
    'metadata.name': 'web-1',
    'metadata.namespace': 'shop',
    'spec.nodeName': 'node1',
    'spec.host': 'node1',
    'spec.restartPolicy': 'Always',
    'spec.schedulerName': 'default-scheduler',
    'spec.serviceAccountName': 'web',
    'spec.hostNetwork': 'true',
    'status.phase': 'Running',
    'status.podIP': '10.0.0.7',
    'status.nominatedNodeName': 'node2',
  });
  t.strictSame(fieldsOf('pods', { metadata: { name: 'p' } }), {
    'metadata.name': 'p',
    'metadata.namespace': '',
    'spec.nodeName': '',
    'spec.host': '',
    'spec.restartPolicy': '',
    'spec.schedulerName': '',
    'spec.serviceAccountName': '',
    'spec.hostNetwork': 'false',
    'status.phase': '',
    'status.podIP': '',
    'status.nominatedNodeName': '',
  });
  t.equal(fieldsOf('pods', { status: { podIP: '10.0.0.9' } })['status.podIP'], '10.0.0.9', 'status.podIP without podIPs');
  t.equal(fieldsOf('pods', { spec: { hostNetwork: 'true' } })['spec.hostNetwork'], 'false', 'only a real true is true');

  const event = {
    metadata: { name: 'web.1', namespace: 'shop' },
    involvedObject: { kind: 'Pod', namespace: 'shop', name: 'web', uid: 'u-1', apiVersion: 'v1', resourceVersion: '42', fieldPath: 'spec.containers{app}' },
    reason: 'Started',
    reportingComponent: 'loom-dev',
    source: { component: 'kubelet' },
    type: 'Normal',
  };
  t.strictSame(fieldsOf('events', event), {
    'metadata.name': 'web.1',
    'metadata.namespace': 'shop',
    'involvedObject.kind': 'Pod',
    'involvedObject.namespace': 'shop',
    'involvedObject.name': 'web',
    'involvedObject.uid': 'u-1',
    'involvedObject.apiVersion': 'v1',
    'involvedObject.resourceVersion': '42',
    'involvedObject.fieldPath': 'spec.containers{app}',
    reason: 'Started',
    reportingComponent: 'loom-dev',
    source: 'kubelet',
    type: 'Normal',
  });
  t.equal(fieldsOf('events', { reportingComponent: 'loom-dev' })['source'], 'loom-dev', 'source falls back to reportingComponent');

  t.strictSame(fieldsOf('secrets', { metadata: { name: 's', namespace: 'ns' }, type: 'kubernetes.io/tls' }), {
    'metadata.name': 's',
    'metadata.namespace': 'ns',
    type: 'kubernetes.io/tls',
  });
  t.strictSame(fieldsOf('namespaces', { metadata: { name: 'shop' }, status: { phase: 'Active' } }), {
    'metadata.name': 'shop',
    'metadata.namespace': '',
    'status.phase': 'Active',
  });
  t.strictSame(fieldsOf('services', { metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.96.0.10', type: 'ClusterIP' } }), {
    'metadata.name': 'web',
    'metadata.namespace': 'shop',
    'spec.clusterIP': '10.96.0.10',
    'spec.type': 'ClusterIP',
  });
  t.strictSame(fieldsOf('nodes', { metadata: { name: 'n' }, spec: { unschedulable: true } }), {
    'metadata.name': 'n',
    'metadata.namespace': '',
    'spec.unschedulable': 'true',
  });
  t.strictSame(fieldsOf('replicationcontrollers', { metadata: { name: 'rc' }, status: { replicas: 3 } })['status.replicas'], '3');
  t.strictSame(fieldsOf('replicationcontrollers', {})['status.replicas'], '0');
  t.strictSame(fieldsOf('configmaps', { metadata: { name: 'c', namespace: 'ns' }, data: { a: 'b' } }), { 'metadata.name': 'c', 'metadata.namespace': 'ns' });
  t.strictSame(fieldsOf('trafficsplits.split.smi-spec.io', { metadata: { name: 'ts', namespace: 'ns' }, spec: { service: 'x' } }), {
    'metadata.name': 'ts',
    'metadata.namespace': 'ns',
  });
  t.strictSame(fieldsOf('pods', null)['metadata.name'], '', 'not an object: every field empty');
  t.strictSame(fieldsOf('configmaps', { metadata: { name: 7 } }), { 'metadata.name': '7', 'metadata.namespace': '' });
  t.end();
});

t.test('field selectors end to end: the alias spec.host and the never-valued status.podIPs', (t) => {
  const pod = { metadata: { name: 'p' }, spec: { nodeName: 'node1' }, status: { podIPs: [{ ip: '10.0.0.7' }] } };
  const match = (q: string): boolean => matchesFieldQuery(parseFieldSelector(q), fieldsOf('pods', pod));
  t.equal(match('spec.host=node1'), true);
  t.equal(match('status.podIP=10.0.0.7'), true);
  t.equal(match('status.podIPs=10.0.0.7'), false, 'Kubernetes accepts status.podIPs but never values it');
  t.equal(match('status.podIPs='), true);
  t.equal(match('metadata.name=p,spec.nodeName!=node2'), true);
  t.end();
});

t.test('checkFieldSelector: which fields each resource lets clients select on', (t) => {
  const custom: FieldSelectorScope = { custom: true };
  const clusterCustom: FieldSelectorScope = { custom: true, clusterScoped: true };
  const notKnown = (key: string): string => `${JSON.stringify(key)} is not a known field selector: only "metadata.name", "metadata.namespace"`;
  const cases: [string, string, FieldSelectorScope, string | null][] = [
    ['pods', '', {}, null],
    ['pods', 'metadata.name=a,metadata.namespace=b', {}, null],
    [
      'pods',
      'spec.nodeName=n,spec.restartPolicy=Always,spec.schedulerName=s,spec.serviceAccountName=sa,spec.hostNetwork=true,status.phase=Running,status.podIP=1.2.3.4,status.podIPs=1.2.3.4,status.nominatedNodeName=n,spec.host=n',
      {},
      null,
    ],
    ['pods', 'spec.containers=x', {}, 'field label not supported: spec.containers'],
    ['pods', 'z.b=1,metadata.name=a,a.b=2', {}, 'field label not supported: a.b'],
    ['pods', ' metadata.name=a', {}, 'field label not supported:  metadata.name'],
    ['pods', '=a', {}, 'field label not supported: '],
    ['events', 'involvedObject.kind=Pod,involvedObject.name=web,involvedObject.namespace=shop,involvedObject.uid=u', {}, null],
    ['events', 'involvedObject.apiVersion=v1,involvedObject.resourceVersion=1,involvedObject.fieldPath=f', {}, null],
    ['events', 'reason=x,reportingComponent=y,source=z,type=Normal,metadata.name=a,metadata.namespace=b', {}, null],
    ['events', 'regarding.name=web', {}, 'field label not supported: regarding.name'],
    ['secrets', 'type=Opaque,metadata.namespace=a', {}, null],
    ['secrets', 'data.x=y', {}, 'field label not supported: data.x'],
    ['namespaces', 'status.phase=Active,metadata.name=a', {}, null],
    ['namespaces', 'metadata.namespace=a', {}, 'field label not supported: metadata.namespace'],
    ['services', 'spec.clusterIP=10.0.0.1,spec.type=ClusterIP,metadata.namespace=a', {}, null],
    ['services', 'spec.selector=x', {}, 'field label not supported: spec.selector'],
    ['nodes', 'spec.unschedulable=false,metadata.name=n', {}, null],
    ['nodes', 'metadata.namespace=', {}, 'field label not supported: metadata.namespace'],
    ['replicationcontrollers', 'status.replicas=1', {}, null],
    ['configmaps', 'metadata.name=a,metadata.namespace=b', {}, null],
    ['configmaps', 'data.x=y', {}, notKnown('data.x')],
    ['replicasets.apps', 'status.replicas=0', {}, notKnown('status.replicas')],
    ['customresourcedefinitions.apiextensions.k8s.io', 'metadata.namespace=x', {}, null],
    ['endpointslices.discovery.k8s.io', 'metadata.name=a\\,b', {}, null],
    ['configmaps', 'quote"d=x', {}, '"quote\\"d" is not a known field selector: only "metadata.name", "metadata.namespace"'],
    ['trafficsplits.split.smi-spec.io', 'metadata.name=a,metadata.namespace=b', custom, null],
    ['trafficsplits.split.smi-spec.io', 'spec.service=x', custom, 'field label not supported: spec.service'],
    ['things.example.com', 'metadata.name=a', clusterCustom, null],
    ['things.example.com', 'metadata.namespace=a', clusterCustom, 'field label not supported: metadata.namespace'],
    ['pods', 'spec.nodeName=n', custom, 'field label not supported: spec.nodeName'],
  ];
  for (const [resource, query, scope, want] of cases) {
    t.equal(checkFieldSelector(resource, parseFieldSelector(query), scope), want, `${resource} ${query}`);
  }
  t.equal(checkFieldSelector('configmaps', parseFieldSelector('data.x=y')), notKnown('data.x'), 'scope defaults to built-in');
  t.end();
});
