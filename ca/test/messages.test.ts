import t from 'tap';
import { MAX_SHOWN_CHARACTERS, MAX_SHOWN_ITEMS, listed, quote, shown } from '../src/messages.js';

t.test('quote: JSON-escaped, cut with the count of what was left out', (t) => {
  t.equal(quote('cluster.local'), '"cluster.local"');
  t.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
  t.equal(quote('x\u0000y\u001b[31m\nz'), '"x\\u0000y\\u001b[31m\\nz"', 'control characters escaped');
  const long = 'w'.repeat(MAX_SHOWN_CHARACTERS + 4800);
  t.equal(quote(long), `"${'w'.repeat(MAX_SHOWN_CHARACTERS)}"…(4800 more characters)`);
  t.equal(quote('abcdef', 3), '"abc"…(3 more characters)');
  t.equal(quote('w'.repeat(MAX_SHOWN_CHARACTERS)), `"${'w'.repeat(MAX_SHOWN_CHARACTERS)}"`, 'exactly the limit is not cut');
  t.end();
});

t.test('shown: plain text as is, anything else quoted', (t) => {
  for (const plain of ['web.shop.svc', 'spiffe://cluster.local/ns/a/sa/b', '2.5.29.19', 'https://x.example/?q=1#f']) t.equal(shown(plain), plain, plain);
  for (const odd of ['a b', 'a,b', 'a"b', 'é', 'x\ny', '']) t.equal(shown(odd), JSON.stringify(odd), JSON.stringify(odd));
  t.equal(shown('w'.repeat(MAX_SHOWN_CHARACTERS + 1)), `"${'w'.repeat(MAX_SHOWN_CHARACTERS)}"…(1 more character)`, 'long plain text is cut');
  t.end();
});

t.test('listed: at most five, then "and N more"', (t) => {
  t.equal(listed([]), '');
  t.equal(listed(['a', 'b']), 'a, b');
  const many = Array.from({ length: MAX_SHOWN_ITEMS + 7 }, (_, i) => `n${i}`);
  t.equal(listed(many), 'n0, n1, n2, n3, n4 and 7 more');
  t.equal(listed(many.slice(0, MAX_SHOWN_ITEMS)), 'n0, n1, n2, n3, n4');
  t.end();
});
