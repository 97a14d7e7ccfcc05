/** How long and how much each scenario runs: the full run (~7 min) and `BENCH_QUICK=1` (~1 min). Pure. */

export interface Plan {
  readonly quick: boolean;
  /** Rounds; in each, every pair runs every scenario once (pairs in rotating order). Figures are medians over rounds. */
  readonly rounds: number;
  /** wrk before the first scenario of a pair in a round (untimed: JIT, pools, caches). */
  readonly warmupSeconds: number;
  /** wrk connections for the saturation scenario. */
  readonly saturationConnections: number;
  readonly saturationSeconds: number;
  /** The fixed-rate scenario: requests per second over connections. */
  readonly fixedRate: number;
  readonly fixedRateConnections: number;
  readonly fixedRateSeconds: number;
  readonly rttSeconds: number;
  readonly grpcConcurrency: number;
  readonly grpcSeconds: number;
  readonly grpcWarmupSeconds: number;
  readonly bulkBytes: number;
  readonly handshakeSeconds: number;
  readonly handshakeConcurrency: number;
  /** Overload: this multiple of the pair's saturation rate (measured earlier in the same round). */
  readonly overloadFactor: number;
  readonly overloadConnections: number;
  readonly overloadSeconds: number;
  readonly drainSeconds: number;
  /** Quiet time after a pair starts, before its idle memory is read. */
  readonly settleSeconds: number;
}

const GIB = 1024 * 1024 * 1024;

export function plan(quick: boolean): Plan {
  const common = {
    quick,
    saturationConnections: 32,
    fixedRate: 1000,
    fixedRateConnections: 10,
    grpcConcurrency: 16,
    handshakeConcurrency: 8,
    overloadFactor: 2,
    overloadConnections: 32,
  };
  return quick
    ? {
        ...common,
        rounds: 1,
        warmupSeconds: 1,
        saturationSeconds: 2,
        fixedRateSeconds: 2,
        rttSeconds: 1,
        grpcSeconds: 1,
        grpcWarmupSeconds: 0.3,
        bulkBytes: GIB / 4,
        handshakeSeconds: 1,
        overloadSeconds: 2,
        drainSeconds: 2,
        settleSeconds: 0.5,
      }
    : {
        ...common,
        rounds: 3,
        warmupSeconds: 2,
        saturationSeconds: 6,
        fixedRateSeconds: 6,
        rttSeconds: 3,
        grpcSeconds: 3,
        grpcWarmupSeconds: 0.5,
        bulkBytes: GIB,
        handshakeSeconds: 3,
        overloadSeconds: 4,
        drainSeconds: 3,
        settleSeconds: 1,
      };
}
