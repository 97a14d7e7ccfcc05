/** The benchmark programs' command lines: help, options, and refusal of anything unknown before a run starts. */
import t from 'tap';
import { parseCommandLine, UsageError } from '../../src/lib/cli.js';

const spec = { usage: 'Usage: bench [--pairs p,...] [--markdown]', options: ['pairs'], flags: ['markdown'] };

t.test('--help and -h print the usage and ask the caller to stop', (t) => {
  for (const help of ['--help', '-h']) {
    const out = t.capture(process.stdout, 'write', () => true);
    const parsed = parseCommandLine(spec, ['--pairs', 'loom', help]);
    const written = out().map((c) => String(c.args[0])).join('');
    t.equal(parsed, null, `${help}: nothing to run`);
    t.equal(written, 'Usage: bench [--pairs p,...] [--markdown]\n');
  }
  t.end();
});

t.test('options with values and flags', (t) => {
  const parsed = parseCommandLine(spec, ['--pairs', 'loom,direct', '--markdown']);
  t.same(parsed?.values, { pairs: 'loom,direct' });
  t.same([...(parsed?.flags ?? [])], ['markdown']);
  t.same(parsed?.positionals, []);
  t.same(parseCommandLine(spec, [])?.values, {}, 'nothing given: no values');
  t.end();
});

t.test('an unknown option, a missing value or a stray argument is refused with the usage', (t) => {
  for (const argv of [['--help-me'], ['--pairs'], ['loom'], ['--markdown=yes']]) {
    t.throws(() => parseCommandLine(spec, argv), UsageError, argv.join(' '));
    try {
      parseCommandLine(spec, argv);
    } catch (err) {
      t.match((err as Error).message, /Usage: bench/, `${argv.join(' ')}: the message carries the usage`);
    }
  }
  t.end();
});

t.test('positionals only where the program takes them', (t) => {
  const parsed = parseCommandLine({ usage: 'Usage: profile <file>...', options: ['top'], positionals: true }, ['a.cpuprofile', '--top', '5', 'dir']);
  t.same(parsed?.positionals, ['a.cpuprofile', 'dir']);
  t.equal(parsed?.values['top'], '5');
  t.end();
});
