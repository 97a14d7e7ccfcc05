/**
 * `make bench-compile`: how long the policy compiler takes on a generated mesh (see generate.ts), and how
 * much memory it needs. Aims (issue): every proxy of 10k services / 50k pods / 20k TrafficTargets in under
 * 10 s on one core, one proxy in under 1 ms.
 *
 * Each scenario runs in its own child process (so its peak RSS is its own); every figure of a scenario,
 * baseline included, is measured in that one process (DESIGN §8). Writes bench/results/compile.json and
 * prints a table. `BENCH_QUICK=1`: smaller meshes and fewer samples, same scenarios (about a minute).
 *
 * The index, all-proxies and baseline figures are medians of 3 rounds (1 with BENCH_QUICK).
 *
 * Figures per scenario:
 *   generate_seconds          building the snapshot (not part of any compile figure)
 *   index_seconds             first compile on a fresh snapshot: builds the per-snapshot index, then one proxy
 *   all_proxies_seconds       every meshed proxy on a fresh snapshot, index build included (what a controller
 *                             pays after a change that replaces the snapshot)
 *   all_proxies_warm_seconds  every meshed proxy again on the same snapshot (index and memos warm)
 *   *_cpu_seconds             the same three as CPU time of the process (user + system), less disturbed by
 *                             other work on the machine than wall-clock time
 *   one_proxy_p50_ms/p99_ms   one compile() on the warm index, random proxies, hrtime per call
 *   serialise_seconds         baseline: structuredClone + JSON.stringify of the same policies
 *   compile_vs_serialise      all_proxies_warm_seconds / serialise_seconds (1 = compiling costs as much as
 *                             merely copying and serialising the output)
 *   policy_bytes_avg, outbound_services_avg, inbound_authorizations_avg, outbound_endpoints_avg, diagnostics_avg
 *   heap_snapshot_mib, heap_index_mib, heap_used_mib (snapshot + index + every proxy's policy), rss_peak_mib
 *   load_avg_1m               the machine's load average when the scenario started
 */
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { compile, meshedProxies, type MeshSnapshot, type ProxyRef } from '@loom/controller/compile';
import { policyVersion, type ProxyPolicy } from '@loom/shared/policy';
import {
  baseVersions,
  collectGarbage,
  cpuSecondsSince,
  formatTable,
  heapUsedMib,
  isQuick,
  machineInfo,
  mean,
  msSince,
  nowNs,
  percentile,
  Rng,
  round,
  rssPeakMib,
  secondsSince,
  writeResults,
  type Metrics,
  type Scenarios,
} from '../lib/index.js';
import { parseCommandLine, UsageError } from '../lib/cli.js';
import { generateMesh, type MeshSize } from './generate.js';

interface Scenario {
  readonly name: string;
  readonly size: MeshSize;
  /** one-proxy samples */
  readonly samples: number;
  /** Repetitions of the index, all-proxies and baseline figures (the median is reported). */
  readonly rounds: number;
}

/** The scenarios; quick runs keep their names with half the mesh, one round and fewer samples. */
function scenarios(quick: boolean): Scenario[] {
  const scale = quick ? 2 : 1;
  const samples = quick ? 300 : 1000;
  const rounds = quick ? 1 : 3;
  return [
    { name: '1k-services', size: { services: 1_000 / scale, pods: 5_000 / scale, trafficTargets: 2_000 / scale }, samples, rounds },
    { name: '10k-services', size: { services: 10_000 / scale, pods: 50_000 / scale, trafficTargets: 20_000 / scale }, samples, rounds },
  ];
}

const median = (runs: readonly number[]): number => percentile(runs, 50);
const fmt = (runs: readonly number[]): string => runs.map((r) => r.toFixed(3)).join(' / ');

const log = (scenario: string, text: string): void => {
  process.stderr.write(`[${scenario}] ${text}\n`);
};

/** A new snapshot object with the same contents: the compiler's index is memoised by identity, so this one starts cold. */
const fresh = (s: MeshSnapshot): MeshSnapshot => ({ ...s });

/** Every figure of one scenario, measured in this process. */
function measure(scenario: Scenario): Metrics {
  const { name, size } = scenario;
  const load = loadavg()[0] ?? NaN;
  collectGarbage();
  let t = nowNs();
  const snapshot = generateMesh(size);
  const generateSeconds = secondsSince(t);
  const heapSnapshot = heapUsedMib();
  log(name, `generated ${size.services} services, ${size.pods} pods, ${size.trafficTargets} TrafficTargets in ${generateSeconds.toFixed(2)} s`);

  // The proxy list, from a throwaway copy so no measured snapshot has an index yet.
  const proxies: ProxyRef[] = meshedProxies(fresh(snapshot));
  const first = proxies[0];
  if (first === undefined) throw new Error('the generated mesh has no meshed proxy');

  // First compile on a cold snapshot: index build + one proxy.
  const indexRuns: number[] = [];
  const indexCpu: number[] = [];
  let heapIndex = 0;
  for (let r = 0; r < scenario.rounds; r++) {
    collectGarbage();
    const cold = fresh(snapshot);
    const cpu = process.cpuUsage();
    t = nowNs();
    compile(cold, first);
    indexRuns.push(secondsSince(t));
    indexCpu.push(cpuSecondsSince(cpu));
    if (r === 0) heapIndex = heapUsedMib() - heapSnapshot;
  }
  const indexSeconds = median(indexRuns);
  log(name, `index + first proxy: ${fmt(indexRuns)} s`);

  // Every proxy on a cold snapshot (index included), keeping the policies as a controller would.
  let s = snapshot;
  let policies = new Array<ProxyPolicy>(0);
  let diagnostics = 0;
  const allRuns: number[] = [];
  const allCpu: number[] = [];
  for (let r = 0; r < scenario.rounds; r++) {
    s = fresh(snapshot);
    policies = new Array<ProxyPolicy>(0); // let the previous round's policies go before collecting
    policies = new Array<ProxyPolicy>(proxies.length);
    diagnostics = 0;
    collectGarbage();
    const cpu = process.cpuUsage();
    t = nowNs();
    for (let i = 0; i < proxies.length; i++) {
      const c = compile(s, proxies[i] as ProxyRef);
      policies[i] = c.policy;
      diagnostics += c.diagnostics.length;
    }
    allRuns.push(secondsSince(t));
    allCpu.push(cpuSecondsSince(cpu));
  }
  const allSeconds = median(allRuns);
  log(name, `all ${proxies.length} proxies (cold): ${fmt(allRuns)} s`);
  const heapUsed = heapUsedMib();

  // Every proxy again, warm; the output must not depend on what was memoised before.
  const warmRuns: number[] = [];
  const warmCpu: number[] = [];
  for (let r = 0; r < scenario.rounds; r++) {
    collectGarbage();
    const cpu = process.cpuUsage();
    t = nowNs();
    for (const p of proxies) compile(s, p);
    warmRuns.push(secondsSince(t));
    warmCpu.push(cpuSecondsSince(cpu));
  }
  const warmSeconds = median(warmRuns);
  log(name, `all proxies (warm): ${fmt(warmRuns)} s`);
  proxies.forEach((p, i) => {
    if (compile(s, p).policy.version !== policies[i]?.version) throw new Error(`${p.namespace}/${p.pod}: warm and cold compiles differ`);
  });

  // One proxy at a time, random proxies, warm index.
  const rng = new Rng(7);
  const samples: number[] = [];
  collectGarbage();
  for (let i = 0; i < scenario.samples; i++) {
    const p = proxies[rng.int(proxies.length)] as ProxyRef;
    const start = nowNs();
    const c = compile(s, p);
    samples.push(msSince(start));
    // Optimisations must not change the output: the version is still the content hash (untimed check).
    if (c.policy.version !== policyVersion(c.policy)) throw new Error(`${p.namespace}/${p.pod}: version ${c.policy.version} is not the content hash`);
  }

  // Baseline: merely copying and serialising the same policies.
  let chars = 0;
  const serialiseRuns: number[] = [];
  for (let r = 0; r < scenario.rounds; r++) {
    chars = 0;
    collectGarbage();
    t = nowNs();
    for (const p of policies) chars += JSON.stringify(structuredClone(p)).length;
    serialiseRuns.push(secondsSince(t));
  }
  const serialiseSeconds = median(serialiseRuns);
  log(name, `baseline structuredClone + JSON.stringify: ${fmt(serialiseRuns)} s`);

  const n = policies.length;
  let outbound = 0;
  let endpoints = 0;
  let authorizations = 0;
  for (const p of policies) {
    outbound += p.outbound.length;
    authorizations += p.inbound.authorizations.length;
    for (const o of p.outbound) for (const port of o.ports) endpoints += port.endpoints.length;
  }

  return {
    services: snapshot.services.length,
    pods: snapshot.pods.length,
    traffic_targets: snapshot.smi.trafficTargets.length,
    proxies: n,
    generate_seconds: round(generateSeconds),
    index_seconds: round(indexSeconds),
    all_proxies_seconds: round(allSeconds),
    all_proxies_warm_seconds: round(warmSeconds),
    index_cpu_seconds: round(median(indexCpu)),
    all_proxies_cpu_seconds: round(median(allCpu)),
    all_proxies_warm_cpu_seconds: round(median(warmCpu)),
    one_proxy_p50_ms: round(percentile(samples, 50)),
    one_proxy_p99_ms: round(percentile(samples, 99)),
    one_proxy_mean_ms: round(mean(samples)),
    serialise_seconds: round(serialiseSeconds),
    compile_vs_serialise: round(warmSeconds / serialiseSeconds, 3),
    // JSON characters; the generated policies are ASCII, so bytes.
    policy_bytes_avg: Math.round(chars / n),
    outbound_services_avg: round(outbound / n, 3),
    outbound_endpoints_avg: round(endpoints / n, 3),
    inbound_authorizations_avg: round(authorizations / n, 3),
    diagnostics_avg: round(diagnostics / n, 3),
    heap_snapshot_mib: round(heapSnapshot),
    heap_index_mib: round(heapIndex),
    heap_used_mib: round(heapUsed),
    rss_peak_mib: round(rssPeakMib()),
    // Other work on the machine when the scenario started (figures are wall-clock; CPU figures are less affected).
    load_avg_1m: round(load, 3),
  };
}

/** Runs one scenario in a child process with this process's node flags; resolves to its metrics. */
function runChild(scenario: Scenario): Promise<Metrics> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--scenario', scenario.name], { execArgv: process.execArgv, stdio: 'inherit' });
    let metrics: Metrics | undefined;
    child.on('message', (m) => {
      metrics = m as Metrics;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (metrics !== undefined && code === 0) resolve(metrics);
      else reject(new Error(`scenario ${scenario.name} failed: ${signal ?? `exit code ${code}`}`));
    });
  });
}

const USAGE = `Usage: node --max-old-space-size=8192 --expose-gc bench/dist/src/compile/main.js [--scenario <name>]

The policy compiler benchmark (make bench-compile): every scenario in a child process of its own, results
written to bench/results/compile.json (BENCH_QUICK=1: smaller meshes, fewer samples). bench/README.md
explains the figures.

  --scenario <name>   measure one scenario in this process and print its figures as JSON (what each child runs)
  --help              this text`;

async function main(argv: readonly string[]): Promise<void> {
  const args = parseCommandLine({ usage: USAGE, options: ['scenario'] }, argv);
  if (args === null) return;
  const quick = isQuick();
  const all = scenarios(quick);
  const only = args.values['scenario'];
  if (only !== undefined) {
    const scenario = all.find((s) => s.name === only);
    if (scenario === undefined) throw new Error(`unknown scenario ${only}; known: ${all.map((s) => s.name).join(', ')}`);
    const metrics = measure(scenario);
    await new Promise<void>((resolve, reject) => {
      if (process.send === undefined) {
        process.stdout.write(`${JSON.stringify(metrics)}\n`);
        resolve();
      } else process.send(metrics, undefined, {}, (err: Error | null) => (err === null ? resolve() : reject(err)));
    });
    return;
  }
  if ((globalThis as { gc?: unknown }).gc === undefined) process.stderr.write('note: run node with --expose-gc for exact heap figures\n');
  const results: Scenarios = {};
  for (const s of all) results[s.name] = await runChild(s);
  const path = await writeResults('compile', { machine: machineInfo(), versions: baseVersions(), date: new Date().toISOString(), quick, scenarios: results });
  process.stdout.write(`\ncompile benchmark${quick ? ' (BENCH_QUICK)' : ''}: aims all_proxies_seconds < 10, one_proxy_p99_ms < 1 at 10k services\n`);
  process.stdout.write(`${formatTable(results)}\n\nwrote ${path}\n`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const usage = err instanceof UsageError;
  process.stderr.write(`bench-compile: ${err instanceof Error ? (usage ? err.message : (err.stack ?? err.message)) : String(err)}\n`);
  process.exitCode = 1;
});
