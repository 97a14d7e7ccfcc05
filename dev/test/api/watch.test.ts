/** Which event a watch with a selector sees for each change. */
import t from 'tap';
import { visibleEvent } from '../../src/api/watch.js';
import type { KubeObject } from '../../src/api/store.js';

const obj = (app: string): KubeObject => ({ metadata: { name: 'p', labels: { app } } });
const webOnly = (o: KubeObject): boolean => o.metadata.labels?.['app'] === 'web';

t.test('selectors turn changes into the events a watcher of the selection must see', (t) => {
  t.equal(visibleEvent({ type: 'ADDED', object: obj('web') }, webOnly), 'ADDED');
  t.equal(visibleEvent({ type: 'ADDED', object: obj('db') }, webOnly), null);
  t.equal(visibleEvent({ type: 'MODIFIED', object: obj('web'), previous: obj('web') }, webOnly), 'MODIFIED');
  t.equal(visibleEvent({ type: 'MODIFIED', object: obj('web'), previous: obj('db') }, webOnly), 'ADDED', 'starts matching: ADDED');
  t.equal(visibleEvent({ type: 'MODIFIED', object: obj('db'), previous: obj('web') }, webOnly), 'DELETED', 'stops matching: DELETED');
  t.equal(visibleEvent({ type: 'MODIFIED', object: obj('db'), previous: obj('db') }, webOnly), null);
  t.equal(visibleEvent({ type: 'DELETED', object: obj('web') }, webOnly), 'DELETED');
  t.equal(visibleEvent({ type: 'DELETED', object: obj('db') }, webOnly), null);
  t.end();
});
