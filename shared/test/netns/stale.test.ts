/**
 * removeStale for real: namespaces and a bridge named for a process that has exited are removed (with what still
 * runs inside), those of live processes and of this one are kept. The bridge is this test's own, in the host
 * namespace, down and without addresses, and deleted in teardown if the code under test did not.
 */
import { spawn } from 'node:child_process';
import t from 'tap';
import { inNetns } from '../../src/netns/exec.js';
import { addBridge, addNetns, deleteLink, deleteNetns, listLinks, listNetns, pidsInNetns } from '../../src/netns/ip.js';
import { interfaceName, ownedName } from '../../src/netns/names.js';
import { netnsUnavailable, processAlive } from '../../src/netns/probe.js';
import { removeStale } from '../../src/netns/stale.js';

const PREFIX = 'lst';

/** A process that has exited (its pid no longer runs). */
async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('close', resolve));
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

t.test('removeStale removes what exited owners left, keeps what live ones own', { skip: netnsUnavailable() ?? false }, async (t) => {
  const dead = await exitedPid();
  t.notOk(processAlive(dead), 'the owner has exited');
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120_000)'], { stdio: 'ignore' });
  t.teardown(() => sleeper.kill('SIGKILL'));
  const live = sleeper.pid ?? 0;

  const staleNs = [ownedName(PREFIX, dead, 'x1'), ownedName(PREFIX, dead, 'x1-web')];
  const keptNs = [ownedName(PREFIX, live, 'x1'), ownedName(PREFIX, process.pid, 'x1')];
  const staleBridge = interfaceName(PREFIX, dead, 'br');
  for (const ns of [...staleNs, ...keptNs]) {
    await addNetns(ns);
    t.teardown(() => deleteNetns(ns, { killProcesses: true }));
  }
  await addBridge(null, staleBridge);
  t.teardown(() => deleteLink(null, staleBridge));

  // Something still running in a stale namespace (a proxy a killed run left) goes with it.
  const [file = '', ...args] = inNetns(staleNs[0] ?? '', [process.execPath, '-e', 'setTimeout(() => {}, 120_000)']);
  const orphan = spawn(file, args, { stdio: 'ignore' });
  const orphanGone = new Promise<NodeJS.Signals | null>((resolve) => orphan.on('close', (_code, signal) => resolve(signal)));
  for (let i = 0; i < 100 && (await pidsInNetns(staleNs[0] ?? '')).length === 0; i++) await new Promise((r) => setTimeout(r, 50));

  const removed = await removeStale(PREFIX);
  t.strictSame([...removed].sort(), [...staleNs, staleBridge].sort(), 'the stale namespaces and bridge are reported');
  const left = await listNetns(PREFIX);
  for (const ns of staleNs) t.notOk(left.includes(ns), `${ns} is gone`);
  for (const ns of keptNs) t.ok(left.includes(ns), `${ns} is kept`);
  t.notOk((await listLinks(null, 'bridge')).includes(staleBridge), 'the bridge is gone');
  t.equal(await orphanGone, 'SIGKILL', 'the process left inside was killed');
  t.strictSame(await removeStale(PREFIX), [], 'nothing more the second time');
});
