/**
 * Bounded measuring loops and their summaries. A round runs an operation until a time or count bound, one
 * operation at a time (`concurrency` 1) or with a fixed number in flight; a scenario's figures are the
 * median of its rounds. `summarise` and `ratio` are pure.
 */
import { cpuSecondsSince, mean, nowNs, percentile, round, secondsSince, type Metrics } from '../lib/index.js';

export interface Bounds {
  /** Stop starting new operations after this many seconds. */
  readonly seconds: number;
  /** ... or after this many operations, whichever comes first. */
  readonly maxCount: number;
}

export interface RoundStats {
  readonly count: number;
  readonly seconds: number;
  /** CPU of this process (user + system, all threads) during the round. */
  readonly cpuSeconds: number;
  /** Per-operation wall time, milliseconds. */
  readonly latenciesMs: readonly number[];
  /** CPU seconds of a helper process (server) during the round, when there is one. */
  readonly peerCpuSeconds?: number;
}

/**
 * Runs `op` in `concurrency` loops until `bounds`; each loop starts its next operation when the previous
 * one ends. A synchronous `op` (returning no promise) runs back to back without yielding.
 */
export async function runRound(op: (i: number) => unknown, bounds: Bounds, concurrency = 1): Promise<RoundStats> {
  const latenciesMs: number[] = [];
  const limitNs = BigInt(Math.round(bounds.seconds * 1e9));
  const cpu = process.cpuUsage();
  const start = nowNs();
  let started = 0;
  const loop = async (): Promise<void> => {
    while (started < bounds.maxCount && nowNs() - start < limitNs) {
      const i = started++;
      const t = nowNs();
      const result = op(i);
      if (result instanceof Promise) await result;
      latenciesMs.push(Number(nowNs() - t) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, loop));
  return { count: latenciesMs.length, seconds: secondsSince(start), cpuSeconds: cpuSecondsSince(cpu), latenciesMs };
}

/**
 * The figures of a scenario from its rounds: `<unit>_per_s` (median over rounds), `spread_pct` (max − min
 * rate over the median), latency percentiles over every operation, CPU per operation (this process's, named
 * `<self>_cpu_...` when `self` is given, and the helper process's as `<peer>_cpu_...`), and the totals.
 */
export function summarise(rounds: readonly RoundStats[], unit: string, labels: { readonly self?: string; readonly peer?: string } = {}): Metrics {
  const rates = rounds.map((r) => r.count / r.seconds);
  const rate = percentile(rates, 50);
  const count = rounds.reduce((n, r) => n + r.count, 0);
  const latencies = rounds.flatMap((r) => r.latenciesMs);
  const cpu = rounds.reduce((s, r) => s + r.cpuSeconds, 0);
  const metrics: Metrics = {
    [`${unit}_per_s`]: round(rate),
    spread_pct: round(rates.length > 1 ? ((Math.max(...rates) - Math.min(...rates)) / rate) * 100 : 0, 2),
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    mean_ms: round(mean(latencies)),
    [`${labels.self === undefined ? '' : `${labels.self}_`}cpu_ms_per_${singular(unit)}`]: round((cpu / count) * 1000),
  };
  const peer = labels.peer;
  if (peer !== undefined) {
    const peerCpu = rounds.reduce((s, r) => s + (r.peerCpuSeconds ?? 0), 0);
    metrics[`${peer}_cpu_ms_per_${singular(unit)}`] = round((peerCpu / count) * 1000);
  }
  metrics[unit] = count;
  metrics['rounds'] = rounds.length;
  return metrics;
}

/** "certs" → "cert", "handshakes" → "handshake". */
export const singular = (unit: string): string => unit.replace(/s$/, '');

/** `value / baseline`, 3 significant digits; NaN when either is missing. */
export function ratio(value: number | undefined, baseline: number | undefined): number {
  if (value === undefined || baseline === undefined || baseline === 0) return NaN;
  return round(value / baseline, 3);
}
