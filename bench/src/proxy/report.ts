/**
 * From rounds to results: medians over rounds per scenario and pair, then ratios against the baselines of
 * the same run, and the tables. Pure.
 *
 * Results keys are `<scenario>/<pair>` (e.g. `http1-saturation/haproxy-h2`). Ratios:
 * - `<metric>_vs_<baseline>`: this pair's figure over the baseline's (`direct`, `haproxy_h1`, `haproxy_h2`);
 * - `added_<metric>`: this pair's figure minus direct's (latency a pair adds).
 */
import { formatNumber, percentile, round, type Metrics, type Scenarios } from '../lib/index.js';
import type { ScenarioName } from './pairs/pair.js';

export const SCENARIOS: readonly ScenarioName[] = [
  'http1-saturation',
  'http1-1000rps',
  'http1-rtt',
  'grpc-unary',
  'grpc-stream',
  'tcp-bulk',
  'mtls-handshakes',
  'overload-2x',
  'memory',
];

export const BASELINES = ['direct', 'haproxy-h1', 'haproxy-h2'] as const;

/** Per scenario: figures compared as ratios to each baseline, and latencies compared as differences to direct. */
const COMPARED: Readonly<Record<ScenarioName, { readonly ratio: readonly string[]; readonly added: readonly string[] }>> = {
  'http1-saturation': { ratio: ['rps', 'rps_per_core', 'cpu_us_per_req'], added: [] },
  'http1-1000rps': { ratio: ['p99_ms'], added: ['p50_ms', 'p99_ms'] },
  'http1-rtt': { ratio: ['rps'], added: ['p50_ms'] },
  'grpc-unary': { ratio: ['rps', 'rps_per_core', 'cpu_us_per_req'], added: ['p50_ms'] },
  'grpc-stream': { ratio: ['msgs_per_s', 'msgs_per_s_per_core', 'cpu_us_per_msg'], added: [] },
  'tcp-bulk': { ratio: ['mb_per_s', 'mb_per_s_per_core', 'cpu_ms_per_mib'], added: [] },
  'mtls-handshakes': { ratio: ['handshakes_per_s', 'handshakes_per_server_core_s', 'server_cpu_ms_per_handshake'], added: [] },
  'overload-2x': { ratio: ['admitted_rps'], added: [] },
  memory: { ratio: ['rss_idle_mib', 'rss_peak_mib'], added: [] },
};

/** The rate whose spread over rounds is reported (`spread_pct`). */
const RATE: Partial<Record<ScenarioName, string>> = {
  'http1-saturation': 'rps',
  'http1-rtt': 'rps',
  'grpc-unary': 'rps',
  'grpc-stream': 'msgs_per_s',
  'tcp-bulk': 'mb_per_s',
  'mtls-handshakes': 'handshakes_per_s',
};

export const resultKey = (scenario: ScenarioName, pair: string): string => `${scenario}/${pair}`;

/** Median of each metric over rounds (metrics missing from a round are left out of its median), plus `rounds` and `spread_pct`. */
export function medianOfRounds(scenario: ScenarioName, rounds: readonly Metrics[]): Metrics {
  const out: Metrics = {};
  const names = [...new Set(rounds.flatMap((r) => Object.keys(r)))];
  for (const name of names) {
    const values = rounds.map((r) => r[name]).filter((v): v is number => v !== undefined && Number.isFinite(v));
    out[name] = values.length === 0 ? NaN : round(percentile(values, 50));
  }
  const rate = RATE[scenario];
  if (rate !== undefined && rounds.length > 1) {
    const values = rounds.map((r) => r[rate]).filter((v): v is number => v !== undefined && Number.isFinite(v));
    const median = percentile(values, 50);
    if (values.length > 1 && median > 0) out['spread_pct'] = round(((Math.max(...values) - Math.min(...values)) / median) * 100, 2);
  }
  out['rounds'] = rounds.length;
  return out;
}

const ratioName = (metric: string, baseline: string): string => `${metric}_vs_${baseline.replace(/-/g, '_')}`;

/** Adds the ratio and difference metrics to every result, against the baselines present in `results`. */
export function addComparisons(results: Scenarios): Scenarios {
  const out: Scenarios = {};
  for (const [key, metrics] of Object.entries(results)) {
    const [scenario, pair] = key.split('/') as [ScenarioName, string];
    const compared = COMPARED[scenario];
    const extra: Metrics = {};
    for (const metric of compared?.added ?? []) {
      const direct = results[resultKey(scenario, 'direct')]?.[metric];
      const value = metrics[metric];
      if (pair !== 'direct' && direct !== undefined && value !== undefined) extra[`added_${metric}`] = round(value - direct, 3);
    }
    for (const metric of compared?.ratio ?? []) {
      for (const baseline of BASELINES) {
        const base = results[resultKey(scenario, baseline)]?.[metric];
        const value = metrics[metric];
        if (baseline === pair || base === undefined || value === undefined || !Number.isFinite(base) || base === 0) continue;
        extra[ratioName(metric, baseline)] = round(value / base, 3);
      }
    }
    out[key] = { ...metrics, ...extra };
  }
  return out;
}

const isComparison = (metric: string): boolean => metric.startsWith('added_') || BASELINES.some((b) => metric.endsWith(`_vs_${b.replace(/-/g, '_')}`));

/**
 * Row order of a scenario's table: its own figures first (taken from the pair reporting the most of them, so
 * proxy-only rows such as CPU sit with the others), then `added_*`, then ratios grouped by baseline.
 */
export function metricOrder(group: Scenarios): string[] {
  const columns = Object.values(group).sort((a, b) => Object.keys(b).filter((m) => !isComparison(m)).length - Object.keys(a).filter((m) => !isComparison(m)).length);
  const all: string[] = [];
  for (const metrics of columns) for (const m of Object.keys(metrics)) if (!all.includes(m)) all.push(m);
  const own = all.filter((m) => !isComparison(m));
  const added = all.filter((m) => m.startsWith('added_'));
  const ratios = BASELINES.flatMap((b) => all.filter((m) => m.endsWith(`_vs_${b.replace(/-/g, '_')}`)));
  return [...own, ...added, ...ratios];
}

function table(group: Scenarios, markdown: boolean): string {
  const names = Object.keys(group);
  const rows = metricOrder(group).map((m) => [m, ...names.map((n) => formatNumber(group[n]?.[m]))]);
  if (markdown) {
    return [`| metric | ${names.join(' | ')} |`, `|---|${names.map(() => '---:').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  }
  const all = [['metric', ...names], ...rows];
  const widths = names.map((_, i) => Math.max(...all.map((r) => (r[i + 1] ?? '').length)));
  const first = Math.max(...all.map((r) => (r[0] ?? '').length));
  const line = (r: readonly string[]): string => [(r[0] ?? '').padEnd(first), ...widths.map((w, i) => (r[i + 1] ?? '').padStart(w))].join('  ').trimEnd();
  return [line(all[0] ?? []), ['-'.repeat(first), ...widths.map((w) => '-'.repeat(w))].join('  '), ...rows.map(line)].join('\n');
}

/** One table per scenario, one column per pair (in the order given); Markdown for bench/README.md. */
export function formatTables(results: Scenarios, pairs: readonly string[], markdown = false): string {
  const parts: string[] = [];
  for (const scenario of SCENARIOS) {
    const group: Scenarios = {};
    for (const pair of pairs) {
      const metrics = results[resultKey(scenario, pair)];
      if (metrics !== undefined) group[pair] = metrics;
    }
    if (Object.keys(group).length > 0) parts.push(markdown ? `\n\`${scenario}\`\n\n${table(group, true)}` : `\n${scenario}\n${table(group, false)}`);
  }
  return parts.join('\n');
}
