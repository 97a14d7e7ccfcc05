import { spawn } from 'node:child_process';
import t from 'tap';
import { hasProgram, netnsUnavailable, processAlive } from '../../src/netns/probe.js';

t.test('netnsUnavailable: null or one sentence, the same each time', (t) => {
  const reason = netnsUnavailable();
  if (reason !== null) {
    t.match(reason, /^[^\n]+$/, 'one line');
    t.match(reason, /Linux|root|ip|namespace/, 'says what is missing');
  } else {
    t.equal(process.getuid?.(), 0, 'available only as root');
  }
  t.equal(netnsUnavailable(), reason, 'cached');
  t.end();
});

t.test('hasProgram looks on PATH only', (t) => {
  t.equal(hasProgram('sh'), true);
  t.equal(hasProgram('loom-no-such-program'), false);
  t.equal(hasProgram('/bin/sh'), false, 'a path is not a program name');
  t.equal(hasProgram('sh', '/loom-no-such-dir'), false, 'in the directories given');
  t.equal(hasProgram('sh', '/loom-no-such-dir:/bin:/usr/bin'), true);
  t.end();
});

t.test('processAlive', async (t) => {
  t.equal(processAlive(process.pid), true);
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('close', resolve));
  t.equal(processAlive(child.pid ?? 0), false, 'an exited child');
  for (const pid of [0, -1, 1.5, Number.NaN]) t.equal(processAlive(pid), false, `${pid} is no process (not a process group)`);
});
