import t from 'tap';
import { IDLE_TICKS, MAX_SHED_SHARE, nextShedState, NOT_SHEDDING, OverloadGuard, type ShedState } from '../src/overload.js';

const state = (share: number, overTicks: number, overMs: number): ShedState => ({ share, overTicks, overMs });

t.test('nextShedState: rises only after the lag stayed over the threshold, per second and scaled, decays under it', (t) => {
  const cases: [name: string, state: ShedState, lag: number, elapsed: number, threshold: number, expected: ShedState][] = [
    ['under: nothing', NOT_SHEDDING, 5, 10, 20, NOT_SHEDDING],
    ['at the threshold is not over', NOT_SHEDDING, 20, 25, 20, NOT_SHEDDING],
    ['one late tick (a GC pause) starts a streak, timed from it', NOT_SHEDDING, 40, 45, 20, state(0, 1, 0)],
    ['one stall longer than SUSTAIN_MS is still one late tick: nothing refused', NOT_SHEDDING, 1995, 2000, 200, state(0, 1, 0)],
    ['the next late tick times the streak', state(0, 1, 0), 40, 45, 20, state(0, 2, 45)],
    ['a second stall in a row: sustained, rises', state(0, 1, 0), 995, 1000, 200, state(0.95, 2, 1000)],
    ['sustained: rises by elapsed × rate × (lag / threshold)', state(0, 5, 480), 40, 45, 20, state(0.09, 6, 525)],
    ['over, not yet for long enough', state(0, 5, 400), 40, 45, 20, state(0, 6, 445)],
    ['far over: scaled at most 4×', state(0, 7, 600), 500, 505, 20, state(0.95, 8, 1105)],
    ['never above the cap', state(0.9, 7, 600), 100, 105, 20, state(MAX_SHED_SHARE, 8, 705)],
    ['under again: decays per second and forgets the streak', state(0.5, 3, 300), 1, 100, 20, state(0.45, 0, 0)],
    ['between half the threshold and it: holds, forgets the streak', state(0.5, 3, 300), 15, 20, 20, state(0.5, 0, 0)],
    ['floored at 0', state(0.001, 0, 0), 1, 100, 20, NOT_SHEDDING],
    ['threshold 0: off', state(0.5, 3, 300), 500, 505, 0, NOT_SHEDDING],
  ];
  for (const [name, from, lag, elapsed, threshold, expected] of cases) {
    const next = nextShedState(from, lag, elapsed, threshold);
    t.same({ share: Number(next.share.toFixed(6)), overTicks: next.overTicks, overMs: next.overMs }, expected, name);
  }
  t.equal(nextShedState(state(0, 2, 45), 15, 20, 20), NOT_SHEDDING, 'a streak ending between half the threshold and it, nothing refused: NOT_SHEDDING itself');
  t.equal(nextShedState(NOT_SHEDDING, 15, 20, 20), NOT_SHEDDING, 'and it stays so');
  t.end();
});

/** Refusals among `n` requests with the guard at its current share. */
function refusals(guard: OverloadGuard, n: number): number {
  let refused = 0;
  for (let i = 0; i < n; i++) if (guard.shed()) refused += 1;
  return refused;
}

t.test('the guard refuses nothing while the loop keeps up, then the share it reached, evenly spread', (t) => {
  const guard = new OverloadGuard({ lagThresholdMs: 20 });
  t.teardown(() => guard.stop());
  t.equal(refusals(guard, 1000), 0, 'no lag measured: every request admitted');
  guard.tick(30); // one late tick: a pause, not overload
  t.equal(refusals(guard, 1000), 0, 'one late tick refuses nothing');
  for (let i = 0; i < 10; i++) guard.tick(100); // 5× over for ~1 s: up to the cap
  t.equal(guard.share, MAX_SHED_SHARE);
  const refused = refusals(guard, 1000);
  t.ok(refused >= 945 && refused <= 955, `about 95% refused (${refused}/1000)`);
  // Evenly spread: of any 20 consecutive requests at 95%, exactly 1 gets through.
  let admittedIn20 = 0;
  for (let i = 0; i < 20; i++) if (!guard.shed()) admittedIn20 += 1;
  t.equal(admittedIn20, 1);
  for (let i = 0; i < 10; i++) guard.tick(1, 200); // the lag is gone for 2 s: decays by 0.5 per second
  t.equal(guard.share, 0);
  t.equal(refusals(guard, 1000), 0, 'back to admitting everything');
  t.end();
});

t.test('one long stall (a GC pause, one long task) refuses nothing; the same stall twice in a row does', (t) => {
  const guard = new OverloadGuard({ lagThresholdMs: 200 });
  t.teardown(() => guard.stop());
  guard.tick(2_000);
  t.equal(guard.share, 0, 'one tick 2 s late');
  t.equal(refusals(guard, 1000), 0);
  guard.tick(0);
  guard.tick(2_000);
  t.equal(guard.share, 0, 'another, after an on-time tick: a new streak');
  guard.tick(600);
  t.equal(guard.share, MAX_SHED_SHARE, 'late again at once: the lag stayed');
  t.end();
});

t.test('the probe stops after a quiet second even when the last streak ended between half the threshold and it', (t) => {
  const guard = new OverloadGuard({ lagThresholdMs: 20 });
  t.teardown(() => guard.stop());
  guard.shed();
  guard.tick(30); // a streak starts
  for (let i = 0; i <= IDLE_TICKS; i++) guard.tick(15); // and ends: lag at 75% of the threshold, no requests
  t.equal(guard.share, 0);
  t.notOk(guard.probing, 'stopped');
  t.end();
});

t.test('a threshold of 0 never refuses and starts no timer', (t) => {
  const guard = new OverloadGuard({ lagThresholdMs: 0 });
  guard.tick(10_000);
  t.equal(refusals(guard, 100), 0);
  t.equal(guard.share, 0);
  t.end();
});

t.test('the probe stops by itself after a quiet second, and starts again with the next request', (t) => {
  const guard = new OverloadGuard({ lagThresholdMs: 20 });
  t.teardown(() => guard.stop());
  t.notOk(guard.probing, 'no timer before the first request');
  guard.shed();
  t.ok(guard.probing, 'the first request starts the probe');
  guard.tick(0); // the tick that sees that request
  for (let i = 0; i < IDLE_TICKS - 1; i++) guard.tick(0);
  t.ok(guard.probing, 'still probing just before a quiet second');
  guard.tick(0);
  t.notOk(guard.probing, 'stopped after IDLE_TICKS quiet ticks');
  guard.shed();
  t.ok(guard.probing, 'and back with the next request');
  t.end();
});

t.test('the real probe measures the lag of a blocked event loop and starts refusing', async (t) => {
  const guard = new OverloadGuard({ lagThresholdMs: 20 });
  t.teardown(() => guard.stop());
  guard.shed();
  // Block the loop for ~100 ms eight times: each probe tick after it is ~100 ms late, for longer than SUSTAIN_MS.
  for (let round = 0; round < 8; round++) {
    const until = performance.now() + 100;
    while (performance.now() < until) guard.shed();
    await new Promise((resolve) => setTimeout(resolve, 0)); // lets the (late) probe tick run, then blocks again at once
  }
  t.ok(guard.lagMs > 0 || guard.share > 0, `lag measured (${guard.lagMs.toFixed(1)} ms)`);
  t.ok(guard.share > 0, `some requests are being refused (share ${guard.share.toFixed(2)})`);
});
