/**
 * One pair's block of one round: start it, check it carries every kind of traffic (untimed), read its idle
 * memory, warm it up, run every scenario it supports, read its peak memory, stop it. CPU per request is the
 * proxies' own CPU (utime + stime from /proc, both processes) over each measured window, divided by the
 * requests completed in it; the load generators' CPU is never counted.
 */
import { loadavg } from 'node:os';
import { round, type Metrics } from '../lib/index.js';
import type { Address } from './agent.js';
import type { GrpcLoadResult } from './grpc.js';
import type { RateResult } from './http1-load.js';
import type { AgentChannel } from './ipc.js';
import { BODY_BYTES } from './nginx.js';
import { entryFor, type PairHandle, type PairUnderTest, type ScenarioName, type Topology } from './pairs/pair.js';
import type { Plan } from './plan.js';
import { busyPercent, clockTicksPerSecond, coreTimes, cpuSeconds, memoryKib, RssSampler } from './proc-stats.js';
import type { Pinning, Processes } from './procs.js';
import type { BulkResult } from './tcp-bulk.js';
import type { HandshakeResult } from './tls.js';
import { parseWrkOutput, wrkArgs, type WrkResult } from './wrk.js';

export interface Harness {
  readonly plan: Plan;
  readonly topology: Topology;
  /** The client namespace's agent (load generators). */
  readonly agent: AgentChannel;
  readonly processes: Processes;
  readonly pinning: Pinning;
  /** Path of the wrk `done` script. */
  readonly wrkScript: string;
  /** Negotiated TLS details worth recording in `versions` (e.g. `haproxy_tls13_group`). */
  readonly negotiated: Map<string, string>;
  /** Only these scenarios (`--scenarios`), or null for all. */
  readonly scenarios: ReadonlySet<ScenarioName> | null;
  /** Called with each measured window (monotonic µs, the clock of V8's CPU profiles), or null. */
  readonly recordWindow: ((window: MeasuredWindow) => void) | null;
  log(text: string): void;
}

/** When a scenario was measured: `process.hrtime` in µs, the time base of `--cpu-prof` samples. */
export interface MeasuredWindow {
  readonly pair: string;
  readonly scenario: ScenarioName;
  readonly startUs: number;
  readonly endUs: number;
}

const MIB = 1024 * 1024;

/** The figures of one measured window besides the generator's own. */
interface Window<T> {
  readonly value: T;
  /** CPU seconds of each proxy over the window; null without proxies. */
  readonly cpu: { readonly client: number; readonly server: number } | null;
  /** Largest RSS sampled per proxy, MiB. */
  readonly rssPeakMib: { readonly client: number; readonly server: number } | null;
  readonly sutBusyPct: number;
  readonly loadBusyPct: number;
  /** Wall seconds of the window. */
  readonly seconds: number;
  readonly loadAvg: number;
}

async function measure<T>(h: Harness, handle: PairHandle, pair: string, what: ScenarioName, fn: () => Promise<T>): Promise<Window<T>> {
  const procs = handle.processes;
  const pids = procs === null ? [] : [procs.client.pid, procs.server.pid];
  const loadAvg = loadavg()[0] ?? NaN;
  const cpuBefore = pids.map(cpuSeconds);
  const coresBefore = coreTimes();
  const start = process.hrtime.bigint();
  const sampler = new RssSampler(pids);
  let value: T;
  let peaks: number[];
  try {
    value = await fn();
  } finally {
    peaks = sampler.stop();
  }
  const end = process.hrtime.bigint();
  const seconds = Number(end - start) / 1e9;
  h.recordWindow?.({ pair, scenario: what, startUs: Number(start / 1000n), endUs: Number(end / 1000n) });
  const coresAfter = coreTimes();
  if (procs !== null) {
    for (const p of [procs.client, procs.server]) if (!p.running) throw new Error(`${p.name} exited during ${what}: ${p.lastError()}`);
  }
  const cpuAfter = pids.map(cpuSeconds);
  const cpus = h.pinning.cpus;
  return {
    value,
    cpu: procs === null ? null : { client: (cpuAfter[0] ?? NaN) - (cpuBefore[0] ?? NaN), server: (cpuAfter[1] ?? NaN) - (cpuBefore[1] ?? NaN) },
    rssPeakMib: procs === null ? null : { client: (peaks[0] ?? NaN) / 1024, server: (peaks[1] ?? NaN) / 1024 },
    sutBusyPct: cpus === null ? NaN : busyPercent(coresBefore, coresAfter, `cpu${cpus.sut}`, seconds, clockTicksPerSecond()),
    loadBusyPct: cpus === null ? NaN : busyPercent(coresBefore, coresAfter, `cpu${cpus.load}`, seconds, clockTicksPerSecond()),
    seconds,
    loadAvg,
  };
}

/**
 * What the pair would sustain on one core of its own: operations (or MB for bulk) per second of the two
 * proxies' CPU. When the load generators' core is saturated (`load_core_busy_pct` near 100) the measured rate
 * is the generators', and this is the pair's capacity to compare.
 */
function perCore(window: Window<unknown>, amount: number, name: string): Metrics {
  if (window.cpu === null) return {};
  const cpu = window.cpu.client + window.cpu.server;
  return cpu > 0 ? { [name]: round(amount / cpu) } : {};
}

/**
 * `cpu_us_per_<unit>` for both proxies together and each side; how much of a core the proxies used
 * (`proxies_cpu_pct`) against how busy their core was (`sut_core_busy_pct`: more than the proxies' share means
 * something else ran on it); how busy the load generators' core was (near 100: the generator, not the pair, set
 * the pace); and the machine's load average when the window started.
 */
function cpuMetrics(window: Window<unknown>, count: number, unit: string, scale = 1e6, scaleName = 'us'): Metrics {
  const m: Metrics = {};
  if (window.cpu !== null && count > 0) {
    m[`cpu_${scaleName}_per_${unit}`] = round(((window.cpu.client + window.cpu.server) / count) * scale);
    m[`client_cpu_${scaleName}_per_${unit}`] = round((window.cpu.client / count) * scale);
    m[`server_cpu_${scaleName}_per_${unit}`] = round((window.cpu.server / count) * scale);
  }
  return { ...m, ...coreMetrics(window) };
}

function coreMetrics(window: Window<unknown>): Metrics {
  return {
    ...(window.cpu === null ? {} : { proxies_cpu_pct: round(((window.cpu.client + window.cpu.server) / window.seconds) * 100, 3) }),
    sut_core_busy_pct: round(window.sutBusyPct, 3),
    load_core_busy_pct: round(window.loadBusyPct, 3),
    load_avg_1m: round(window.loadAvg, 3),
  };
}

const peakMib = (window: Window<unknown>): Metrics => (window.rssPeakMib === null ? {} : { rss_peak_mib: round(Math.max(window.rssPeakMib.client, window.rssPeakMib.server)) });

async function wrk(h: Harness, address: Address, connections: number, seconds: number): Promise<WrkResult> {
  const argv = wrkArgs({ url: `http://${address.host}:${address.port}/`, connections, seconds, scriptPath: h.wrkScript });
  const proc = h.processes.start(h.topology.client, argv, { name: 'wrk', cpu: 'load', captureStdout: true });
  return parseWrkOutput(await proc.finished());
}

function wrkMetrics(r: WrkResult): Metrics {
  return {
    rps: round(r.requests / r.seconds),
    p50_ms: round(r.p50Ms),
    p99_ms: round(r.p99Ms),
    mean_ms: round(r.meanMs),
    requests: r.requests,
    errors: r.socketErrors + r.badStatus,
  };
}

function rateMetrics(r: RateResult): Metrics {
  return {
    rps: round(r.ok / r.seconds),
    p50_ms: round(r.latency.p50Ms),
    p99_ms: round(r.latency.p99Ms),
    p999_ms: round(r.latency.p999Ms),
    mean_ms: round(r.latency.meanMs),
    max_ms: round(r.latency.maxMs),
    send_lag_p99_ms: round(r.sendLag.p99Ms),
    requests: r.sent,
    errors: r.failed + r.otherStatus + r.shed + r.unanswered,
  };
}

function grpcMetrics(r: GrpcLoadResult, rate: string): Metrics {
  return { [rate]: round(r.count / r.seconds), p50_ms: round(r.latency.p50Ms), p99_ms: round(r.latency.p99Ms), mean_ms: round(r.latency.meanMs), errors: r.errors };
}

/** What one pair's block of one round produced, per scenario; notes for the report. */
export interface PairRound {
  readonly metrics: Map<ScenarioName, Metrics>;
  readonly notes: string[];
}

/** Runs `pair`'s block of one round (scenarios in `pair.skips` are left out; gRPC ones too when gRPC does not get through). */
export async function runPairRound(h: Harness, pair: PairUnderTest): Promise<PairRound> {
  const { plan, topology, agent } = h;
  const metrics = new Map<ScenarioName, Metrics>();
  const notes: string[] = [];
  const runs = (s: ScenarioName): boolean => !pair.skips.has(s) && (h.scenarios === null || h.scenarios.has(s));
  const handle = await pair.start(topology);
  try {
    const http = entryFor(handle, topology, 'http');
    const grpc = entryFor(handle, topology, 'grpc');
    const tcp = entryFor(handle, topology, 'tcp');

    // Untimed checks: every kind of traffic gets through, and the mTLS port refuses clients without a certificate.
    const got = await agent.call<{ status: number; bytes: number }>('http-get', http);
    if (got.status !== 200 || got.bytes !== BODY_BYTES) throw new Error(`${pair.name}: GET / answered ${got.status} with ${got.bytes} bytes, not 200 with ${BODY_BYTES}`);
    let grpcWorks = runs('grpc-unary') || runs('grpc-stream');
    if (grpcWorks) {
      try {
        await agent.call('grpc-check', grpc);
      } catch (error) {
        grpcWorks = false;
        notes.push(`${pair.name}: gRPC does not get through (${(error as Error).message}); gRPC scenarios skipped`);
      }
    }
    if (runs('tcp-bulk')) await agent.call('tcp-bulk', { ...tcp, bytes: MIB });
    if (handle.serverTls !== null) {
      const refusal = await agent.call<string>('tls-anonymous', { target: handle.serverTls, rootPem: topology.ca.rootPem });
      h.log(`${pair.name}: server side refuses a client without certificate (${refusal})`);
    }

    await sleep(plan.settleSeconds * 1000);
    const idle = handle.processes === null ? null : { client: memoryKib(handle.processes.client.pid).rssKib / 1024, server: memoryKib(handle.processes.server.pid).rssKib / 1024 };
    await wrk(h, http, plan.saturationConnections, plan.warmupSeconds);

    let saturationRps = NaN;
    if (runs('http1-saturation')) {
      const w = await measure(h, handle, pair.name, 'http1-saturation', () => wrk(h, http, plan.saturationConnections, plan.saturationSeconds));
      saturationRps = w.value.requests / w.value.seconds;
      metrics.set('http1-saturation', { ...wrkMetrics(w.value), ...perCore(w, w.value.requests, 'rps_per_core'), ...cpuMetrics(w, w.value.requests, 'req'), ...peakMib(w), connections: plan.saturationConnections });
    }
    let unloadedP99 = NaN;
    if (runs('http1-1000rps')) {
      const w = await measure(h, handle, pair.name, 'http1-1000rps', () =>
        agent.call<RateResult>('http-rate', { ...http, rate: plan.fixedRate, connections: plan.fixedRateConnections, seconds: plan.fixedRateSeconds, drainSeconds: plan.drainSeconds }),
      );
      unloadedP99 = w.value.latency.p99Ms;
      metrics.set('http1-1000rps', { ...rateMetrics(w.value), ...cpuMetrics(w, w.value.ok, 'req'), offered_rps: plan.fixedRate, connections: plan.fixedRateConnections });
    }
    if (runs('http1-rtt')) {
      const w = await measure(h, handle, pair.name, 'http1-rtt', () => wrk(h, http, 1, plan.rttSeconds));
      metrics.set('http1-rtt', { ...wrkMetrics(w.value), ...cpuMetrics(w, w.value.requests, 'req'), connections: 1 });
    }
    const grpcOptions = { ...grpc, concurrency: plan.grpcConcurrency, seconds: plan.grpcSeconds, warmupSeconds: plan.grpcWarmupSeconds };
    if (grpcWorks && runs('grpc-unary')) {
      const w = await measure(h, handle, pair.name, 'grpc-unary', () => agent.call<GrpcLoadResult>('grpc-unary', grpcOptions));
      metrics.set('grpc-unary', { ...grpcMetrics(w.value, 'rps'), ...perCore(w, w.value.count, 'rps_per_core'), ...cpuMetrics(w, w.value.count, 'req'), ...peakMib(w), concurrency: plan.grpcConcurrency });
    }
    if (grpcWorks && runs('grpc-stream')) {
      const w = await measure(h, handle, pair.name, 'grpc-stream', () => agent.call<GrpcLoadResult>('grpc-stream', grpcOptions));
      metrics.set('grpc-stream', { ...grpcMetrics(w.value, 'msgs_per_s'), ...perCore(w, w.value.count, 'msgs_per_s_per_core'), ...cpuMetrics(w, w.value.count, 'msg'), ...peakMib(w), streams: plan.grpcConcurrency });
    }
    if (runs('tcp-bulk')) {
      const w = await measure(h, handle, pair.name, 'tcp-bulk', () => agent.call<BulkResult>('tcp-bulk', { ...tcp, bytes: plan.bulkBytes }));
      metrics.set('tcp-bulk', {
        mb_per_s: round(w.value.bytes / 1e6 / w.value.seconds),
        ...perCore(w, w.value.bytes / 1e6, 'mb_per_s_per_core'),
        seconds: round(w.value.seconds),
        ...cpuMetrics(w, w.value.bytes / MIB, 'mib', 1e3, 'ms'),
        ...peakMib(w),
        mib: w.value.bytes / MIB,
      });
    }
    if (runs('mtls-handshakes') && handle.serverTls !== null) {
      const target = handle.serverTls;
      const leaf = topology.identities.client;
      const w = await measure(h, handle, pair.name, 'mtls-handshakes', () =>
        agent.call<HandshakeResult>('tls-handshakes', { target, identity: { keyPem: leaf.keyPem, certPem: leaf.certPem, rootPem: topology.ca.rootPem }, seconds: plan.handshakeSeconds, concurrency: plan.handshakeConcurrency }),
      );
      const r = w.value;
      if (r.protocol !== 'TLSv1.3') throw new Error(`${pair.name}: the mTLS port negotiated ${r.protocol || 'nothing'}, not TLSv1.3`);
      h.negotiated.set(`${pair.name.replace(/-.*/, '')}_tls13_group`, r.group);
      metrics.set('mtls-handshakes', {
        handshakes_per_s: round(r.count / r.seconds),
        ...(w.cpu === null || w.cpu.server <= 0 ? {} : { handshakes_per_server_core_s: round(r.count / w.cpu.server) }),
        p50_ms: round(r.latency.p50Ms),
        p99_ms: round(r.latency.p99Ms),
        ...(w.cpu === null || r.count === 0 ? {} : { server_cpu_ms_per_handshake: round((w.cpu.server / r.count) * 1e3) }),
        ...coreMetrics(w),
        errors: r.errors,
        concurrency: plan.handshakeConcurrency,
      });
      if (r.errors > 0) notes.push(`${pair.name}: ${r.errors} handshakes failed (${r.firstError})`);
    }
    if (runs('overload-2x') && Number.isFinite(saturationRps)) {
      const rate = Math.round(saturationRps * plan.overloadFactor);
      const w = await measure(h, handle, pair.name, 'overload-2x', () =>
        agent.call<RateResult>('http-rate', { ...http, rate, connections: plan.overloadConnections, seconds: plan.overloadSeconds, drainSeconds: plan.drainSeconds }),
      );
      const r = w.value;
      const p99 = r.latency.p99Ms;
      metrics.set('overload-2x', {
        offered_rps: round(r.sent / r.seconds),
        admitted_rps: round(r.okInWindow / r.seconds),
        shed_share: round(r.shed / Math.max(1, r.sent), 3),
        error_share: round((r.failed + r.otherStatus) / Math.max(1, r.sent), 3),
        unanswered_share: round(r.unanswered / Math.max(1, r.sent), 3),
        p50_ms: round(r.latency.p50Ms),
        p99_ms: round(p99),
        unloaded_p99_ms: round(unloadedP99),
        p99_vs_unloaded: round(p99 / unloadedP99, 3),
        send_lag_p99_ms: round(r.sendLag.p99Ms),
        ...cpuMetrics(w, r.ok, 'req'),
        ...peakMib(w),
        target_rps: rate,
        connections: plan.overloadConnections,
      });
      if (r.sent < rate * r.seconds * 0.95) notes.push(`${pair.name}: the generator offered only ${Math.round(r.sent / r.seconds)} of ${rate} req/s in overload-2x`);
    }
    if (runs('memory') && handle.processes !== null && idle !== null) {
      const client = memoryKib(handle.processes.client.pid).hwmKib / 1024;
      const server = memoryKib(handle.processes.server.pid).hwmKib / 1024;
      metrics.set('memory', {
        rss_idle_mib: round(Math.max(idle.client, idle.server)),
        rss_peak_mib: round(Math.max(client, server)),
        client_rss_idle_mib: round(idle.client),
        server_rss_idle_mib: round(idle.server),
        client_rss_peak_mib: round(client),
        server_rss_peak_mib: round(server),
      });
    }
  } finally {
    await handle.stop();
  }
  return { metrics, notes };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
