import t from 'tap';
import { RENEW_FRACTION, RENEW_JITTER, renewAfter, renewalDelay, renewalTime } from '../../src/identity/renewal.js';

const HOUR = 3_600_000;
const start = Date.UTC(2026, 0, 1);
/** A 24 h leaf issued at `start`. */
const day = { notBefore: start, notAfter: start + 24 * HOUR };
const fixed = (value: number) => (): number => value;

t.test('constants: renew at 2/3 of the life, jitter of 5% of the life either side', (t) => {
  t.equal(RENEW_FRACTION, 2 / 3);
  t.equal(RENEW_JITTER, 0.05);
  t.end();
});

t.test('renewAfter: notBefore + 2/3 of the life, no jitter, whole milliseconds', (t) => {
  t.equal(renewAfter(day), start + 16 * HOUR);
  t.equal(renewAfter({ notBefore: 1000, notAfter: 1000 + 3 * HOUR }), 1000 + 2 * HOUR);
  t.equal(renewAfter({ notBefore: 0, notAfter: 10 }), 6, 'floor(10 * 2/3)');
  t.equal(renewAfter({ notBefore: 5, notAfter: 5 }), 5, 'zero life: notBefore');
  t.end();
});

t.test('renewalTime with injected random: the jitter table', (t) => {
  const life = 24 * HOUR;
  const table: [random: number, fraction: number, label: string][] = [
    [0, RENEW_FRACTION - RENEW_JITTER, 'random 0: earliest'],
    [0.5, RENEW_FRACTION, 'random 0.5: exactly 2/3'],
    [0.999999, RENEW_FRACTION + RENEW_JITTER * 0.999998, 'random ~1: latest'],
  ];
  for (const [random, fraction, label] of table) {
    const expected = start + Math.floor(life * fraction);
    const at = renewalTime(day, start, fixed(random));
    t.ok(Math.abs(at - expected) <= 1, `${label}: ${new Date(at).toISOString()}`);
    t.ok(at >= start + 0.6166 * life && at < start + 0.7167 * life, `${label}: within 2/3 ± 5% of the life`);
    t.equal(renewalDelay(day, start, fixed(random)), at - start, `${label}: delay is the time until then`);
  }
  t.end();
});

t.test('renewalTime: the jitter spreads proxies started together', (t) => {
  const times = new Set([0, 0.25, 0.5, 0.75].map((random) => renewalTime(day, start, fixed(random))));
  t.equal(times.size, 4);
  t.end();
});

t.test('renewalTime never lies in the past: a certificate received late renews at once', (t) => {
  const late = start + 20 * HOUR; // past even the latest jittered time (~17.2 h)
  t.equal(renewalTime(day, late, fixed(0.999999)), late);
  t.equal(renewalDelay(day, late, fixed(0)), 0);
  const expired = start + 30 * HOUR;
  t.equal(renewalTime(day, expired, fixed(0.5)), expired, 'an expired certificate renews now');
  t.equal(renewalDelay(day, expired), 0);
  t.end();
});

t.test('renewalTime: zero or negative life renews now', (t) => {
  const now = start + HOUR;
  for (const validity of [
    { notBefore: start, notAfter: start },
    { notBefore: start, notAfter: start - HOUR },
    { notBefore: Number.NaN, notAfter: start },
  ]) {
    t.equal(renewalTime(validity, now, fixed(0.5)), now, `life ${validity.notAfter - validity.notBefore}`);
    t.equal(renewalDelay(validity, now, fixed(0.5)), 0);
  }
  t.end();
});

t.test('renewalTime: early clocks still wait for the renewal point', (t) => {
  const before = start - HOUR; // the proxy's clock is behind notBefore
  t.equal(renewalTime(day, before, fixed(0.5)), start + 16 * HOUR);
  t.equal(renewalDelay(day, before, fixed(0.5)), 17 * HOUR);
  t.end();
});

t.test('renewalTime uses Math.random by default, within the jitter window', (t) => {
  for (let i = 0; i < 50; i += 1) {
    const at = renewalTime(day, start);
    t.ok(at >= start + Math.floor(24 * HOUR * (RENEW_FRACTION - RENEW_JITTER)) && at <= start + Math.floor(24 * HOUR * (RENEW_FRACTION + RENEW_JITTER)));
  }
  t.end();
});
