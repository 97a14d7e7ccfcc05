/**
 * The process `loom dev up` starts in the background: runs one local cluster until SIGTERM or SIGINT, then stops
 * its pods, rules, links and namespaces. Writes the state file once the API serves (which `up` waits for) and the
 * kubeconfig beside it. Logs JSON lines to stdout (`up` points it at daemon.log).
 */
import { writeFileSync } from 'node:fs';
import { createLogger, parseArgs, UsageError } from '@loom/shared/runtime';
import { Cluster } from '../cluster.js';
import { checkClusterName, clusterFiles, writeState } from './state.js';

async function run(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv, { name: { type: 'string' }, snapshot: { type: 'string' } });
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`loom dev daemon: ${err.message} (it is started by 'loom dev up')\n`);
      return 2;
    }
    throw err;
  }
  const name = parsed.flags.name ?? 'loom';
  const bad = checkClusterName(name);
  if (bad !== null) {
    process.stderr.write(`loom dev daemon: ${bad}\n`);
    return 2;
  }
  const files = clusterFiles(name);
  const log = createLogger({ name: `loom-dev-${name}` });
  const cluster = await Cluster.start({ name, files, log, ...(parsed.flags.snapshot === undefined ? {} : { snapshotFile: parsed.flags.snapshot }) });
  writeFileSync(files.kubeconfig, cluster.kubeconfig, { mode: 0o600 });
  writeState(files, {
    name,
    pid: process.pid,
    apiUrl: cluster.apiUrl,
    kubeconfig: files.kubeconfig,
    podCidr: cluster.podCidr,
    serviceCidr: cluster.serviceCidr,
    gateway: cluster.gateway,
    startedAt: new Date().toISOString(),
    ...(parsed.flags.snapshot === undefined ? {} : { snapshot: parsed.flags.snapshot }),
  });
  log.info({ event: 'dev.up', api: cluster.apiUrl, podCidr: cluster.podCidr, serviceCidr: cluster.serviceCidr }, 'local cluster is up');
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ event: 'dev.stopping', signal }, 'stopping the local cluster');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await cluster.stop();
  log.info({ event: 'dev.down' }, 'local cluster stopped');
  return 0;
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`loom dev daemon: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
