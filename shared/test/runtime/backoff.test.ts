import t from 'tap';
import { backoffDelayMs } from '../../src/runtime/backoff.js';

const opts = { initialMs: 100, maxMs: 1000 };

t.test('grows exponentially up to maxMs', (t) => {
  const almostOne = (): number => 0.999999;
  t.equal(backoffDelayMs(0, opts, almostOne), 99);
  t.equal(backoffDelayMs(1, opts, almostOne), 199);
  t.equal(backoffDelayMs(3, opts, almostOne), 799);
  t.equal(backoffDelayMs(4, opts, almostOne), 999, 'capped at maxMs');
  t.equal(backoffDelayMs(60, opts, almostOne), 999, 'no overflow for large attempts');
  t.end();
});

t.test('full jitter: zero random gives zero delay', (t) => {
  t.equal(backoffDelayMs(5, opts, () => 0), 0);
  t.end();
});

t.test('rejects bad input', (t) => {
  t.throws(() => backoffDelayMs(-1, opts), RangeError);
  t.throws(() => backoffDelayMs(1.5, opts), RangeError);
  t.throws(() => backoffDelayMs(0, { initialMs: 0, maxMs: 10 }), RangeError);
  t.throws(() => backoffDelayMs(0, { initialMs: 10, maxMs: 5 }), RangeError);
  t.end();
});
