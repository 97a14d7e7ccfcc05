import t from 'tap';
import { LogThrottle } from '../../src/identity/log-throttle.js';

t.test('the first event of a kind is logged, then one per interval saying how many were not', (t) => {
  let now = 0;
  const throttle = new LogThrottle({ intervalMs: 10_000, now: () => now });
  t.same(throttle.admit('capacity'), { log: true, suppressed: 0 });
  t.same(throttle.admit('capacity'), { log: false });
  t.same(throttle.admit('capacity'), { log: false });
  t.same(throttle.admit('peer'), { log: true, suppressed: 0 }, 'kinds are independent');
  now = 9_999;
  t.same(throttle.admit('capacity'), { log: false });
  now = 10_000;
  t.same(throttle.admit('capacity'), { log: true, suppressed: 3 });
  t.same(throttle.admit('capacity'), { log: false });
  now = 60_000;
  t.same(throttle.admit('capacity'), { log: true, suppressed: 1 });
  t.same(throttle.admit('peer'), { log: true, suppressed: 0 });
  t.end();
});

t.test('a bad interval is refused', (t) => {
  t.throws(() => new LogThrottle({ intervalMs: 0 }), /interval must be > 0 ms/);
  t.end();
});
