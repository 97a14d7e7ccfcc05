import t from 'tap';
import { formatMilli, parseQuantityMilli } from '../../src/smi/quantity.js';

t.test('parses quantities to exact milli-values', (t) => {
  const ok: [string | number, bigint][] = [
    ['1', 1000n],
    ['500m', 500n],
    ['1500m', 1500n],
    ['1.5', 1500n],
    ['0.001', 1n],
    ['.5', 500n],
    ['1.', 1000n],
    ['+2', 2000n],
    ['0', 0n],
    ['-0', 0n],
    ['1k', 1000000n],
    ['1M', 1000000000n],
    ['1Ki', 1024000n],
    ['2Mi', 2097152000n],
    ['1000u', 1n],
    ['1000000n', 1n],
    ['1e3', 1000000n],
    ['15E-1', 1500n],
    [1, 1000n],
    [0.5, 500n],
    [100, 100000n],
    [0, 0n],
  ];
  for (const [q, milli] of ok) {
    t.strictSame(parseQuantityMilli(q), { ok: true, milli }, `${JSON.stringify(q)}`);
  }
  t.end();
});

t.test('refuses what is not a non-negative quantity with milli precision', (t) => {
  const bad: [string | number, string][] = [
    ['ten', 'syntax'],
    ['', 'syntax'],
    ['1 m', 'syntax'],
    ['1mi', 'syntax'],
    ['1e', 'syntax'],
    ['0x10', 'syntax'],
    [Number.NaN, 'syntax'],
    [Number.POSITIVE_INFINITY, 'syntax'],
    ['-1', 'negative'],
    ['-500m', 'negative'],
    [-2, 'negative'],
    ['1u', 'precision'],
    ['0.0005', 'precision'],
    ['0.0000001', 'precision'],
    ['1n', 'precision'],
    [1e-7, 'precision'],
    ['1e-4', 'precision'],
    ['1e999', 'too-large'],
  ];
  for (const [q, reason] of bad) t.strictSame(parseQuantityMilli(q), { ok: false, reason }, `${JSON.stringify(q)} → ${reason}`);
  t.end();
});

t.test('formats milli-values canonically', (t) => {
  t.equal(formatMilli(1000n), '1');
  t.equal(formatMilli(500n), '500m');
  t.equal(formatMilli(0n), '0');
  t.equal(formatMilli(2500n), '2500m');
  t.end();
});
