import t from 'tap';
import { loomPair, LOOM_NOT_WIRED } from '../../../src/proxy/pairs/loom.js';

t.test('the Loom pair says it is not wired yet and never starts', async (t) => {
  t.equal(await loomPair.unavailable(), LOOM_NOT_WIRED);
  t.equal(LOOM_NOT_WIRED, 'Loom pair: not wired yet');
  await t.rejects(async () => loomPair.start({} as Parameters<typeof loomPair.start>[0]), /not wired yet/);
});
