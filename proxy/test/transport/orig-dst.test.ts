/**
 * SO_ORIGINAL_DST through the native addon, against real iptables REDIRECTs in a network namespace the test
 * creates: a redirected connection reports the address and port the client dialled (IPv4 and IPv6), a direct
 * one reports null. The map double used by other tests is checked here too.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import t from 'tap';
import { mapOriginalDst, nativeOriginalDst, socketFd } from '../../src/transport/orig-dst.js';
import { dialFrom, startProbeServer } from '../init/probe.js';
import { addDevice, createNetns, hasProgram, netnsUnavailable, testSubnet, type Netns } from '../support/netns.js';

const unavailable = netnsUnavailable() ?? (hasProgram('iptables') && hasProgram('ip6tables') ? null : 'iptables/ip6tables are not installed');

async function redirect(ns: Netns, program: 'iptables' | 'ip6tables', destination: string, dports: string, toPort: number): Promise<void> {
  await ns.execOk(program, ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', destination, '--dport', dports, '-j', 'REDIRECT', '--to-ports', String(toPort)]);
}

t.test('a redirected connection reports the dialled address and port; a direct one null', { skip: unavailable ?? false }, async (t) => {
  const ns = await createNetns(t);
  const subnet = testSubnet();
  const v4 = subnet.v4(2);
  const v6 = subnet.v6(2);
  await addDevice(ns, { name: 'pod0', addresses: [subnet.v4(2, 24), subnet.v6(2, 64)] });
  await redirect(ns, 'iptables', v4, '9000:9999', 15001);
  await redirect(ns, 'ip6tables', v6, '9000:9999', 15001);
  await startProbeServer(ns, [
    { name: 'v4', host: '0.0.0.0', port: 15001 },
    { name: 'v6', host: '::', port: 15001, ipv6Only: true },
  ]);

  const results = await dialFrom(ns, [
    { host: v4, port: 9001 },
    { host: v4, port: 9999 },
    { host: v6, port: 9001 },
    { host: v6, port: 9999 },
    { host: '127.0.0.1', port: 15001 },
    { host: v4, port: 15001 },
    { host: '::1', port: 15001 },
    { host: v6, port: 15001 },
  ]);
  const [r4a, r4b, r6a, r6b, ...direct] = results;
  t.match(r4a, { reply: { name: 'v4', original: { address: v4, port: 9001 } } }, 'IPv4: port 9001 dialled');
  t.match(r4b, { reply: { name: 'v4', original: { address: v4, port: 9999 } } }, 'IPv4: port 9999 dialled');
  t.match(r6a, { reply: { name: 'v6', original: { address: v6, port: 9001 } } }, 'IPv6: port 9001 dialled');
  t.match(r6b, { reply: { name: 'v6', original: { address: v6, port: 9999 } } }, 'IPv6: port 9999 dialled');
  t.equal(direct.length, 4);
  for (const result of direct) {
    t.equal(result.error, undefined, `${result.host}:${result.port} connects`);
    t.equal(result.reply?.original, null, `${result.host}:${result.port} directly: no original destination`);
  }
});

t.test(
  'a dual-stack listener (::) reads the original destination of a redirected IPv4 connection',
  { skip: unavailable ?? false },
  async (t) => {
    const ns = await createNetns(t);
    const subnet = testSubnet();
    const v4 = subnet.v4(2);
    await addDevice(ns, { name: 'pod0', addresses: [subnet.v4(2, 24)] });
    await redirect(ns, 'iptables', v4, '9000', 15002);
    await startProbeServer(ns, [{ name: 'dual', host: '::', port: 15002 }]);
    const [result] = await dialFrom(ns, [{ host: v4, port: 9000 }]);
    t.match(result, { reply: { name: 'dual', original: { address: v4, port: 9000 } } });
  },
);

t.test('outside any redirect (host namespace, loopback): null, and a closed socket is null', async (t) => {
  const lookup = nativeOriginalDst();
  const server = createServer();
  const accepted: Socket[] = [];
  server.on('connection', (socket) => {
    socket.on('error', () => {});
    accepted.push(socket);
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  const client = connect(port, '127.0.0.1');
  client.on('error', () => {});
  t.teardown(() => client.destroy());
  await new Promise<void>((resolve) => client.once('connect', resolve));
  while (accepted.length === 0) await new Promise((resolve) => setImmediate(resolve));
  const socket = accepted[0]!;
  t.equal(lookup.lookup(socket), null, 'an accepted, not redirected connection');
  t.equal(lookup.lookup(client), null, 'the client end');
  socket.destroy();
  await new Promise((resolve) => socket.once('close', resolve));
  t.equal(socketFd(socket), -1, 'a closed socket has no descriptor');
  t.equal(lookup.lookup(socket), null, 'a closed socket');
});

t.test('mapOriginalDst answers by the client address and port', async (t) => {
  const server = createServer();
  const accepted: Socket[] = [];
  server.on('connection', (socket) => {
    socket.on('error', () => {});
    accepted.push(socket);
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  client.on('error', () => {});
  t.teardown(() => client.destroy());
  await new Promise<void>((resolve) => client.once('connect', resolve));
  while (accepted.length === 0) await new Promise((resolve) => setImmediate(resolve));
  const socket = accepted[0]!;
  t.teardown(() => socket.destroy());
  const entries = new Map([[`127.0.0.1:${client.localPort ?? 0}`, { address: '10.9.9.9', port: 80 }]]);
  t.same(mapOriginalDst(entries).lookup(socket), { address: '10.9.9.9', port: 80 });
  t.equal(mapOriginalDst(new Map()).lookup(socket), null);
  t.same(mapOriginalDst(() => entries).lookup(socket), { address: '10.9.9.9', port: 80 }, 'a function giving the current map');
});
