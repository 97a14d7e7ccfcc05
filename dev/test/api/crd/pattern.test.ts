import t from 'tap';
import { compilePattern } from '../../../src/api/crd/pattern.js';

function matches(pattern: string, value: string): boolean | string {
  const re = compilePattern(pattern);
  return typeof re === 'string' ? re : re.test(value);
}

t.test('patterns run as Go regexp runs them: unanchored, RE2 spellings translated', (t) => {
  const cases: [string, string, boolean][] = [
    ['^[a-z]+$', 'abc', true],
    ['^[a-z]+$', 'abC', false],
    ['b', 'abc', true],
    ['(?i)^abc$', 'ABC', true],
    ['(?i)^[0-9a-f]{8}$', 'DEADBEEF', true],
    ['(?s)^a.b$', 'a\nb', true],
    ['^a.b$', 'a\nb', false],
    ['\\Aabc\\z', 'abc', true],
    ['\\Aabc\\z', 'abc\n', false],
    ['^\\pL+$', 'héllo', true],
    ['^\\pL+$', 'h3llo', false],
    ['^(?P<word>\\w+)$', 'word', true],
    ['^[[:alpha:]]+$', 'abc', true],
    ['^[[:digit:]]+$', 'abc', false],
    ['^\\-\\_x$', '-_x', true],
    ['^\\d{2,}$', '123', true],
  ];
  for (const [pattern, value, want] of cases) t.equal(matches(pattern, value), want, `${pattern} ~ ${JSON.stringify(value)}`);
  t.end();
});

t.test('patterns Go cannot compile are refused with Go-shaped errors', (t) => {
  const cases: [string, string][] = [
    ['(abc', 'error parsing regexp: missing closing ): `(abc`'],
    ['abc)', 'error parsing regexp: unexpected ): `abc)`'],
    ['[abc', 'error parsing regexp: missing closing ]: `[abc`'],
    ['*a', 'error parsing regexp: missing argument to repetition operator: `*a`'],
    ['a(?=b)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
    ['(?<!a)b', 'error parsing regexp: invalid or unsupported Perl syntax: `(?<!`'],
    ['(a)\\1', 'error parsing regexp: invalid escape sequence: `\\1`'],
    ['(?U)a+', 'error parsing regexp: invalid or unsupported Perl syntax: `(?U`'],
  ];
  for (const [pattern, want] of cases) t.equal(compilePattern(pattern), want, pattern);
  t.equal(compilePattern('^x$'), compilePattern('^x$'), 'compiled once, then cached');
  t.end();
});
