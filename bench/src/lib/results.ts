/**
 * Results files (DESIGN §8): `bench/results/<name>.json`, one object with `machine`, `versions`, `date` and
 * `scenarios: { <scenario>: { <metric with unit in its name>: number } }`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Machine } from './machine.js';

export type Metrics = Record<string, number>;
export type Scenarios = Record<string, Metrics>;

export interface BenchResults {
  readonly machine: Machine;
  readonly versions: Readonly<Record<string, string>>;
  /** ISO 8601, when the run finished. */
  readonly date: string;
  /** Whether `BENCH_QUICK` bounded the run (quick figures are not comparable to full runs). */
  readonly quick: boolean;
  readonly scenarios: Scenarios;
}

/** `bench/results/`, found from this file's place in `bench/dist/src/lib/`. */
export function resultsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'results');
}

/** Writes `bench/results/<name>.json` (creating the folder) and returns its path. */
export async function writeResults(name: string, results: BenchResults, dir: string = resultsDir()): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}
