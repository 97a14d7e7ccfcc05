/**
 * proxy-init's flow without privileges: arguments, backend choice, apply / in place / remove, IPv6 skipped,
 * failures (NET_ADMIN, verification, self-check) and their exit codes, against the in-memory netfilter. The real
 * programs in a real namespace: proxy-init.test.ts.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import { createLogger } from '@loom/shared/runtime';
import t from 'tap';
import { runInit, type InitDeps } from '../../src/init/cli.js';
import { planRules } from '../../src/init/plan.js';
import { ruleLine } from '../../src/init/render.js';
import type { ProbeOptions, ProbeResult } from '../../src/init/self-check.js';
import { mapOriginalDst } from '../../src/transport/orig-dst.js';
import { FakeNetfilter } from './fake-netfilter.js';
import { parseInitArgs } from '../../src/init/args.js';

interface LogLine {
  level: string;
  event?: string;
  msg: string;
  [key: string]: unknown;
}

const POD_INTERFACES: Record<string, NetworkInterfaceInfo[]> = {
  lo: [
    { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' },
    { address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 'IPv6', mac: '00:00:00:00:00:00', internal: true, cidr: '::1/128', scopeid: 0 },
  ],
  eth0: [
    { address: '10.244.1.5', netmask: '255.255.255.0', family: 'IPv4', mac: '0a:58:0a:f4:01:05', internal: false, cidr: '10.244.1.5/24' },
    { address: 'fe80::858:aff:fef4:105', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '0a:58:0a:f4:01:05', internal: false, cidr: 'fe80::858:aff:fef4:105/64', scopeid: 2 },
    { address: 'fd00:244::5', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '0a:58:0a:f4:01:05', internal: false, cidr: 'fd00:244::5/64', scopeid: 0 },
  ],
};

interface Harness {
  readonly net: FakeNetfilter;
  readonly logs: LogLine[];
  readonly probes: ProbeOptions[];
  readonly out: string[];
  readonly err: string[];
  run(argv?: string[], env?: Record<string, string>): Promise<number>;
  events(): string[];
}

function harness(overrides: Partial<InitDeps> = {}, probeResult?: (o: ProbeOptions) => ProbeResult): Harness {
  const net = new FakeNetfilter();
  const logs: LogLine[] = [];
  const probes: ProbeOptions[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const deps: InitDeps = {
    run: net.run,
    createLogger: (level) => createLogger({ name: 'loom-proxy-init', level, destination: { write: (line: string) => logs.push(JSON.parse(line) as LogLine) } }),
    networkInterfaces: () => POD_INTERFACES,
    ipv6Enabled: () => true,
    owner: { uid: 0, gid: 0 },
    originalDst: () => mapOriginalDst(new Map()),
    probe: (options) => {
      probes.push(options);
      return Promise.resolve(
        probeResult?.(options) ?? { ok: true, dialled: { address: options.target.address, port: 40000 }, original: { address: options.target.address, port: 40000 } },
      );
    },
    ...overrides,
  };
  return {
    net,
    logs,
    probes,
    out,
    err,
    run: (argv = [], env = {}) => runInit(argv, env, { out: (s) => out.push(s), err: (s) => err.push(s) }, deps),
    events: () => logs.map((l) => l.event ?? ''),
  };
}

const plannedLines = (family: 4 | 6, argv: string[] = []): string[] => {
  const parsed = parseInitArgs(argv, {});
  if (parsed.kind !== 'run') throw new Error('bad argv');
  const plan = planRules(parsed.options.settings);
  return (family === 4 ? plan.ipv4 : plan.ipv6).rules.map(ruleLine);
};

/** A fake table's lines in plan order (the fake lists hooks first, then our chains sorted). */
const sortedLines = (lines: string[]): string[] => [...lines].sort();

t.test('help, bad arguments and dry run touch nothing', async (t) => {
  const h = harness();
  t.equal(await h.run(['--help']), 0);
  t.match(h.out.join(''), /^usage: loom-proxy-init \[options\]/);
  t.equal(await h.run(['--skip-outbound-cidrs', '10.0.0.0/33']), 2);
  t.strictSame(h.err, ["loom-proxy-init: --skip-outbound-cidrs: '10.0.0.0/33' has an invalid prefix length (expected 0-32) (see --help)\n"]);
  h.out.length = 0;
  t.equal(await h.run(['--dry-run', '--skip-inbound-ports', '22']), 0);
  const text = h.out.join('');
  t.match(text, /# IPv4: iptables-restore --noflush/);
  t.match(text, /# IPv6: ip6tables-restore --noflush/);
  for (const line of [...plannedLines(4, ['--skip-inbound-ports', '22']), ...plannedLines(6, ['--skip-inbound-ports', '22'])]) t.ok(text.includes(`${line}\n`), `dry run prints ${line}`);
  t.strictSame(h.net.calls, [], 'no iptables program was run');
  t.strictSame(h.logs, [], 'nothing logged');
  t.end();
});

t.test('install on a fresh namespace, then again: nothing changes', async (t) => {
  const h = harness();
  t.equal(await h.run(), 0, h.err.join(''));
  t.strictSame(h.events(), ['backend.selected', 'rules.applied', 'rules.applied', 'self_check.passed', 'self_check.passed']);
  t.match(h.logs[0], { backend: 'nft', reason: 'default: nft and legacy both hold 0 rules', component: 'proxy-init' });
  t.strictSame(sortedLines(h.net.lines('iptables-nft')), sortedLines(plannedLines(4)), 'IPv4 (nft) holds the plan');
  t.strictSame(sortedLines(h.net.lines('ip6tables-nft')), sortedLines(plannedLines(6)), 'IPv6 (nft) holds the plan');
  t.strictSame(h.net.lines('iptables-legacy'), [], 'legacy untouched');
  t.strictSame(
    h.probes.map((p) => [p.target, p.outboundPort]),
    [
      [{ family: 4, address: '10.244.1.5' }, 15001],
      [{ family: 6, address: 'fd00:244::5' }, 15001],
    ],
    'the self-check dials the first pod address of each family (not the link-local one)',
  );

  const before = [h.net.lines('iptables-nft'), h.net.lines('ip6tables-nft')];
  h.logs.length = 0;
  h.net.calls.length = 0;
  t.equal(await h.run(), 0);
  t.strictSame(h.events(), ['backend.selected', 'rules.in_place', 'rules.in_place', 'self_check.passed', 'self_check.passed']);
  t.match(h.logs[1], { msg: 'IPv4 rules already in place' });
  t.match(h.logs[0], { backend: 'nft', reason: 'nft holds more rules (24) than legacy (0)' });
  t.notOk(h.net.calls.some((c) => c.includes('restore')), 'no restore the second time');
  t.strictSame([h.net.lines('iptables-nft'), h.net.lines('ip6tables-nft')], before);
  t.end();
});

t.test('changed settings rewrite our chains; --remove deletes them; removing twice is fine', async (t) => {
  const h = harness();
  t.equal(await h.run(['--backend', 'legacy']), 0);
  t.equal(await h.run(['--backend', 'legacy', '--skip-inbound-ports', '22']), 0);
  t.match(h.logs.find((l) => l.event === 'rules.applied' && l.differences !== undefined && JSON.stringify(l.differences).includes('dport 22')), {
    differences: ["chain LOOM_INBOUND: rule 1 is '-p tcp -m tcp --dport 15020 -j RETURN', planned '-p tcp -m tcp --dport 22 -j RETURN'"],
  });
  t.strictSame(sortedLines(h.net.lines('iptables-legacy')), sortedLines(plannedLines(4, ['--skip-inbound-ports', '22'])));
  h.logs.length = 0;
  t.equal(await h.run(['--remove']), 0, 'auto finds the rules in legacy');
  t.strictSame(h.events(), ['backend.selected', 'rules.removed', 'rules.removed']);
  t.match(h.logs[0], { backend: 'legacy' });
  t.strictSame(h.net.lines('iptables-legacy'), []);
  t.strictSame(h.net.lines('ip6tables-legacy'), []);
  h.logs.length = 0;
  t.equal(await h.run(['--remove', '--backend', 'legacy']), 0);
  t.strictSame(h.events(), ['backend.selected', 'rules.absent', 'rules.absent']);
  t.end();
});

t.test('IPv6 skipped with a note when the namespace or ip6tables lacks it', async (t) => {
  const disabled = harness({ ipv6Enabled: () => false });
  t.equal(await disabled.run(['--backend', 'nft']), 0);
  t.match(disabled.logs.find((l) => l.event === 'ipv6.skipped'), { level: 'warn', reason: 'IPv6 is not enabled in this network namespace' });
  t.strictSame(disabled.net.lines('ip6tables-nft'), []);
  t.equal(disabled.probes.length, 1, 'only IPv4 checked');

  const missing = harness();
  missing.net.overrides.set('ip6tables-nft-save', { code: null, stdout: '', stderr: '', spawnError: 'ENOENT' });
  t.equal(await missing.run(['--backend', 'nft']), 0);
  t.match(missing.logs.find((l) => l.event === 'ipv6.skipped'), { reason: /^ip6tables-nft-save -t nat is not installed/ });
  t.strictSame(sortedLines(missing.net.lines('iptables-nft')), sortedLines(plannedLines(4)));

  const noTable = harness();
  noTable.net.overrides.set('ip6tables-nft-save', { code: 1, stdout: '', stderr: "ip6tables-nft-save: can't initialize ip6tables table `nat': Table does not exist\n" });
  t.equal(await noTable.run(['--backend', 'nft']), 0);
  t.match(noTable.logs.find((l) => l.event === 'ipv6.skipped'), { reason: /the kernel does not support this table here/ });

  const noV6Address = harness({ networkInterfaces: () => ({ lo: POD_INTERFACES.lo, eth0: POD_INTERFACES.eth0?.filter((i) => i.family === 'IPv4') }) });
  t.equal(await noV6Address.run(), 0);
  t.match(noV6Address.logs.find((l) => l.event === 'self_check.note'), { reason: 'no IPv6 pod address: IPv6 redirection not checked' });
  t.end();
});

t.test('failures: one line on stderr, exit 1', async (t) => {
  const denied = harness();
  const permission = { code: 4, stdout: '', stderr: 'iptables-nft-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n' };
  for (const p of ['iptables-nft-save', 'ip6tables-nft-save']) denied.net.overrides.set(p, permission);
  denied.net.overrides.set('iptables-legacy-save', { code: 1, stdout: '', stderr: 'iptables-save v1.8.9 (legacy): Cannot initialize: Permission denied (you must be root)\n' });
  t.equal(await denied.run(), 1);
  t.equal(denied.err.length, 1);
  t.match(denied.err[0], /^loom-proxy-init: proxy-init needs the NET_ADMIN capability \(and NET_RAW\) in the pod's network namespace; .*Permission denied \(you must be root\)\)\n$/);
  t.notMatch(denied.err[0], /\n./, 'one line');

  const deniedExplicit = harness();
  deniedExplicit.net.overrides.set('iptables-legacy-save', permission);
  t.equal(await deniedExplicit.run(['--backend', 'legacy']), 1);
  t.match(deniedExplicit.err[0], /NET_ADMIN/);

  const restoreFails = harness();
  restoreFails.net.overrides.set('iptables-nft-restore', { code: 2, stdout: '', stderr: 'iptables-nft-restore: line 7 failed\n' });
  t.equal(await restoreFails.run(['--backend', 'nft']), 1);
  t.strictSame(restoreFails.err, ['loom-proxy-init: iptables-nft-restore --noflush failed (exit 2): iptables-nft-restore: line 7 failed\n']);

  const unverified = harness();
  unverified.net.ignoreRestore = true;
  t.equal(await unverified.run(['--backend', 'nft']), 1);
  t.match(unverified.err[0], /^loom-proxy-init: after iptables-restore, the IPv4 nat table \(nft\) does not show the plan: chain LOOM_INBOUND is missing \(and \d+ more differences\)\n$/);

  const loopbackOnly = harness({ networkInterfaces: () => ({ lo: POD_INTERFACES.lo }) });
  t.equal(await loopbackOnly.run(), 1);
  t.match(loopbackOnly.err[0], /the self-check needs a pod address .* only loopback; pass --skip-self-check/);
  t.strictSame(sortedLines(loopbackOnly.net.lines('iptables-nft')), sortedLines(plannedLines(4)), 'the rules stay installed');
  const skipped = harness({ networkInterfaces: () => ({ lo: POD_INTERFACES.lo }) });
  t.equal(await skipped.run(['--skip-self-check']), 0);
  t.match(skipped.logs.find((l) => l.event === 'self_check.skipped'), { level: 'warn' });
  const skippedByEnv = harness({ networkInterfaces: () => ({ lo: POD_INTERFACES.lo }) });
  t.equal(await skippedByEnv.run([], { LOOM_SKIP_SELF_CHECK: 'true' }), 0);

  const asProxy = harness({ owner: { uid: 2502, gid: 2502 } });
  t.equal(await asProxy.run(), 1);
  t.match(asProxy.err[0], /no IPv4 pod address \(10\.244\.1\.5\) is redirected for uid 2502 gid 2502/);

  const podExempt = harness();
  t.equal(await podExempt.run(['--skip-outbound-cidrs', '10.244.0.0/16']), 1);
  t.match(podExempt.err[0], /exempt by --skip-outbound-cidrs/);

  const notRedirected = harness({}, () => ({ ok: false, reason: 'IPv4 self-check: the connection to 10.244.1.5:40000 failed (ECONNREFUSED: connect ECONNREFUSED): it was not redirected to port 15001' }));
  t.equal(await notRedirected.run(), 1);
  t.strictSame(notRedirected.err, ['loom-proxy-init: IPv4 self-check: the connection to 10.244.1.5:40000 failed (ECONNREFUSED: connect ECONNREFUSED): it was not redirected to port 15001\n']);

  const noAddon = harness({
    originalDst: () => {
      throw new Error('the SO_ORIGINAL_DST addon is not built (proxy/build/Release/orig_dst.node)');
    },
  });
  t.equal(await noAddon.run(), 1);
  t.strictSame(noAddon.err, ['loom-proxy-init: self-check: the SO_ORIGINAL_DST addon is not built (proxy/build/Release/orig_dst.node)\n']);
  t.end();
});

t.test('stale and duplicate jumps are repaired to exactly one', async (t) => {
  const h = harness();
  t.equal(await h.run(['--backend', 'nft', '--skip-self-check']), 0);
  const good = sortedLines(h.net.lines('iptables-nft'));
  // Someone added a second jump and an old version's jump.
  const restore = await h.net.run('iptables-nft-restore', ['--noflush'], '*nat\n-A PREROUTING -p tcp -j LOOM_INBOUND\n-A OUTPUT -j LOOM_OUTPUT\nCOMMIT\n');
  t.equal(restore.code, 0);
  h.logs.length = 0;
  t.equal(await h.run(['--backend', 'nft', '--skip-self-check']), 0);
  t.match(h.logs.find((l) => l.event === 'rules.applied' && l.family === 4), {
    differences: ["jump '-A PREROUTING -p tcp -j LOOM_INBOUND' is present 2 times, planned once", "jump '-A OUTPUT -j LOOM_OUTPUT' is not planned"],
  });
  t.strictSame(sortedLines(h.net.lines('iptables-nft')), good);
  t.end();
});
