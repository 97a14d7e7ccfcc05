/** Timing and memory probes. */

/** Monotonic nanoseconds. */
export const nowNs = (): bigint => process.hrtime.bigint();

/** Seconds elapsed since `start` (from `nowNs`). */
export const secondsSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

/** Milliseconds elapsed since `start` (from `nowNs`). */
export const msSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

/** CPU seconds (user + system, every thread of this process) since `start` (from `process.cpuUsage()`). */
export function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

/** Runs `fn` and returns its result and the seconds it took. */
export function timed<T>(fn: () => T): { value: T; seconds: number } {
  const start = nowNs();
  const value = fn();
  return { value, seconds: secondsSince(start) };
}

const MIB = 1024 * 1024;

/** Peak resident set size of this process so far, MiB (`maxRSS` is in KiB). */
export const rssPeakMib = (): number => process.resourceUsage().maxRSS / 1024;

/**
 * V8 heap in use, MiB, after a full collection when the process runs with `--expose-gc`
 * (otherwise it includes garbage not yet collected).
 */
export function heapUsedMib(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed / MIB;
}

/** A full GC when `--expose-gc` is on; a no-op otherwise. Call before timed sections so earlier garbage is not billed to them. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) gc();
}
