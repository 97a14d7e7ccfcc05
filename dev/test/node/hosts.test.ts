/**
 * Pods' /etc/hosts and resolv.conf: what they hold (pure), and for real (root) that names resolve inside a pod's
 * namespace through `ip netns exec`, that an update is seen by a process already running there (and that a file
 * replaced by rename would not be: why it is written in place), and that unknown names fail fast.
 */
import { spawn } from 'node:child_process';
import { existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { addNetns, deleteNetns, execIn, inNetns, netnsUnavailable, ownedName } from '@loom/shared/netns';
import type { KubeObject } from '../../src/api/store.js';
import { hostsFile, removeHostsDir, resolvConf, writeHostsFile, NETNS_ETC } from '../../src/node/hosts.js';

const skip = { skip: netnsUnavailable() ?? false };

const service = (name: string, namespace: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec });
const slice = (svc: string, namespace: string, endpoints: Record<string, unknown>[], name = `${svc}-1`): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name, namespace, labels: { 'kubernetes.io/service-name': svc } },
  addressType: 'IPv4',
  endpoints,
});

const pod = { namespace: 'shop', podName: 'web-7d4b9', podIp: '10.244.0.7' };
/** The file's lines after the fixed header (comment, localhost lines). */
const body = (text: string): string[] => text.trimEnd().split('\n').slice(3);

t.test('hostsFile: the pod itself, then every Service under its names', (t) => {
  const cases: { name: string; pod?: Parameters<typeof hostsFile>[0]; services: KubeObject[]; slices?: KubeObject[]; want: string[] }[] = [
    {
      name: 'a ClusterIP Service in the pod’s namespace also has its short name; in another namespace it does not',
      services: [service('web', 'shop', { clusterIP: '10.96.0.10' }), service('api', 'other', { clusterIP: '10.96.0.11' })],
      want: [
        '10.244.0.7\tweb-7d4b9',
        '10.96.0.11\tapi.other.svc.cluster.local api.other.svc api.other',
        '10.96.0.10\tweb.shop.svc.cluster.local web.shop.svc web.shop web',
      ],
    },
    {
      name: 'a headless Service resolves to its ready endpoints (ready unset counts), one line each, in order; hostnames get names of their own',
      services: [service('db', 'shop', { clusterIP: 'None' })],
      slices: [
        slice('db', 'shop', [{ addresses: ['10.244.0.10'], conditions: { ready: true }, hostname: 'db-0' }, { addresses: ['10.244.0.9'] }, { addresses: ['10.244.0.8'], conditions: { ready: false } }]),
        slice('db', 'shop', [{ addresses: ['10.244.0.9'] }], 'db-2'),
        slice('db', 'other', [{ addresses: ['10.244.0.99'] }]),
      ],
      want: [
        '10.244.0.7\tweb-7d4b9',
        '10.244.0.9\tdb.shop.svc.cluster.local db.shop.svc db.shop db',
        '10.244.0.10\tdb.shop.svc.cluster.local db.shop.svc db.shop db',
        '10.244.0.10\tdb-0.db.shop.svc.cluster.local db-0.db.shop.svc db-0.db.shop db-0.db',
      ],
    },
    {
      name: 'ExternalName Services, Services without a ClusterIP yet and headless ones without endpoints are left out',
      services: [service('ext', 'shop', { type: 'ExternalName', externalName: 'example.com' }), service('new', 'shop', {}), service('db', 'shop', { clusterIP: 'None' })],
      want: ['10.244.0.7\tweb-7d4b9'],
    },
    {
      name: 'hostname and subdomain: the pod’s own line as kubelet writes it',
      pod: { ...pod, hostname: 'db-0', subdomain: 'db' },
      services: [],
      want: ['10.244.0.7\tdb-0.db.shop.svc.cluster.local\tdb-0'],
    },
    {
      name: 'a Service named localhost or like the pod keeps only its qualified names',
      services: [service('localhost', 'shop', { clusterIP: '10.96.0.1' }), service('web-7d4b9', 'shop', { clusterIP: '10.96.0.2' })],
      want: ['10.244.0.7\tweb-7d4b9', '10.96.0.1\tlocalhost.shop.svc.cluster.local localhost.shop.svc localhost.shop', '10.96.0.2\tweb-7d4b9.shop.svc.cluster.local web-7d4b9.shop.svc web-7d4b9.shop'],
    },
  ];
  for (const c of cases) t.strictSame(body(hostsFile(c.pod ?? pod, c.services, c.slices ?? [])), c.want, c.name);
  const text = hostsFile(pod, [], []);
  t.match(text, /^# .*\n127\.0\.0\.1\tlocalhost\n::1\tlocalhost/, 'localhost first');
  t.ok(text.endsWith('\n'), 'ends with a newline');
  t.end();
});

t.test('resolvConf: reachable nameservers of the host, short timeouts, never loopback', (t) => {
  const host = 'nameserver 127.0.0.53\nnameserver 192.0.2.53\n  nameserver   2001:db8::53\nnameserver ::1\nsearch corp.example  lab.example\noptions edns0 trust-ad\n';
  t.strictSame(resolvConf(host).split('\n').slice(1), ['nameserver 192.0.2.53', 'nameserver 2001:db8::53', 'search corp.example lab.example', 'options timeout:1 attempts:2', '']);
  const stub = resolvConf('nameserver 127.0.0.53\noptions edns0\n');
  t.notMatch(stub, /^nameserver/m, 'systemd-resolved’s stub alone: no nameserver (the pod would ask its own loopback)');
  t.match(stub, /# \(none: /);
  t.end();
});

// ---- real -------------------------------------------------------------------------------------------------

let made = 0;
/** A bare network namespace (loopback only), deleted with its /etc/netns directory at teardown. */
async function namespace(t: Test): Promise<string> {
  const name = ownedName('lh', process.pid, `x${++made}`);
  await addNetns(name);
  t.teardown(async () => {
    await deleteNetns(name, { killProcesses: true });
    await removeHostsDir(name);
  });
  return name;
}

async function getent(ns: string, ...args: string[]): Promise<{ code: number | null; out: string; ms: number }> {
  const started = Date.now();
  const exited = await execIn(ns, ['getent', ...args], { timeoutMs: 10_000 });
  return { code: exited.code, out: exited.stdout.trim().replace(/\s+/g, ' '), ms: Date.now() - started };
}

t.test('names resolve inside the pod’s namespace through ip netns exec; unknown names fail fast', skip, async (t) => {
  const ns = await namespace(t);
  const text = hostsFile(
    pod,
    [service('web', 'shop', { clusterIP: '10.96.0.10' }), service('api', 'other', { clusterIP: '10.96.0.11' }), service('db', 'shop', { clusterIP: 'None' })],
    [slice('db', 'shop', [{ addresses: ['10.244.0.8'] }, { addresses: ['10.244.0.9'] }])],
  );
  t.equal(await writeHostsFile(ns, text), true, 'written');
  t.equal(await writeHostsFile(ns, text), false, 'the same text again: not rewritten');
  t.equal((await getent(ns, 'hosts', 'web')).out, '10.96.0.10 web.shop.svc.cluster.local web.shop.svc web.shop web');
  t.equal((await getent(ns, 'hosts', 'web.shop.svc.cluster.local')).out.split(' ')[0], '10.96.0.10');
  t.equal((await getent(ns, 'hosts', 'api.other')).out.split(' ')[0], '10.96.0.11');
  t.equal((await getent(ns, 'hosts', 'api')).code, 2, 'another namespace’s service has no short name');
  const db = await getent(ns, 'ahosts', 'db.shop.svc.cluster.local');
  t.strictSame([...new Set(db.out.split(' ').filter((w) => /^\d+\./.test(w)))].sort(), ['10.244.0.8', '10.244.0.9'], 'a headless service: every ready endpoint');
  t.equal((await getent(ns, 'hosts', 'web-7d4b9')).out.split(' ')[0], '10.244.0.7', 'the pod’s own name');
  const unknown = await getent(ns, 'hosts', 'no-such-name.invalid');
  t.equal(unknown.code, 2, 'an unknown name is not found');
  t.ok(unknown.ms < 5000, `and fails fast (${unknown.ms} ms)`);
  t.notMatch((await execIn(ns, ['cat', '/etc/resolv.conf'])).stdout, /^nameserver 127\./m, 'the pod’s resolv.conf has no loopback nameserver');
});

t.test('an update of the hosts file is seen by a process already running in the pod; a rename would not be', skip, async (t) => {
  const ns = await namespace(t);
  const path = `${NETNS_ETC}/${ns}/hosts`;
  const version = (ip: string): string => hostsFile(pod, [service('web', 'shop', { clusterIP: ip })], []);
  await writeHostsFile(ns, version('10.96.0.10'));
  const inode = statSync(path).ino;

  // A process started once: for each line on stdin it resolves the name (getaddrinfo reads /etc/hosts each time).
  const script = "const dns = require('dns'); require('readline').createInterface({ input: process.stdin }).on('line', (n) => dns.lookup(n, { family: 4 }, (e, a) => console.log(e ? e.code : a)));";
  const [file = '', ...args] = inNetns(ns, [process.execPath, '-e', script]);
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill('SIGKILL'));
  const answers: string[] = [];
  let waiting: (() => void) | null = null;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    answers.push(...d.trim().split('\n'));
    waiting?.();
  });
  const lookup = async (name: string): Promise<string> => {
    const count = answers.length;
    child.stdin.write(`${name}\n`);
    const deadline = Date.now() + 5000;
    while (answers.length === count && Date.now() < deadline) await new Promise<void>((resolve) => ((waiting = resolve), setTimeout(resolve, 100)));
    return answers[count] ?? 'no answer';
  };

  t.equal(await lookup('web'), '10.96.0.10');
  t.equal(await writeHostsFile(ns, version('10.96.0.20')), true);
  t.equal(statSync(path).ino, inode, 'the same file (inode), rewritten in place');
  t.equal(await lookup('web'), '10.96.0.20', 'the running process sees the update');
  t.equal(await lookup('web.shop.svc.cluster.local'), '10.96.0.20');

  writeFileSync(`${path}.new`, version('10.96.0.30'));
  renameSync(`${path}.new`, path);
  t.equal(await lookup('web'), '10.96.0.20', 'a file renamed over it is not seen: the process keeps the old inode');
});

t.test('writeHostsFile refuses a path for a name; removeHostsDir is idempotent', skip, async (t) => {
  for (const bad of ['', '.', '..', '../etc', 'a/b']) await t.rejects(writeHostsFile(bad, ''), /is not a network namespace name/, JSON.stringify(bad));
  const ns = await namespace(t);
  await writeHostsFile(ns, '127.0.0.1\tlocalhost\n');
  t.ok(existsSync(`${NETNS_ETC}/${ns}/resolv.conf`));
  await removeHostsDir(ns);
  t.notOk(existsSync(`${NETNS_ETC}/${ns}`));
  await removeHostsDir(ns);
  t.pass('removing again is fine');
});
