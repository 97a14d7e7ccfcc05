/** `$(VAR)` references as Kubernetes expands them in command, args, env values and subPathExpr. */
import t from 'tap';
import { expand, lookupIn } from '../../../src/node/pods/expand.js';

const vars = new Map([
  ['A', 'alpha'],
  ['B', 'beta'],
  ['EMPTY', ''],
]);
const lookup = (name: string): string | undefined => vars.get(name);

const cases: [string, string, string][] = [
  ['no references', 'plain text', 'plain text'],
  ['a defined variable', '$(A)', 'alpha'],
  ['several, with text around', 'x-$(A)-$(B)-y', 'x-alpha-beta-y'],
  ['a variable defined as empty', '[$(EMPTY)]', '[]'],
  ['an undefined variable stays as written', '$(NOPE)', '$(NOPE)'],
  ['$$ escapes a reference', '$$(A)', '$(A)'],
  ['$$ is one $', 'cost: $$5', 'cost: $5'],
  ['$$$(A): an escaped $ then a reference', '$$$(A)', '$alpha'],
  ['a lone $ is kept', 'a $ b', 'a $ b'],
  ['a $ at the end is kept', 'end$', 'end$'],
  ['$ before another character is kept', '$HOME and ${A}', '$HOME and ${A}'],
  ['an unterminated reference is kept', '$(A', '$(A'],
  ['an unterminated reference after a good one', '$(A)$(B', 'alpha$(B'],
  ['an empty name is undefined', '$()', '$()'],
  ['values are not expanded again', '$(X)', '$(A)'],
];

t.test('expansion, table', (t) => {
  const withX = (name: string): string | undefined => (name === 'X' ? '$(A)' : lookup(name));
  for (const [what, input, expected] of cases) t.equal(expand(input, withX), expected, what);
  t.end();
});

t.test('lookupIn: later maps win', (t) => {
  const find = lookupIn(new Map([['A', '1'], ['B', '2']]), new Map([['A', 'override']]));
  t.equal(find('A'), 'override');
  t.equal(find('B'), '2');
  t.equal(find('C'), undefined);
  t.end();
});
