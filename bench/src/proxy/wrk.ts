/**
 * wrk (Debian's `wrk`): closed-loop HTTP/1.1 keep-alive load, one thread (one core), `connections` connections.
 * A Lua `done` hook prints the figures as one JSON line, so nothing depends on wrk's human-readable report.
 * Latency percentiles from wrk are closed-loop (service time under saturation), not the open-loop figures of
 * http1-load.ts.
 */

/** The `done` hook: one line `{"wrk":1,...}` with counts and latency percentiles in µs. */
export const WRK_SCRIPT = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"wrk":1,"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f,"p50_us":%.0f,"p99_us":%.0f,"mean_us":%.1f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
`;

export interface WrkOptions {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  /** Path of a file holding {@link WRK_SCRIPT}. */
  readonly scriptPath: string;
}

export function wrkArgs(options: WrkOptions): string[] {
  const seconds = Math.max(1, Math.round(options.seconds));
  return ['wrk', '-t1', `-c${options.connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', options.scriptPath, options.url];
}

export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly bytes: number;
  /** Socket errors (connect, read, write, timeout) and non-2xx/3xx responses. */
  readonly socketErrors: number;
  readonly badStatus: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
}

/** The figures from wrk's output (the JSON line of the `done` hook). Pure. */
export function parseWrkOutput(stdout: string): WrkResult {
  const line = stdout.split('\n').find((l) => l.startsWith('{"wrk":1'));
  if (line === undefined) throw new Error(`wrk printed no result line: ${stdout.trim().split('\n').slice(-1)[0] ?? 'nothing'}`);
  const r = JSON.parse(line) as Record<string, number>;
  const n = (key: string): number => r[key] ?? NaN;
  return {
    requests: n('requests'),
    seconds: n('duration_us') / 1e6,
    bytes: n('bytes'),
    socketErrors: n('connect') + n('read') + n('write') + n('timeout'),
    badStatus: n('status'),
    p50Ms: n('p50_us') / 1000,
    p99Ms: n('p99_us') / 1000,
    meanMs: n('mean_us') / 1000,
  };
}
