/** CIDRs are parsed strictly and printed the way iptables-save prints a destination. */
import t from 'tap';
import { addressBytes, cidrContains, cidrCovers, formatAddress, parseCidr } from '../../src/init/cidr.js';
import { cidr } from './support.js';

t.test('canonical text: host bits cleared, IPv6 compressed as inet_ntop does, bare addresses are host routes', (t) => {
  const cases: [string, string, 4 | 6][] = [
    ['10.0.0.0/8', '10.0.0.0/8', 4],
    ['10.1.2.3/8', '10.0.0.0/8', 4],
    ['192.168.7.77/20', '192.168.0.0/20', 4],
    ['169.254.169.254', '169.254.169.254/32', 4],
    ['0.0.0.0/0', '0.0.0.0/0', 4],
    [' 10.0.0.0/8 ', '10.0.0.0/8', 4],
    ['fd00::/8', 'fd00::/8', 6],
    ['fd00::1/8', 'fd00::/8', 6],
    ['FD00:0:0:0:0:0:0:1/128', 'fd00::1/128', 6],
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128', 6],
    ['::ffff:10.0.0.0/104', '::ffff:10.0.0.0/104', 6],
    ['::ffff:a00:1/104', '::ffff:10.0.0.0/104', 6],
    ['::1', '::1/128', 6],
    ['::/0', '::/0', 6],
    ['2001:db8::/33', '2001:db8::/33', 6],
    ['2001:db8:ffff::/33', '2001:db8:8000::/33', 6],
  ];
  for (const [input, text, family] of cases) t.match(parseCidr(input), { text, family }, input);
  t.end();
});

t.test('not a CIDR: a reason quoting the input', (t) => {
  const cases: [string, RegExp][] = [
    ['', /is not an IPv4 or IPv6 CIDR/],
    ['10.0.0/8', /is not an IPv4 or IPv6 CIDR/],
    ['10.0.0.256/8', /is not an IPv4 or IPv6 CIDR/],
    ['example.com/8', /is not an IPv4 or IPv6 CIDR/],
    ['10.0.0.0/33', /invalid prefix length \(expected 0-32\)/],
    ['10.0.0.0/', /invalid prefix length/],
    ['10.0.0.0/-1', /invalid prefix length/],
    ['10.0.0.0/8/9', /invalid prefix length/],
    ['fd00::/129', /invalid prefix length \(expected 0-128\)/],
    ['fe80::1%eth0/64', /is not an IPv4 or IPv6 CIDR/],
    ['fd00:::1/64', /is not an IPv4 or IPv6 CIDR/],
  ];
  for (const [input, reason] of cases) {
    const parsed = parseCidr(input);
    t.type(parsed, 'string', `'${input}' is refused`);
    t.match(parsed, reason, `'${input}'`);
  }
  t.end();
});

t.test('containment', (t) => {
  t.ok(cidrContains(cidr('10.0.0.0/8'), '10.255.1.2'));
  t.notOk(cidrContains(cidr('10.0.0.0/8'), '11.0.0.1'));
  t.ok(cidrContains(cidr('0.0.0.0/0'), '203.0.113.9'));
  t.notOk(cidrContains(cidr('10.0.0.0/8'), 'fd00::1'), 'another family never matches');
  t.ok(cidrContains(cidr('fd00::/8'), 'fd12:3456::1'));
  t.notOk(cidrContains(cidr('fd00::/8'), 'fe00::1'));
  t.ok(cidrContains(cidr('2001:db8::/33'), '2001:db8:7fff::1'));
  t.notOk(cidrContains(cidr('2001:db8::/33'), '2001:db8:8000::1'));
  t.ok(cidrCovers(cidr('10.0.0.0/8'), cidr('10.1.0.0/16')));
  t.notOk(cidrCovers(cidr('10.1.0.0/16'), cidr('10.0.0.0/8')));
  t.ok(cidrCovers(cidr('10.0.0.0/8'), cidr('10.0.0.0/8')), 'a CIDR covers itself');
  t.notOk(cidrCovers(cidr('::/0'), cidr('10.0.0.0/8')), 'families never cover each other');
  t.end();
});

t.test('address bytes round-trip', (t) => {
  for (const address of ['10.1.2.3', 'fd00::5', '::ffff:10.0.0.1', '2001:db8::1:0:0:1', '1:2:3:4:5:6:7:8', '::']) {
    const family = address.includes(':') ? 6 : 4;
    const bytes = addressBytes(address, family);
    t.ok(bytes, address);
    if (bytes !== null) t.equal(formatAddress(bytes), address, `${address} prints back as itself`);
  }
  t.equal(addressBytes('10.1.2.3', 6), null, 'IPv4 text is not an IPv6 address');
  t.equal(addressBytes('fd00::1', 4), null);
  t.end();
});
