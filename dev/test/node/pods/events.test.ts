/** Events as the kubelet records them: the fields kubectl describe shows, repeats counted on one Event. */
import { silentLogger } from '@loom/shared/runtime';
import t from 'tap';
import { Objects } from '../../../src/api/objects.js';
import { Registry } from '../../../src/api/registry.js';
import { Store } from '../../../src/api/store.js';
import { EVENT_SOURCE, EventRecorder } from '../../../src/node/pods/events.js';

function setup(now: () => number) {
  const objects = new Objects(new Store(), new Registry());
  const ns = objects.registry.find('', 'v1', 'namespaces');
  if (ns === undefined) throw new Error('no namespaces');
  objects.create(ns, undefined, { metadata: { name: 'shop' } });
  return { objects, events: new EventRecorder({ objects, log: silentLogger(), nodeName: 'node-1', now }) };
}

t.test('an event about a container, then its repeats', (t) => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const { objects, events } = setup(() => now);
  const target = { namespace: 'shop', name: 'web', uid: 'u-1', fieldPath: 'spec.containers{app}' };
  events.record(target, { type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container app' });
  now += 5_000;
  events.record(target, { type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container app' });
  events.record(target, { type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container app' });
  const [event, ...more] = objects.store.list('/events', 'shop');
  t.equal(more.length, 0, 'one Event for the repeats');
  t.match(event, {
    metadata: { namespace: 'shop', name: /^web\.[0-9a-f]+$/ },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web', uid: 'u-1', fieldPath: 'spec.containers{app}' },
    reason: 'BackOff',
    message: 'Back-off restarting failed container app',
    type: 'Warning',
    source: { component: EVENT_SOURCE, host: 'node-1' },
    reportingComponent: 'loom-dev-kubelet',
    reportingInstance: 'node-1',
    firstTimestamp: '2026-01-01T00:00:00Z',
    lastTimestamp: '2026-01-01T00:00:05Z',
    count: 3,
  });
  events.record(target, { type: 'Warning', reason: 'BackOff', message: 'another message' });
  events.record({ namespace: 'shop', name: 'web', uid: 'u-1' }, { type: 'Warning', reason: 'BackOff', message: 'another message' });
  t.equal(objects.store.list('/events', 'shop').length, 3, 'a different message or object is a new Event');
  t.end();
});

t.test('an Event deleted meanwhile is made again; a missing namespace drops the event quietly', (t) => {
  const { objects, events } = setup(() => Date.now());
  const target = { namespace: 'shop', name: 'web', uid: 'u-1' };
  events.record(target, { type: 'Normal', reason: 'Started', message: 'Started container app' });
  const type = objects.registry.find('', 'v1', 'events');
  if (type === undefined) throw new Error('no events');
  const [first] = objects.store.list('/events', 'shop');
  objects.delete(type, 'shop', first?.metadata.name ?? '');
  events.record(target, { type: 'Normal', reason: 'Started', message: 'Started container app' });
  t.match(objects.store.list('/events', 'shop'), [{ count: 1 }]);
  t.doesNotThrow(() => events.record({ namespace: 'gone', name: 'x', uid: 'u' }, { type: 'Normal', reason: 'Started', message: 'm' }));
  t.equal(objects.store.list('/events', 'gone').length, 0);
  t.end();
});
