/**
 * `make bench-proxy`: the data path of a proxy pair (load generator → client-side proxy → mTLS → server-side
 * proxy → upstream) against (a) no proxy at all and (b) an HAProxy pair with the same mTLS hop, HTTP/1.1 or
 * HTTP/2 between the proxies, all in the same run on the same machine (DESIGN §8, issue 6). The Loom pair
 * (pairs/loom.ts) is one more {@link PairUnderTest}: two `loom-proxy` processes with proxy-init's iptables rules
 * and a control plane from the controller's real parts.
 *
 * Topology: network namespaces `client` and `server` joined by a veth pair (netns.ts). Upstreams in the server
 * namespace: nginx (1 KiB body), a gRPC echo server and a TCP sink. Load generators in the client namespace:
 * wrk, and Node generators in an agent process (constant-rate HTTP/1.1, gRPC, TCP bulk, mTLS handshakes).
 * Pinning (taskset): both proxies on CPU A; load generators, upstreams and this harness on CPU B (upstreams on a
 * third CPU when there is one). bench/README.md has the scenarios, the figures and how to read them.
 *
 * Rounds: every pair runs its block of scenarios once per round, pairs in rotating order, so a change of load
 * on the machine hits them alike; every figure is the median over rounds. `BENCH_QUICK=1`: one short round.
 *
 * Flags: `--pairs <name>[,<name>...]` runs only those pairs, `--scenarios <name>[,<name>...]` only those
 * scenarios (both: printed, not written to results/); `--markdown` prints the tables of
 * bench/results/proxy.json in Markdown. `--agent client|server|control-plane` is the role of the agent
 * processes (agent.ts).
 *
 * Environment for the Node proxies (the Loom pair): `LOOM_BENCH_NODE_FLAGS` (extra node flags, split on
 * spaces, e.g. `--max-semi-space-size=4`), `LOOM_BENCH_PROFILE_DIR` (each proxy runs with `--cpu-prof` into
 * `<dir>/client` and `<dir>/server`, and every measured window is appended to `<dir>/windows.jsonl` so profile.ts
 * can cut a profile to one scenario). `LOOM_BENCH_LOG_DIR` appends each Node proxy's output (its logs, and what
 * flags like `--trace-gc` print) to `<dir>/client.log` and `<dir>/server.log`. `LOOM_BENCH_WINDOWS=<file>` records the windows without profiling (e.g.
 * for `perf record -k CLOCK_MONOTONIC`, then `perf report --time <start>,<end>`). `LOOM_BENCH_B_ENV` (`NAME=value ...`)
 * and/or `LOOM_BENCH_B_NODE_FLAGS` add pair `loom-b`: the Loom pair with that environment and those flags, for A/B
 * comparisons in one run. Runs with node flags or
 * profiling are printed, not written to results/.
 */
import { appendFileSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintCa } from '@loom/ca/testing';
import { parseCommandLine } from '../lib/cli.js';
import { baseVersions, isQuick, machineInfo, resultsDir, writeResults, type BenchResults, type Metrics, type Scenarios } from '../lib/index.js';
import { runAgent, type ServerPorts } from './agent.js';
import { grpcJsVersion } from './grpc.js';
import { AgentChannel } from './ipc.js';
import { createNetwork, destroyNetworkSync, removeStale, run, inNamespace, type Network, type Side } from './netns.js';
import { nginxArgs, nginxConfig } from './nginx.js';
import { directPair } from './pairs/direct.js';
import { haproxyPair, haproxyVersions } from './pairs/haproxy.js';
import { loomPair, loomPairWith, variantFromEnv } from './pairs/loom.js';
import type { PairUnderTest, ScenarioName, Service, Topology } from './pairs/pair.js';
import { plan as makePlan } from './plan.js';
import { allowedCpus, choosePinning, pinSelf, preflightProblems, toolVersions } from './preflight.js';
import { Processes } from './procs.js';
import { addComparisons, formatTables, medianOfRounds, resultKey, SCENARIOS } from './report.js';
import { runPairRound, type Harness, type MeasuredWindow } from './scenarios.js';
import { createWorkDir, removeStaleWorkDirs } from './workdir.js';
import { WRK_SCRIPT } from './wrk.js';

/** The mesh's default trust domain: the Loom pair's control plane (e2e's) issues and compiles for it. */
const TRUST_DOMAIN = 'cluster.local';
const UPSTREAM_PORTS: Readonly<Record<Service, number>> = { http: 8080, grpc: 50051, tcp: 9000 };
const SCRIPT = fileURLToPath(import.meta.url);

const log = (text: string): void => {
  process.stderr.write(`[bench-proxy] ${text}\n`);
};

function allPairs(): PairUnderTest[] {
  const variant = variantFromEnv(process.env);
  return [directPair, haproxyPair('h1'), haproxyPair('h2'), loomPair, ...(variant === null ? [] : [loomPairWith('loom-b', variant)])];
}

const USAGE = `Usage: node bench/dist/src/proxy/main.js [--pairs <pair>,...] [--scenarios <scenario>,...]
       node bench/dist/src/proxy/main.js --markdown

The proxy pair benchmark (make bench-proxy): every pair and scenario, 3 rounds (BENCH_QUICK=1: one short
round), results written to bench/results/proxy.json. bench/README.md explains the figures.

  --pairs p,...       only these pairs (printed, not written): direct, haproxy-h1, haproxy-h2, loom, loom-b
  --scenarios s,...   only these scenarios (printed, not written): ${SCENARIOS.join(', ')}
  --markdown          print the tables of bench/results/proxy.json in Markdown
  --help              this text

Environment: LOOM_BENCH_NODE_FLAGS, LOOM_BENCH_PROFILE_DIR, LOOM_BENCH_LOG_DIR, LOOM_BENCH_WINDOWS,
LOOM_BENCH_B_ENV, LOOM_BENCH_B_NODE_FLAGS (pair loom-b): see the comment at the top of bench/src/proxy/main.ts.`;

function parsePairs(list: string | undefined, known: readonly PairUnderTest[]): Set<string> | undefined {
  if (list === undefined) return undefined;
  if (list === '') throw new Error('--pairs needs a comma-separated list of pairs');
  const names = new Set(list.split(','));
  const unknown = [...names].filter((n) => !known.some((p) => p.name === n));
  if (unknown.length > 0) throw new Error(`unknown pair ${unknown.join(', ')}; known: ${known.map((p) => p.name).join(', ')}`);
  return names;
}

function parseScenarios(list: string | undefined): Set<ScenarioName> | null {
  if (list === undefined) return null;
  if (list === '') throw new Error('--scenarios needs a comma-separated list of scenarios');
  const names = list.split(',');
  const unknown = names.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  return new Set(names as ScenarioName[]);
}

/** `LOOM_BENCH_NODE_FLAGS`, `LOOM_BENCH_PROFILE_DIR` and `LOOM_BENCH_LOG_DIR`. */
function nodeOptions(env: NodeJS.ProcessEnv): { flags: string[]; profileDir: string | null; logDir: string | null } {
  const flags = (env['LOOM_BENCH_NODE_FLAGS'] ?? '').split(/\s+/).filter((f) => f !== '');
  const bad = flags.find((f) => !f.startsWith('--'));
  if (bad !== undefined) throw new Error(`LOOM_BENCH_NODE_FLAGS: ${JSON.stringify(bad)} is not a node flag (--name or --name=value)`);
  const dir = env['LOOM_BENCH_PROFILE_DIR'] ?? '';
  const logDir = env['LOOM_BENCH_LOG_DIR'] ?? '';
  return { flags, profileDir: dir === '' ? null : resolve(dir), logDir: logDir === '' ? null : resolve(logDir) };
}

/** Pairs in round `r`'s order: the list rotated by `r`. */
const rotate = <T>(items: readonly T[], r: number): T[] => items.map((_, i) => items[(i + r) % items.length] as T);

/** `--markdown`: the tables of the last full results file, in Markdown (for bench/README.md). */
async function printMarkdown(): Promise<void> {
  const path = join(resultsDir(), 'proxy.json');
  const results = JSON.parse(await readFile(path, 'utf8')) as BenchResults;
  const order = allPairs().map((p) => p.name);
  process.stdout.write(`${formatTables(results.scenarios, order, true)}\n`);
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--agent') {
    runAgent(argv[1]);
    return;
  }
  const args = parseCommandLine({ usage: USAGE, options: ['pairs', 'scenarios'], flags: ['markdown'] }, argv);
  if (args === null) return;
  if (args.flags.has('markdown')) {
    await printMarkdown();
    return;
  }
  const problems = preflightProblems();
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`bench-proxy: ${problem}\n`);
    process.exitCode = 1;
    return;
  }
  const known = allPairs();
  const only = parsePairs(args.values['pairs'], known);
  const onlyScenarios = parseScenarios(args.values['scenarios']);
  const node = nodeOptions(process.env);
  let windowsPath = process.env['LOOM_BENCH_WINDOWS'] ?? '';
  if (node.profileDir !== null) {
    await mkdir(node.profileDir, { recursive: true, mode: 0o755 });
    windowsPath ||= join(node.profileDir, 'windows.jsonl');
    log(`profiling Node proxies into ${node.profileDir}`);
  }
  if (node.logDir !== null) {
    await mkdir(node.logDir, { recursive: true, mode: 0o755 });
    log(`Node proxies' output goes to ${node.logDir}/<client|server>.log`);
  }
  const recordWindow = windowsPath === '' ? null : (window: MeasuredWindow): void => appendFileSync(windowsPath, `${JSON.stringify(window)}\n`);
  if (recordWindow !== null) log(`measured windows (monotonic µs, for profile.ts and perf --time) go to ${windowsPath}`);
  const plan = makePlan(isQuick());
  const started = Date.now();
  const pinning = choosePinning(allowedCpus());
  if (pinning.cpus === null) log('only one CPU allowed: nothing is pinned, and the proxies share the core with the load generators');
  else {
    pinSelf(pinning.cpus.load);
    log(`pinned: proxies on CPU ${pinning.cpus.sut}; load generators and this harness on CPU ${pinning.cpus.load}; upstreams on CPU ${pinning.cpus.upstream}`);
  }
  const stale = [...(await removeStale()), ...removeStaleWorkDirs()];
  if (stale.length > 0) log(`removed what an earlier, killed run left: ${stale.join(', ')}`);

  const notes: string[] = [];
  const pairs: PairUnderTest[] = [];
  for (const pair of known.filter((p) => only === undefined || only.has(p.name))) {
    const reason = await pair.unavailable();
    if (reason === null) pairs.push(pair);
    else {
      notes.push(`${pair.name} skipped: ${reason}`);
      log(`${pair.name} skipped: ${reason}`);
    }
  }

  const processes = new Processes(pinning);
  let network: Network | null = null;
  let dir: string | null = null;
  const agents: AgentChannel[] = [];
  const cleanupSync = (): void => {
    processes.killAllSync();
    if (network !== null) destroyNetworkSync(network);
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
    network = null;
    dir = null;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping every process, removing the namespaces and the temp dir`);
    cleanupSync();
    process.exit(130);
  };
  process.once('exit', cleanupSync);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    dir = await createWorkDir();
    const privateDir = dir;
    network = await createNetwork();
    const { client, server } = network;
    log(`namespaces ${client.ns} (${client.address}) and ${server.ns} (${server.address}); temp dir ${privateDir}`);

    const ca = mintCa({ trustDomain: TRUST_DOMAIN, keyType: 'ec-p256' });
    const identities = { client: ca.leaf('bench', 'client', 'ec-p256'), server: ca.leaf('bench', 'server', 'ec-p256') };
    const wrkScript = join(privateDir, 'wrk-done.lua');
    await writeFile(wrkScript, WRK_SCRIPT, { mode: 0o600 });

    // Upstreams (server namespace): nginx, and the server agent's gRPC echo server and TCP sink.
    const nginxConf = join(privateDir, 'nginx.conf');
    await writeFile(nginxConf, nginxConfig({ dir: privateDir, port: UPSTREAM_PORTS.http }), { mode: 0o600 });
    const nginx = processes.start(server, nginxArgs(nginxConf, privateDir), { name: 'nginx', cpu: 'upstream' });
    const serverAgent = new AgentChannel(processes.start(server, [process.execPath, SCRIPT, '--agent', 'server'], { name: 'server agent', cpu: 'upstream', ipc: true }));
    agents.push(serverAgent);
    const clientAgent = new AgentChannel(processes.start(client, [process.execPath, SCRIPT, '--agent', 'client'], { name: 'client agent', cpu: 'load', ipc: true }));
    agents.push(clientAgent);
    const ports = await serverAgent.call<ServerPorts>('start-upstreams', { host: '0.0.0.0', grpcPort: UPSTREAM_PORTS.grpc, tcpPort: UPSTREAM_PORTS.tcp });
    if (ports.grpcPort !== UPSTREAM_PORTS.grpc) throw new Error(`the gRPC echo server listens on ${ports.grpcPort}, not ${UPSTREAM_PORTS.grpc}`);

    const agentOf = (side: Side): AgentChannel => (side.role === 'client' ? clientAgent : serverAgent);
    const topology: Topology = {
      client,
      server,
      upstreamPorts: UPSTREAM_PORTS,
      dir: privateDir,
      ca,
      identities,
      node,
      start: (side, command, options) => processes.start(side, command, options),
      startAgent: (side, role, options) => new AgentChannel(processes.start(side, [process.execPath, SCRIPT, '--agent', role], { ...options, ipc: true })),
      run: (side, command) => run(inNamespace(side, command)),
      waitForPort: (side, host, port, timeoutMs = 10_000) => agentOf(side).call('probe', { host, port, timeoutMs }),
      httpGet: (side, host, port, path) => agentOf(side).call('http-get', { host, port, path }),
    };
    try {
      await topology.waitForPort(server, '127.0.0.1', UPSTREAM_PORTS.http);
    } catch (error) {
      throw nginx.running ? error : new Error(`nginx did not start: ${nginx.lastError()}`);
    }
    for (const port of Object.values(UPSTREAM_PORTS)) await topology.waitForPort(client, server.address, port);

    const negotiated = new Map<string, string>();
    const harness: Harness = { plan, topology, agent: clientAgent, processes, pinning, wrkScript, negotiated, scenarios: onlyScenarios, recordWindow, log };
    const rounds = new Map<string, Metrics[]>();
    for (let r = 0; r < plan.rounds; r++) {
      for (const pair of rotate(pairs, r)) {
        const t = Date.now();
        const result = await runPairRound(harness, pair);
        for (const [scenario, metrics] of result.metrics) {
          const key = resultKey(scenario, pair.name);
          rounds.set(key, [...(rounds.get(key) ?? []), metrics]);
        }
        for (const note of result.notes) if (!notes.includes(note)) notes.push(note);
        const sat = result.metrics.get('http1-saturation');
        const cpu = sat?.['cpu_us_per_req'];
        const satText = sat?.['rps'] === undefined ? '' : ` (saturation ${Math.round(sat['rps'])} req/s${cpu === undefined ? '' : `, ${Math.round(cpu)} µs CPU/req`})`;
        log(`round ${r + 1}/${plan.rounds} ${pair.name}: ${result.metrics.size} scenarios in ${((Date.now() - t) / 1000).toFixed(0)} s${satText}`);
      }
    }

    const medians: Scenarios = {};
    for (const scenario of SCENARIOS) {
      for (const pair of pairs) {
        const key = resultKey(scenario, pair.name);
        const list = rounds.get(key);
        if (list !== undefined) medians[key] = medianOfRounds(scenario, list);
      }
    }
    const results = addComparisons(medians);
    const versions: Record<string, string> = {
      ...baseVersions(),
      openssl: process.versions.openssl,
      grpc_js: grpcJsVersion(),
      ...toolVersions(),
      ...(pairs.some((p) => p.name.startsWith('haproxy')) ? await haproxyVersions() : {}),
      ...Object.fromEntries(negotiated),
      pinning: pinning.cpus === null ? 'none (one CPU)' : `proxies cpu ${pinning.cpus.sut}; load generators + harness cpu ${pinning.cpus.load}; upstreams cpu ${pinning.cpus.upstream}`,
    };
    for (const pair of pairs) for (const [scenario, reason] of pair.skips) if (scenario !== 'memory') notes.push(`${pair.name} does not run ${scenario}: ${reason}`);
    if (node.flags.length > 0) notes.push(`Node proxies ran with LOOM_BENCH_NODE_FLAGS=${node.flags.join(' ')}`);
    const variant = variantFromEnv(process.env);
    if (variant !== null) notes.push(`loom-b: loom with ${[...Object.entries(variant.env).map(([k, v]) => `${k}=${v}`), ...variant.nodeFlags].join(' ')}`);
    if (node.profileDir !== null) notes.push(`Node proxies ran with --cpu-prof (profiles in ${node.profileDir}): their figures include the profiler's cost`);

    const out: string[] = [`\nproxy benchmark${plan.quick ? ' (BENCH_QUICK)' : ''}: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}`];
    out.push(formatTables(results, pairs.map((p) => p.name)));
    if (notes.length > 0) out.push(`\nnotes:\n${notes.map((n) => `- ${n}`).join('\n')}`);
    if (only === undefined && onlyScenarios === null && node.flags.length === 0 && node.profileDir === null && variant === null) {
      const path = await writeResults('proxy', { machine: machineInfo(), versions, date: new Date().toISOString(), quick: plan.quick, scenarios: results });
      out.push(`\nwrote ${path}`);
    }
    out.push(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    await processes.stopAll();
    cleanupSync();
    process.off('exit', cleanupSync);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`bench-proxy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
