/** The metric families' documentation as a scrape shows it (HELP lines), where it states what is counted. */
import { Registry } from 'prom-client';
import t from 'tap';
import { METRIC, proxyMetrics } from '../../src/metrics/families.js';

t.test('loom_protocol_detect_total says what each direction counts', async (t) => {
  const registry = new Registry();
  proxyMetrics(registry);
  const text = await registry.getSingleMetricAsString(METRIC.detect);
  const help = text.split('\n').find((line) => line.startsWith('# HELP')) ?? '';
  t.match(help, /inbound on every connection/, 'the inbound proxy detects on every connection, mesh TLS included');
  t.match(help, /outbound on ports without a declared protocol/);
  t.notMatch(help, /on undeclared ports,/, 'not only undeclared ports');
});
