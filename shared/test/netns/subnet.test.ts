import t from 'tap';
import { canonicalIpv6, freeSubnet, ipv4Overlap, parseIpv4Network, routeDestinations, subnetAt, subnetCount } from '../../src/netns/subnet.js';

t.test('subnetAt: the /24 and /64 numbered in a block', (t) => {
  const cases: [{ v4: string; v6: string }, number, string, string, string, string][] = [
    [{ v4: '10.201', v6: 'fd4c:6f6f:6d' }, 7, '10.201.7.0/24', 'fd4c:6f6f:6d:7::/64', '10.201.7.11', 'fd4c:6f6f:6d:7::b'],
    [{ v4: '10.201', v6: 'fd4c:6f6f:6d' }, 0, '10.201.0.0/24', 'fd4c:6f6f:6d::/64', '10.201.0.11', 'fd4c:6f6f:6d::b'],
    [{ v4: '10', v6: 'fd00' }, 0x1234, '10.18.52.0/24', 'fd00:0:0:1234::/64', '10.18.52.11', 'fd00:0:0:1234::b'],
    [{ v4: '10', v6: 'fd00' }, 65535, '10.255.255.0/24', 'fd00:0:0:ffff::/64', '10.255.255.11', 'fd00:0:0:ffff::b'],
  ];
  for (const [block, index, v4Network, v6Network, v4, v6] of cases) {
    const s = subnetAt(block, index);
    t.equal(s.v4Network, v4Network);
    t.equal(s.v6Network, v6Network);
    t.equal(s.v4(11), v4);
    t.equal(s.v4(11, 24), `${v4}/24`);
    t.equal(s.v6(11), v6, 'IPv6 in canonical form');
    t.equal(s.v6(11, 64), `${v6}/64`);
  }
  t.end();
});

t.test('subnetAt refuses numbers, hosts and blocks out of range', (t) => {
  const block = { v4: '10.201', v6: 'fd4c:6f6f:6d' };
  t.equal(subnetCount(block), 256);
  t.equal(subnetCount({ v4: '10', v6: 'fd00' }), 65536);
  t.throws(() => subnetAt(block, 256), /subnet 256 is not in 0-255 of 10.201/);
  t.throws(() => subnetAt(block, -1), /not in 0-255/);
  t.throws(() => subnetAt(block, 1).v4(256), /IPv4 host 256 is not in 0-255/);
  t.throws(() => subnetAt(block, 1).v6(0x10000), /IPv6 host 65536/);
  t.throws(() => subnetAt({ v4: '10.1.2', v6: 'fd00' }, 1), /one or two octets/);
  t.throws(() => subnetAt({ v4: '10.300', v6: 'fd00' }, 1), /not dotted IPv4 octets/);
  t.throws(() => subnetAt({ v4: '10', v6: 'fd00:1:2:3' }, 1), /one to three groups/);
  t.throws(() => subnetAt({ v4: '10', v6: 'fdxx' }, 1), /one to three groups/);
  t.end();
});

t.test('canonicalIpv6: RFC 5952 text', (t) => {
  const cases: [string, string][] = [
    ['fd00:e0:0:0:0:0:0:2', 'fd00:e0::2'],
    ['FD00:0:0:1::B', 'fd00:0:0:1::b'],
    ['fd00:0000:0000:0001:0000:0000:0000:000b', 'fd00:0:0:1::b'],
    ['fd00:0:0:1:0:0:1:b', 'fd00::1:0:0:1:b'],
    ['::1', '::1'],
  ];
  for (const [input, expected] of cases) t.equal(canonicalIpv6(input), expected, input);
  t.throws(() => canonicalIpv6('10.0.0.1/24'), /is not an IPv6 address/);
  t.end();
});

t.test('parseIpv4Network and ipv4Overlap', (t) => {
  t.strictSame(parseIpv4Network('default'), { base: 0, prefix: 0 });
  t.strictSame(parseIpv4Network('10.1.2.3/24'), { base: (10 * 256 + 1) * 256 * 256 + 2 * 256, prefix: 24 });
  t.strictSame(parseIpv4Network('10.1.2.3'), { base: ((10 * 256 + 1) * 256 + 2) * 256 + 3, prefix: 32 });
  for (const bad of ['10.1.2/24', '10.1.2.3/33', '10.1.2.3/x', 'broadcast', '1.2.3.4/8/8', 'fd00::/64', '']) t.equal(parseIpv4Network(bad), null, bad);
  const cases: [string, string, boolean][] = [
    ['10.201.7.0/24', '10.201.7.0/24', true],
    ['10.201.0.0/16', '10.201.7.0/24', true],
    ['10.201.7.0/24', '10.201.0.0/16', true],
    ['10.201.7.5', '10.201.7.0/24', true],
    ['10.201.8.0/24', '10.201.7.0/24', false],
    ['default', '10.201.7.0/24', true],
    ['172.17.0.0/16', '10.201.7.0/24', false],
    ['garbage', '10.201.7.0/24', false],
  ];
  for (const [a, b, overlap] of cases) t.equal(ipv4Overlap(a, b), overlap, `${a} ~ ${b}`);
  t.end();
});

t.test('routeDestinations reads `ip -4 route show`', (t) => {
  const out = [
    'default via 172.17.0.1 dev eth0',
    '10.201.7.0/24 dev lm1x1br proto kernel scope link src 10.201.7.254',
    '172.17.0.0/16 dev eth0 proto kernel scope link src 172.17.0.2',
    '192.168.5.9 dev tun0 scope link',
    'unreachable 10.9.0.0/16',
    '',
  ].join('\n');
  t.strictSame(routeDestinations(out), ['default', '10.201.7.0/24', '172.17.0.0/16', '192.168.5.9']);
  t.end();
});

t.test('freeSubnet: the first /24 from `start` on that no narrow route overlaps', (t) => {
  const block = { v4: '10.201', v6: 'fd4c:6f6f:6d' };
  const cases: [string, string[], number, string | null][] = [
    ['nothing in the way', ['default', '172.17.0.0/16'], 7, '10.201.7.0/24'],
    ['a /8 is refined, not avoided', ['10.0.0.0/8'], 7, '10.201.7.0/24'],
    ['taken /24s are skipped', ['10.201.7.0/24', '10.201.8.5'], 7, '10.201.9.0/24'],
    ['wraps round', ['10.201.255.0/24'], 255, '10.201.0.0/24'],
    ['the whole /16 is in use', ['10.201.0.0/16'], 7, null],
  ];
  for (const [name, routes, start, expected] of cases) t.equal(freeSubnet(block, routes, start)?.v4Network ?? null, expected, name);
  t.end();
});
