/**
 * CPU and memory of the proxies from /proc, and how busy each core was. The parsers are pure; the readers are
 * synchronous (small files, read between or beside measurements, never on a generator's hot path).
 *
 * - CPU of a process: the run time of its threads from the scheduler (schedstat, ns), or `utime + stime` of
 *   /proc/<pid>/stat (fields 14 and 15, clock ticks); the CPU per request of a proxy is its delta over the
 *   measured window over the requests.
 * - Memory: `VmRSS` (now) and `VmHWM` (peak since the process started) of /proc/<pid>/status, KiB.
 * - Core load: the per-CPU lines of /proc/stat (busy = everything but idle and iowait).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** `utime + stime` in clock ticks from the text of /proc/<pid>/stat (the command name may hold spaces and parentheses). */
export function parseStatTicks(stat: string): number {
  const end = stat.lastIndexOf(')');
  if (end < 0) throw new Error('not a /proc/<pid>/stat line');
  // After ")": field 3 (state) is the first; utime and stime are fields 14 and 15.
  const fields = stat.slice(end + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('no utime/stime in /proc/<pid>/stat');
  return utime + stime;
}

/** `VmRSS` and `VmHWM`, KiB, from the text of /proc/<pid>/status. */
export function parseStatusMemory(status: string): { rssKib: number; hwmKib: number } {
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return match === null ? NaN : Number(match[1]);
  };
  return { rssKib: field('VmRSS'), hwmKib: field('VmHWM') };
}

export interface CoreTimes {
  /** Idle + iowait, clock ticks. */
  readonly idle: number;
}

/** Idle jiffies per CPU (`cpu0`, `cpu1`, ...) from the text of /proc/stat. */
export function parseCoreTimes(stat: string): Map<string, CoreTimes> {
  const cores = new Map<string, CoreTimes>();
  for (const line of stat.split('\n')) {
    const match = /^(cpu\d+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    // user nice system idle iowait irq softirq steal guest guest_nice
    const values = (match[2] ?? '').trim().split(/\s+/).map(Number);
    cores.set(match[1] ?? '', { idle: (values[3] ?? 0) + (values[4] ?? 0) });
  }
  return cores;
}

/**
 * Percentage of `cpu` busy over `wallSeconds` between two readings of {@link parseCoreTimes}; NaN when unknown.
 * Busy is wall time minus idle time: with a tickless kernel the idle time is exact, while the busy fields of
 * /proc/stat are sampled at ticks and miss short bursts (a proxy at 1,000 req/s is mostly short bursts).
 */
export function busyPercent(before: ReadonlyMap<string, CoreTimes>, after: ReadonlyMap<string, CoreTimes>, cpu: string, wallSeconds: number, ticks: number): number {
  const a = before.get(cpu);
  const b = after.get(cpu);
  if (a === undefined || b === undefined || wallSeconds <= 0) return NaN;
  const busy = 1 - (b.idle - a.idle) / (wallSeconds * ticks);
  return Math.min(100, Math.max(0, busy * 100));
}

let ticksPerSecond = 0;

/** `getconf CLK_TCK` (100 on Linux almost everywhere). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === 0) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * CPU seconds of process `pid` so far: the scheduler's exact run time of each of its threads
 * (/proc/<pid>/task/<tid>/schedstat, ns), else `utime + stime` (clock ticks, 10 ms resolution).
 */
export function cpuSeconds(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) ns += parseSchedstatNs(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8'));
    return ns / 1e9;
  } catch {
    return parseStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / clockTicksPerSecond();
  }
}

/** Time on CPU, ns, from the text of /proc/<pid>/task/<tid>/schedstat (its first field). Pure. */
export function parseSchedstatNs(schedstat: string): number {
  const ns = Number(schedstat.trim().split(' ')[0]);
  if (!Number.isFinite(ns)) throw new Error('not a schedstat line');
  return ns;
}

export function memoryKib(pid: number): { rssKib: number; hwmKib: number } {
  return parseStatusMemory(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

export function coreTimes(): Map<string, CoreTimes> {
  return parseCoreTimes(readFileSync('/proc/stat', 'utf8'));
}

/** Samples the RSS of `pids` every `intervalMs` and keeps each one's maximum, KiB. */
export class RssSampler {
  readonly #pids: readonly number[];
  readonly #max: number[];
  readonly #timer: NodeJS.Timeout;

  constructor(pids: readonly number[], intervalMs = 100) {
    this.#pids = pids;
    this.#max = pids.map(() => 0);
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    this.#pids.forEach((pid, i) => {
      try {
        this.#max[i] = Math.max(this.#max[i] ?? 0, memoryKib(pid).rssKib);
      } catch {
        // the process exited; the scenario notices
      }
    });
  }

  /** Stops sampling; the maximum per pid, KiB, in the order given. */
  stop(): number[] {
    clearInterval(this.#timer);
    this.sample();
    return [...this.#max];
  }
}
