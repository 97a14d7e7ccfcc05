import t from 'tap';
import { main, type Io } from '../../src/cli/main.js';

function capture(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(s: string) {
      io.stdout += s;
    },
    err(s: string) {
      io.stderr += s;
    },
  };
  return io;
}

t.test('help lists the subcommands', async (t) => {
  for (const arg of ['help', '--help', '-h']) {
    const io = capture();
    t.equal(await main([arg], io), 0, `${arg} exits 0`);
    t.match(io.stdout, /^usage: loom <command>/);
    t.match(io.stdout, /\n {2}why +evaluate a request against compiled policy/);
    t.equal(io.stderr, '');
  }
});

t.test('no command prints usage to stderr and exits 2', async (t) => {
  const io = capture();
  t.equal(await main([], io), 2);
  t.match(io.stderr, /^usage: loom/);
});

t.test('unknown command exits 2 with a clear message', async (t) => {
  for (const name of ['frobnicate', 'toString', '__proto__']) {
    const io = capture();
    t.equal(await main([name, '--x'], io), 2, name);
    t.equal(io.stderr, `loom: unknown command '${name}' (run 'loom help' for the list)\n`);
    t.equal(io.stdout, '');
  }
});
