import t from 'tap';
import { closest, editDistance, parseArgs, UsageError } from '../../src/runtime/args.js';

const SPECS = {
  to: { type: 'string' },
  filename: { type: 'string', multiple: true, short: 'f' },
  header: { type: 'string', multiple: true },
  tcp: { type: 'boolean' },
  output: { type: 'string', short: 'o', values: ['human', 'json'] },
} as const;

function usage(argv: string[]): string {
  try {
    parseArgs(argv, SPECS);
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  return '(no error)';
}

t.test('values: separate, inline, short, repeated, boolean', (t) => {
  const r = parseArgs(['--to', 'a/b', '-f', 'x', '--filename=y', '-f=z', '--header', 'k=v', '--header=k2=v2', '--tcp', '-o', 'json'], SPECS);
  t.strictSame(r.flags, { to: 'a/b', filename: ['x', 'y', 'z'], header: ['k=v', 'k2=v2'], tcp: true, output: 'json' });
  t.strictSame(r.positionals, []);
  t.equal(r.help, false);
  t.end();
});

t.test('defaults: absent string undefined, absent list empty, absent boolean false', (t) => {
  t.strictSame(parseArgs([], SPECS).flags, { to: undefined, filename: [], header: [], tcp: false, output: undefined });
  t.end();
});

t.test('an inline value may contain "=" and start with "-"; "-" alone is a value', (t) => {
  t.equal(parseArgs(['--to=-x=y'], SPECS).flags.to, '-x=y');
  t.strictSame(parseArgs(['-f', '-'], SPECS).flags.filename, ['-']);
  t.end();
});

t.test('--help and -h are recognised everywhere and suspend other checks', (t) => {
  t.equal(parseArgs(['--help'], SPECS).help, true);
  t.equal(parseArgs(['--to', 'x', '-h', '--bogus'], SPECS).help, true);
  t.end();
});

t.test('-- ends the flags', (t) => {
  t.strictSame(parseArgs(['--', '--to', 'x'], SPECS, { positionals: true }).positionals, ['--to', 'x']);
  t.end();
});

t.test('errors name the flag and what is wrong', (t) => {
  t.equal(usage(['--frobnicate']), 'unknown flag --frobnicate');
  t.equal(usage(['--tpc']), 'unknown flag --tpc (did you mean --tcp?)');
  t.equal(usage(['-x', 'y']), 'unknown flag -x');
  t.equal(usage(['--to']), '--to needs a value');
  t.equal(usage(['--to', '--tcp']), '--to needs a value');
  t.equal(usage(['-f']), '-f (--filename) needs a value');
  t.equal(usage(['--to', 'a', '--to', 'b']), '--to given more than once');
  t.equal(usage(['--tcp', '--tcp']), '--tcp given more than once');
  t.equal(usage(['--tcp=yes']), '--tcp takes no value (got "--tcp=yes")');
  t.equal(usage(['-o', 'yaml']), '--output must be one of human, json, got "yaml"');
  t.equal(usage(['stray']), 'unexpected argument "stray"');
  t.equal(usage(['--toString']), 'unknown flag --toString (did you mean --to?)', 'no prototype keys');
  t.equal(usage(['--__proto__', 'x']), 'unknown flag --__proto__');
  t.end();
});

t.test('closest and editDistance', (t) => {
  t.equal(editDistance('kitten', 'sitting'), 3);
  t.equal(editDistance('', 'abc'), 3);
  t.strictSame(closest('webb', ['web', 'orders', 'cart-v1']), ['web']);
  t.equal(editDistance('tpc', 'tcp'), 1, 'a swap of neighbours counts one');
  t.strictSame(closest('shop/ordrs', ['shop/orders', 'shop/cart', 'ops/orders']), ['shop/orders']);
  t.strictSame(closest('method', ['path', 'method', 'metod']), ['method', 'metod']);
  t.strictSame(closest('zzz', ['web', 'orders']), []);
  t.end();
});
