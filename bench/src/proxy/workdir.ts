/**
 * The run's private directory (0700, from mkdtemp): generated configs, the wrk script, and the proxies' keys
 * and certificates (0600). Removed at the end of the run; a later run removes the directory of a run that was
 * killed before it could (named with the pid, like the namespaces).
 */
import { readdirSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive, staleNames } from '@loom/shared/netns';

const PREFIX = 'loom-bench-proxy-';

export function createWorkDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), `${PREFIX}${process.pid}-`));
}

/** Removes the directories of earlier runs whose process no longer exists; returns their paths. */
export function removeStaleWorkDirs(): string[] {
  const removed: string[] = [];
  for (const name of staleNames(readdirSync(tmpdir()), PREFIX, processAlive, process.pid)) {
    const path = join(tmpdir(), name);
    rmSync(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}
