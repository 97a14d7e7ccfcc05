import t from 'tap';
import { labelSelectorErrors, matchesSelector, matchesServiceSelector, validateLabelSelector } from '../../src/k8s/selector.js';
import type { LabelSelector } from '../../src/k8s/model.js';

const NAME_PART =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

const labels = { app: 'orders', tier: 'back', version: 'v2' };

t.test('matchesSelector: matchLabels and every operator, Kubernetes semantics', (t) => {
  const cases: [string, LabelSelector, boolean][] = [
    ['empty selector selects everything', {}, true],
    ['empty lists select everything', { matchLabels: {}, matchExpressions: [] }, true],
    ['matchLabels equal', { matchLabels: { app: 'orders' } }, true],
    ['matchLabels all must hold', { matchLabels: { app: 'orders', tier: 'front' } }, false],
    ['matchLabels missing key', { matchLabels: { team: 'a' } }, false],
    ['matchLabels empty value needs the key', { matchLabels: { team: '' } }, false],
    ['In', { matchExpressions: [{ key: 'version', operator: 'In', values: ['v1', 'v2'] }] }, true],
    ['In, other value', { matchExpressions: [{ key: 'version', operator: 'In', values: ['v1'] }] }, false],
    ['In, missing key', { matchExpressions: [{ key: 'team', operator: 'In', values: ['a'] }] }, false],
    ['In, no values', { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] }, false],
    ['NotIn', { matchExpressions: [{ key: 'version', operator: 'NotIn', values: ['v1'] }] }, true],
    ['NotIn, listed value', { matchExpressions: [{ key: 'version', operator: 'NotIn', values: ['v2'] }] }, false],
    ['NotIn, missing key matches', { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    ['Exists, missing', { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist, present', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    ['labels and expressions together (AND)', { matchLabels: { app: 'orders' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] }, false],
    ['an unknown operator selects nothing', { matchExpressions: [{ key: 'app', operator: 'Gt' as 'In', values: ['1'] }] }, false],
  ];
  for (const [name, selector, want] of cases) t.equal(matchesSelector(selector, labels), want, name);
  t.equal(matchesSelector({ matchLabels: { toString: 'x' } }, {}), false, 'inherited object keys are not labels');
  t.equal(matchesSelector({ matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, {}), false, 'Exists ignores inherited keys');
  t.equal(matchesSelector({ matchExpressions: [{ key: 'constructor', operator: 'DoesNotExist' }] }, {}), true, 'DoesNotExist ignores inherited keys');
  t.equal(matchesSelector({}, undefined), true, 'no labels, empty selector');
  t.equal(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['x'] }] }, undefined), true, 'no labels, NotIn');
  t.equal(matchesSelector({ matchLabels: { a: 'x' } }, undefined), false, 'no labels, matchLabels');
  t.end();
});

t.test('matchesServiceSelector: a missing or empty Service selector selects nothing', (t) => {
  t.equal(matchesServiceSelector(undefined, labels), false);
  t.equal(matchesServiceSelector({}, labels), false);
  t.equal(matchesServiceSelector({ app: 'orders' }, labels), true);
  t.equal(matchesServiceSelector({ app: 'orders', version: 'v1' }, labels), false);
  t.equal(matchesServiceSelector({ app: 'orders' }, {}), false);
  t.equal(matchesServiceSelector({ app: 'orders' }, undefined), false);
  t.equal(matchesServiceSelector({ constructor: '' }, {}), false, 'inherited object keys are not labels');
  t.end();
});

t.test('validateLabelSelector: Kubernetes ValidateLabelSelector, messages and paths', (t) => {
  const p = 'webhooks[0].namespaceSelector';
  const cases: [string, unknown, string | null][] = [
    ['missing selector', undefined, null],
    ['null selector', null, null],
    ['empty selector', {}, null],
    ['null lists', { matchLabels: null, matchExpressions: null }, null],
    [
      'every operator, valid',
      {
        matchLabels: { 'kubernetes.io/metadata.name': 'shop', empty: '' },
        matchExpressions: [
          { key: 'a', operator: 'In', values: ['x', ''] },
          { key: 'b', operator: 'NotIn', values: ['y'] },
          { key: 'c', operator: 'Exists' },
          { key: 'd', operator: 'DoesNotExist', values: [] },
        ],
      },
      null,
    ],
    ['bad matchLabels key', { matchLabels: { '-a': 'x' } }, `${p}.matchLabels: Invalid value: "-a": ${NAME_PART}`],
    ['bad matchLabels value', { matchLabels: { a: 'x y' } }, `${p}.matchLabels: Invalid value: "x y": ${VALUE}`],
    [
      'unknown operator',
      { matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] },
      `${p}.matchExpressions[0].operator: Invalid value: "Gt": not a valid selector operator`,
    ],
    [
      'operators are case-sensitive',
      { matchExpressions: [{ key: 'a', operator: 'in', values: ['1'] }] },
      `${p}.matchExpressions[0].operator: Invalid value: "in": not a valid selector operator`,
    ],
    [
      'missing operator',
      { matchExpressions: [{ key: 'a' }] },
      `${p}.matchExpressions[0].operator: Invalid value: "": not a valid selector operator`,
    ],
    [
      'In without values',
      { matchExpressions: [{ key: 'a', operator: 'In' }] },
      `${p}.matchExpressions[0].values: Required value: must be specified when \`operator\` is 'In' or 'NotIn'`,
    ],
    [
      'NotIn with empty values',
      { matchExpressions: [{ key: 'a', operator: 'NotIn', values: [] }] },
      `${p}.matchExpressions[0].values: Required value: must be specified when \`operator\` is 'In' or 'NotIn'`,
    ],
    [
      'Exists with values',
      { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] },
      `${p}.matchExpressions[0].values: Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`,
    ],
    [
      'DoesNotExist with values',
      { matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }] },
      `${p}.matchExpressions[0].values: Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`,
    ],
    [
      'bad requirement key',
      { matchExpressions: [{ key: 'a/b/c/', operator: 'Exists' }] },
      `${p}.matchExpressions[0].key: Invalid value: "a/b/c/": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ],
    [
      'missing key',
      { matchExpressions: [{ operator: 'Exists' }] },
      `[${p}.matchExpressions[0].key: Invalid value: "": name part must be non-empty, ${p}.matchExpressions[0].key: Invalid value: "": ${NAME_PART}]`,
    ],
    [
      'bad requirement value, second expression',
      { matchExpressions: [{ key: 'a', operator: 'Exists' }, { key: 'b', operator: 'In', values: ['ok', '-no'] }] },
      `${p}.matchExpressions[1].values[1]: Invalid value: "-no": ${VALUE}`,
    ],
    [
      'several problems, all reported in order',
      { matchLabels: { a: '-' }, matchExpressions: [{ key: '-k', operator: 'Nope' }] },
      `[${p}.matchLabels: Invalid value: "-": ${VALUE}, ${p}.matchExpressions[0].operator: Invalid value: "Nope": not a valid selector operator, ${p}.matchExpressions[0].key: Invalid value: "-k": ${NAME_PART}]`,
    ],
    ['not an object', 'app=web', `${p}: Invalid value: "app=web": must be a label selector (matchLabels, matchExpressions)`],
    ['matchLabels not a map', { matchLabels: ['a'] }, `${p}.matchLabels: Invalid value: ["a"]: must be a map of label keys to string values`],
    ['matchExpressions not a list', { matchExpressions: {} }, `${p}.matchExpressions: Invalid value: {}: must be a list of label selector requirements`],
    [
      'requirement not an object',
      { matchExpressions: ['a'] },
      `${p}.matchExpressions[0]: Invalid value: "a": must be a label selector requirement (key, operator, values)`,
    ],
    [
      'values not a list',
      { matchExpressions: [{ key: 'a', operator: 'In', values: 'x' }] },
      `[${p}.matchExpressions[0].values: Invalid value: "x": must be a list of strings, ${p}.matchExpressions[0].values: Required value: must be specified when \`operator\` is 'In' or 'NotIn']`,
    ],
    [
      'a value not a string',
      { matchExpressions: [{ key: 'a', operator: 'In', values: [1] }] },
      `${p}.matchExpressions[0].values[0]: Invalid value: 1: must be a string`,
    ],
    ['a key not a string', { matchExpressions: [{ key: 1, operator: 'Exists' }] }, `${p}.matchExpressions[0].key: Invalid value: 1: must be a string`],
  ];
  for (const [name, selector, want] of cases) t.equal(validateLabelSelector(selector, p), want, name);
  t.equal(validateLabelSelector({ matchLabels: { '-a': 'x' } }), `matchLabels: Invalid value: "-a": ${NAME_PART}`, 'default path is the root');
  t.strictSame(labelSelectorErrors({ matchExpressions: [{ key: 'a', operator: 'In' }, { key: 'b', operator: 'X' }] }, 's'), [
    "s.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    's.matchExpressions[1].operator: Invalid value: "X": not a valid selector operator',
  ]);
  t.end();
});
