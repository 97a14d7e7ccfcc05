/**
 * The constant-rate generator's clock, in a worker thread: sleeps (`Atomics.wait`, sub-millisecond) until the
 * next request is due and posts how many requests are due so far. The main thread stays free to read responses
 * the moment they arrive, and needs no busy loop (which would steal the load core from the upstream). Ticks are
 * at least `minGapNs` apart: at high rates one tick releases several requests.
 *
 * Protocol: the worker posts `'ready'` once running; the main thread then writes the start time into
 * `start[0]` and sets `flag[1]`, so the schedule does not begin while the thread is still booting. Setting
 * `flag[0]` stops it.
 */
import { parentPort, workerData } from 'node:worker_threads';

export interface TickerData {
  /** `process.hrtime.bigint()` origin shared with the main thread. */
  readonly baseNs: bigint;
  readonly intervalNs: number;
  readonly count: number;
  readonly minGapNs: number;
  /** [0]: stop (set by the main thread); [1]: started. */
  readonly flag: Int32Array;
  /** [0]: when request 0 is due, ns after `baseNs` (written by the main thread before it sets `flag[1]`). */
  readonly start: Float64Array;
}

function run(data: TickerData, post: (due: number | 'ready') => void): void {
  const { baseNs, intervalNs, count, minGapNs, flag, start } = data;
  post('ready');
  while (Atomics.load(flag, 1) === 0 && Atomics.load(flag, 0) === 0) Atomics.wait(flag, 1, 0, 1000);
  const startNs = start[0] ?? 0;
  const now = (): number => Number(process.hrtime.bigint() - baseNs);
  let due = 0;
  let lastTick = -Infinity;
  while (due < count && Atomics.load(flag, 0) === 0) {
    const wake = Math.max(startNs + due * intervalNs, lastTick + minGapNs);
    const t = now();
    if (wake > t) {
      Atomics.wait(flag, 0, 0, (wake - t) / 1e6);
      continue;
    }
    const upto = Math.min(count, Math.floor((t - startNs) / intervalNs) + 1);
    if (upto > due) {
      due = upto;
      lastTick = t;
      post(due);
    }
  }
  // Stay until told to stop, so the main thread never sees this thread exit before its last tick arrived.
  while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0, 1000);
}

if (parentPort !== null) {
  const port = parentPort;
  run(workerData as TickerData, (due) => port.postMessage(due));
}
