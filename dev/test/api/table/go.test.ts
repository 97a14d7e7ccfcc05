import t from 'tap';
import { compareGo, goFloat, goJson, goTrimSpace } from '../../../src/api/table/go.js';
import { formatLabels, formatLabelSelector, selectorString } from '../../../src/api/table/labels.js';
import { formatRfc3339, parseTime } from '../../../src/api/table/time.js';

t.test('goFloat prints as fmt %v does', (t) => {
  const cases: [number, string][] = [
    [1.5, '1.5'],
    [100, '100'],
    [123456.5, '123456.5'],
    [1e6, '1e+06'],
    [1234567.5, '1.2345675e+06'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-2.5e-7, '-2.5e-07'],
    [1e21, '1e+21'],
    [0.1 + 0.2, '0.30000000000000004'],
    [-0, '-0'],
  ];
  for (const [n, want] of cases) t.equal(goFloat(n), want, String(n));
  t.end();
});

t.test('goJson marshals as encoding/json: sorted keys, HTML-safe escapes', (t) => {
  t.equal(goJson({ b: 1, a: [true, null, 'x'], c: { z: 1.5, y: '<&>' } }), '{"a":[true,null,"x"],"b":1,"c":{"y":"\\u003c\\u0026\\u003e","z":1.5}}');
  t.equal(goJson(['\u2028', 'é', 'tab\there']), '["\\u2028","é","tab\\there"]');
  t.equal(goJson({ Z: 1, a: 2, ä: 3 }), '{"Z":1,"a":2,"ä":3}', 'byte order: upper case first');
  t.equal(goJson('\ud800x'), '"\ufffdx"', 'a lone surrogate becomes U+FFFD');
  t.end();
});

t.test('goTrimSpace and compareGo', (t) => {
  t.equal(goTrimSpace(' \t\n\u0085 started \u00a0\r'), 'started');
  t.equal(goTrimSpace('\ufeffx'), '\ufeffx', 'U+FEFF is no space to Go');
  t.ok(compareGo('Z', 'a') < 0);
  t.ok(compareGo('\uffff', '\u{10000}') < 0, 'UTF-8 byte order, not UTF-16');
  t.equal(compareGo('a', 'a'), 0);
  t.end();
});

t.test('RFC 3339 timestamps', (t) => {
  t.equal(parseTime('2024-05-01T12:00:00Z'), Date.UTC(2024, 4, 1, 12));
  t.equal(parseTime('2024-05-01T12:00:00.123456Z'), Date.UTC(2024, 4, 1, 12, 0, 0, 123));
  t.equal(parseTime('2024-05-01T14:30:00+02:30'), Date.UTC(2024, 4, 1, 12));
  for (const bad of ['2024-05-01t12:00:00Z', '2024-05-01T12:00:00z', '2024-5-01T12:00:00Z', '2024-13-01T12:00:00Z', '2024-04-31T12:00:00Z', '2024-05-01T24:00:00Z', '2024-05-01T12:00:60Z', '2024-05-01T12:00:00', '2024-05-01T12:00:00+0200']) {
    t.equal(parseTime(bad), undefined, bad);
  }
  t.equal(parseTime('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29), 'a leap day');
  t.equal(formatRfc3339(Date.UTC(2024, 4, 1, 12, 0, 0, 999)), '2024-05-01T12:00:00Z');
  t.equal(formatRfc3339(parseTime('0001-01-01T00:00:00Z') ?? 0), '0001-01-01T00:00:00Z');
  t.end();
});

t.test('labels and selectors as Kubernetes prints them', (t) => {
  t.equal(formatLabels({ tier: 'front', app: 'web' }), 'app=web,tier=front');
  t.equal(formatLabels({}), '<none>');
  t.equal(formatLabels(undefined), '<none>');
  const cases: [unknown, string | undefined, string][] = [
    [{ matchLabels: { b: '2', a: '1' } }, 'a=1,b=2', 'a=1,b=2'],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['z', 'a'] }, { key: 'app', operator: 'Exists' }, { key: 'old', operator: 'DoesNotExist' }] }, 'app,!old,tier notin (a,z)', 'app,!old,tier notin (a,z)'],
    [{ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }, 'app=web,env in (prod)', 'app=web,env in (prod)'],
    [{}, '', '<none>'],
    [undefined, '', '<none>'],
    [{ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }, undefined, '<error>'],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, undefined, '<error>'],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, undefined, '<error>'],
  ];
  for (const [selector, text, formatted] of cases) {
    t.equal(selectorString(selector), text, JSON.stringify(selector));
    t.equal(formatLabelSelector(selector), formatted, `formatted ${JSON.stringify(selector)}`);
  }
  t.end();
});
