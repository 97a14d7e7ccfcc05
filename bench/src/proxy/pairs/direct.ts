/** Baseline (a): the load generator talks to the upstreams directly, over the same link, with no proxy at all. */
import type { PairUnderTest, ScenarioName } from './pair.js';

const NO_PROXY = 'no proxy: nothing to measure';

export const directPair: PairUnderTest = {
  name: 'direct',
  skips: new Map<ScenarioName, string>([
    ['mtls-handshakes', 'no mTLS port without a proxy'],
    ['overload-2x', 'no proxy to shed load; the generator could not offer twice what nginx serves'],
    ['memory', NO_PROXY],
  ]),
  unavailable: () => Promise.resolve(null),
  start: () => Promise.resolve({ entries: 'transparent', serverTls: null, processes: null, stop: () => Promise.resolve() }),
};
