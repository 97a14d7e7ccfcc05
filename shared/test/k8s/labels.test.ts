import t from 'tap';
import { isLabelKey, isLabelValue, labelKeyErrors, labelMapErrors, labelValueErrors, validateLabelMap } from '../../src/k8s/labels.js';

// Kubernetes' own wording, double spaces included.
const NAME_PART =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const PREFIX_PART =
  "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

t.test('labelKeyErrors: [prefix/]name with Kubernetes messages', (t) => {
  const cases: [string, string[]][] = [
    ['app', []],
    ['App_1.x-y', []],
    ['a', []],
    ['9', []],
    ['k'.repeat(63), []],
    ['app.kubernetes.io/name', []],
    ['loom.dev/inject', []],
    [`${'a'.repeat(253)}/x`, []],
    ['', ['name part must be non-empty', NAME_PART]],
    ['k'.repeat(64), ['name part must be no more than 63 bytes']],
    ['-app', [NAME_PART]],
    ['app-', [NAME_PART]],
    ['a b', [NAME_PART]],
    ['a:b', [NAME_PART]],
    ['ä', [NAME_PART]],
    ['ä'.repeat(32), ['name part must be no more than 63 bytes', NAME_PART]],
    ['/app', ['prefix part must be non-empty']],
    ['app/', ['name part must be non-empty', NAME_PART]],
    ['Example.com/app', [PREFIX_PART]],
    ['-x.io/app', [PREFIX_PART]],
    [`${'a'.repeat(254)}/x`, ['prefix part must be no more than 253 bytes']],
    [`${'A'.repeat(254)}/x`, ['prefix part must be no more than 253 bytes', PREFIX_PART]],
    ['x.io/-', [NAME_PART]],
    [
      'a/b/c',
      [
        "a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      ],
    ],
  ];
  for (const [key, want] of cases) t.strictSame(labelKeyErrors(key), want, JSON.stringify(key));
  t.equal(isLabelKey('app'), true);
  t.equal(isLabelKey('-app'), false);
  t.end();
});

t.test('labelValueErrors: empty or at most 63 bytes of the label charset', (t) => {
  const cases: [string, string[]][] = [
    ['', []],
    ['v1', []],
    ['My_value-1.2', []],
    ['v'.repeat(63), []],
    ['v'.repeat(64), ['must be no more than 63 bytes']],
    ['-v', [VALUE]],
    ['v.', [VALUE]],
    ['a/b', [VALUE]],
    ['a b', [VALUE]],
    ['ü', [VALUE]],
    ['-'.repeat(64), ['must be no more than 63 bytes', VALUE]],
  ];
  for (const [value, want] of cases) t.strictSame(labelValueErrors(value), want, JSON.stringify(value));
  t.equal(isLabelValue(''), true);
  t.equal(isLabelValue('-'), false);
  t.end();
});

t.test('labelMapErrors / validateLabelMap: every bad key and value, at the map path, keys sorted', (t) => {
  t.strictSame(labelMapErrors(undefined, 'spec.selector'), []);
  t.strictSame(labelMapErrors(null, 'spec.selector'), []);
  t.strictSame(labelMapErrors({ app: 'web', 'x.io/tier': '' }, 'spec.selector'), []);
  t.strictSame(labelMapErrors({ z: '-v', '-k': 'ok' }, 'spec.selector'), [
    `spec.selector: Invalid value: "-k": ${NAME_PART}`,
    `spec.selector: Invalid value: "-v": ${VALUE}`,
  ]);
  t.strictSame(labelMapErrors({ app: 3 }, 'spec.selector'), ['spec.selector[app]: Invalid value: 3: must be a string']);
  t.strictSame(labelMapErrors(['app'], 'spec.selector'), ['spec.selector: Invalid value: ["app"]: must be a map of label keys to string values']);
  t.strictSame(labelMapErrors('app=web', 'metadata.labels'), ['metadata.labels: Invalid value: "app=web": must be a map of label keys to string values']);
  t.equal(validateLabelMap({ app: 'web' }, 'spec.selector'), null);
  t.equal(validateLabelMap({ app: '-' }, 'spec.selector'), `spec.selector: Invalid value: "-": ${VALUE}`);
  t.equal(validateLabelMap({ a: '-', b: '-' }, 'spec.selector'), `spec.selector: Invalid value: "-": ${VALUE}`, 'identical messages collapse');
  t.equal(validateLabelMap({ a: '-', b: '_' }, 'spec.selector'), `[spec.selector: Invalid value: "-": ${VALUE}, spec.selector: Invalid value: "_": ${VALUE}]`);
  t.end();
});
