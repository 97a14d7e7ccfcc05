/**
 * The namespace primitives for real, in namespaces this test creates and deletes (never the host's links,
 * addresses or routes): a bridge with a pod on it stands in for a host, so nothing here needs the host namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { CommandError, inNetns, run } from '../../src/netns/exec.js';
import {
  addAddress,
  addBridge,
  addDefaultRoute,
  addNetns,
  addVethPair,
  attachToBridge,
  deleteLink,
  deleteNetns,
  deleteNetnsSync,
  execIn,
  getSysctl,
  ip,
  ipv4RouteDestinations,
  linkUp,
  listLinks,
  listNetns,
  moveLink,
  pidsInNetns,
  renameLink,
  runIn,
  setSysctl,
} from '../../src/netns/ip.js';
import { ownedName } from '../../src/netns/names.js';
import { ipv6Available, netnsUnavailable } from '../../src/netns/probe.js';
import { subnetAt } from '../../src/netns/subnet.js';

const skip = { skip: netnsUnavailable() ?? false };
const PREFIX = 'lsn';
let made = 0;
const subnet = subnetAt({ v4: '10', v6: 'fd00' }, process.pid % 65536);

/** A fresh namespace (loopback up), deleted in teardown with whatever still runs inside. */
async function namespace(t: Test): Promise<string> {
  const name = ownedName(PREFIX, process.pid, `x${++made}`);
  await addNetns(name);
  t.teardown(() => deleteNetns(name, { killProcesses: true }));
  return name;
}

/** A node TCP server inside `ns` on `host`; resolves to its port once it listens (killed with the namespace). */
function listen(ns: string, host: string): Promise<{ port: number; child: ChildProcess }> {
  const script = `const s = require('net').createServer((c) => c.end('hello from ${ns}')); s.listen(0, process.argv[1], () => console.log(s.address().port));`;
  const [file = '', ...args] = inNetns(ns, [process.execPath, '-e', script, host]);
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve({ port: Number(out.trim()), child });
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => reject(new Error(`server in ${ns} exited ${code ?? '?'}: ${err.trim()}`)));
  });
}

/** What a TCP client inside `ns` reads from host:port. */
async function dial(ns: string, host: string, port: number): Promise<string> {
  const script = `const c = require('net').connect(Number(process.argv[2]), process.argv[1]); c.setEncoding('utf8'); let d = ''; c.on('data', (x) => (d += x)); c.on('end', () => console.log(d)); c.setTimeout(5000, () => { console.error('timeout'); process.exit(1); });`;
  return (await runIn(ns, [process.execPath, '-e', script, host, String(port)])).stdout.trim();
}

t.test('addNetns / listNetns / deleteNetns: loopback up, idempotent delete', skip, async (t) => {
  const ns = await namespace(t);
  t.ok((await listNetns(PREFIX)).includes(ns), 'listed under its prefix');
  t.notOk((await listNetns('loom-no-such-prefix-')).includes(ns), 'not under another prefix');
  t.match(await ip(ns, ['link', 'show', 'lo']), /\bUP\b/, 'loopback is up');
  const { port } = await listen(ns, '127.0.0.1');
  t.equal(await dial(ns, '127.0.0.1', port), `hello from ${ns}`, '127.0.0.1 works inside');
  const again = await addNetns(ns).catch((e: unknown) => e);
  t.type(again, CommandError);
  t.match((again as Error).message, new RegExp(`^\`ip netns add ${ns}\` exited with 1: .*File exists`), 'one line naming the command and its stderr');
  await deleteNetns(ns, { killProcesses: true });
  t.notOk((await listNetns(PREFIX)).includes(ns), 'gone');
  await deleteNetns(ns);
  t.pass('deleting again is fine');
  t.equal(deleteNetnsSync(ns), true, 'so is the sync delete of an absent namespace');
});

t.test('processes inside: pidsInNetns, and deleting with killProcesses ends them', skip, async (t) => {
  const ns = await namespace(t);
  const { child } = await listen(ns, '127.0.0.1');
  const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  t.strictSame(await pidsInNetns(ns), [child.pid], 'the server is the one process inside');
  await deleteNetns(ns, { killProcesses: true });
  t.equal(await closed, 'SIGKILL', 'it was killed');
  t.strictSame(await pidsInNetns(ns), [], 'no namespace, no pids');
});

t.test('deleteNetnsSync kills what runs inside and deletes', skip, async (t) => {
  const ns = await namespace(t);
  const { child } = await listen(ns, '127.0.0.1');
  const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  t.equal(deleteNetnsSync(ns, { killProcesses: true }), true);
  t.equal(await closed, 'SIGKILL');
  t.notOk((await listNetns(PREFIX)).includes(ns));
});

t.test('a veth pair between two namespaces, same device name on both sides, dual stack', skip, async (t) => {
  const a = await namespace(t);
  const b = await namespace(t);
  await addVethPair({ name: 'veth0', ns: a }, { name: 'veth0', ns: b });
  const v6 = ipv6Available();
  for (const [ns, host] of [
    [a, 1],
    [b, 2],
  ] as const) {
    await addAddress(ns, 'veth0', subnet.v4(host, 24));
    if (v6) await addAddress(ns, 'veth0', subnet.v6(host, 64));
    await linkUp(ns, 'veth0');
  }
  t.ok((await ipv4RouteDestinations(a)).includes(subnet.v4Network), 'the connected route');
  const server = await listen(b, '::');
  t.equal(await dial(a, subnet.v4(2), server.port), `hello from ${b}`, 'IPv4 across the pair');
  if (v6) t.equal(await dial(a, subnet.v6(2), server.port), `hello from ${b}`, 'IPv6 across the pair at once (nodad)');
  const missing = await addAddress(a, 'nosuchdev', subnet.v4(9, 24)).catch((e: unknown) => e);
  t.match((missing as Error).message, new RegExp(`^\`ip -n ${a} addr add ${subnet.v4(9, 24).replaceAll('.', '\\.')} dev nosuchdev\` exited with 1: Cannot find device "nosuchdev"$`));
});

t.test('moveLink and renameLink: both ends made in one namespace, one moved and renamed', skip, async (t) => {
  const a = await namespace(t);
  const b = await namespace(t);
  await addVethPair({ name: 'left', ns: a }, { name: 'tmp0', ns: a });
  await moveLink(a, 'tmp0', b);
  await renameLink(b, 'tmp0', 'right');
  t.strictSame((await listLinks(a)).sort(), ['left', 'lo']);
  t.strictSame((await listLinks(b)).sort(), ['lo', 'right']);
  t.strictSame(await listLinks(b, 'veth'), ['right'], 'by type');
  await deleteLink(a, 'left');
  t.strictSame(await listLinks(b, 'veth'), [], 'deleting one end removes the peer');
  await deleteLink(a, 'left');
  t.pass('deleting an absent link is fine');
});

t.test('a bridge with a pod on it: the pod reaches the bridge address; its default route goes nowhere', skip, async (t) => {
  const host = await namespace(t);
  const pod = await namespace(t);
  await addBridge(host, 'br0');
  await addAddress(host, 'br0', subnet.v4(254, 24));
  await linkUp(host, 'br0');
  await addVethPair({ name: 'leg1', ns: host }, { name: 'eth0', ns: pod });
  await attachToBridge(host, 'leg1', 'br0');
  await linkUp(host, 'leg1');
  await addAddress(pod, 'eth0', subnet.v4(11, 24));
  await linkUp(pod, 'eth0');
  await addDefaultRoute(pod, { via: subnet.v4(253), dev: 'eth0', onlink: true });
  t.match(await ip(pod, ['route', 'show', 'default']), new RegExp(`^default via ${subnet.v4(253).replaceAll('.', '\\.')} dev eth0 onlink`));
  t.match(await ip(host, ['link', 'show', 'leg1']), /master br0/, 'the leg is a port of the bridge');
  const server = await listen(host, subnet.v4(254));
  t.equal(await dial(pod, subnet.v4(254), server.port), `hello from ${host}`);
  if (ipv6Available()) {
    await addAddress(pod, 'eth0', subnet.v6(11, 64));
    await addDefaultRoute(pod, { via: subnet.v6(253), dev: 'eth0', onlink: true });
    t.match(await ip(pod, ['-6', 'route', 'show', 'default']), /^default via \S+ dev eth0/, 'IPv6 default route');
  }
});

t.test('setSysctl/getSysctl act on the namespace only', skip, async (t) => {
  const ns = await namespace(t);
  const hostForwarding = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  const flipped = hostForwarding === '1' ? '0' : '1';
  await setSysctl(ns, 'net.ipv4.ip_forward', flipped);
  t.equal(await getSysctl(ns, 'net.ipv4.ip_forward'), flipped);
  t.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), hostForwarding, 'the host keeps its value');
  if (ipv6Available()) {
    await setSysctl(ns, 'net.ipv6.conf.all.disable_ipv6', 1);
    t.equal(await getSysctl(ns, 'net.ipv6.conf.all.disable_ipv6'), '1');
  }
  const bad = await setSysctl(ns, 'net.loom.no_such_key', 1).catch((e: unknown) => e);
  t.match((bad as Error).message, new RegExp(`^\`ip netns exec ${ns} sysctl -q -w net.loom.no_such_key=1\` exited with \\d+: .*no_such_key`));
});

t.test('execIn / runIn run inside the namespace', skip, async (t) => {
  const ns = await namespace(t);
  const inside = (await runIn(ns, ['ip', '-o', 'link', 'show'])).stdout;
  const outside = (await run(['ip', '-o', 'link', 'show'])).stdout;
  t.match(inside, /^1: lo:/);
  t.equal(inside.trim().split('\n').length, 1, 'only loopback inside');
  t.not(inside, outside);
  const exited = await execIn(ns, ['sh', '-c', 'exit 7']);
  t.equal(exited.code, 7);
});
