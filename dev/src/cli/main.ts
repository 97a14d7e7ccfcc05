/**
 * `loom dev`: a single-machine cluster (DESIGN §7). `bin/loom dev ...` runs this file.
 *
 *   up      start the cluster's daemon (API server, controllers, pod runner, networking) unless it already runs;
 *           prints `export KUBECONFIG=<path>` on stdout, on a line of its own; `-f` applies manifests after
 *   apply   `kubectl apply -f` against the cluster
 *   status  what runs: the API, the networks, the pods and their log files
 *   down    stop the daemon and remove every namespace, link, rule, process and file the cluster made, also after
 *           a crash
 * Every subcommand is idempotent. Human-readable progress goes to stderr, so `eval "$(loom dev up)"` works.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { netnsUnavailable, processAlive } from '@loom/shared/netns';
import { DEFAULT_LOCAL_CLUSTER, parseArgs, runIfEntryPoint, UsageError, type FlagSpecs, type Io } from '@loom/shared/runtime';
import { cleanupCluster } from '../cleanup.js';
import { checkClusterName, clusterFiles, readState, type ClusterFiles, type ClusterState } from './state.js';
import { clusterStatus } from './status.js';

export type { Io } from '@loom/shared/runtime';

const USAGE = `usage: loom dev <command> [options]

A Kubernetes-compatible cluster on this machine (Linux, root): an API server kubectl uses, pods as processes in
network namespaces, Services as iptables rules. Loom runs on it unchanged.

commands:
  up      [--name N] [-f PATH]... [--snapshot FILE]
          start the cluster (no-op when it runs); prints "export KUBECONFIG=<path>"; -f applies manifests
  apply   [--name N] -f PATH...
          kubectl apply -f PATH against the cluster
  status  [--name N]
          the API address, networks, pods and their log files
  down    [--name N]
          stop the cluster and remove everything it made (also after a crash)

options:
  --name N         the cluster (default ${DEFAULT_LOCAL_CLUSTER}); clusters with different names run side by side
  -f, --filename   a manifest file or directory (repeatable)
  --snapshot FILE  load the cluster's objects from FILE when it exists, save them there while running and on down
  -h, --help       this help

State lives in /var/lib/loom/dev/<name> (LOOM_STATE_DIR overrides /var/lib/loom).
`;

const SPECS = {
  name: { type: 'string' },
  filename: { type: 'string', short: 'f', multiple: true },
  snapshot: { type: 'string' },
} as const satisfies FlagSpecs;

/** How long `up` waits for the daemon's API to serve. */
const UP_TIMEOUT_MS = 90_000;
/** How long `down` waits for the daemon to stop its pods before it kills it. */
const DOWN_TIMEOUT_MS = 45_000;

const here = dirname(fileURLToPath(import.meta.url));

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    if (command === undefined) io.err(USAGE);
    else io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  const allowed: Record<string, readonly (keyof typeof SPECS)[]> = { up: ['name', 'filename', 'snapshot'], apply: ['name', 'filename'], status: ['name'], down: ['name'] };
  const flags = allowed[command];
  if (flags === undefined) {
    io.err(`loom dev: unknown command '${command}' (run 'loom dev --help')\n`);
    return 2;
  }
  let parsed;
  try {
    const specs: FlagSpecs = Object.fromEntries(flags.map((f) => [f, SPECS[f]]));
    parsed = parseArgs(rest, specs);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`loom dev ${command}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (parsed.help) {
    io.out(USAGE);
    return 0;
  }
  const name = typeof parsed.flags['name'] === 'string' ? parsed.flags['name'] : DEFAULT_LOCAL_CLUSTER;
  const bad = checkClusterName(name);
  if (bad !== null) {
    io.err(`loom dev ${command}: ${bad}\n`);
    return 2;
  }
  const filenames = Array.isArray(parsed.flags['filename']) ? (parsed.flags['filename'] as string[]) : [];
  const snapshot = typeof parsed.flags['snapshot'] === 'string' ? parsed.flags['snapshot'] : undefined;
  if (command === 'apply' && filenames.length === 0) {
    io.err(`loom dev apply: -f PATH is required (a manifest file or directory)\n`);
    return 2;
  }
  if (command !== 'status') {
    const unavailable = netnsUnavailable();
    if (unavailable !== null) {
      io.err(`loom dev ${command}: the local cluster needs root on Linux with iproute2 and iptables: ${unavailable}\n`);
      return 1;
    }
  }
  const files = clusterFiles(name);
  try {
    switch (command) {
      case 'up':
        return await up(name, files, filenames, snapshot, io);
      case 'apply':
        return apply(name, files, filenames, io);
      case 'status':
        return await clusterStatus(name, files, io);
      default:
        return await down(name, files, io);
    }
  } catch (err) {
    io.err(`loom dev ${command}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/** The running cluster's state, or null; a state whose daemon is gone is reported as stale. */
function running(files: ClusterFiles): { state: ClusterState | null; alive: boolean } {
  const state = readState(files);
  return { state, alive: state !== null && processAlive(state.pid) };
}

async function up(name: string, files: ClusterFiles, filenames: readonly string[], snapshot: string | undefined, io: Io): Promise<number> {
  const { state, alive } = running(files);
  if (state !== null && alive) {
    io.err(`cluster ${name} is already up (API ${state.apiUrl}, daemon pid ${state.pid})\n`);
  } else {
    if (state !== null || existsSync(files.dir)) {
      io.err(`cluster ${name}: removing what a stopped daemon left behind\n`);
      await cleanupCluster(name, files, (line) => io.err(`  ${line}\n`));
    }
    const started = await startDaemon(name, files, snapshot, io);
    if (started === null) return 1;
    io.err(`cluster ${name} is up: API ${started.apiUrl}, pods in ${started.podCidr}, services in ${started.serviceCidr}\n`);
  }
  io.out(`export KUBECONFIG=${files.kubeconfig}\n`);
  if (filenames.length > 0) return apply(name, files, filenames, io);
  return 0;
}

async function startDaemon(name: string, files: ClusterFiles, snapshot: string | undefined, io: Io): Promise<ClusterState | null> {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const log = openSync(files.daemonLog, 'a');
  const args = [join(here, 'daemon.js'), '--name', name, ...(snapshot === undefined ? [] : ['--snapshot', snapshot])];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], env: process.env });
  closeSync(log);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  child.unref();
  const deadline = Date.now() + UP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const state = readState(files);
    if (state !== null && state.pid === child.pid) return state;
    if (exited !== undefined) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const tail = existsSync(files.daemonLog) ? readFileSync(files.daemonLog, 'utf8').trim().split('\n').slice(-15).join('\n') : '';
  io.err(`cluster ${name} did not start${exited === undefined ? ` within ${UP_TIMEOUT_MS / 1000} s` : ` (the daemon exited with code ${String(exited)})`}; the end of ${files.daemonLog}:\n${tail}\n`);
  if (exited === undefined && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
  return null;
}

function kubectlPath(): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat('/usr/bin', '/usr/local/bin')) {
    if (dir !== '' && existsSync(join(dir, 'kubectl'))) return join(dir, 'kubectl');
  }
  return null;
}

function apply(name: string, files: ClusterFiles, filenames: readonly string[], io: Io): number {
  const { state, alive } = running(files);
  if (state === null || !alive) {
    io.err(`loom dev apply: cluster ${name} is not up (run 'loom dev up${name === DEFAULT_LOCAL_CLUSTER ? '' : ` --name ${name}`}')\n`);
    return 1;
  }
  const kubectl = kubectlPath();
  if (kubectl === null) {
    io.err('loom dev apply: kubectl is not on PATH; install kubectl, or use any Kubernetes client with the kubeconfig\n');
    return 1;
  }
  const result = spawnSync(kubectl, ['apply', ...filenames.flatMap((f) => ['-f', f])], { env: { ...process.env, KUBECONFIG: files.kubeconfig }, encoding: 'utf8', timeout: 120_000 });
  if (result.stdout !== '') io.err(result.stdout);
  if (result.stderr !== '') io.err(result.stderr);
  if (result.error !== undefined) {
    io.err(`loom dev apply: kubectl could not run: ${result.error.message}\n`);
    return 1;
  }
  return result.status ?? 1;
}

async function down(name: string, files: ClusterFiles, io: Io): Promise<number> {
  const { state, alive } = running(files);
  if (state === null && !existsSync(files.dir)) {
    io.err(`cluster ${name} is not up; nothing to remove\n`);
    await cleanupCluster(name, files, (line) => io.err(`  ${line}\n`));
    return 0;
  }
  if (state !== null && alive) {
    io.err(`stopping cluster ${name} (daemon pid ${state.pid})\n`);
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + DOWN_TIMEOUT_MS;
    while (processAlive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (processAlive(state.pid)) {
      io.err(`the daemon did not stop within ${DOWN_TIMEOUT_MS / 1000} s; killing it\n`);
      process.kill(state.pid, 'SIGKILL');
    }
  }
  await cleanupCluster(name, files, (line) => io.err(`  ${line}\n`));
  rmSync(files.dir, { recursive: true, force: true });
  io.err(`cluster ${name} is down\n`);
  return 0;
}

runIfEntryPoint(import.meta.url, 'loom dev', main);
