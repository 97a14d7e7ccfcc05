/**
 * A local cluster's files under `localClusterDir(name)` (default `/var/lib/loom/dev/<name>`, `LOOM_STATE_DIR`
 * overrides the root): the state file the daemon writes once its API serves (`state.json`), the kubeconfig, the
 * daemon's log, pod logs and volumes. `loom dev down` reads the state file to find what to stop, and removes what
 * a crashed daemon left by the cluster's name even without it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localClusterDir } from '@loom/shared/runtime';
import { clusterNameProblem } from '../node/network.js';

export interface ClusterState {
  readonly name: string;
  /** The daemon's pid. */
  readonly pid: number;
  readonly apiUrl: string;
  readonly kubeconfig: string;
  readonly podCidr: string;
  readonly serviceCidr: string;
  /** The bridge address: the host as pods see it, where the API listens. */
  readonly gateway: string;
  readonly startedAt: string;
  /** Snapshot file the daemon saves to, if any. */
  readonly snapshot?: string;
}

export interface ClusterFiles {
  readonly dir: string;
  readonly state: string;
  readonly kubeconfig: string;
  readonly daemonLog: string;
  /** The pod runner's directory: `<namespace>_<pod>_<uid>/logs/<container>/{current,previous}.log` and volumes. */
  readonly pods: string;
}

/** Cluster names prefix interface and chain names, so they are short DNS labels (node/network.ts). */
export const checkClusterName = clusterNameProblem;

export function clusterFiles(name: string, env: NodeJS.ProcessEnv = process.env): ClusterFiles {
  const dir = localClusterDir(name, env);
  return {
    dir,
    state: join(dir, 'state.json'),
    kubeconfig: join(dir, 'kubeconfig'),
    daemonLog: join(dir, 'daemon.log'),
    pods: join(dir, 'pods'),
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The state file, or null when there is none; a file that is not a cluster state is reported, not trusted. */
export function readState(files: ClusterFiles): ClusterState | null {
  if (!existsSync(files.state)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(files.state, 'utf8'));
  } catch (err) {
    throw new Error(`${files.state} is not valid JSON (${(err as Error).message}); remove it or run 'loom dev down'`, { cause: err });
  }
  const fields = ['name', 'apiUrl', 'kubeconfig', 'podCidr', 'serviceCidr', 'gateway', 'startedAt'] as const;
  if (!isRecord(parsed) || typeof parsed['pid'] !== 'number' || fields.some((f) => typeof parsed[f] !== 'string')) {
    throw new Error(`${files.state} is not a local cluster's state file; remove it or run 'loom dev down'`);
  }
  return parsed as unknown as ClusterState;
}

/** Writes the state file atomically (a reader never sees half of it). */
export function writeState(files: ClusterFiles, state: ClusterState): void {
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const temp = `${files.state}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, files.state);
}
