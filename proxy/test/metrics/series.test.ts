/**
 * The handle-updated metrics export exactly what prom-client's own metrics export for the same updates (the
 * scrape text, default labels included), mixed with updates through prom-client's API, and reset.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import t from 'tap';
import { SeriesCounter, SeriesGauge, SeriesHistogram } from '../../src/metrics/series.js';

const NAMES = ['edge', 'peer', 'outcome'] as const;
type Name = (typeof NAMES)[number];
const BUCKETS = [0.001, 0.01, 0.1, 1];
const a = { edge: 'inbound', peer: 'spiffe://cluster.local/ns/shop/sa/web', outcome: 'success' };
const b = { edge: 'outbound', peer: '', outcome: 'fail"ure\n' };

t.test('the same updates give the same scrape as prom-client', async (t) => {
  const plain = new Registry();
  const fast = new Registry();
  for (const r of [plain, fast]) r.setDefaultLabels({ namespace: 'shop', pod: 'web-0' });
  const pc = new Counter<Name>({ name: 'x_total', help: 'c', labelNames: NAMES, registers: [plain] });
  const pg = new Gauge<Name>({ name: 'x_open', help: 'g', labelNames: NAMES, registers: [plain] });
  const ph = new Histogram<Name>({ name: 'x_seconds', help: 'h', labelNames: NAMES, buckets: BUCKETS, registers: [plain] });
  const fc = new SeriesCounter<Name>({ name: 'x_total', help: 'c', labelNames: NAMES, registers: [fast] });
  const fg = new SeriesGauge<Name>({ name: 'x_open', help: 'g', labelNames: NAMES, registers: [fast] });
  const fh = new SeriesHistogram<Name>({ name: 'x_seconds', help: 'h', labelNames: NAMES, buckets: BUCKETS, registers: [fast] });

  const observations = [0, 0.001, 0.0011, 0.05, 0.1, 0.7, 1, 3, 12.5];
  for (const v of observations) {
    ph.labels(a).observe(v);
    fh.handle(a).observe(v);
  }
  ph.labels(b).observe(0.02);
  fh.handle(b).observe(0.02);
  pc.labels(a).inc();
  pc.labels(a).inc(41);
  pc.labels(b).inc(2);
  const counterA = fc.handle(a);
  counterA.inc();
  counterA.inc(41);
  fc.handle(b).inc(2);
  pg.labels(a).inc(3);
  pg.labels(a).dec();
  const gauge = fg.handle(a);
  gauge.inc(3);
  gauge.dec();

  t.equal(await fast.metrics(), await plain.metrics(), 'identical text');
  t.strictSame(await fast.getMetricsAsJSON(), await plain.getMetricsAsJSON(), 'identical JSON');
  // prom-client's own API still works on the subclasses, exported alongside.
  fc.inc({ edge: 'x', peer: 'y', outcome: 'z' }, 5);
  t.match(await fast.getSingleMetricAsString('x_total'), /x_total\{edge="x",peer="y",outcome="z",namespace="shop",pod="web-0"\} 5/);
  fast.resetMetrics();
  plain.resetMetrics();
  t.match(await fast.getSingleMetricAsString('x_total'), /x_total\{edge="inbound",peer="spiffe:\/\/cluster.local\/ns\/shop\/sa\/web",outcome="success",namespace="shop",pod="web-0"\} 0/, 'reset to 0; the series stays');
  t.match(await fast.getSingleMetricAsString('x_seconds'), /x_seconds_count\{[^}]*edge="inbound"[^}]*\} 0/);
});
