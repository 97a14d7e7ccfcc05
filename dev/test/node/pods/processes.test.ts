/** Container processes: detached groups signalled as a whole, exits as data, bounded captured runs. */
import { readFileSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { exitCodeOf, launch, runCaptured, signalGroup } from '../../../src/node/pods/processes.js';

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

t.test('exitCodeOf: the code, or 128 + the signal', (t) => {
  t.equal(exitCodeOf({ code: 3, signal: null }), 3);
  t.equal(exitCodeOf({ code: null, signal: 'SIGTERM' }), 143);
  t.equal(exitCodeOf({ code: null, signal: 'SIGKILL' }), 137);
  t.equal(exitCodeOf({ code: null, signal: null, failure: 'spawn x ENOENT' }), 128);
  t.end();
});

t.test('launch: output to the log, the whole group signalled', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'loom-proc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = await open(join(dir, 'log'), 'a');
  const child = launch(['sh', '-c', `echo out; echo err >&2; sleep 1000 & echo $! > ${dir}/child; wait`], { PATH: process.env['PATH'] ?? '' }, log.fd);
  await log.close();
  t.type(child.pid, 'number');
  const grandchild = await (async () => {
    for (let i = 0; i < 100; i++) {
      const text = await readFile(join(dir, 'child'), 'utf8').catch(() => '');
      if (text.trim() !== '') return Number(text);
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('no child pid');
  })();
  t.ok(alive(grandchild));
  t.ok(signalGroup(child.pid ?? 0, 'SIGTERM'), 'the group was signalled');
  t.strictSame(await child.exited, { code: null, signal: 'SIGTERM' });
  await new Promise((r) => setTimeout(r, 100));
  t.notOk(alive(grandchild), 'the grandchild got it too');
  t.equal(await readFile(join(dir, 'log'), 'utf8'), 'out\nerr\n', 'stdout and stderr in the log');
});

t.test('launch: a program that cannot start', async (t) => {
  const child = launch(['/nonexistent/program'], {}, 1);
  t.equal(child.pid, undefined);
  t.match(await child.exited, { code: null, signal: null, failure: /ENOENT/ });
});

t.test('runCaptured: output, exit code, and a timeout that kills the group', async (t) => {
  const ok = await runCaptured(['sh', '-c', 'echo hello; echo oops >&2; exit 4'], { PATH: process.env['PATH'] ?? '' }, 5000);
  t.match(ok, { exit: { code: 4 }, timedOut: false });
  t.match(ok.output, /hello/);
  t.match(ok.output, /oops/);
  const started = Date.now();
  const slow = await runCaptured(['sh', '-c', 'sleep 5 & sleep 6'], { PATH: process.env['PATH'] ?? '' }, 200);
  t.equal(slow.timedOut, true);
  t.ok(Date.now() - started < 3000, 'it did not wait for the sleeps');
  const big = await runCaptured(['sh', '-c', 'yes | head -c 100000'], { PATH: process.env['PATH'] ?? '' }, 5000, 100);
  t.equal(big.output.length, 100, 'output is capped');
});
