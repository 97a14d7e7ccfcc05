/**
 * The endpoint picker and its load state, as tables: distribution over equal endpoints with a seeded random
 * source, preference for the cheaper endpoint, ejection and its backoff, the all-ejected fallback, readiness
 * tiers, a single endpoint, exclusion, and the peak-EWMA estimate.
 */
import t from 'tap';
import { abandoned, answered, attemptToken, BALANCE, connectFailed, connectSucceeded, cost, ejectionMs, estimateAt, isEjected, newLoad, pick, started, type Candidate, type Load } from '../../src/outbound/balance.js';
import { seeded } from './support.js';

const candidate = (over: Partial<Load> = {}, ready = true): Candidate => ({ ready, load: { ...newLoad(0), ...over } });

function counts(candidates: readonly Candidate[], n: number, now: number, random: () => number, exclude = -1): number[] {
  const c = candidates.map(() => 0);
  for (let i = 0; i < n; i++) {
    const j = pick(candidates, now, random, exclude);
    if (j >= 0) c[j]!++;
  }
  return c;
}

t.test('equal endpoints share the load evenly (seeded random, within 4 standard deviations)', (t) => {
  const n = 3000;
  for (const size of [2, 3, 5]) {
    const got = counts(Array.from({ length: size }, () => candidate()), n, 0, seeded(size));
    const p = 1 / size;
    const sd = Math.sqrt(n * p * (1 - p));
    for (const [i, c] of got.entries()) t.ok(Math.abs(c - n * p) <= 4 * sd, `${size} endpoints: endpoint ${i} got ${c} of ${n}`);
  }
  t.end();
});

t.test('the cheaper of the two drawn endpoints wins', (t) => {
  const cases: { name: string; loads: Partial<Load>[]; expect: (c: number[]) => boolean }[] = [
    { name: 'two endpoints: the faster always', loads: [{ rttMs: 50 }, { rttMs: 5 }], expect: (c) => c[0] === 0 },
    { name: 'two endpoints: the less busy always', loads: [{ inFlight: 4 }, { inFlight: 0 }], expect: (c) => c[0] === 0 },
    { name: 'three endpoints: the slowest never (it always loses its draw)', loads: [{ rttMs: 5 }, { rttMs: 6 }, { rttMs: 100 }], expect: (c) => c[2] === 0 },
    { name: 'three endpoints: the fastest wins two draws of three', loads: [{ rttMs: 5 }, { rttMs: 50 }, { rttMs: 100 }], expect: (c) => c[0]! > c[1]! && c[1]! > c[2]! },
  ];
  for (const c of cases) {
    const got = counts(c.loads.map((l) => candidate(l)), 900, 0, seeded(11));
    t.ok(c.expect(got), `${c.name}: ${got.join('/')}`);
  }
  t.end();
});

t.test('cost: estimate × (in flight + 1); the estimate decays while unused', (t) => {
  const load: Load = { ...newLoad(0), rttMs: 40, inFlight: 1 };
  t.equal(cost(load, 0), 80);
  t.equal(estimateAt(load, BALANCE.decayMs), 40 / Math.E);
  t.ok(cost(load, 10 * BALANCE.decayMs) < 0.01, 'an endpoint unused for long looks cheap again, so it gets probed');
  t.end();
});

t.test('peak EWMA: a slower answer replaces the estimate, a faster one moves it by recency', (t) => {
  const load = newLoad(0);
  started(load);
  t.equal(load.inFlight, 1);
  answered(load, 100, 10);
  t.equal(load.rttMs, 100, 'peak');
  t.equal(load.inFlight, 0);
  started(load);
  answered(load, 0, 10 + BALANCE.decayMs);
  t.ok(Math.abs(load.rttMs - 100 / Math.E) < 1e-9, 'a faster answer one decay period later leaves 1/e of the old estimate');
  started(load);
  abandoned(load);
  abandoned(load);
  t.equal(load.inFlight, 0, 'never below zero');
  t.end();
});

t.test('ejection: 5 s, doubling up to 60 s on consecutive failures, reset by a success', (t) => {
  t.strictSame([1, 2, 3, 4, 5, 6, 50].map(ejectionMs), [5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
  const load = newLoad(0);
  t.equal(connectFailed(load, 1_000, attemptToken(load)), 5_000);
  t.ok(isEjected(load, 5_999));
  t.notOk(isEjected(load, 6_000));
  t.equal(connectFailed(load, 6_000, attemptToken(load)), 10_000, 'the second consecutive failure doubles');
  connectSucceeded(load);
  t.notOk(isEjected(load, 6_001), 'a success ends the ejection');
  t.equal(connectFailed(load, 7_000, attemptToken(load)), 5_000, 'and the streak');
  t.end();
});

t.test('ejection counts connect attempts: failures of attempts started together count once', (t) => {
  const rows: { name: string; steps: readonly ('start' | 'fail' | 'succeed')[]; failures: number; ejectedForMs: number }[] = [
    { name: 'one attempt, one failure', steps: ['start', 'fail'], failures: 1, ejectedForMs: 5_000 },
    { name: 'five attempts started together, all failing', steps: ['start', 'start', 'start', 'start', 'start', 'fail', 'fail', 'fail', 'fail', 'fail'], failures: 1, ejectedForMs: 5_000 },
    { name: 'two failures one after the other', steps: ['start', 'fail', 'start', 'fail'], failures: 2, ejectedForMs: 10_000 },
    { name: 'an attempt started before a counted failure, failing after it', steps: ['start', 'start', 'fail', 'start', 'fail', 'fail'], failures: 2, ejectedForMs: 10_000 },
    { name: 'a failure after a success starts a new streak', steps: ['start', 'fail', 'start', 'succeed', 'start', 'fail'], failures: 1, ejectedForMs: 5_000 },
  ];
  for (const row of rows) {
    const load = newLoad(0);
    const pending: number[] = [];
    let now = 0;
    for (const step of row.steps) {
      now += 10;
      if (step === 'start') pending.push(attemptToken(load));
      else if (step === 'succeed') {
        pending.shift();
        connectSucceeded(load);
      } else connectFailed(load, now, pending.shift()!);
    }
    t.equal(load.failures, row.failures, `${row.name}: failures`);
    t.equal(load.ejectedUntil - load.ejectedAt, row.ejectedForMs, `${row.name}: ejected for`);
  }
  t.end();
});

t.test('ejected endpoints are not picked while others remain; all ejected: the one ejected longest ago', (t) => {
  const now = 10_000;
  const ejected = (at: number, ready = true): Candidate => candidate({ ejectedAt: at, ejectedUntil: at + 5_000 }, ready);
  const rows: { name: string; candidates: Candidate[]; picks: number[] }[] = [
    { name: 'one of two ejected', candidates: [ejected(9_000), candidate()], picks: [0, 100] },
    { name: 'ejection over: picked again', candidates: [ejected(1_000), candidate({ rttMs: 100 })], picks: [100, 0] },
    { name: 'all ejected: longest ago wins', candidates: [ejected(9_000), ejected(8_000), ejected(9_500)], picks: [0, 100, 0] },
    { name: 'all ejected at once: ready before not ready', candidates: [ejected(9_000, false), ejected(9_000)], picks: [0, 100] },
  ];
  for (const row of rows) t.strictSame(counts(row.candidates, 100, now, seeded(3)), row.picks, row.name);
  t.end();
});

t.test('ready endpoints first; not-ready ones only when no ready one is available', (t) => {
  const rows: { name: string; candidates: Candidate[]; picks: number[] }[] = [
    { name: 'a ready one beats cheaper not-ready ones', candidates: [candidate({ rttMs: 1 }, false), candidate({ rttMs: 500 }), candidate({ rttMs: 1 }, false)], picks: [0, 100, 0] },
    { name: 'no ready one: not-ready ones', candidates: [candidate({ rttMs: 1 }, false), candidate({ rttMs: 50 }, false)], picks: [100, 0] },
    { name: 'the ready one ejected: a not-ready one rather than the ejected one', candidates: [candidate({ ejectedAt: 0, ejectedUntil: 1e9 }), candidate({}, false)], picks: [0, 100] },
  ];
  for (const row of rows) t.strictSame(counts(row.candidates, 100, 1, seeded(5)), row.picks, row.name);
  t.end();
});

t.test('edge cases: no endpoints, a single endpoint, exclusion', (t) => {
  const random = seeded(9);
  t.equal(pick([], 0, random), -1, 'none');
  t.equal(pick([candidate()], 0, random), 0, 'single');
  t.equal(pick([candidate({ ejectedAt: 0, ejectedUntil: 1e9 })], 0, random), 0, 'single, ejected: still tried');
  t.equal(pick([candidate()], 0, random, 0), -1, 'single, excluded: none');
  t.strictSame(counts([candidate(), candidate(), candidate()], 90, 0, random, 1)[1], 0, 'the excluded one is never picked');
  let draws = 0;
  pick([candidate(), candidate(), candidate()], 0, () => {
    draws++;
    return 0.999999;
  });
  t.equal(draws, 2, 'two draws per pick');
  t.end();
});
