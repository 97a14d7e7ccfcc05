/**
 * The real `loom-proxy-init` (node proxy/dist/src/init/main.js) with the real iptables programs, inside network
 * namespaces this test creates (never the host's): both backends install exactly the plan and pass the
 * self-check, a second run changes nothing, damage is repaired, --remove cleans up; connections land where the
 * rules say (inbound from a peer namespace over a veth pair, outbound by owner); lacking NET_ADMIN and bad
 * arguments give one line and their exit codes.
 */
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { parseInitArgs } from '../../src/init/args.js';
import { planRules } from '../../src/init/plan.js';
import { ruleLine } from '../../src/init/render.js';
import { addDevice, connectNetns, createNetns, exec, hasProgram, netnsUnavailable, testSubnet, type ExecOptions, type Netns } from '../support/netns.js';
import { dialFrom, startProbeServer, type DialResult } from './probe.js';
import { checkoutUnreadableBy } from '../../src/testing/access.js';

const MAIN = fileURLToPath(new URL('../../src/init/main.js', import.meta.url));
const PROGRAMS = ['iptables-nft-save', 'iptables-legacy-save', 'ip6tables-nft-restore', 'ip6tables-legacy-restore', 'setpriv'];
const unavailable = netnsUnavailable() ?? (PROGRAMS.every((program) => hasProgram(program)) ? null : `needs ${PROGRAMS.join(', ')}`);
const skip = { skip: unavailable ?? false };
// Tests that run node as other users need the checkout readable by them (not so under a private directory).
const asUsers =
  unavailable !== null
    ? skip
    : { skip: (await checkoutUnreadableBy(1000)) ?? (await checkoutUnreadableBy(2502)) ?? (await checkoutUnreadableBy(65534)) ?? false };

interface LogLine {
  level: string;
  event?: string;
  family?: number;
  backend?: string;
  dialled?: string;
  [key: string]: unknown;
}

interface InitRun {
  readonly code: number | null;
  readonly stderr: string;
  readonly logs: LogLine[];
  events(): string[];
}

async function proxyInit(ns: Netns, args: readonly string[], options: ExecOptions = {}): Promise<InitRun> {
  const result = await ns.node(MAIN, args, options);
  const logs = result.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
  return { code: result.code, stderr: result.stderr, logs, events: () => logs.map((l) => `${l.event ?? ''}${l.family === undefined ? '' : `:${l.family}`}`) };
}

/** The nat table's rule lines (`-A ...`) as the backend's save program prints them. */
async function natLines(ns: Netns, backend: string, family: 4 | 6): Promise<string[]> {
  const out = await ns.execOk(`${family === 4 ? 'iptables' : 'ip6tables'}-${backend}-save`, ['-t', 'nat']);
  return out.split('\n').filter((l) => l.startsWith('-A '));
}

const ownLines = (lines: string[]): string[] => lines.filter((l) => l.includes('LOOM_'));

function planned(family: 4 | 6, argv: string[] = []): string[] {
  const parsed = parseInitArgs(argv, {});
  if (parsed.kind !== 'run') throw new Error(`bad argv ${argv.join(' ')}`);
  const plan = planRules(parsed.options.settings);
  return (family === 4 ? plan.ipv4 : plan.ipv6).rules.map(ruleLine);
}

/** A namespace with a pod address of each family. */
async function podNamespace(t: Test): Promise<{ ns: Netns; v4: string; v6: string }> {
  const ns = await createNetns(t);
  const subnet = testSubnet();
  await addDevice(ns, { name: 'pod0', addresses: [subnet.v4(2, 24), subnet.v6(2, 64)] });
  return { ns, v4: subnet.v4(2), v6: subnet.v6(2) };
}

for (const backend of ['nft', 'legacy'] as const) {
  const other = backend === 'nft' ? 'legacy' : 'nft';
  t.test(`${backend}: installs the plan and checks it, changes nothing the second time, repairs, removes`, skip, async (t) => {
    const { ns, v4, v6 } = await podNamespace(t);

    const first = await proxyInit(ns, ['--backend', backend]);
    t.equal(first.code, 0, first.stderr);
    t.equal(first.stderr, '');
    t.strictSame(first.events(), ['backend.selected', 'rules.applied:4', 'rules.applied:6', 'self_check.passed:4', 'self_check.passed:6']);
    t.match(first.logs.find((l) => l.event === 'self_check.passed' && l.family === 4), { dialled: new RegExp(`^${v4.replaceAll('.', '\\.')}:\\d+$`) });
    t.match(first.logs.find((l) => l.event === 'self_check.passed' && l.family === 6), { dialled: new RegExp(`^\\[${v6}\\]:\\d+$`) });

    const v4Lines = await natLines(ns, backend, 4);
    const v6Lines = await natLines(ns, backend, 6);
    t.strictSame(v4Lines, planned(4), 'IPv4: iptables-save shows exactly the plan');
    t.strictSame(v6Lines, planned(6), 'IPv6: ip6tables-save shows exactly the plan');
    t.ok(v4Lines.includes('-A PREROUTING -p tcp -j LOOM_INBOUND'));
    t.ok(v4Lines.includes('-A LOOM_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --uid-owner 2502 -j LOOM_IN_REDIRECT'));
    t.ok(v6Lines.includes('-A LOOM_OUTPUT -d ::1/128 -j RETURN'));
    t.strictSame(ownLines(await natLines(ns, other, 4)), [], `the ${other} backend is untouched`);

    const again = await proxyInit(ns, []);
    t.equal(again.code, 0, again.stderr);
    t.strictSame(again.events(), ['backend.selected', 'rules.in_place:4', 'rules.in_place:6', 'self_check.passed:4', 'self_check.passed:6']);
    t.match(again.logs[0], { backend }, 'auto picks the backend holding the rules');
    t.match(again.logs[1], { msg: 'IPv4 rules already in place' });
    t.strictSame(await natLines(ns, backend, 4), v4Lines, 'IPv4 unchanged');
    t.strictSame(await natLines(ns, backend, 6), v6Lines, 'IPv6 unchanged');

    // Damage: a duplicate jump, a foreign rule in our chain, an old chain with a jump to it.
    const ipt = `iptables-${backend}`;
    await ns.execOk(ipt, ['-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '-j', 'LOOM_INBOUND']);
    await ns.execOk(ipt, ['-t', 'nat', '-I', 'LOOM_OUTPUT', '1', '-j', 'RETURN']);
    await ns.execOk(ipt, ['-t', 'nat', '-N', 'LOOM_OLD']);
    await ns.execOk(ipt, ['-t', 'nat', '-A', 'OUTPUT', '-j', 'LOOM_OLD']);
    await ns.execOk(ipt, ['-t', 'nat', '-A', 'POSTROUTING', '-j', 'MASQUERADE']);
    const repair = await proxyInit(ns, ['--backend', backend]);
    t.equal(repair.code, 0, repair.stderr);
    t.strictSame(repair.events(), ['backend.selected', 'rules.applied:4', 'rules.in_place:6', 'self_check.passed:4', 'self_check.passed:6']);
    t.strictSame(ownLines(await natLines(ns, backend, 4)), v4Lines, 'repaired: exactly the plan again');
    t.ok((await natLines(ns, backend, 4)).includes('-A POSTROUTING -j MASQUERADE'), "another program's rule is left alone");
    t.notMatch(await ns.execOk(`iptables-${backend}-save`, ['-t', 'nat']), /LOOM_OLD/, 'the old chain is gone');

    const removed = await proxyInit(ns, ['--remove', '--backend', backend]);
    t.equal(removed.code, 0, removed.stderr);
    t.strictSame(removed.events(), ['backend.selected', 'rules.removed:4', 'rules.removed:6']);
    t.strictSame(ownLines(await natLines(ns, backend, 4)), []);
    t.strictSame(ownLines(await natLines(ns, backend, 6)), []);
    t.notMatch(await ns.execOk(`iptables-${backend}-save`, ['-t', 'nat']), /LOOM_/, 'no chain of ours is left');
    const removedAgain = await proxyInit(ns, ['--remove', '--backend', backend]);
    t.equal(removedAgain.code, 0);
    t.strictSame(removedAgain.events(), ['backend.selected', 'rules.absent:4', 'rules.absent:6']);
  });
}

t.test('auto: legacy when legacy already holds rules, else nft', skip, async (t) => {
  const fresh = await podNamespace(t);
  const onFresh = await proxyInit(fresh.ns, ['--skip-self-check']);
  t.equal(onFresh.code, 0, onFresh.stderr);
  t.match(onFresh.logs[0], { event: 'backend.selected', backend: 'nft' });
  t.strictSame(await natLines(fresh.ns, 'nft', 4), planned(4));

  const { ns } = await podNamespace(t);
  await ns.execOk('iptables-legacy', ['-t', 'filter', '-A', 'INPUT', '-p', 'tcp', '--dport', '9', '-j', 'DROP']);
  const run = await proxyInit(ns, ['--skip-self-check']);
  t.equal(run.code, 0, run.stderr);
  t.match(run.logs[0], { event: 'backend.selected', backend: 'legacy', reason: 'legacy holds more rules (1) than nft (0)' });
  t.strictSame(await natLines(ns, 'legacy', 4), planned(4));
  t.strictSame(ownLines(await natLines(ns, 'nft', 4)), []);
});

t.test('connections land where the rules say', asUsers, async (t) => {
  const pod = await createNetns(t);
  const peer = await createNetns(t);
  const subnet = testSubnet();
  const podV4 = subnet.v4(2);
  const peerV4 = subnet.v4(3);
  const podV6 = subnet.v6(2);
  const peerV6 = subnet.v6(3);
  await connectNetns(pod, peer, { aAddresses: [subnet.v4(2, 24), subnet.v6(2, 64)], bAddresses: [subnet.v4(3, 24), subnet.v6(3, 64)] });

  const init = await proxyInit(pod, ['--skip-inbound-ports', '2222', '--skip-outbound-ports', '5432']);
  t.equal(init.code, 0, init.stderr);
  await startProbeServer(pod, [
    { name: 'inbound', host: '0.0.0.0', port: 15006 },
    { name: 'inbound6', host: '::', port: 15006, ipv6Only: true },
    { name: 'outbound', host: '0.0.0.0', port: 15001 },
    { name: 'outbound6', host: '::', port: 15001, ipv6Only: true },
    { name: 'admin', host: '0.0.0.0', port: 15020 },
    { name: 'ssh', host: '0.0.0.0', port: 2222 },
    { name: 'app', host: '127.0.0.1', port: 8080 },
    { name: 'app6', host: '::1', port: 8080, ipv6Only: true },
  ]);
  await startProbeServer(peer, [
    { name: 'peer', host: '0.0.0.0', port: 8080 },
    { name: 'peer6', host: '::', port: 8080, ipv6Only: true },
    { name: 'peer-db', host: '0.0.0.0', port: 5432 },
  ]);

  /** Which listener answered, and the original destination it read. */
  const landed = (results: DialResult[]): string[] =>
    results.map((r) => {
      if (r.reply === undefined) return `${r.host}:${r.port} → ${r.error ?? '?'}`;
      const o = r.reply.original;
      const original = o === null ? 'direct' : 'error' in o ? `error ${o.error}` : `${o.address}:${o.port}`;
      return `${r.host}:${r.port} → ${r.reply.name} (${original})`;
    });

  const fromPeer = await dialFrom(peer, [
    { host: podV4, port: 8080 },
    { host: podV6, port: 8080 },
    { host: podV4, port: 15020 },
    { host: podV4, port: 2222 },
  ]);
  t.strictSame(landed(fromPeer), [
    `${podV4}:8080 → inbound (${podV4}:8080)`,
    `${podV6}:8080 → inbound6 (${podV6}:8080)`,
    `${podV4}:15020 → admin (direct)`,
    `${podV4}:2222 → ssh (direct)`,
  ], 'inbound: redirected to 15006 except the admin port and skip-inbound ports');

  const asApp = await dialFrom(
    pod,
    [
      { host: peerV4, port: 8080 },
      { host: peerV6, port: 8080 },
      { host: podV4, port: 8080 },
      { host: '127.0.0.1', port: 8080 },
      { host: '::1', port: 8080 },
      { host: peerV4, port: 5432 },
    ],
    { asUser: { uid: 1000, gid: 1000 } },
  );
  t.strictSame(landed(asApp), [
    `${peerV4}:8080 → outbound (${peerV4}:8080)`,
    `${peerV6}:8080 → outbound6 (${peerV6}:8080)`,
    `${podV4}:8080 → outbound (${podV4}:8080)`,
    '127.0.0.1:8080 → app (direct)',
    '::1:8080 → app6 (direct)',
    `${peerV4}:5432 → peer-db (direct)`,
  ], 'the app: outbound to 15001, also to its own pod address; loopback and skip-outbound ports untouched');

  const asProxy = await dialFrom(
    pod,
    [
      { host: peerV4, port: 8080 },
      { host: peerV6, port: 8080 },
      { host: podV4, port: 8080 },
      { host: podV6, port: 8080 },
      { host: '127.0.0.1', port: 8080 },
    ],
    { asUser: { uid: 2502, gid: 2502 } },
  );
  t.strictSame(landed(asProxy), [
    `${peerV4}:8080 → peer (direct)`,
    `${peerV6}:8080 → peer6 (direct)`,
    `${podV4}:8080 → inbound (${podV4}:8080)`,
    `${podV6}:8080 → inbound6 (${podV6}:8080)`,
    '127.0.0.1:8080 → app (direct)',
  ], "the proxy: its own connections leave untouched, except to its own pod address, which goes inbound");
});

t.test('without NET_ADMIN: one line naming what is needed, exit 1', skip, async (t) => {
  const { ns } = await podNamespace(t);
  const cases: [string, string[], ExecOptions, string[]][] = [
    ['an unprivileged user, auto', [], { asUser: { uid: 65534, gid: 65534 } }, []],
    ['an unprivileged user, nft', [], { asUser: { uid: 65534, gid: 65534 } }, ['--backend', 'nft']],
    ['an unprivileged user, legacy', [], { asUser: { uid: 65534, gid: 65534 } }, ['--backend', 'legacy']],
  ];
  await t.test('as an unprivileged user', { skip: (await checkoutUnreadableBy(65534)) ?? false }, async (t) => {
    for (const [name, , options, args] of cases) {
      const run = await proxyInit(ns, args, options);
      t.equal(run.code, 1, `${name}: exit 1`);
      t.match(run.stderr, /^loom-proxy-init: proxy-init needs the NET_ADMIN capability \(and NET_RAW\) in the pod's network namespace; .*Permission denied/, name);
      t.equal(run.stderr.trimEnd().split('\n').length, 1, `${name}: one line, no stack trace`);
    }
  });
  // Root without the capabilities (a pod's init container that forgot them).
  const rootNoCaps = await ns.exec('setpriv', ['--bounding-set=-net_admin,-net_raw', '--', process.execPath, MAIN]);
  t.equal(rootNoCaps.code, 1);
  t.match(rootNoCaps.stderr, /^loom-proxy-init: proxy-init needs the NET_ADMIN capability/);
  t.equal(rootNoCaps.stderr.trimEnd().split('\n').length, 1);
  t.strictSame(ownLines(await natLines(ns, 'nft', 4)), [], 'nothing was installed');
});

t.test('a namespace with only loopback: the self-check needs a pod address', skip, async (t) => {
  const ns = await createNetns(t);
  const run = await proxyInit(ns, []);
  t.equal(run.code, 1);
  t.match(run.stderr, /^loom-proxy-init: the self-check needs a pod address .* only loopback; pass --skip-self-check/);
  const skipped = await proxyInit(ns, ['--skip-self-check']);
  t.equal(skipped.code, 0, skipped.stderr);
  t.ok(skipped.events().includes('self_check.skipped'));
});

t.test('bad arguments: exit 2 and one line, before touching iptables', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--inbound-port', '0'], /^loom-proxy-init: --inbound-port: '0' is not a port \(expected 1-65535\) \(see --help\)$/],
    [['--skip-outbound-cidrs', '10.0.0.0/8,300.1.1.1/32'], /^loom-proxy-init: --skip-outbound-cidrs: '300\.1\.1\.1\/32' is not an IPv4 or IPv6 CIDR/],
    [['--backend', 'nftables'], /^loom-proxy-init: --backend: 'nftables' is not a backend/],
    [['--frobnicate'], /^loom-proxy-init: unknown flag --frobnicate \(see --help\)$/],
  ];
  for (const [args, message] of cases) {
    // Outside any namespace: argument errors exit before any iptables program runs.
    const run = await exec([process.execPath, MAIN, ...args]);
    t.equal(run.code, 2, `${args.join(' ')}: exit 2`);
    t.match(run.stderr.trimEnd(), message);
    t.equal(run.stderr.trimEnd().split('\n').length, 1, 'one line');
    t.equal(run.stdout, '', 'nothing logged');
  }
  const env = await exec([process.execPath, MAIN], { env: { LOOM_SKIP_INBOUND_PORTS: '22,ssh' } });
  t.equal(env.code, 2);
  t.equal(env.stderr, "loom-proxy-init: LOOM_SKIP_INBOUND_PORTS: 'ssh' is not a port (expected 1-65535) (see --help)\n");
  const help = await exec([process.execPath, MAIN, '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^usage: loom-proxy-init/);
});
