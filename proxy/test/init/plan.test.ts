/**
 * The interception plan: what each setting puts in the nat table, that every planned rule is reachable, and
 * where connections end up (evaluated against the plan with the simulator).
 */
import t from 'tap';
import type { Cidr, Family } from '../../src/init/cidr.js';
import { planRules, type FamilyPlan, type Hook, type InitSettings, type Rule, type RulePlan } from '../../src/init/plan.js';
import { ruleLine } from '../../src/init/render.js';
import { traverse, type Packet, type Verdict } from '../../src/init/simulate.js';
import { cidr, DEFAULTS } from './support.js';

const settings = (overrides: Partial<InitSettings>): InitSettings => ({ ...DEFAULTS, ...overrides });
const familyPlan = (plan: RulePlan, family: Family): FamilyPlan => (family === 4 ? plan.ipv4 : plan.ipv6);
const lines = (plan: FamilyPlan): string[] => plan.rules.map(ruleLine);

t.test('the default plan, rule by rule', (t) => {
  const plan = planRules(DEFAULTS);
  t.strictSame(plan.ipv4.chains, ['LOOM_INBOUND', 'LOOM_IN_REDIRECT', 'LOOM_OUTPUT', 'LOOM_OUT_REDIRECT']);
  t.strictSame(lines(plan.ipv4), [
    '-A PREROUTING -p tcp -j LOOM_INBOUND',
    '-A OUTPUT -p tcp -j LOOM_OUTPUT',
    '-A LOOM_INBOUND -p tcp -m tcp --dport 15020 -j RETURN',
    '-A LOOM_INBOUND -p tcp -j LOOM_IN_REDIRECT',
    '-A LOOM_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006',
    '-A LOOM_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --uid-owner 2502 -j LOOM_IN_REDIRECT',
    '-A LOOM_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --gid-owner 2502 -j LOOM_IN_REDIRECT',
    '-A LOOM_OUTPUT -m owner --uid-owner 2502 -j RETURN',
    '-A LOOM_OUTPUT -m owner --gid-owner 2502 -j RETURN',
    '-A LOOM_OUTPUT -d 127.0.0.1/32 -j RETURN',
    '-A LOOM_OUTPUT -j LOOM_OUT_REDIRECT',
    '-A LOOM_OUT_REDIRECT -p tcp -j REDIRECT --to-ports 15001',
  ]);
  t.strictSame(
    lines(plan.ipv6),
    lines(plan.ipv4).map((l) => l.replaceAll('127.0.0.1/32', '::1/128')),
    'IPv6: the same rules with ::1 as loopback',
  );
  t.end();
});

t.test('settings → rules', (t) => {
  const cases: { name: string; settings: InitSettings; family: Family; has: string[]; hasNot?: string[] }[] = [
    {
      name: 'skip-inbound ports, sorted, deduplicated, with the admin port',
      settings: settings({ skipInboundPorts: [8081, 22, 8081] }),
      family: 4,
      has: [
        '-A LOOM_INBOUND -p tcp -m tcp --dport 22 -j RETURN',
        '-A LOOM_INBOUND -p tcp -m tcp --dport 8081 -j RETURN',
        '-A LOOM_INBOUND -p tcp -m tcp --dport 15020 -j RETURN',
      ],
    },
    {
      name: 'the admin port listed as a skip port too: one rule',
      settings: settings({ skipInboundPorts: [15020] }),
      family: 6,
      has: ['-A LOOM_INBOUND -p tcp -m tcp --dport 15020 -j RETURN'],
    },
    {
      name: 'skip-outbound ports',
      settings: settings({ skipOutboundPorts: [5432, 443] }),
      family: 6,
      has: ['-A LOOM_OUTPUT -p tcp -m tcp --dport 443 -j RETURN', '-A LOOM_OUTPUT -p tcp -m tcp --dport 5432 -j RETURN'],
    },
    {
      name: 'IPv4 CIDRs go to the IPv4 plan only; one inside another is dropped',
      settings: settings({ skipOutboundCidrs: [cidr('10.1.0.0/16'), cidr('10.0.0.0/8'), cidr('fd00::/8'), cidr('169.254.169.254'), cidr('10.0.0.0/8')] }),
      family: 4,
      has: ['-A LOOM_OUTPUT -d 10.0.0.0/8 -j RETURN', '-A LOOM_OUTPUT -d 169.254.169.254/32 -j RETURN'],
      hasNot: ['-A LOOM_OUTPUT -d 10.1.0.0/16 -j RETURN', '-A LOOM_OUTPUT -d fd00::/8 -j RETURN'],
    },
    {
      name: 'IPv6 CIDRs go to the IPv6 plan only',
      settings: settings({ skipOutboundCidrs: [cidr('10.0.0.0/8'), cidr('fd00::/8'), cidr('2001:db8::/32')] }),
      family: 6,
      has: ['-A LOOM_OUTPUT -d fd00::/8 -j RETURN', '-A LOOM_OUTPUT -d 2001:db8::/32 -j RETURN'],
      hasNot: ['-A LOOM_OUTPUT -d 10.0.0.0/8 -j RETURN'],
    },
    {
      name: 'other ports and ids',
      settings: settings({ proxyUid: 1337, proxyGid: 1338, inboundPort: 16006, outboundPort: 16001, adminPort: 16020 }),
      family: 4,
      has: [
        '-A LOOM_IN_REDIRECT -p tcp -j REDIRECT --to-ports 16006',
        '-A LOOM_OUT_REDIRECT -p tcp -j REDIRECT --to-ports 16001',
        '-A LOOM_INBOUND -p tcp -m tcp --dport 16020 -j RETURN',
        '-A LOOM_OUTPUT -m owner --uid-owner 1337 -j RETURN',
        '-A LOOM_OUTPUT -m owner --gid-owner 1338 -j RETURN',
        '-A LOOM_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --gid-owner 1338 -j LOOM_IN_REDIRECT',
      ],
      hasNot: ['-A LOOM_INBOUND -p tcp -m tcp --dport 15020 -j RETURN'],
    },
    {
      name: 'a /0 turns off outbound interception for its family (no redirect chain)',
      settings: settings({ skipOutboundCidrs: [cidr('0.0.0.0/0'), cidr('10.0.0.0/8')] }),
      family: 4,
      has: ['-A LOOM_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --uid-owner 2502 -j LOOM_IN_REDIRECT', '-A PREROUTING -p tcp -j LOOM_INBOUND'],
      hasNot: ['-A LOOM_OUTPUT -j LOOM_OUT_REDIRECT', '-A LOOM_OUT_REDIRECT -p tcp -j REDIRECT --to-ports 15001', '-A LOOM_OUTPUT -d 10.0.0.0/8 -j RETURN'],
    },
    {
      name: "the other family's /0 changes nothing here",
      settings: settings({ skipOutboundCidrs: [cidr('0.0.0.0/0')] }),
      family: 6,
      has: ['-A LOOM_OUTPUT -j LOOM_OUT_REDIRECT', '-A LOOM_OUT_REDIRECT -p tcp -j REDIRECT --to-ports 15001'],
    },
  ];
  for (const c of cases) {
    const planned = lines(familyPlan(planRules(c.settings), c.family));
    for (const line of c.has) t.equal(planned.filter((l) => l === line).length, 1, `${c.name}: '${line}' once`);
    for (const line of c.hasNot ?? []) t.notOk(planned.includes(line), `${c.name}: no '${line}'`);
  }
  const noCapture = planRules(settings({ skipOutboundCidrs: [cidr('0.0.0.0/0')] }));
  t.notOk(noCapture.ipv4.chains.includes('LOOM_OUT_REDIRECT'), 'the unused chain is not created');
  t.ok(noCapture.ipv6.chains.includes('LOOM_OUT_REDIRECT'));
  t.end();
});

/** Packets exercising every distinction the settings make: each skip value, loopback, pod, outside, lo or not, owners. */
function packets(plan: RulePlan, family: Family): { hook: Hook; packet: Packet }[] {
  const s = plan.settings;
  const cidrs = s.skipOutboundCidrs.filter((c) => c.family === family);
  const outsideCandidates = family === 4 ? ['192.0.2.10', '198.51.100.7', '203.0.113.1'] : ['2001:db8::10', '2001:db8:1::7', '2002::1'];
  const outside = outsideCandidates.filter((a) => !cidrs.some((c) => traverseContains(c, a)));
  const destinations = [family === 4 ? '127.0.0.1' : '::1', family === 4 ? '10.244.1.5' : 'fd00:244::5', ...outside, ...cidrs.map((c) => c.text.split('/')[0] ?? '')];
  const ports = [...new Set([s.adminPort, s.inboundPort, s.outboundPort, 8080, ...s.skipInboundPorts, ...s.skipOutboundPorts])];
  const out: { hook: Hook; packet: Packet }[] = [];
  for (const dst of destinations) {
    for (const dport of ports) {
      out.push({ hook: 'PREROUTING', packet: { dst, dport } });
      for (const outInterface of ['lo', 'eth0']) {
        for (const uid of [0, 1000, s.proxyUid]) {
          for (const gid of [0, 1000, s.proxyGid]) out.push({ hook: 'OUTPUT', packet: { dst, dport, outInterface, uid, gid } });
        }
      }
    }
  }
  return out;
}

const traverseContains = (c: Cidr, address: string): boolean => {
  const probe: FamilyPlan = { family: c.family, chains: [], rules: [{ chain: 'OUTPUT', match: { destination: c }, target: { kind: 'redirect', toPort: 1 }, why: '' }] };
  return traverse(probe, 'OUTPUT', { dst: address, dport: 1 }).verdict.kind === 'redirect';
};

const REACHABILITY_SETTINGS: [string, InitSettings][] = [
  ['defaults', DEFAULTS],
  ['skip ports both ways', settings({ skipInboundPorts: [22, 8081], skipOutboundPorts: [5432, 443, 22] })],
  ['many CIDRs, both families', settings({ skipOutboundCidrs: [cidr('10.0.0.0/8'), cidr('10.1.0.0/16'), cidr('172.16.0.0/12'), cidr('fd00::/8'), cidr('2001:db8::/32')] })],
  ['the pod address itself skipped', settings({ skipOutboundCidrs: [cidr('10.244.1.5'), cidr('fd00:244::5')] })],
  ['a /0 per family', settings({ skipOutboundCidrs: [cidr('0.0.0.0/0'), cidr('::/0')] })],
  ['uid and gid differ, ports moved', settings({ proxyUid: 1337, proxyGid: 7, inboundPort: 16006, outboundPort: 16001, adminPort: 16020, skipInboundPorts: [16020] })],
];

/** Rules of `fp` that no packet of the universe matches. */
function unreachableRules(plan: RulePlan, fp: FamilyPlan): string[] {
  const hit = new Set<Rule>();
  for (const { hook, packet } of packets(plan, fp.family)) for (const rule of traverse(fp, hook, packet).matched) hit.add(rule);
  return fp.rules.filter((r) => !hit.has(r)).map(ruleLine);
}

t.test('every planned rule is reachable, and every chain of ours is entered', (t) => {
  for (const [name, s] of REACHABILITY_SETTINGS) {
    const plan = planRules(s);
    for (const family of [4, 6] as const) {
      const fp = familyPlan(plan, family);
      t.strictSame(unreachableRules(plan, fp), [], `${name}, IPv${family}: no unreachable rule`);
      const entered = new Set(fp.rules.flatMap((r) => (r.target.kind === 'jump' ? [r.target.chain] : [])));
      t.strictSame(fp.chains.filter((c) => !entered.has(c)), [], `${name}, IPv${family}: every chain is jumped to`);
      t.strictSame(new Set(fp.rules.map((r) => r.chain)), new Set(['PREROUTING', 'OUTPUT', ...fp.chains]), `${name}, IPv${family}: rules only in the hooks and our chains`);
    }
  }
  // The check itself: a rule shadowed by an earlier, broader one is reported.
  const plan = planRules(DEFAULTS);
  const shadowed: Rule = { chain: 'LOOM_OUTPUT', match: { destination: cidr('10.0.0.0/8') }, target: { kind: 'return' }, why: 'after the catch-all' };
  const broken: FamilyPlan = { ...plan.ipv4, rules: [...plan.ipv4.rules, shadowed] };
  t.strictSame(unreachableRules(plan, broken), ['-A LOOM_OUTPUT -d 10.0.0.0/8 -j RETURN'], 'a rule after the catch-all jump is found unreachable');
  t.end();
});

t.test('where connections end up', (t) => {
  const s = settings({
    skipInboundPorts: [22],
    skipOutboundPorts: [5432],
    skipOutboundCidrs: [cidr('169.254.169.254'), cidr('fd00:ec2::254')],
  });
  const plan = planRules(s);
  const toInbound: Verdict = { kind: 'redirect', port: 15006 };
  const toOutbound: Verdict = { kind: 'redirect', port: 15001 };
  const untouched: Verdict = { kind: 'accept' };
  const app = { uid: 1000, gid: 1000 };
  const proxy = { uid: 2502, gid: 2502 };
  const cases: [string, Family, Hook, Packet, Verdict][] = [
    ['inbound to an app port', 4, 'PREROUTING', { dst: '10.244.1.5', dport: 8080 }, toInbound],
    ['inbound to the admin port (probes)', 4, 'PREROUTING', { dst: '10.244.1.5', dport: 15020 }, untouched],
    ['inbound to a skip-inbound port', 6, 'PREROUTING', { dst: 'fd00:244::5', dport: 22 }, untouched],
    ['inbound IPv6', 6, 'PREROUTING', { dst: 'fd00:244::5', dport: 8080 }, toInbound],
    ['app to a service', 4, 'OUTPUT', { dst: '10.96.0.10', dport: 80, outInterface: 'eth0', ...app }, toOutbound],
    ['app to its own pod address (via lo)', 4, 'OUTPUT', { dst: '10.244.1.5', dport: 8080, outInterface: 'lo', ...app }, toOutbound],
    ['app to 127.0.0.1', 4, 'OUTPUT', { dst: '127.0.0.1', dport: 8080, outInterface: 'lo', ...app }, untouched],
    ['app to ::1', 6, 'OUTPUT', { dst: '::1', dport: 8080, outInterface: 'lo', ...app }, untouched],
    ['app to a skip-outbound port', 4, 'OUTPUT', { dst: '10.96.0.20', dport: 5432, outInterface: 'eth0', ...app }, untouched],
    ['app to a skip-outbound CIDR', 4, 'OUTPUT', { dst: '169.254.169.254', dport: 80, outInterface: 'eth0', ...app }, untouched],
    ['app to a skip-outbound CIDR (IPv6)', 6, 'OUTPUT', { dst: 'fd00:ec2::254', dport: 80, outInterface: 'eth0', ...app }, untouched],
    ['app to a service (IPv6)', 6, 'OUTPUT', { dst: 'fd00:96::10', dport: 80, outInterface: 'eth0', ...app }, toOutbound],
    ['root (the init process) to the pod address', 4, 'OUTPUT', { dst: '10.244.1.5', dport: 40000, outInterface: 'lo', uid: 0, gid: 0 }, toOutbound],
    ['proxy to another pod', 4, 'OUTPUT', { dst: '10.244.2.9', dport: 8080, outInterface: 'eth0', ...proxy }, untouched],
    ['proxy to its own pod address (a pod calling itself via its service): inbound', 4, 'OUTPUT', { dst: '10.244.1.5', dport: 8080, outInterface: 'lo', ...proxy }, toInbound],
    ['proxy to its own pod address (IPv6): inbound', 6, 'OUTPUT', { dst: 'fd00:244::5', dport: 8080, outInterface: 'lo', ...proxy }, toInbound],
    ['proxy forwarding to the app on 127.0.0.1', 4, 'OUTPUT', { dst: '127.0.0.1', dport: 8080, outInterface: 'lo', ...proxy }, untouched],
    ['proxy group only, to another pod', 4, 'OUTPUT', { dst: '10.244.2.9', dport: 8080, outInterface: 'eth0', uid: 1000, gid: 2502 }, untouched],
    ['proxy group only, to its own pod: inbound', 4, 'OUTPUT', { dst: '10.244.1.5', dport: 8080, outInterface: 'lo', uid: 1000, gid: 2502 }, toInbound],
  ];
  for (const [name, family, hook, packet, verdict] of cases) t.strictSame(traverse(familyPlan(plan, family), hook, packet).verdict, verdict, name);

  const noOutbound = planRules(settings({ skipOutboundCidrs: [cidr('0.0.0.0/0')] }));
  t.strictSame(traverse(noOutbound.ipv4, 'OUTPUT', { dst: '10.96.0.10', dport: 80, outInterface: 'eth0', ...app }).verdict, untouched, 'a /0: app traffic untouched');
  t.strictSame(traverse(noOutbound.ipv4, 'OUTPUT', { dst: '10.244.1.5', dport: 8080, outInterface: 'lo', ...proxy }).verdict, toInbound, 'a /0: the proxy calling its own pod still goes inbound');
  t.strictSame(traverse(noOutbound.ipv4, 'PREROUTING', { dst: '10.244.1.5', dport: 8080 }).verdict, toInbound, 'a /0: inbound unchanged');
  t.end();
});
