import t from 'tap';
import { choosePinning, parseCpuList } from '../../src/proxy/preflight.js';

t.test('parseCpuList', (t) => {
  t.same(parseCpuList('0-1'), [0, 1]);
  t.same(parseCpuList('0,2-4,7\n'), [0, 2, 3, 4, 7]);
  t.same(parseCpuList(''), []);
  t.end();
});

t.test('choosePinning: proxies, load generators, upstreams', (t) => {
  t.same(choosePinning([0, 1]), { cpus: { sut: '0', load: '1', upstream: '1' } }, 'two CPUs: upstreams share the load generators core');
  t.same(choosePinning([2, 3, 5]), { cpus: { sut: '2', load: '3', upstream: '5' } }, 'a third CPU for the upstreams');
  t.same(choosePinning([0]), { cpus: null }, 'one CPU: nothing pinned');
  t.end();
});
