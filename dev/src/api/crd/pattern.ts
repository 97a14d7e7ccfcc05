/**
 * A schema's `pattern`, which Kubernetes compiles with Go's regexp (RE2), run as a JavaScript RegExp. RE2 syntax
 * JavaScript spells differently is translated (leading `(?i)`-style flags, `\A`, `\z`, `\pL`, `(?P<name>`, POSIX
 * classes such as `[[:alpha:]]`); what RE2 does not have (lookaround, backreferences) is refused as Go refuses
 * it. Error texts follow Go's shape (`error parsing regexp: missing closing ): ...`) but not always its wording.
 */

const POSIX: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const JS_TO_GO: readonly [RegExp, string][] = [
  [/Unterminated group/, 'missing closing )'],
  [/Unmatched '\)'/, 'unexpected )'],
  [/Unterminated character class/, 'missing closing ]'],
  [/Nothing to repeat/, 'missing argument to repetition operator'],
  [/numbers out of order/, 'invalid repeat count'],
  [/Range out of order/, 'invalid character class range'],
  [/\\ at end of pattern/, 'trailing backslash at end of expression'],
];

const cache = new Map<string, RegExp | string>();

function translate(pattern: string): { source: string; flags: string } | string {
  let source = pattern;
  let flags = '';
  const lead = /^\(\?([imsU]+)\)/.exec(source);
  if (lead !== null) {
    const f = lead[1] ?? '';
    if (f.includes('U')) return 'invalid or unsupported Perl syntax: `(?U`';
    flags = f;
    source = source.slice(lead[0].length);
  }
  const perl = /\(\?(<?[=!])/.exec(source);
  if (perl !== null) return `invalid or unsupported Perl syntax: \`(?${perl[1] ?? ''}\``;
  const backref = /(?<!\\)(?:\\\\)*\\([1-9])/.exec(source);
  if (backref !== null) return `invalid escape sequence: \`\\${backref[1] ?? ''}\``;
  source = source
    .replace(/\[:([a-z]+):\]/g, (whole, name: string) => POSIX[name] ?? whole)
    .replace(/\(\?P</g, '(?<')
    .replace(/(?<!\\)((?:\\\\)*)\\A/g, '$1(?<![\\s\\S])')
    .replace(/(?<!\\)((?:\\\\)*)\\z/g, '$1(?![\\s\\S])')
    .replace(/(?<!\\)((?:\\\\)*)\\([pP])([A-Za-z])/g, '$1\\$2{$3}');
  return { source, flags };
}

/** The compiled pattern, or Go-style parse error text. Cached. */
export function compilePattern(pattern: string): RegExp | string {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  const t = translate(pattern);
  let compiled: RegExp | string;
  if (typeof t === 'string') compiled = `error parsing regexp: ${t}`;
  else {
    try {
      compiled = new RegExp(t.source, `${t.flags}u`);
    } catch {
      try {
        compiled = new RegExp(t.source, t.flags);
      } catch (err) {
        const text = err instanceof Error ? err.message : String(err);
        const go = JS_TO_GO.find(([re]) => re.test(text))?.[1] ?? text.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '').toLowerCase();
        compiled = `error parsing regexp: ${go}: \`${pattern}\``;
      }
    }
  }
  if (cache.size > 1000) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}
