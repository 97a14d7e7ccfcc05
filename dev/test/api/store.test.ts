/** The store: copies in and out, one resourceVersion for everything, and watches that replay from the log or expire. */
import t from 'tap';
import { ExpiredError, Store, type KubeObject, type StoreEvent } from '../../src/api/store.js';

const pod = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', labels } });

t.test('objects are copied: changing what was passed in or handed out changes nothing stored', (t) => {
  const store = new Store();
  const input = pod('a', { app: 'web' });
  const created = store.create('/pods', input);
  input.metadata.labels = { app: 'changed' };
  created.metadata.labels = { app: 'changed too' };
  t.strictSame(store.get('/pods', 'shop', 'a')?.metadata.labels, { app: 'web' });
  t.end();
});

t.test('every change takes the next resourceVersion, across resources', (t) => {
  const store = new Store();
  const start = store.resourceVersion;
  const a = store.create('/pods', pod('a'));
  const cm = store.create('/configmaps', { metadata: { name: 'c', namespace: 'shop' } });
  const a2 = store.update('/pods', { ...a, spec: { x: 1 } });
  const gone = store.delete('/pods', 'shop', 'a');
  t.strictSame([a, cm, a2, gone].map((o) => Number(o?.metadata.resourceVersion)), [start + 1, start + 2, start + 3, start + 4]);
  t.equal(store.resourceVersion, start + 4);
  t.equal(store.delete('/pods', 'shop', 'a'), undefined, 'deleting what is gone: undefined');
  t.end();
});

t.test('a watch replays the changes after its resourceVersion, then follows; other resources are not seen', (t) => {
  const store = new Store();
  store.create('/pods', pod('a'));
  const after = store.resourceVersion;
  store.create('/pods', pod('b'));
  store.create('/configmaps', { metadata: { name: 'c', namespace: 'shop' } });
  const seen: StoreEvent[] = [];
  const stop = store.watch('/pods', after, (e) => seen.push(e));
  t.strictSame(
    seen.map((e) => [e.type, e.object.metadata.name]),
    [['ADDED', 'b']],
    'replayed',
  );
  const b = store.get('/pods', 'shop', 'b');
  if (b === undefined) throw new Error('b missing');
  store.update('/pods', { ...b, spec: { v: 2 } });
  store.delete('/pods', 'shop', 'b');
  stop();
  store.create('/pods', pod('after-stop'));
  t.strictSame(
    seen.map((e) => [e.type, e.object.metadata.name]),
    [
      ['ADDED', 'b'],
      ['MODIFIED', 'b'],
      ['DELETED', 'b'],
    ],
  );
  t.strictSame(seen[1]?.previous?.['spec'], undefined, 'a MODIFIED event carries the object before the change');
  t.end();
});

t.test('a watch from before what the log holds expires (410)', (t) => {
  const store = new Store({ logSize: 3 });
  const start = store.resourceVersion;
  for (let i = 0; i < 5; i++) store.create('/pods', pod(`p${i}`));
  t.equal(store.oldestWatchable, start + 2);
  t.throws(() => store.watch('/pods', start, () => {}), ExpiredError);
  t.throws(() => store.watch('/pods', start + 1, () => {}), new ExpiredError(start + 1, start + 2));
  const seen: string[] = [];
  store.watch('/pods', start + 2, (e) => seen.push(e.object.metadata.name))();
  t.strictSame(seen, ['p2', 'p3', 'p4'], 'the oldest watchable version replays everything the log holds');
  t.end();
});

t.test('a snapshot restores every object and the resourceVersion', (t) => {
  const store = new Store();
  store.create('/pods', pod('a', { app: 'x' }));
  store.create('/namespaces', { metadata: { name: 'shop' } });
  const restored = new Store({ snapshot: store.snapshot() });
  t.equal(restored.resourceVersion, store.resourceVersion);
  t.strictSame(restored.list('/pods'), store.list('/pods'));
  t.strictSame(restored.get('/namespaces', undefined, 'shop'), store.get('/namespaces', undefined, 'shop'));
  t.end();
});
