/**
 * Policy snapshots and the store: the ports a policy names (metric labels), and listeners told about each
 * change, every one of them even when another throws.
 */
import t from 'tap';
import { prepareSnapshot, PolicyStore, type PolicySnapshot } from '../../src/policy/snapshot.js';
import { allow, service, servicePort, testPolicy } from '../support/policy.js';

const snapshot = (version: number): PolicySnapshot => prepareSnapshot(testPolicy({ inboundPorts: { [8000 + version]: 'http1' } }));

t.test('knownPorts: declared inbound ports, authorization TCP and UDP ports, outbound Service ports, as labels', (t) => {
  const s = prepareSnapshot(
    testPolicy({
      inboundPorts: { 8080: 'http1' },
      authorizations: [allow({ sources: [], ports: [9090, 8080], udpPorts: [5353] }), allow({ sources: [], target: { namespace: 'shop', name: 'all' }, ports: null, udpPorts: null })],
      outbound: [service({ name: 'db', vips: ['10.96.0.10'], ports: [servicePort({ port: 5432, protocol: 'opaque' })] })],
    }),
  );
  t.same([...s.knownPorts.entries()].sort((a, b) => a[0] - b[0]), [
    [5353, '5353'],
    [5432, '5432'],
    [8080, '8080'],
    [9090, '9090'],
  ]);
  t.equal(prepareSnapshot(testPolicy()).knownPorts.size, 0, 'a policy naming no port');
  t.end();
});

t.test('apply: every listener runs even when one throws; the error goes to onListenerError', (t) => {
  const reported: [unknown, string][] = [];
  const store = new PolicyStore({ onListenerError: (err, version) => reported.push([err, version]) });
  const calls: string[] = [];
  store.onChange(() => calls.push('first'));
  store.onChange(() => {
    calls.push('second');
    throw new Error('boom');
  });
  store.onChange((next, previous) => calls.push(`third ${previous === null ? 'none' : 'prev'} ${next.version === store.current()?.version}`));
  const next = snapshot(1);
  store.apply(next);
  t.same(calls, ['first', 'second', 'third none true'], 'the listener after the failing one still ran');
  t.equal(store.current(), next, 'the new policy is in force');
  t.equal(reported.length, 1);
  t.match(reported[0], [{ message: 'boom' }, next.version]);
  t.end();
});

t.test('apply without onListenerError: every listener runs, then the failure is thrown (all of them when several)', (t) => {
  const store = new PolicyStore();
  const calls: number[] = [];
  store.onChange(() => {
    calls.push(1);
    throw new Error('one');
  });
  store.onChange(() => calls.push(2));
  const unsubscribe = store.onChange(() => {
    calls.push(3);
    throw new Error('three');
  });
  const next = snapshot(2);
  t.throws(() => store.apply(next), { name: 'AggregateError', message: /2 policy listeners failed/ });
  t.same(calls, [1, 2, 3]);
  t.equal(store.current(), next, 'the new policy is in force all the same');
  unsubscribe();
  t.throws(() => store.apply(snapshot(3)), { message: 'one' }, 'a single failure is thrown as it is');
  t.end();
});
