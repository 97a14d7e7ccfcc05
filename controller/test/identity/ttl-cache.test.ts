import t from 'tap';
import { TtlCache } from '../../src/identity/ttl-cache.js';

t.test('entries expire at their own time', (t) => {
  let now = 0;
  const cache = new TtlCache<string>({ maxEntries: 10, now: () => now });
  cache.set('a', 'A', 100);
  cache.set('b', 'B', 50);
  t.equal(cache.get('a'), 'A');
  t.equal(cache.get('b'), 'B');
  now = 50;
  t.equal(cache.get('b'), undefined, 'b expired at 50');
  t.equal(cache.get('a'), 'A');
  now = 100;
  t.equal(cache.get('a'), undefined);
  t.equal(cache.size, 0, 'expired entries are removed when read');
  t.end();
});

t.test('an entry already expired is not stored; storing again replaces', (t) => {
  const cache = new TtlCache<number>({ maxEntries: 10, now: () => 10 });
  cache.set('x', 1, 10);
  t.equal(cache.get('x'), undefined);
  cache.set('x', 1, 20);
  cache.set('x', 2, 30);
  t.equal(cache.get('x'), 2);
  t.equal(cache.size, 1);
  t.end();
});

t.test('size is bounded: expired entries go first, then the oldest', (t) => {
  let now = 0;
  const cache = new TtlCache<number>({ maxEntries: 2, now: () => now });
  cache.set('short', 1, 10);
  cache.set('long', 2, 1_000);
  now = 20;
  cache.set('new', 3, 1_000);
  t.equal(cache.get('long'), 2, 'the expired entry made room');
  cache.set('newer', 4, 1_000);
  t.equal(cache.size, 2);
  t.equal(cache.get('long'), undefined, 'the oldest live entry was evicted');
  t.equal(cache.get('newer'), 4);
  const off = new TtlCache<number>({ maxEntries: 0, now: () => 0 });
  off.set('a', 1, 10);
  t.equal(off.get('a'), undefined, 'size 0 caches nothing');
  t.end();
});
