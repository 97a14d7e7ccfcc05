import t from 'tap';
import { DiagnosticCode } from '@loom/shared/diagnostics';
import type { HTTPMatch, HTTPRouteGroup } from '@loom/shared/smi';
import { DiagnosticBook } from '../../src/compile/diagnostics.js';
import { compileMatch, normaliseMethods, selectRoutes, toJsRegex } from '../../src/compile/routes.js';

/** Does this engine have regexp modifier groups `(?i:...)` (V8 12.5+, Node 23+)? */
const MODIFIERS = ((): boolean => {
  try {
    new RegExp('(?i:a)');
    return true;
  } catch {
    return false;
  }
})();

/** Compiles a translated source the way the proxy does for `pathMatch: prefix`. */
function prefixMatches(source: string, path: string): boolean {
  return new RegExp(`^(?:${source})`).test(path);
}

t.test('toJsRegex translates RE2 spellings JavaScript lacks', (t) => {
  const cases: [string, string, [string, boolean][]][] = [
    ['/orders/(?P<id>[0-9]+)', '/orders/(?<id>[0-9]+)', [['/orders/42', true], ['/orders/x', false]]],
    ['(?P<a>x)-(?P<b>y)', '(?<a>x)-(?<b>y)', [['x-y', true]]],
    ['[(?P<]+', '[(?P<]+', [['P', true]]], // inside a class `(?P<` is four literal characters
    ['/metrics', '/metrics', [['/metrics', true], ['/metricsz', true], ['/x/metrics', false]]],
    ['.*', '.*', [['/anything', true]]],
    ['\\d+', '\\d+', [['123', true], ['abc', false]]],
    ['a\\(\\?P<b', 'a\\(\\?P<b', [['a(?P<b', true]]], // escaped: not a group
  ];
  for (const [re2, js, probes] of cases) {
    const r = toJsRegex(re2);
    t.strictSame(r, { ok: true, source: js }, `${re2} → ${js}`);
    if (r.ok) for (const [path, want] of probes) t.equal(prefixMatches(r.source, path), want, `${re2} ${want ? 'matches' : 'does not match'} ${path}`);
  }
  t.end();
});

t.test('toJsRegex turns a leading (?flags) into a modifier group', (t) => {
  if (!MODIFIERS) {
    // Node 22 (V8 < 12.5) has no modifier groups: the translation does not compile, so the match is refused
    // (fails closed) rather than silently matched case-sensitively.
    t.equal(toJsRegex('(?i)/admin').ok, false, 'refused on an engine without regexp modifiers');
    t.end();
    return;
  }
  const i = toJsRegex('(?i)/admin');
  t.strictSame(i, { ok: true, source: '(?i:/admin)' });
  if (i.ok) {
    t.ok(prefixMatches(i.source, '/ADMIN/users'), 'case-insensitive');
    t.notOk(prefixMatches(i.source, '/x/admin'), 'still anchored: the flag group keeps the prefix anchor');
  }
  const s = toJsRegex('(?is)a.b');
  t.strictSame(s, { ok: true, source: '(?is:a.b)' });
  if (s.ok) t.ok(prefixMatches(s.source, 'A\nB'), 's lets . match a newline, i ignores case');
  const alt = toJsRegex('(?i)a|b');
  t.ok(alt.ok && !prefixMatches(alt.source, 'xb'), 'an alternation under a flag stays anchored');
  t.end();
});

t.test('toJsRegex refuses what does not compile or would change meaning', (t) => {
  const cases: [string, RegExp][] = [
    ['/files/[', /Unterminated character class/],
    ['(unclosed', /Unterminated group/],
    ['a)|(b', /Unmatched|Invalid/], // would otherwise escape the anchoring group
    ['(?U)a+', /flag U \(ungreedy\)/],
    ['(?iU)a+', /flag U/],
    ['x(?i)y', /Invalid group/], // RE2 allows flags mid-pattern; JavaScript does not
    ['\\A/api', /RE2 escape \\A/],
    ['/api\\z', /RE2 escape \\z/],
    ['\\Q.*\\E', /RE2 escape \\Q/],
    ['/\\pL+', /RE2 escape \\p/],
    ['/\\p{Greek}', /RE2 escape \\p/],
    ['/\\x{41}', /RE2 escape \\x/],
    ['/v[[:digit:]]+', /POSIX classes/],
    ['[^[:space:]]+', /POSIX classes/],
    ['[]a]', /"\]" first in a character class/],
    ['[^]a]', /"\]" first in a character class/],
    ['trailing\\', /\\ at end of pattern|Invalid/],
  ];
  for (const [re2, error] of cases) {
    const r = toJsRegex(re2);
    t.equal(r.ok, false, `${re2} is refused`);
    if (!r.ok) t.match(r.error, error, `${re2}: ${r.error}`);
  }
  // Escaped look-alikes are fine.
  t.strictSame(toJsRegex('\\\\A'), { ok: true, source: '\\\\A' }, 'an escaped backslash before A is a literal backslash and A');
  t.strictSame(toJsRegex('[a\\]]'), { ok: true, source: '[a\\]]' }, 'an escaped ] inside a class');
  t.strictSame(toJsRegex('\\x41'), { ok: true, source: '\\x41' }, '\\xHH means the same in both');
  t.end();
});

t.test('normaliseMethods: missing, empty or "*" means any method', (t) => {
  const cases: [readonly string[] | undefined, string[] | null][] = [
    [undefined, null],
    [[], null],
    [['*'], null],
    [['GET', '*'], null],
    [['GET'], ['GET']],
    [['post', 'GET', 'GET'], ['GET', 'POST']],
    [['PATCH', 'DELETE', 'HEAD'], ['DELETE', 'HEAD', 'PATCH']],
  ];
  for (const [input, want] of cases) t.strictSame(normaliseMethods(input), want, JSON.stringify(input));
  t.end();
});

const group = (matches: HTTPMatch[]): HTTPRouteGroup => ({
  kind: 'HTTPRouteGroup',
  meta: { namespace: 'shop', name: 'api', labels: {}, annotations: {} },
  origin: { apiVersion: 'specs.smi-spec.io/v1alpha4' },
  matches,
});

t.test('compileMatch: lower-cased, sorted headers; invalid regexes drop the match with a diagnostic', (t) => {
  const book = new DiagnosticBook();
  const g = group([
    { name: 'read', pathRegex: '/orders/(?P<id>\\d+)', methods: ['GET', '*'], headers: [{ name: 'X-User', value: 'a|b' }, { name: 'accept', value: '.*json' }] },
    { name: 'bad-path', pathRegex: '/x/[' },
    { name: 'bad-header', headers: [{ name: 'x-tenant', value: '(' }] },
  ]);
  t.strictSame(compileMatch(g, g.matches[0]!, 0, book), {
    route: { kind: 'HTTPRouteGroup', namespace: 'shop', name: 'api', match: 'read' },
    pathRegex: '/orders/(?<id>\\d+)',
    methods: null,
    headers: [{ name: 'accept', value: '.*json' }, { name: 'x-user', value: 'a|b' }],
  });
  t.equal(compileMatch(g, g.matches[1]!, 1, book), null);
  t.equal(compileMatch(g, g.matches[2]!, 2, book), null);
  const ds = book.all();
  t.strictSame(ds.map((d) => [d.code, d.field]), [
    [DiagnosticCode.InvalidRegex, 'spec.matches[1].pathRegex'],
    [DiagnosticCode.InvalidRegex, 'spec.matches[2].headers[0]'],
  ]);
  t.match(ds[0]?.message, /match "bad-path" admits nothing/);
  t.end();
});

t.test('selectRoutes: all matches, or exactly the named ones', (t) => {
  const g = group([
    { name: 'counter', pathRegex: '/counter' },
    { name: 'increment', pathRegex: '/incrementcounter' },
  ]);
  const referrer = { kind: 'TrafficTarget', namespace: 'shop', name: 'tt' };
  const book = new DiagnosticBook();
  t.strictSame(selectRoutes(g, undefined, referrer, 'spec.rules[0].matches', book).map((r) => r.route.match), ['counter', 'increment']);
  t.strictSame(selectRoutes(g, ['counter'], referrer, 'spec.rules[0].matches', book).map((r) => r.route.match), ['counter'], 'osm#250: increment is not selected');
  t.strictSame(selectRoutes(g, ['nope'], referrer, 'spec.rules[0].matches', book), []);
  t.strictSame(book.all().map((d) => [d.code, d.object.kind, d.field]), [[DiagnosticCode.DanglingReference, 'TrafficTarget', 'spec.rules[0].matches']]);
  t.end();
});
