import t from 'tap';
import { addComparisons, formatTables, medianOfRounds, metricOrder } from '../../src/proxy/report.js';

t.test('medianOfRounds: median per metric, spread of the rate, rounds', (t) => {
  const m = medianOfRounds('http1-saturation', [
    { rps: 100, p99_ms: 3 },
    { rps: 300, p99_ms: 1 },
    { rps: 200, p99_ms: 2, cpu_us_per_req: 50 },
  ]);
  t.same(m, { rps: 200, p99_ms: 2, cpu_us_per_req: 50, spread_pct: 100, rounds: 3 });
  t.same(medianOfRounds('memory', [{ rss_idle_mib: 20 }]), { rss_idle_mib: 20, rounds: 1 }, 'no spread for one round or without a rate');
  t.end();
});

t.test('addComparisons: ratios to each baseline present, latency added over direct', (t) => {
  const out = addComparisons({
    'http1-saturation/direct': { rps: 40000 },
    'http1-saturation/haproxy-h1': { rps: 10000, cpu_us_per_req: 100 },
    'http1-saturation/loom': { rps: 5000, cpu_us_per_req: 200 },
    'http1-1000rps/direct': { p50_ms: 0.1, p99_ms: 0.5 },
    'http1-1000rps/loom': { p50_ms: 0.4, p99_ms: 2 },
  });
  t.same(out['http1-saturation/loom'], { rps: 5000, cpu_us_per_req: 200, rps_vs_direct: 0.125, rps_vs_haproxy_h1: 0.5, cpu_us_per_req_vs_haproxy_h1: 2 });
  t.same(out['http1-saturation/direct'], { rps: 40000, rps_vs_haproxy_h1: 4 }, 'a baseline is compared to the others, not to itself');
  t.same(out['http1-1000rps/loom'], { p50_ms: 0.4, p99_ms: 2, added_p50_ms: 0.3, added_p99_ms: 1.5, p99_ms_vs_direct: 4 });
  t.end();
});

t.test('tables: own figures first (proxy-only rows included), then differences, then ratios; one table per scenario', (t) => {
  const results = addComparisons({
    'http1-saturation/direct': { rps: 40000, rounds: 1 },
    'http1-saturation/haproxy-h1': { rps: 10000, cpu_us_per_req: 100, rounds: 1 },
  });
  const group = { direct: results['http1-saturation/direct'] ?? {}, 'haproxy-h1': results['http1-saturation/haproxy-h1'] ?? {} };
  t.same(metricOrder(group), ['rps', 'cpu_us_per_req', 'rounds', 'rps_vs_direct', 'rps_vs_haproxy_h1']);
  const text = formatTables(results, ['direct', 'haproxy-h1', 'loom']);
  t.match(text, /^\nhttp1-saturation\nmetric +direct +haproxy-h1\n/);
  t.match(text, /cpu_us_per_req +100\n/);
  t.notMatch(text, /loom/, 'pairs without results have no column');
  t.match(formatTables(results, ['direct', 'haproxy-h1'], true), /\| rps \| 40000 \| 10000 \|/);
  t.end();
});
