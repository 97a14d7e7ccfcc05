/**
 * What this machine allows, for `{ skip }` and for choosing features: synchronous and cached where they run
 * programs, so a test file can decide at load time.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { runSync, CommandError } from './exec.js';
import { ownedName, staleNames } from './names.js';

let unavailable: string | null | undefined;

/**
 * Why network namespaces cannot be used here, in one sentence (not Linux, not root, no `ip`, not allowed to create
 * one), or null when they can. Creates and deletes a namespace once per process to be sure. Cached.
 */
export function netnsUnavailable(): string | null {
  unavailable ??= probeNetns();
  return unavailable;
}

const PROBE_PREFIX = 'loom-probe-';

function probeNetns(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root; run as root to include this';
  if (!hasProgram('ip')) return 'network namespaces need `ip` (iproute2), which is not on PATH';
  let listing: string;
  try {
    listing = runSync(['ip', 'netns', 'list']).stdout;
  } catch (err) {
    return `\`ip netns\` is unavailable: ${(err as Error).message}`;
  }
  // A probe namespace of a process killed between the two commands below.
  const names = listing.split('\n').map((line) => line.trim().split(' ')[0] ?? '');
  for (const name of staleNames(names, PROBE_PREFIX, processAlive, process.pid)) quietly(['ip', 'netns', 'delete', name]);
  const name = ownedName(PROBE_PREFIX, process.pid);
  try {
    runSync(['ip', 'netns', 'add', name]);
  } catch (err) {
    return `cannot create a network namespace: ${(err as Error).message}`;
  }
  quietly(['ip', 'netns', 'delete', name]);
  return null;
}

function quietly(argv: readonly string[]): void {
  try {
    runSync(argv);
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
  }
}

/** Whether the kernel has IPv6 (then addresses of both families can be used). */
export function ipv6Available(): boolean {
  return existsSync('/proc/net/if_inet6');
}

/** Whether an executable named `name` is in one of the directories of `path` (default: PATH). */
export function hasProgram(name: string, path: string = process.env.PATH ?? ''): boolean {
  if (name.includes('/')) return false;
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this one
    }
  }
  return false;
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function processAlive(pid: number): boolean {
  // 0 and negative numbers address process groups.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
