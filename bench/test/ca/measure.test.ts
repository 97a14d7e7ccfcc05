import t from 'tap';
import { ratio, runRound, singular, summarise, type RoundStats } from '../../src/ca/measure.js';

const round = (count: number, seconds: number, cpuSeconds: number, latency: number, peerCpuSeconds?: number): RoundStats => ({
  count,
  seconds,
  cpuSeconds,
  latenciesMs: Array.from({ length: count }, () => latency),
  ...(peerCpuSeconds === undefined ? {} : { peerCpuSeconds }),
});

t.test('summarise: median rate over rounds, spread, CPU per operation, totals', (t) => {
  const m = summarise([round(100, 1, 1, 2), round(300, 1, 1, 2), round(200, 1, 1, 5)], 'certs');
  t.equal(m['certs_per_s'], 200, 'median of 100, 300, 200 per second');
  t.equal(m['spread_pct'], 100, '(300 - 100) / 200');
  t.equal(m['p50_ms'], 2, 'latency percentiles over every operation (400 at 2 ms, 200 at 5 ms)');
  t.equal(m['p99_ms'], 5);
  t.equal(m['cpu_ms_per_cert'], 5, '3 CPU seconds over 600 certs');
  t.equal(m['certs'], 600);
  t.equal(m['rounds'], 3);
  t.end();
});

t.test('summarise: names this process and the helper process CPU when asked', (t) => {
  const m = summarise([round(50, 1, 0.1, 1, 0.2)], 'handshakes', { self: 'client', peer: 'server' });
  t.equal(m['handshakes_per_s'], 50);
  t.equal(m['spread_pct'], 0, 'one round has no spread');
  t.equal(m['client_cpu_ms_per_handshake'], 2);
  t.equal(m['server_cpu_ms_per_handshake'], 4);
  t.notOk('cpu_ms_per_handshake' in m);
  t.end();
});

t.test('ratio and singular', (t) => {
  t.equal(ratio(50, 200), 0.25);
  t.equal(ratio(1, 3), 0.333);
  t.ok(Number.isNaN(ratio(undefined, 1)), 'no value');
  t.ok(Number.isNaN(ratio(1, 0)), 'no baseline');
  t.equal(singular('certs'), 'cert');
  t.equal(singular('handshakes'), 'handshake');
  t.end();
});

t.test('runRound stops at the count bound, sync and async, with every operation timed', async (t) => {
  const seen: number[] = [];
  const sync = await runRound((i) => seen.push(i), { seconds: 60, maxCount: 7 });
  t.equal(sync.count, 7);
  t.same(seen, [0, 1, 2, 3, 4, 5, 6], 'each operation gets its index');
  t.equal(sync.latenciesMs.length, 7);

  let inFlight = 0;
  let most = 0;
  const concurrent = await runRound(
    async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
    },
    { seconds: 60, maxCount: 20 },
    4,
  );
  t.equal(concurrent.count, 20);
  t.equal(most, 4, 'four operations in flight');
});

t.test('runRound stops at the time bound', async (t) => {
  const stats = await runRound(() => new Promise((resolve) => setTimeout(resolve, 5)), { seconds: 0.05, maxCount: 1_000_000 });
  t.ok(stats.count >= 1 && stats.count < 1_000_000, `stopped after ${stats.count} operations`);
});
