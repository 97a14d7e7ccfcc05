import t from 'tap';
import { interfaceName, MAX_INTERFACE_NAME, ownedName, ownerPid, staleNames } from '../../src/netns/names.js';

t.test('ownedName: prefix, pid, rest; refuses what would read back wrong', (t) => {
  const cases: [string, number, string | undefined, string | RegExp][] = [
    ['lm', 4107, 'x1', 'lm4107x1'],
    ['lbp', 4107, 'c', 'lbp4107c'],
    ['loom-t-', 77, '-3', 'loom-t-77-3'],
    ['lm', 1, undefined, 'lm1'],
    ['lm', 12, '7x', /must not start with a digit/],
    ['lm', 12, 'a/b', /must not start with a digit or hold/],
    ['lm', 12, 'a b', /hold '\/', ':' or spaces/],
    ['LM', 12, '', /lower-case letters and dashes/],
    ['', 12, '', /lower-case letters and dashes/],
    ['lm', 0, '', /not a positive integer/],
    ['lm', 1.5, '', /not a positive integer/],
  ];
  for (const [prefix, pid, rest, expected] of cases) {
    const label = `${prefix}|${pid}|${rest ?? ''}`;
    if (typeof expected === 'string') t.equal(ownedName(prefix, pid, rest), expected, label);
    else t.throws(() => ownedName(prefix, pid, rest), expected, label);
  }
  t.end();
});

t.test('interfaceName: at most 15 characters', (t) => {
  t.equal(MAX_INTERFACE_NAME, 15);
  t.equal(interfaceName('lm', 4194304, 'x12v34'), 'lm4194304x12v34', 'exactly 15 is fine');
  t.throws(() => interfaceName('lm', 4194304, 'x123v34'), /"lm4194304x123v34" has 16 characters; Linux allows 15/);
  t.end();
});

t.test('ownerPid reads back what ownedName wrote, and nothing else', (t) => {
  const cases: [string, string, number | null][] = [
    ['lm4107x1-web', 'lm', 4107],
    ['lm4107x1br', 'lm', 4107],
    ['lbp4107c', 'lbp', 4107],
    ['loom-t-77-3', 'loom-t-', 77],
    ['lmx1', 'lm', null],
    ['lbp4107c', 'lm', null],
    ['eth0', 'lm', null],
    ['lm0x1', 'lm', null],
    ['', 'lm', null],
  ];
  for (const [name, prefix, pid] of cases) t.equal(ownerPid(name, prefix), pid, `${name} under ${prefix}`);
  for (const pid of [1, 99, 4107, 4194304]) t.equal(ownerPid(ownedName('lm', pid, 'x2'), 'lm'), pid, `round trip ${pid}`);
  t.end();
});

t.test('staleNames: under the prefix, not ours, owner gone', (t) => {
  const alive = new Set([10, 20]);
  const names = ['lm10x1', 'lm20x1-a', 'lm30x1', 'lm30x1-b', 'lm40x2br', 'lbp30c', 'eth0', 'lmx'];
  t.strictSame(staleNames(names, 'lm', (pid) => alive.has(pid), 40), ['lm30x1', 'lm30x1-b'], 'own pid (40) kept though not in the alive set');
  t.strictSame(staleNames(names, 'lbp', () => true, 1), [], 'all owners alive');
  t.strictSame(staleNames([], 'lm', () => false, 1), []);
  t.end();
});
