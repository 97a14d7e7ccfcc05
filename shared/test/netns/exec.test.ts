import t from 'tap';
import { CommandError, commandText, exec, inNetns, oneLine, run, runSync, tryRun } from '../../src/netns/exec.js';

const node = process.execPath;

t.test('run: stdout and stderr of a program that exits 0; input and environment', async (t) => {
  const echo = await run([node, '-e', 'process.stdin.pipe(process.stdout); process.stderr.write(process.env.LOOM_T_A ?? "unset")'], {
    input: 'hello\n',
    env: { LOOM_T_A: 'set' },
  });
  t.strictSame(echo, { stdout: 'hello\n', stderr: 'set' });
  process.env.LOOM_T_B = 'inherited';
  t.teardown(() => delete process.env.LOOM_T_B);
  const env = await run([node, '-e', 'console.log(JSON.stringify([process.env.LOOM_T_B ?? null, process.env.LOOM_T_C ?? null]))'], { env: { LOOM_T_B: undefined, LOOM_T_C: 'c' } });
  t.strictSame(JSON.parse(env.stdout), [null, 'c'], 'undefined removes an inherited variable, others are added');
  const inherited = await run([node, '-e', 'process.stdout.write(process.env.LOOM_T_B ?? "")']);
  t.equal(inherited.stdout, 'inherited');
});

t.test('run rejects with one line: the command, how it ended, what it said', async (t) => {
  const cases: [string, string[], RegExp][] = [
    ['exit code and stderr lines', [node, '-e', 'console.error("first\\n\\n  second  "); process.exit(3)'], /^`\S+ -e .*` exited with 3: first \| second$/],
    ['stdout when stderr is empty', [node, '-e', 'console.log("only out"); process.exit(1)'], /exited with 1: only out$/],
    ['a signal', ['sh', '-c', 'kill -TERM $$'], /^`sh -c kill -TERM \$\$` was killed by SIGTERM$/],
    ['a program that does not exist', ['loom-no-such-program', 'x'], /^`loom-no-such-program x` could not start \(spawn loom-no-such-program ENOENT\)$/],
    ['an empty command', [], /^`` is empty$/],
  ];
  for (const [name, argv, message] of cases) {
    const err = await run(argv).then(
      () => null,
      (e: unknown) => e,
    );
    t.type(err, CommandError, name);
    if (!(err instanceof CommandError)) continue;
    t.match(err.message, message, name);
    t.notMatch(err.message, /\n/, `${name}: one line`);
    t.strictSame(err.command, argv, `${name}: the argv is kept`);
  }
  const err = await run([node, '-e', 'process.stdout.write("o"); process.stderr.write("e\\nf"); process.exit(2)']).catch((e: unknown) => e);
  t.ok(err instanceof CommandError && err.code === 2 && err.stdout === 'o' && err.stderr === 'e\nf', 'code and the whole output are on the error');
});

t.test('exec never rejects; the outcome is data', async (t) => {
  const ok = await exec([node, '-e', 'process.stdout.write("x")']);
  t.strictSame(ok, { code: 0, signal: null, stdout: 'x', stderr: '', failure: null });
  const failed = await exec([node, '-e', 'process.exit(4)']);
  t.equal(failed.code, 4);
  t.equal(failed.failure, null);
  const missing = await exec(['loom-no-such-program']);
  t.equal(missing.code, null);
  t.match(missing.failure, /could not start/);
  const slow = await exec([node, '-e', 'setTimeout(() => {}, 60_000)'], { timeoutMs: 200 });
  t.equal(slow.signal, 'SIGKILL');
  t.equal(slow.failure, 'timed out after 200 ms');
  const ignoresInput = await exec(['true'], { input: 'x'.repeat(1 << 20) });
  t.equal(ignoresInput.code, 0, 'input the program does not read is no error');
});

t.test('tryRun and runSync', async (t) => {
  t.equal(await tryRun(['true']), true);
  t.equal(await tryRun(['false']), false);
  t.equal(await tryRun(['loom-no-such-program']), false);
  t.strictSame(runSync(['sh', '-c', 'echo out; echo err >&2']), { stdout: 'out\n', stderr: 'err\n' });
  t.throws(() => runSync(['sh', '-c', 'echo bad >&2; exit 5']), { name: 'CommandError', message: '`sh -c echo bad >&2; exit 5` exited with 5: bad' });
  t.throws(() => runSync(['loom-no-such-program']), { message: /^`loom-no-such-program` could not start/ });
});

t.test('pure helpers', (t) => {
  t.strictSame(inNetns('lm1x1-web', ['ip', 'addr']), ['ip', 'netns', 'exec', 'lm1x1-web', 'ip', 'addr']);
  t.equal(commandText(['ip', 'link', 'add', 'x']), '`ip link add x`');
  const cases: [string, string][] = [
    ['', ''],
    ['one\n', 'one'],
    ['  a \n\n b\r\n', 'a | b'],
  ];
  for (const [input, expected] of cases) t.equal(oneLine(input), expected, JSON.stringify(input));
  t.equal(oneLine('y'.repeat(5000)).length, 1003, 'capped');
  t.end();
});
