import t from 'tap';
import { busyPercent, cpuSeconds, memoryKib, parseCoreTimes, parseSchedstatNs, parseStatTicks, parseStatusMemory } from '../../src/proxy/proc-stats.js';

t.test('parseStatTicks: utime + stime, even with spaces and parentheses in the command name', (t) => {
  const stat = '4242 (Web (Content) 1) S 1 4242 4242 0 -1 4194560 1200 0 3 0 731 269 0 0 20 0 12 0 1000 4000000 2000 18446744073709551615';
  t.equal(parseStatTicks(stat), 1000);
  t.throws(() => parseStatTicks('garbage'), /not a \/proc\/<pid>\/stat line/);
  t.end();
});

t.test('parseSchedstatNs: time on CPU in ns', (t) => {
  t.equal(parseSchedstatNs('200232448 27936038 934\n'), 200232448);
  t.throws(() => parseSchedstatNs('x y z'), /not a schedstat line/);
  t.end();
});

t.test('parseStatusMemory: VmRSS and VmHWM in KiB', (t) => {
  t.same(parseStatusMemory('Name:\thaproxy\nVmHWM:\t   22528 kB\nVmRSS:\t   20480 kB\nThreads:\t1\n'), { rssKib: 20480, hwmKib: 22528 });
  t.end();
});

t.test('busyPercent: wall time minus idle time per CPU', (t) => {
  const before = parseCoreTimes('cpu  10 0 10 1000 0 0 0 0 0 0\ncpu0 5 0 5 500 0 0 0 0 0 0\ncpu1 5 0 5 500 0 0 0 0 0 0\nintr 1');
  const after = parseCoreTimes('cpu  20 0 20 1100 0 0 0 0 0 0\ncpu0 10 0 10 525 0 0 0 0 0 0\ncpu1 5 0 5 600 0 0 0 0 0 0\nintr 1');
  t.equal(busyPercent(before, after, 'cpu0', 1, 100), 75, '25 idle ticks in 100');
  t.equal(busyPercent(before, after, 'cpu1', 1, 100), 0, 'idle throughout');
  t.ok(Number.isNaN(busyPercent(before, after, 'cpu7', 1, 100)), 'unknown CPU');
  t.end();
});

t.test('this process can be read', (t) => {
  const before = cpuSeconds(process.pid);
  const until = Date.now() + 30;
  while (Date.now() < until); // burn 30 ms of CPU
  t.ok(cpuSeconds(process.pid) > before, 'CPU time grows while this process works');
  const mem = memoryKib(process.pid);
  t.ok(mem.rssKib > 0 && mem.hwmKib >= mem.rssKib);
  t.end();
});
