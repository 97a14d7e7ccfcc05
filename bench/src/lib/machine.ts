/** What a result was measured on (DESIGN §8: `machine` and `versions` of every results file). */
import { cpus, release } from 'node:os';

export interface Machine {
  /** Logical CPUs of the machine (a benchmark may still pin itself to fewer; its README says so). */
  readonly cores: number;
  readonly model: string;
  /** Kernel release (`uname -r`). */
  readonly kernel: string;
}

export function machineInfo(): Machine {
  const list = cpus();
  return { cores: list.length, model: list[0]?.model.trim() ?? 'unknown', kernel: release() };
}

/** Versions of what ran; benchmarks add their own (haproxy, ...). */
export function baseVersions(): Record<string, string> {
  return { node: process.versions.node, v8: process.versions.v8 };
}

/** `BENCH_QUICK=1` (any value but empty or `0`): bound a benchmark to about a minute, same scenarios. */
export function isQuick(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env['BENCH_QUICK'];
  return v !== undefined && v !== '' && v !== '0';
}
