/**
 * Where Loom keeps local state on a machine: the local clusters of `loom dev` (DESIGN §7) and their CA
 * stores. `LOOM_STATE_DIR` overrides the root (tests point it at a temporary directory).
 */
import { join } from 'node:path';

export const DEFAULT_STATE_DIR = '/var/lib/loom';
export const DEFAULT_LOCAL_CLUSTER = 'loom';

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env['LOOM_STATE_DIR'];
  return override !== undefined && override !== '' ? override : DEFAULT_STATE_DIR;
}

/** State of local cluster `name` (`loom dev up --name <name>`). */
export function localClusterDir(name: string = DEFAULT_LOCAL_CLUSTER, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'dev', name);
}

/** The CA directory store of local cluster `name`. */
export function localClusterCaDir(name: string = DEFAULT_LOCAL_CLUSTER, env: NodeJS.ProcessEnv = process.env): string {
  return join(localClusterDir(name, env), 'ca');
}
