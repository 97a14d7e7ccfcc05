/**
 * The service proxy: what Services and EndpointSlices become (pure), and for real (root) that a ClusterIP reaches
 * a pod from another pod, from the pod itself and from the host, follows endpoint changes, spreads over several
 * endpoints, refuses at once without endpoints, serves UDP, and leaves every other rule alone.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import t, { type Test } from 'tap';
import { hasProgram, inNetns, netnsUnavailable, run, runIn } from '@loom/shared/netns';
import { silentLogger } from '@loom/shared/runtime';
import type { KubeObject } from '../../src/api/store.js';
import { addressAt, parseCidr } from '../../src/node/cidrs.js';
import { ClusterNetwork, parseSave } from '../../src/node/network.js';
import { planServices, probability, renderSync, ServiceProxy, type ServicePortPlan } from '../../src/node/services.js';

const unavailable = netnsUnavailable() ?? (hasProgram('iptables-restore') ? null : 'needs iptables-restore');
const skip = { skip: unavailable ?? false };
const log = silentLogger();

interface PortSpec {
  name?: string;
  port: number;
  protocol?: string;
  targetPort?: number | string;
}

const service = (name: string, clusterIP: string | undefined, ports: PortSpec[], extra: Record<string, unknown> = {}, namespace = 'shop'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { ...(clusterIP === undefined ? {} : { clusterIP }), ports, ...extra },
});

interface EndpointSpec {
  ip: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

const slice = (svc: string, name: string, ports: { name?: string; port?: number; protocol?: string }[], endpoints: EndpointSpec[], extra: Record<string, unknown> = {}, namespace = 'shop'): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name, namespace, labels: { 'kubernetes.io/service-name': svc } },
  addressType: 'IPv4',
  ports,
  endpoints: endpoints.map((e) => ({
    addresses: [e.ip],
    conditions: {
      ...(e.ready === undefined ? {} : { ready: e.ready }),
      ...(e.serving === undefined ? {} : { serving: e.serving }),
      ...(e.terminating === undefined ? {} : { terminating: e.terminating }),
    },
  })),
  ...extra,
});

const brief = (p: ServicePortPlan): string => `${p.service}:${p.portName}/${p.protocol} ${p.clusterIPs.join(',')}:${p.port} -> ${p.endpoints.join(' ') || 'REJECT'}`;

t.test('planServices: what each service port becomes', (t) => {
  const cases: { name: string; services: KubeObject[]; slices: KubeObject[]; want: string[]; skipped?: RegExp[] }[] = [
    {
      name: 'a named target port comes resolved in the slice, matched by port name',
      services: [service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'admin', port: 9000, targetPort: 9901 }])],
      slices: [slice('web', 'web-1', [{ name: 'http', port: 8080 }, { name: 'admin', port: 9901 }], [{ ip: '10.244.0.5' }])],
      want: ['shop/web:admin/TCP 10.96.0.10:9000 -> 10.244.0.5:9901', 'shop/web:http/TCP 10.96.0.10:80 -> 10.244.0.5:8080'],
    },
    {
      name: 'not ready endpoints are left out; ready unset counts as ready',
      services: [service('web', '10.96.0.10', [{ port: 80 }])],
      slices: [slice('web', 'web-1', [{ port: 8080 }], [{ ip: '10.244.0.5', ready: false }, { ip: '10.244.0.6' }, { ip: '10.244.0.7', ready: true }])],
      want: ['shop/web:/TCP 10.96.0.10:80 -> 10.244.0.6:8080 10.244.0.7:8080'],
    },
    {
      name: 'no ready endpoint: serving terminating ones are used (kube-proxy)',
      services: [service('web', '10.96.0.10', [{ port: 80 }])],
      slices: [slice('web', 'web-1', [{ port: 8080 }], [{ ip: '10.244.0.5', ready: false, serving: true, terminating: true }, { ip: '10.244.0.6', ready: false, serving: false, terminating: true }])],
      want: ['shop/web:/TCP 10.96.0.10:80 -> 10.244.0.5:8080'],
    },
    {
      name: 'no usable endpoint at all: the port is planned with none (rejected)',
      services: [service('web', '10.96.0.10', [{ port: 80 }])],
      slices: [slice('web', 'web-1', [{ port: 8080 }], [{ ip: '10.244.0.5', ready: false }])],
      want: ['shop/web:/TCP 10.96.0.10:80 -> REJECT'],
    },
    {
      name: 'headless, ExternalName and not yet allocated Services get nothing',
      services: [
        service('db', 'None', [{ port: 5432 }]),
        service('ext', undefined, [{ port: 80 }], { type: 'ExternalName', externalName: 'example.com' }),
        service('new', undefined, [{ port: 80 }]),
      ],
      slices: [slice('db', 'db-1', [{ port: 5432 }], [{ ip: '10.244.0.5' }])],
      want: [],
    },
    {
      name: 'several slices are merged and duplicates dropped; slices of other services and namespaces are not',
      services: [service('web', '10.96.0.10', [{ port: 80 }])],
      slices: [
        slice('web', 'web-1', [{ port: 8080 }], [{ ip: '10.244.0.6' }, { ip: '10.244.0.10' }]),
        slice('web', 'web-2', [{ port: 8080 }], [{ ip: '10.244.0.6' }, { ip: '10.244.0.9' }]),
        slice('api', 'api-1', [{ port: 8080 }], [{ ip: '10.244.0.7' }]),
        slice('web', 'web-x', [{ port: 8080 }], [{ ip: '10.244.0.8' }], {}, 'other'),
      ],
      want: ['shop/web:/TCP 10.96.0.10:80 -> 10.244.0.6:8080 10.244.0.9:8080 10.244.0.10:8080'],
    },
    {
      name: 'TCP and UDP on one port number are two service ports; protocols match between service and slice',
      services: [service('dns', '10.96.0.53', [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }])],
      slices: [slice('dns', 'dns-1', [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'dns-tcp', port: 5353 }], [{ ip: '10.244.0.5' }])],
      want: ['shop/dns:dns-tcp/TCP 10.96.0.53:53 -> 10.244.0.5:5353', 'shop/dns:dns/UDP 10.96.0.53:53 -> 10.244.0.5:5353'],
    },
    {
      name: 'a port name in the slice that the service does not have, or the wrong protocol, gives no endpoints',
      services: [service('web', '10.96.0.10', [{ name: 'http', port: 80 }])],
      slices: [slice('web', 'web-1', [{ name: 'https', port: 8443 }, { name: 'http', port: 8080, protocol: 'UDP' }], [{ ip: '10.244.0.5' }])],
      want: ['shop/web:http/TCP 10.96.0.10:80 -> REJECT'],
    },
    {
      name: 'IPv6 and FQDN slices, empty addresses and a slice port without a number are ignored',
      services: [service('web', '10.96.0.10', [{ port: 80 }], { clusterIPs: ['10.96.0.10', 'fd00::10'] })],
      slices: [
        slice('web', 'web-6', [{ port: 8080 }], [{ ip: 'fd00::5' }], { addressType: 'IPv6' }),
        slice('web', 'web-f', [{ port: 8080 }], [{ ip: 'db.example.com' }], { addressType: 'FQDN' }),
        slice('web', 'web-n', [{}], [{ ip: '10.244.0.7' }]),
        { ...slice('web', 'web-e', [{ port: 8080 }], []), endpoints: [{ addresses: [] }, { addresses: ['10.244.0.8'] }] },
      ],
      want: ['shop/web:/TCP 10.96.0.10:80 -> 10.244.0.8:8080'],
    },
    {
      name: 'SCTP, bad ports and IPv6-only ClusterIPs are skipped with a reason',
      services: [service('a', '10.96.0.1', [{ port: 80, protocol: 'SCTP' }, { port: 0 }]), service('b', 'fd00::1', [{ port: 80 }])],
      slices: [],
      want: [],
      skipped: [/shop\/a: protocol SCTP is not served/, /shop\/a: port 0 is not a port number/, /shop\/b: clusterIP fd00::1 is not IPv4/],
    },
  ];
  for (const c of cases) {
    const plan = planServices(c.services, c.slices);
    t.strictSame(plan.ports.map(brief), c.want, c.name);
    if (c.skipped !== undefined) {
      t.equal(plan.skipped.length, c.skipped.length, `${c.name}: reasons`);
      c.skipped.forEach((re, i) => t.match(plan.skipped[i], re));
    }
  }
  t.end();
});

t.test('probability: an even spread, as kube-proxy computes it', (t) => {
  t.strictSame([0, 1, 2].map((i) => probability(i, 4)), ['0.2500000000', '0.3333333333', '0.5000000000']);
  t.end();
});

t.test('renderSync: own chains only, stale port chains deleted, jumps inserted only when missing', (t) => {
  const plan = planServices(
    [service('web', '10.96.0.10', [{ port: 80 }]), service('idle', '10.96.0.11', [{ port: 53, protocol: 'UDP' }, { port: 80 }])],
    [slice('web', 'web-1', [{ port: 8080 }], [{ ip: '10.244.0.5' }, { ip: '10.244.0.6' }])],
  );
  const empty = parseSave('*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n');
  const text = renderSync('c', plan, empty, parseSave('*filter\n:FORWARD DROP [0:0]\nCOMMIT\n'));
  const lines = text.split('\n');
  t.ok(lines.every((l) => !l.startsWith('-A ') || l.startsWith('-A LD-c-')), 'rules are appended only to the cluster’s chains');
  t.match(text, /-A LD-c-SERVICES -d 10\.96\.0\.10\/32 -p tcp -m tcp --dport 80 -m comment --comment "shop\/web cluster IP" -j (LD-c-SVC-[0-9a-f]{8})/);
  t.match(text, /-m statistic --mode random --probability 0\.5000000000 -j DNAT --to-destination 10\.244\.0\.5:8080\n-A LD-c-SVC-[0-9a-f]{8} -p tcp .* -j DNAT --to-destination 10\.244\.0\.6:8080\n/, 'the last endpoint takes what is left');
  t.match(text, /-A LD-c-HAIRPIN -s 10\.244\.0\.5\/32 -d 10\.244\.0\.5\/32 .*-j MASQUERADE/);
  t.match(text, /\*filter\n:LD-c-SERVICES - \[0:0\]\n-A LD-c-SERVICES -d 10\.96\.0\.11\/32 -p tcp -m tcp --dport 80 .*-j REJECT --reject-with tcp-reset\n-A LD-c-SERVICES -d 10\.96\.0\.11\/32 -p udp -m udp --dport 53 .*-j REJECT --reject-with icmp-port-unreachable\n/);
  for (const jump of ['-I PREROUTING', '-I OUTPUT -m comment', '-I POSTROUTING', '-I FORWARD -m conntrack --ctstate NEW', '-I OUTPUT -m conntrack --ctstate NEW']) {
    t.ok(text.includes(jump), `${jump} when missing`);
  }

  const svcChain = /-j (LD-c-SVC-[0-9a-f]{8})/.exec(text)?.[1] ?? '';
  const nat = parseSave(
    [
      ':PREROUTING ACCEPT [0:0]',
      ':LD-c-SERVICES - [0:0]',
      `:${svcChain} - [0:0]`,
      ':LD-c-SVC-deadbeef - [0:0]',
      '-A PREROUTING -m comment --comment "loom-dev:c" -j LD-c-SERVICES',
      '-A OUTPUT -m comment --comment "loom-dev:c" -j LD-c-SERVICES',
      '-A POSTROUTING -m comment --comment "loom-dev:c" -j LD-c-HAIRPIN',
    ].join('\n'),
  );
  const again = renderSync('c', plan, nat, parseSave('-A FORWARD -m conntrack --ctstate NEW -j LD-c-SERVICES\n-A OUTPUT -j LD-c-SERVICES'));
  t.notMatch(again, /-I /, 'present jumps are not added again');
  t.match(again, /:LD-c-SVC-deadbeef - \[0:0\]\n[^]*-X LD-c-SVC-deadbeef\n/, 'a chain no longer needed is flushed and deleted');
  t.notMatch(again, new RegExp(`-X ${svcChain}`), 'a needed one is kept');
  t.end();
});

// ---- real -------------------------------------------------------------------------------------------------

/** A TCP server (replies `<name> <client address>`) and a UDP echo (`<name> <message>`) inside `ns` on `host`:`port`. */
async function serve(ns: string, host: string, port: number, name: string): Promise<void> {
  const script = [
    'const [host, port, name] = process.argv.slice(1);',
    "require('net').createServer((c) => c.end(name + ' ' + c.remoteAddress)).listen(Number(port), host, () => {",
    "  const u = require('dgram').createSocket('udp4');",
    '  u.on(\'message\', (m, r) => u.send(name + \' \' + m, r.port, r.address));',
    "  u.bind(Number(port), host, () => console.log('ready'));",
    '});',
  ].join('\n');
  const [file = '', ...args] = inNetns(ns, [process.execPath, '-e', script, host, String(port), name]);
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && resolve());
    child.on('close', (code) => reject(new Error(`server in ${ns} exited ${code ?? 'by a signal'}`)));
  });
}

/** One TCP exchange from inside `ns` (or from the host when null): what it read, or the error code. */
async function tcp(ns: string | null, host: string, port: number): Promise<string> {
  if (ns === null) {
    return new Promise((resolve) => {
      const c = connect(port, host);
      let data = '';
      c.setEncoding('utf8').on('data', (d: string) => (data += d));
      c.on('end', () => resolve(data));
      c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      c.setTimeout(5000, () => {
        c.destroy();
        resolve('timeout');
      });
    });
  }
  const script = `const c = require('net').connect(Number(process.argv[2]), process.argv[1]); c.setEncoding('utf8'); let d = ''; c.on('data', (x) => (d += x)); c.on('end', () => console.log(d)); c.on('error', (e) => console.log(e.code)); c.setTimeout(5000, () => { console.log('timeout'); process.exit(0); });`;
  return (await runIn(ns, [process.execPath, '-e', script, host, String(port)])).stdout.trim();
}

/** One UDP exchange from the host (connected socket, so an ICMP port unreachable surfaces as ECONNREFUSED). */
function udp(host: string, port: number, message: string): Promise<string> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = (what: string): void => {
      clearTimeout(timer);
      s.close();
      resolve(what);
    };
    const timer = setTimeout(() => done('timeout'), 3000);
    s.on('message', (m) => done(m.toString()));
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    s.connect(port, host, () => s.send(message));
  });
}

const svc = (name: string, ip: string, ports: PortSpec[]): KubeObject => service(name, ip, ports, {}, 'default');
const slices = (name: string, ports: { name?: string; port: number; protocol?: string }[], endpoints: EndpointSpec[]): KubeObject =>
  slice(name, `${name}-1`, ports, endpoints, {}, 'default');

async function cluster(t: Test, name: string, hairpin: 'auto' | 'masquerade' = 'auto'): Promise<{ net: ClusterNetwork; proxy: ServiceProxy; vip: (n: number) => string }> {
  const net = await ClusterNetwork.create({ name, log, hairpin });
  const proxy = new ServiceProxy({ cluster: name, log });
  t.teardown(async () => {
    await proxy.destroy();
    await net.destroy();
  });
  const services = parseCidr(net.serviceCidr);
  if (typeof services === 'string') throw new Error(services);
  return { net, proxy, vip: (n) => addressAt(services, n) };
}

t.test('ClusterIPs from pods and from the host, following sync; no endpoints refuse at once; UDP; hairpin', skip, async (t) => {
  const { net, proxy, vip } = await cluster(t, `s${process.pid}`);
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => net.addPod({ namespace: 'default', name: n, uid: `${n}-${process.pid}` })));
  if (a === undefined || b === undefined || c === undefined) throw new Error('no pods');
  await Promise.all([serve(b.netns, b.ip, 8080, 'b'), serve(c.netns, c.ip, 8080, 'c')]);
  const before = foreignRules(await save());

  const web = svc('web', vip(10), [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'dns', port: 53, protocol: 'UDP' }]);
  const ports = [{ name: 'http', port: 8080 }, { name: 'dns', port: 8080, protocol: 'UDP' }];
  t.strictSame(await proxy.sync([web], [slices('web', ports, [{ ip: b.ip }])]), { ports: 2, rejecting: 0, skipped: [] });
  // With br_netfilter the bridge's traffic passes conntrack and the client keeps its address; without, it is masqueraded.
  const client = net.hairpin === 'netfilter' ? a.ip : net.gateway;
  t.equal(await tcp(a.netns, vip(10), 80), `b ${client}`, `pod a → ClusterIP → pod b on the same bridge; b sees ${net.hairpin === 'netfilter' ? 'a’s own address' : 'the gateway'}`);
  t.equal(await tcp(null, vip(10), 80), `b ${net.gateway}`, 'host → ClusterIP → pod b, from the gateway');
  t.equal(await tcp(b.netns, vip(10), 80), `b ${net.gateway}`, 'pod b → its own ClusterIP → itself (masqueraded)');
  t.equal(await udp(vip(10), 53, 'ping'), 'b ping', 'UDP through the ClusterIP');

  await proxy.sync([web], [slices('web', ports, [{ ip: b.ip, ready: false }, { ip: c.ip }])]);
  t.equal(await tcp(a.netns, vip(10), 80), `c ${client}`, 'after sync: b is not ready, c is the endpoint (from a pod)');
  t.equal(await tcp(null, vip(10), 80), `c ${net.gateway}`, 'and from the host');

  await proxy.sync([web], [slices('web', ports, [{ ip: b.ip }, { ip: c.ip }])]);
  const seen = new Set<string>();
  for (let i = 0; i < 60 && seen.size < 2; i++) seen.add((await tcp(null, vip(10), 80)).split(' ')[0] ?? '');
  t.strictSame([...seen].sort(), ['b', 'c'], 'two ready endpoints: connections spread over both');

  const headless = service('db', 'None', [{ port: 5432 }], {}, 'default');
  t.strictSame(await proxy.sync([web, headless], [slices('web', ports, [{ ip: b.ip, ready: false }])]), { ports: 2, rejecting: 2, skipped: [] });
  for (const from of [a.netns, null]) {
    const started = Date.now();
    t.equal(await tcp(from, vip(10), 80), 'ECONNREFUSED', `no ready endpoint: refused (${from ?? 'host'})`);
    t.ok(Date.now() - started < 2000, 'at once, not after a timeout');
  }
  t.equal(await udp(vip(10), 53, 'ping'), 'ECONNREFUSED', 'UDP too (ICMP port unreachable)');

  const after = await save();
  t.notMatch(after, /db/, 'a headless service gets no rules');
  t.strictSame(foreignRules(after), before, 'rules other than loom dev’s are untouched');
  await proxy.destroy();
  const gone = await save();
  t.notMatch(gone, new RegExp(`LD-s${process.pid}-(SERVICES|HAIRPIN|SVC-)`), 'destroy removes the proxy’s chains and jumps');
  t.match(gone, new RegExp(`LD-s${process.pid}-POSTRT`), 'and leaves the network’s');
  await t.rejects(proxy.sync([], []), /was destroyed/);
});

t.test('without br_netfilter (hairpin masquerade): pod → ClusterIP → pod works, from the gateway', skip, async (t) => {
  const { net, proxy, vip } = await cluster(t, `s${process.pid}m`, 'masquerade');
  const [a, b] = await Promise.all(['a', 'b'].map((n) => net.addPod({ namespace: 'default', name: n, uid: `${n}-${process.pid}` })));
  if (a === undefined || b === undefined) throw new Error('no pods');
  await serve(b.netns, b.ip, 8080, 'b');
  await proxy.sync([svc('web', vip(10), [{ port: 80 }])], [slices('web', [{ port: 8080 }], [{ ip: b.ip }])]);
  t.equal(await tcp(a.netns, vip(10), 80), `b ${net.gateway}`);
  t.equal(await tcp(a.netns, b.ip, 8080), `b ${a.ip}`, 'direct pod-to-pod traffic keeps its source');
});

async function save(): Promise<string> {
  return (await run(['iptables-save'])).stdout;
}

/** The rules and chains of iptables-save that are not loom dev's, without counters and comments lines. */
function foreignRules(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#') && !l.includes('LD-'))
    .map((l) => l.replace(/\[\d+:\d+\]/, ''));
}
