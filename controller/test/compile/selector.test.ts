import t from 'tap';
import type { LabelSelector } from '@loom/shared/smi';
import { matchesSelector, matchesServiceSelector } from '../../src/compile/selector.js';

const labels = { app: 'orders', tier: 'back', version: 'v2' };

t.test('matchesSelector: matchLabels and every matchExpressions operator (Kubernetes semantics)', (t) => {
  const cases: [string, LabelSelector, boolean][] = [
    ['empty selector selects everything', {}, true],
    ['matchLabels equal', { matchLabels: { app: 'orders' } }, true],
    ['matchLabels all must hold', { matchLabels: { app: 'orders', tier: 'front' } }, false],
    ['matchLabels missing key', { matchLabels: { team: 'a' } }, false],
    ['In', { matchExpressions: [{ key: 'version', operator: 'In', values: ['v1', 'v2'] }] }, true],
    ['In, other value', { matchExpressions: [{ key: 'version', operator: 'In', values: ['v1'] }] }, false],
    ['In, missing key', { matchExpressions: [{ key: 'team', operator: 'In', values: ['a'] }] }, false],
    ['NotIn', { matchExpressions: [{ key: 'version', operator: 'NotIn', values: ['v1'] }] }, true],
    ['NotIn, listed value', { matchExpressions: [{ key: 'version', operator: 'NotIn', values: ['v2'] }] }, false],
    ['NotIn, missing key matches', { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    ['Exists, missing', { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist, present', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    [
      'labels and expressions together (AND)',
      { matchLabels: { app: 'orders' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] },
      false,
    ],
  ];
  for (const [name, selector, want] of cases) t.equal(matchesSelector(selector, labels), want, name);
  t.equal(matchesSelector({ matchLabels: { toString: 'x' } }, {}), false, 'inherited object keys are not labels');
  t.equal(matchesSelector({ matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, {}), false, 'Exists ignores inherited keys');
  t.end();
});

t.test('matchesServiceSelector: a missing or empty Service selector selects nothing', (t) => {
  t.equal(matchesServiceSelector(undefined, labels), false);
  t.equal(matchesServiceSelector({}, labels), false);
  t.equal(matchesServiceSelector({ app: 'orders' }, labels), true);
  t.equal(matchesServiceSelector({ app: 'orders', version: 'v1' }, labels), false);
  t.equal(matchesServiceSelector({ app: 'orders' }, {}), false);
  t.end();
});
