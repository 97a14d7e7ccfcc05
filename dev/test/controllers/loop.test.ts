/** The reconcile loop: bursts coalesce into one reconcile, filters, errors are contained, stop() leaves nothing behind. */
import { silentLogger } from '@loom/shared/runtime';
import t from 'tap';
import { Store } from '../../src/api/store.js';
import { Reconciler } from '../../src/controllers/loop.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const cm = (name: string) => ({ metadata: { name, namespace: 'a' } });

t.test('a burst of changes makes one reconcile; only watched and relevant changes count', async (t) => {
  const store = new Store();
  let runs = 0;
  const loop = new Reconciler('test', store, [{ resource: '/configmaps', relevant: (e) => e.object.metadata.name !== 'ignored' }], () => (runs++, undefined), silentLogger());
  loop.start();
  t.teardown(() => loop.stop());
  await turn();
  t.equal(runs, 1, 'one reconcile at start');
  for (let i = 0; i < 100; i++) store.create('/configmaps', cm(`c${i}`));
  t.ok(loop.pending);
  await turn();
  t.equal(runs, 2, 'a hundred changes, one reconcile');
  store.create('/configmaps', cm('ignored'));
  store.create('/secrets', cm('s'));
  await turn();
  t.equal(runs, 2, 'irrelevant changes and other resources make none');
});

t.test('a failing reconcile or filter is logged and the loop carries on', async (t) => {
  const store = new Store();
  const logged: string[] = [];
  const log = silentLogger();
  const record = (obj: unknown, msg?: string): void => void logged.push(msg ?? String(obj));
  log.error = record;
  let runs = 0;
  const loop = new Reconciler(
    'test',
    store,
    [
      {
        resource: '/configmaps',
        relevant: (e) => {
          if (e.object.metadata.name === 'bad') throw new Error('filter broke');
          return true;
        },
      },
    ],
    () => {
      runs++;
      throw new Error('reconcile broke');
    },
    log,
  );
  loop.start();
  t.teardown(() => loop.stop());
  await turn();
  t.doesNotThrow(() => store.create('/configmaps', cm('bad')), 'the store never sees a listener throw');
  store.create('/configmaps', cm('good'));
  await turn();
  t.equal(runs, 2);
  t.strictSame(logged, ['reconcile failed', 'event filter failed', 'reconcile failed']);
});

t.test('a reconcile asking to run again is run again; stop() cancels it and leaves no timer', async (t) => {
  const store = new Store();
  let runs = 0;
  const loop = new Reconciler('test', store, [{ resource: '/configmaps' }], () => (++runs < 3 ? 20 : undefined), silentLogger());
  loop.start();
  for (let i = 0; i < 100 && runs < 3; i++) await sleep(10);
  t.equal(runs, 3, 'ran again after the delays it asked for');

  let later = 0;
  const stopped = new Reconciler('test', store, [{ resource: '/configmaps' }], () => (later++, 30), silentLogger());
  stopped.start();
  await turn();
  t.equal(later, 1);
  t.ok(process.getActiveResourcesInfo().includes('Timeout'), 'a timer is set for the re-run');
  stopped.stop();
  loop.stop();
  t.notOk(process.getActiveResourcesInfo().includes('Timeout'), 'no timer after stop()');
  store.create('/configmaps', cm('after'));
  await sleep(60);
  t.equal(later, 1, 'nothing runs after stop(), neither for changes nor for time');
  t.notOk(stopped.pending);
});
