/** Backend detection (nft vs legacy) and how iptables failures read, NET_ADMIN first. */
import t from 'tap';
import { chooseBackend, detectBackend, type BackendProbe } from '../../src/init/backend.js';
import { classifyFailure, failureMessage, IptablesError, programName, type CommandResult, type Runner } from '../../src/init/iptables.js';

const ok = (ruleLines: number): BackendProbe => ({ available: true, ruleLines });
const broken = (kind: IptablesError['kind'], message: string): BackendProbe => ({ available: false, failure: new IptablesError(kind, 'x', message) });

t.test('chooseBackend: the backend holding more rules, nft by default, a broken one never', (t) => {
  const cases: [string, BackendProbe, BackendProbe, string, RegExp][] = [
    ['both empty', ok(0), ok(0), 'nft', /default: nft and legacy both hold 0 rules/],
    ['equal counts', ok(5), ok(5), 'nft', /default/],
    ['legacy holds rules', ok(0), ok(12), 'legacy', /legacy holds more rules \(12\) than nft \(0\)/],
    ['nft holds more', ok(30), ok(4), 'nft', /nft holds more rules \(30\) than legacy \(4\)/],
    ['legacy unusable', ok(0), broken('unsupported', 'no ip_tables'), 'nft', /the legacy backend is unusable: no ip_tables/],
    ['nft unusable', broken('unsupported', 'no nf_tables'), ok(0), 'legacy', /the nft backend is unusable: no nf_tables/],
    ['nft not installed, legacy with rules', broken('missing', 'iptables-nft-save is not installed'), ok(3), 'legacy', /not installed/],
  ];
  for (const [name, nft, legacy, backend, reason] of cases) {
    const choice = chooseBackend({ nft, legacy });
    t.match(choice, { ok: true, backend }, name);
    if (choice.ok) t.match(choice.reason, reason, `${name}: reason`);
  }
  const denied = chooseBackend({ nft: broken('unsupported', 'no nf_tables'), legacy: broken('permission', 'needs NET_ADMIN') });
  t.match(denied, { ok: false, failure: { kind: 'permission', message: 'needs NET_ADMIN' } }, 'neither works: a permission problem explains it');
  const deniedOne = chooseBackend({ nft: broken('permission', 'needs NET_ADMIN'), legacy: ok(0) });
  t.match(deniedOne, { ok: false, failure: { kind: 'permission' } }, 'one backend refused for lack of privilege: the other cannot work either');
  const neither = chooseBackend({ nft: broken('missing', 'nft not installed'), legacy: broken('unsupported', 'no ip_tables') });
  t.match(neither, { ok: false, failure: { message: 'no usable iptables backend: nft not installed; no ip_tables' } });
  t.end();
});

t.test('detectBackend counts rule lines of the save programs of both families', async (t) => {
  const outputs: Record<string, CommandResult> = {
    'iptables-nft-save': { code: 0, stdout: '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n', stderr: '' },
    'ip6tables-nft-save': { code: 0, stdout: '', stderr: '' },
    'iptables-legacy-save': { code: 0, stdout: '*filter\n-A INPUT -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n', stderr: '' },
    'ip6tables-legacy-save': { code: 0, stdout: '*filter\n-A INPUT -j ACCEPT\nCOMMIT\n', stderr: '' },
  };
  const calls: string[] = [];
  const run: Runner = (file, args) => {
    calls.push([file, ...args].join(' '));
    return Promise.resolve(outputs[file] ?? { code: null, stdout: '', stderr: '', spawnError: 'ENOENT' });
  };
  t.match(await detectBackend(run), { ok: true, backend: 'legacy', reason: 'legacy holds more rules (3) than nft (0)' });
  t.strictSame(calls.sort(), ['ip6tables-legacy-save', 'ip6tables-nft-save', 'iptables-legacy-save', 'iptables-nft-save']);

  outputs['ip6tables-nft-save'] = { code: 1, stdout: '', stderr: 'ip6tables-nft-save: table does not exist' };
  outputs['iptables-nft-save'] = { code: 0, stdout: '*nat\n-A A\n-A B\n-A C\n-A D\nCOMMIT\n', stderr: '' };
  t.match(await detectBackend(run), { ok: true, backend: 'nft' }, 'an IPv6 failure counts as no rules');
  t.end();
});

t.test('classifyFailure and the one-line messages', (t) => {
  const r = (stderr: string, code: number | null = 1, spawnError?: string): CommandResult => ({ code, stdout: '', stderr, ...(spawnError === undefined ? {} : { spawnError }) });
  const cases: [string, CommandResult, IptablesError['kind']][] = [
    ['nft without NET_ADMIN', r('iptables-nft-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n', 4), 'permission'],
    ['legacy without NET_ADMIN', r('iptables-save v1.8.9 (legacy): Cannot initialize: Permission denied (you must be root)\n'), 'permission'],
    ['old iptables without NET_RAW', r("iptables v1.6.1: can't initialize iptables table `nat': Permission denied (you must be root)\nPerhaps iptables or your kernel needs to be upgraded.\n", 3), 'permission'],
    ['EPERM', r('iptables-restore: line 2 failed: Operation not permitted\n'), 'permission'],
    ['no such table', r("iptables-legacy-save: can't initialize iptables table `nat': Table does not exist (do you need to insmod?)\n"), 'unsupported'],
    ['no IPv6 in the kernel', r('ip6tables-nft-save: Address family not supported by protocol\n'), 'unsupported'],
    ['not installed', r('', null, 'ENOENT'), 'missing'],
    ['a bad rule', r('iptables-restore: line 5 failed\n', 2), 'failed'],
  ];
  for (const [name, result, kind] of cases) t.equal(classifyFailure(result), kind, name);

  const [, denied] = cases[0] ?? [];
  const message = failureMessage('permission', 'iptables-nft-save -t nat', denied ?? r(''));
  t.equal(
    message,
    "proxy-init needs the NET_ADMIN capability (and NET_RAW) in the pod's network namespace; run the init container as root with securityContext.capabilities.add: [NET_ADMIN, NET_RAW] (iptables-nft-save -t nat: Could not fetch rule set generation id: Permission denied (you must be root))",
  );
  t.notMatch(message, /\n/, 'one line');
  t.match(failureMessage('missing', 'ip6tables-legacy-save', r('', null, 'ENOENT')), /^ip6tables-legacy-save is not installed/);
  t.match(failureMessage('failed', 'iptables-nft-restore --noflush', r('iptables-nft-restore: line 5 failed\n', 2)), 'iptables-nft-restore --noflush failed (exit 2): iptables-nft-restore: line 5 failed');
  t.equal(programName('restore', 'legacy', 6), 'ip6tables-legacy-restore');
  t.equal(programName('save', 'nft', 4), 'iptables-nft-save');
  t.end();
});
