/**
 * The cluster network for real (root): pods on a cluster's bridge talk by IP and reach the host at the gateway;
 * two clusters side by side get distinct CIDRs; `cleanup` after a simulated crash removes every namespace, link,
 * chain, rule and process of one cluster and nothing of the other. Pure parts (CIDRs, names, iptables-save
 * parsing) run everywhere.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import t from 'tap';
import { hasProgram, inNetns, ip, ipv4RouteDestinations, listLinks, listNetns, netnsUnavailable, run, runIn } from '@loom/shared/netns';
import { silentLogger } from '@loom/shared/runtime';
import { addressAt, candidateNetworks, conflictingRoute, parseCidr, pickClusterCidrs } from '../../src/node/cidrs.js';
import { NETNS_ETC, writeHostsFile } from '../../src/node/hosts.js';
import {
  bridgeName,
  chainPrefix,
  clusterNameProblem,
  hostVethName,
  isClusterChain,
  jumpTarget,
  parseSave,
  podNetnsName,
  removalLines,
  vethPrefix,
  ClusterNetwork,
} from '../../src/node/network.js';
import { ServiceProxy } from '../../src/node/services.js';

const unavailable = netnsUnavailable() ?? (hasProgram('iptables-restore') ? null : 'needs iptables-restore');
const skip = { skip: unavailable ?? false };
const log = silentLogger();
const NAME_A = `n${process.pid}a`;
const NAME_B = `n${process.pid}b`;

// ---- pure -------------------------------------------------------------------------------------------------

t.test('parseCidr: strict a.b.c.d/n without host bits', (t) => {
  t.strictSame(parseCidr('10.244.0.0/16'), { base: 10 * 2 ** 24 + 244 * 2 ** 16, prefix: 16 });
  for (const [text, why] of [
    ['10.244.1.0/16', /host bits set \(the network is 10\.244\.0\.0\/16\)/],
    ['10.244.0.0', /not an IPv4 CIDR/],
    ['10.244.0.0/33', /not an IPv4 CIDR/],
    ['10.256.0.0/16', /not an IPv4 CIDR/],
    ['010.1.0.0/16', /not an IPv4 CIDR/],
    ['fd00::/64', /not an IPv4 CIDR/],
  ] as const) {
    t.match(parseCidr(text), why, text);
  }
  t.equal(addressAt({ base: 10 * 2 ** 24, prefix: 16 }, 258), '10.0.1.2');
  t.throws(() => addressAt({ base: 0, prefix: 30 }, 4), /not in 0\.0\.0\.0\/30/);
  t.end();
});

t.test('pickClusterCidrs: two free /16s, stable per name, around routes and taken networks', (t) => {
  const first = pickClusterCidrs('loom', []);
  t.ok(first);
  t.not(first?.podCidr, first?.serviceCidr);
  t.strictSame(pickClusterCidrs('loom', []), first, 'same name, same routes: same answer');
  t.not(pickClusterCidrs('other', [])?.podCidr, first?.podCidr, 'another name starts elsewhere');
  const blocked = pickClusterCidrs('loom', [first?.podCidr ?? '', `${(first?.serviceCidr ?? '').replace('.0.0/16', '.7.0/24')}`]);
  t.ok(blocked);
  for (const cidr of [blocked?.podCidr ?? '', blocked?.serviceCidr ?? '']) {
    t.not(cidr, first?.podCidr, 'a /16 route rules its network out');
    t.not(cidr, first?.serviceCidr, 'so does a /24 inside it');
  }
  const taken = pickClusterCidrs('loom', [], [first?.podCidr ?? '']);
  t.not(taken?.podCidr, first?.podCidr, 'taken networks are avoided too');
  t.strictSame(pickClusterCidrs('loom', ['default', '0.0.0.0/1', '128.0.0.0/1']), first, 'default and half-default routes do not count');
  t.equal(pickClusterCidrs('loom', ['10.0.0.0/8', '172.16.0.0/12']), null, 'a /8 VPN and a /12 take everything');
  const oneLeft = candidateNetworks().slice(1);
  t.equal(pickClusterCidrs('loom', oneLeft), null, 'one free /16 is not enough');
  t.equal(conflictingRoute('10.64.0.0/16', ['10.0.0.0/8'], 16), null, 'explicit CIDRs only collide with routes as narrow');
  t.equal(conflictingRoute('10.64.0.0/16', ['10.64.3.0/24'], 16), '10.64.3.0/24');
  t.end();
});

t.test('names: bridge, namespaces, veths and chains fit and never match another cluster', (t) => {
  t.equal(clusterNameProblem('loom'), null);
  t.equal(clusterNameProblem('a-b-1'), null);
  for (const bad of ['Loom', '-a', 'a-', 'a_b', '', 'a'.repeat(13), 'a.b']) t.type(clusterNameProblem(bad), 'string', `"${bad}" is refused`);
  t.equal(bridgeName('abcdefghijkl').length, 15);
  t.equal(hostVethName('loom', 'x').length, 15);
  t.equal(hostVethName('loom', 'x'), hostVethName('loom', 'x'), 'stable');
  t.not(hostVethName('loom', 'x'), hostVethName('loom', 'y'));
  t.ok(hostVethName('loom', 'x').startsWith(vethPrefix('loom')));
  t.not(vethPrefix('loom'), vethPrefix('loom2'));
  const uid = '6f1c0e2a-34b5-4c1d-9e8f-0123456789ab';
  t.equal(podNetnsName('loom', uid), `ld-loom.${uid}`);
  t.match(podNetnsName('loom', 'a/../b'), /^ld-loom\.[0-9a-f]{32}$/, 'a uid that is not a plain token is hashed');
  t.ok(isClusterChain('a', 'LD-a-SERVICES'));
  t.notOk(isClusterChain('a', 'LD-a-svc-SERVICES'), "cluster a-svc's chains are not cluster a's");
  t.notOk(isClusterChain('a', 'LD-ab-SERVICES'));
  t.ok(`${chainPrefix('abcdefghijkl')}SVC-01234567`.length <= 28, 'chain names fit iptables (28 characters)');
  t.end();
});

t.test('removalLines: jumps from other chains deleted, own chains flushed and deleted', (t) => {
  const saved = parseSave(
    [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':POSTROUTING ACCEPT [0:0]',
      ':LD-x-SERVICES - [0:0]',
      ':LD-x-SVC-0a1b2c3d - [0:0]',
      ':LD-xy-SERVICES - [0:0]',
      '-A PREROUTING -m comment --comment "loom-dev:x" -j LD-x-SERVICES',
      '-A PREROUTING -m comment --comment "loom-dev:xy" -j LD-xy-SERVICES',
      '-A PREROUTING -j ACCEPT',
      '-A LD-x-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j LD-x-SVC-0a1b2c3d',
      'COMMIT',
    ].join('\n'),
  );
  t.equal(jumpTarget('-d 1.2.3.4/32 -g LD-x-SVC-1'), 'LD-x-SVC-1');
  t.strictSame(removalLines(saved, (c) => isClusterChain('x', c)), [
    '-D PREROUTING -m comment --comment "loom-dev:x" -j LD-x-SERVICES',
    ':LD-x-SERVICES - [0:0]',
    ':LD-x-SVC-0a1b2c3d - [0:0]',
    '-X LD-x-SERVICES',
    '-X LD-x-SVC-0a1b2c3d',
  ]);
  t.strictSame(removalLines(saved, (c) => isClusterChain('zz', c)), [], 'nothing of another cluster');
  t.end();
});

t.test('create refuses bad names and CIDRs before touching anything', async (t) => {
  for (const [options, message] of [
    [{ name: 'Bad' }, /cluster name "Bad" must consist of lower case/],
    [{ name: 'abcdefghijklm' }, /no more than 12 characters/],
    [{ name: 'ok', podCidr: '10.1.2.3/16' }, /^pod CIDR "10\.1\.2\.3\/16" has host bits set/],
    [{ name: 'ok', serviceCidr: '10.0.0.0/30' }, /^service CIDR 10\.0\.0\.0\/30 must have a prefix length from \/8 to \/28/],
    [{ name: 'ok', podCidr: '10.1.0.0/16', serviceCidr: '10.1.128.0/20' }, /^pod CIDR 10\.1\.0\.0\/16 and service CIDR 10\.1\.128\.0\/20 overlap$/],
  ] as const) {
    await t.rejects(ClusterNetwork.create({ ...options, log }), message, JSON.stringify(options));
  }
});

// ---- real -------------------------------------------------------------------------------------------------

/** A TCP server inside `ns` on `host`:port that answers with `reply`; killed with the namespace or at teardown. */
async function serve(ns: string, host: string, reply: string): Promise<number> {
  const script = `const s = require('net').createServer((c) => c.end(process.argv[2] + ' ' + c.remoteAddress)); s.listen(0, process.argv[1], () => console.log(s.address().port));`;
  const [file = '', ...args] = inNetns(ns, [process.execPath, '-e', script, host, reply]);
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.on('error', reject);
    child.on('close', (code) => reject(new Error(`server in ${ns} exited ${code ?? 'by a signal'}`)));
  });
}

/** What a TCP client inside `ns` reads from host:port (`<reply> <its address as the server saw it>`). */
async function dial(ns: string, host: string, port: number): Promise<string> {
  const script = `const c = require('net').connect(Number(process.argv[2]), process.argv[1]); c.setEncoding('utf8'); let d = ''; c.on('data', (x) => (d += x)); c.on('end', () => console.log(d)); c.on('error', (e) => { console.error(e.code); process.exit(1); }); c.setTimeout(5000, () => { console.error('timeout'); process.exit(1); });`;
  return (await runIn(ns, [process.execPath, '-e', script, host, String(port)])).stdout.trim();
}

const iptablesSave = async (): Promise<string> => (await run(['iptables-save'])).stdout;

t.test('pods on one cluster talk by IP, reach the host at the gateway; addPod is idempotent; removePod removes', skip, async (t) => {
  const net = await ClusterNetwork.create({ name: NAME_A, log });
  t.teardown(() => net.destroy());
  t.ok(parseCidr(net.podCidr) && parseCidr(net.serviceCidr), `pods ${net.podCidr}, services ${net.serviceCidr}`);
  t.equal(net.gateway, net.podCidr.replace('.0/16', '.1'));
  t.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), '1', 'IP forwarding is on');
  const routes = await ipv4RouteDestinations(null);
  t.ok(routes.includes(net.podCidr) && routes.includes(net.serviceCidr), 'both networks are routes of the host (other clusters see them)');
  t.match(await ip(null, ['-d', 'link', 'show', net.bridge]), net.hairpin === 'netfilter' ? /nf_call_iptables 1/ : /bridge/, `hairpin ${net.hairpin}`);

  const uidA = `a-${process.pid}`;
  const [a, again] = await Promise.all([net.addPod({ namespace: 'default', name: 'a', uid: uidA }), net.addPod({ namespace: 'default', name: 'a', uid: uidA })]);
  t.strictSame(again, a, 'the same uid at the same time: one namespace, one address');
  t.strictSame(await net.addPod({ namespace: 'default', name: 'a', uid: uidA }), a, 'and later');
  const b = await net.addPod({ namespace: 'default', name: 'b', uid: `b-${process.pid}` });
  t.equal(a.netns, podNetnsName(NAME_A, uidA));
  t.not(a.ip, b.ip);
  t.match(await ip(a.netns, ['route', 'show', 'default']), new RegExp(`^default via ${net.gateway.replaceAll('.', '\\.')} dev eth0`));
  t.match(await ip(a.netns, ['link', 'show', 'lo']), /\bUP\b/, 'loopback up');

  const portB = await serve(b.netns, b.ip, 'b');
  const portA = await serve(a.netns, a.ip, 'a');
  t.equal(await dial(a.netns, b.ip, portB), `b ${a.ip}`, 'a → b by IP, from a’s own address');
  t.equal(await dial(b.netns, a.ip, portA), `a ${b.ip}`, 'b → a');

  const host = createServer((c) => c.end(`host ${c.remoteAddress ?? ''}`));
  await new Promise<void>((resolve) => host.listen(0, net.gateway, resolve));
  t.teardown(() => void host.close());
  t.equal(await dial(a.netns, net.gateway, (host.address() as AddressInfo).port), `host ${a.ip}`, 'a pod reaches the host at the gateway');

  await net.removePod(`b-${process.pid}`);
  t.notOk((await listNetns()).includes(b.netns), 'b’s namespace is gone');
  t.notOk((await listLinks(null, 'veth')).includes(hostVethName(NAME_A, `b-${process.pid}`)), 'so is its veth');
  await net.removePod(`b-${process.pid}`);
  t.pass('removing again is fine');
  const c = await net.addPod({ namespace: 'default', name: 'c', uid: `c-${process.pid}` });
  t.not(c.ip, b.ip, 'a freed address is not handed out again at once');
  t.equal(net.pod(`c-${process.pid}`)?.ip, c.ip);
});

t.test('two clusters side by side; cleanup after a crash removes one completely and leaves the other', skip, async (t) => {
  const a = await ClusterNetwork.create({ name: NAME_A, log });
  t.teardown(() => a.destroy());
  t.teardown(() => ClusterNetwork.cleanup(NAME_B));
  // The crashed cluster: a pod with a process, a hosts directory, service chains; then the object is dropped.
  const crashed = await (async () => {
    const network = await ClusterNetwork.create({ name: NAME_B, log });
    const pod = await network.addPod({ namespace: 'default', name: 'p', uid: `p-${process.pid}` });
    await writeHostsFile(pod.netns, '127.0.0.1\tlocalhost\n');
    const [file = '', ...args] = inNetns(pod.netns, ['sleep', '30']);
    const sleeper = spawn(file, args, { stdio: 'ignore' });
    t.teardown(() => void sleeper.kill('SIGKILL'));
    const ended = new Promise<NodeJS.Signals | null>((resolve) => sleeper.on('exit', (_code, signal) => resolve(signal)));
    const proxy = new ServiceProxy({ cluster: NAME_B, log });
    const service = parseCidr(network.serviceCidr);
    if (typeof service === 'string') throw new Error(service);
    await proxy.sync(
      [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: addressAt(service, 10), ports: [{ port: 80 }] } }],
      [{ metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', ports: [{ port: 8080 }], endpoints: [{ addresses: [pod.ip] }] }],
    );
    return { cidrs: [network.podCidr, network.serviceCidr], netns: pod.netns, ended };
  })();
  const cidrs = [a.podCidr, a.serviceCidr, ...crashed.cidrs];
  t.equal(new Set(cidrs).size, 4, `distinct CIDRs: ${cidrs.join(' ')}`);
  t.match(await iptablesSave(), new RegExp(`LD-${NAME_B}-SVC-`), 'the crashed cluster had service chains');
  await t.rejects(ClusterNetwork.create({ name: NAME_B, log }), new RegExp(`cluster network "${NAME_B}" already exists \\(bridge ld-${NAME_B}\\)`));
  await t.rejects(ClusterNetwork.create({ name: `${NAME_B}x`.slice(-12), podCidr: a.podCidr, log }), /overlaps the host route/, 'an explicit CIDR of another cluster is refused');
  t.ok((await ClusterNetwork.list()).includes(NAME_B));

  const a1 = await a.addPod({ namespace: 'default', name: 'a1', uid: `a1-${process.pid}` });
  const a2 = await a.addPod({ namespace: 'default', name: 'a2', uid: `a2-${process.pid}` });
  const port = await serve(a2.netns, a2.ip, 'a2');

  const report = await ClusterNetwork.cleanup(NAME_B);
  t.strictSame(report.namespaces, [crashed.netns], 'the pod namespace');
  t.ok(report.links.includes(bridgeName(NAME_B)), 'the bridge');
  t.ok(report.chains.some((c) => c.includes('-SVC-')) && report.chains.some((c) => c.endsWith('-POSTRT')), 'network and service chains');
  t.equal(await crashed.ended, 'SIGKILL', 'the process in the pod was killed');
  t.strictSame(await listNetns(`ld-${NAME_B}.`), [], 'no namespace of the cluster is listed');
  const links = await listLinks(null);
  t.notOk(links.includes(bridgeName(NAME_B)), 'no bridge');
  t.strictSame(links.filter((l) => l.startsWith(vethPrefix(NAME_B))), [], 'no veth');
  const rules = await iptablesSave();
  t.notMatch(rules, new RegExp(`LD-${NAME_B}-|loom-dev:${NAME_B}\\b`), 'no chain or rule');
  t.notOk((await ipv4RouteDestinations(null)).some((r) => crashed.cidrs.includes(r)), 'no route');
  t.notOk(existsSync(`${NETNS_ETC}/${crashed.netns}`), 'no /etc/netns directory');
  t.notOk((await ClusterNetwork.list()).includes(NAME_B));
  t.strictSame(await ClusterNetwork.cleanup(NAME_B), { namespaces: [], links: [], chains: [], hostsDirs: [] }, 'cleanup again: nothing left');

  t.equal(await dial(a1.netns, a2.ip, port), `a2 ${a1.ip}`, 'the other cluster still works');
  t.match(rules, new RegExp(`:LD-${NAME_A}-POSTRT `), 'and keeps its chains');
  t.match(rules, new RegExp(`-A FORWARD .*-j LD-${NAME_A}-FORWARD`), 'and its jumps');
  t.ok(links.includes(bridgeName(NAME_A)), 'and its bridge');
});

t.test('create over the remains of a half-removed cluster (no bridge left) starts clean', skip, async (t) => {
  const name = `n${process.pid}c`;
  t.teardown(() => ClusterNetwork.cleanup(name));
  const first = await ClusterNetwork.create({ name, log });
  const pod = await first.addPod({ namespace: 'default', name: 'p', uid: `p-${process.pid}` });
  await ip(null, ['link', 'delete', first.bridge]);
  const second = await ClusterNetwork.create({ name, log });
  t.notOk((await listNetns()).includes(pod.netns), 'the old pod namespace is gone');
  const rules = await iptablesSave();
  t.equal(rules.split('\n').filter((l) => l.endsWith(`-j LD-${name}-POSTRT`)).length, 1, 'one jump to each chain, not two');
  t.equal(rules.split('\n').filter((l) => l.endsWith(`-j LD-${name}-FORWARD`)).length, 1);
  const again = await second.addPod({ namespace: 'default', name: 'p', uid: `p-${process.pid}` });
  t.equal(again.netns, pod.netns, 'the same uid gets its namespace back');
  await second.destroy();
});
