/** Alarms on an injected clock: absolute times, replacement, long waits chained under setTimeout's limit. */
import t from 'tap';
import { Alarm, MAX_TIMER_MS, systemClock } from '../../src/identity/clock.js';
import { FakeClock } from './support.js';

t.test('fires once at its time; setting again replaces; clear cancels', (t) => {
  const clock = new FakeClock(1_000);
  const alarm = new Alarm(clock);
  const fired: number[] = [];
  alarm.set(1_500, () => fired.push(clock.now()));
  t.equal(alarm.at, 1_500);
  alarm.set(2_000, () => fired.push(clock.now()));
  clock.advanceTo(1_999);
  t.strictSame(fired, [], 'the replaced time does not fire');
  clock.advanceTo(5_000);
  t.strictSame(fired, [2_000], 'fires once, at its time');
  t.equal(alarm.at, undefined, 'then unset');
  alarm.set(6_000, () => fired.push(clock.now()));
  alarm.clear();
  clock.advanceTo(10_000);
  t.strictSame(fired, [2_000], 'a cleared alarm never fires');
  t.equal(clock.pending, 0);
  t.end();
});

t.test('a time in the past fires on the next tick of the clock', (t) => {
  const clock = new FakeClock(1_000);
  const alarm = new Alarm(clock);
  let fired = 0;
  alarm.set(500, () => (fired += 1));
  clock.advance(0);
  t.equal(fired, 1);
  t.end();
});

t.test('waits longer than setTimeout allows are chained, never shortened', (t) => {
  const clock = new FakeClock(0);
  const alarm = new Alarm(clock);
  const at = 3 * MAX_TIMER_MS + 5;
  let firedAt: number | undefined;
  alarm.set(at, () => (firedAt = clock.now()));
  t.equal(clock.nextAt, MAX_TIMER_MS, 'the first timer is capped');
  clock.advanceTo(at - 1);
  t.equal(firedAt, undefined, 'not early');
  clock.advanceTo(at);
  t.equal(firedAt, at);
  t.end();
});

t.test('the system clock: real time, unref’d timers', async (t) => {
  const handle = systemClock.setTimer(() => {}, 60_000) as NodeJS.Timeout;
  t.equal(handle.hasRef(), false, 'does not keep the process alive');
  systemClock.clearTimer(handle);
  const fired = await new Promise<boolean>((resolve) => {
    const keepAlive = setTimeout(() => resolve(false), 5_000);
    systemClock.setTimer(() => {
      clearTimeout(keepAlive);
      resolve(true);
    }, 1);
  });
  t.ok(fired, 'fires');
  const before = Date.now();
  const now = systemClock.now();
  t.ok(before <= now && now <= Date.now(), 'now is Date.now');
});
