/**
 * The self-check's choices (which address to dial, per family) and its failures when nothing redirects. The
 * passing check runs in a real namespace in proxy-init.test.ts.
 */
import { createServer, type AddressInfo } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import t from 'tap';
import { planRules } from '../../src/init/plan.js';
import { podAddresses, probeRedirect, selfCheckTargets } from '../../src/init/self-check.js';
import { mapOriginalDst } from '../../src/transport/orig-dst.js';
import { cidr, DEFAULTS } from './support.js';

const root = { uid: 0, gid: 0 };

const info = (address: string, internal = false): NetworkInterfaceInfo =>
  address.includes(':')
    ? { address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '00:00:00:00:00:00', internal, cidr: `${address}/64`, scopeid: 0 }
    : { address, netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr: `${address}/24` };

t.test('podAddresses: non-loopback, IPv6 link-local left out, in interface order', (t) => {
  t.strictSame(
    podAddresses({
      lo: [info('127.0.0.1', true), info('::1', true)],
      eth0: [info('10.244.1.5'), info('fe80::1'), info('fd00:244::5')],
      eth1: [info('192.168.9.9'), info('FEBF::1')],
      gone: undefined,
    }),
    { 4: ['10.244.1.5', '192.168.9.9'], 6: ['fd00:244::5'] },
  );
  t.end();
});

t.test('selfCheckTargets: the first redirected address per installed family', (t) => {
  const plan = planRules(DEFAULTS);
  const both = { 4: ['10.244.1.5', '192.168.9.9'], 6: ['fd00:244::5'] };
  t.strictSame(selfCheckTargets(plan, [4, 6], both, root), {
    ok: true,
    targets: [
      { family: 4, address: '10.244.1.5' },
      { family: 6, address: 'fd00:244::5' },
    ],
    notes: [],
  });
  t.strictSame(selfCheckTargets(plan, [4], both, root), { ok: true, targets: [{ family: 4, address: '10.244.1.5' }], notes: [] }, 'IPv6 not installed: not checked');

  const skipFirst = planRules({ ...DEFAULTS, skipOutboundCidrs: [cidr('10.244.0.0/16')] });
  t.match(selfCheckTargets(skipFirst, [4], both, root), { ok: true, targets: [{ family: 4, address: '192.168.9.9' }] }, 'an exempt address is passed over');

  t.match(selfCheckTargets(plan, [4, 6], { 4: ['10.244.1.5'], 6: [] }, root), {
    ok: true,
    targets: [{ family: 4 }],
    notes: ['no IPv6 pod address: IPv6 redirection not checked'],
  });
  t.match(selfCheckTargets(plan, [4, 6], { 4: [], 6: [] }, root), { ok: false, reason: /needs a pod address .* only loopback/ });
  t.match(selfCheckTargets(plan, [4], { 4: [], 6: ['fd00::5'] }, root), { ok: false, reason: /no pod address of an installed family \(no IPv4 pod address/ });
  t.match(selfCheckTargets(plan, [4], both, { uid: 2502, gid: 0 }), { ok: false, reason: /is redirected for uid 2502 gid 0/ }, 'run as the proxy uid');
  t.match(selfCheckTargets(plan, [4], both, { uid: 0, gid: 2502 }), { ok: false, reason: /proxy's UID\/GID/ }, 'run as the proxy gid');
  const allExempt = planRules({ ...DEFAULTS, skipOutboundCidrs: [cidr('0.0.0.0/0')] });
  t.match(selfCheckTargets(allExempt, [4], both, root), { ok: false, reason: /no IPv4 pod address \(10\.244\.1\.5, 192\.168\.9\.9\) is redirected/ });
  t.end();
});

async function freePort(): Promise<number> {
  const server = createServer();
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

t.test('probeRedirect without a redirect: the dial is refused and the check says so', async (t) => {
  const outboundPort = await freePort();
  const result = await probeRedirect({ target: { family: 4, address: '127.0.0.1' }, outboundPort, lookup: mapOriginalDst(new Map()), avoidPorts: new Set() });
  t.equal(result.ok, false);
  if (!result.ok) t.match(result.reason, new RegExp(`^IPv4 self-check: the connection to 127\\.0\\.0\\.1:\\d+ failed \\(ECONNREFUSED: .*\\): it was not redirected to port ${outboundPort}$`));
  // Everything it opened is closed again: the outbound port is free.
  const again = createServer();
  again.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    again.once('error', reject);
    again.listen(outboundPort, '0.0.0.0', resolve);
  });
  await new Promise<void>((resolve) => again.close(() => resolve()));
  t.pass('the outbound port was released');
});

t.test('probeRedirect when the outbound port is taken', async (t) => {
  const busy = createServer();
  busy.on('error', () => {});
  await new Promise<void>((resolve) => busy.listen(0, '0.0.0.0', resolve));
  t.teardown(() => new Promise<void>((resolve) => busy.close(() => resolve())));
  const outboundPort = (busy.address() as AddressInfo).port;
  const result = await probeRedirect({ target: { family: 4, address: '127.0.0.1' }, outboundPort, lookup: mapOriginalDst(new Map()), avoidPorts: new Set() });
  t.match(result, { ok: false, reason: new RegExp(`^IPv4 self-check: cannot listen on the outbound port ${outboundPort} \\(0\\.0\\.0\\.0\\): EADDRINUSE`) });
});
