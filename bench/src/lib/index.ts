/** Helpers shared by every benchmark: machine info, results files, tables, statistics, timing, PRNG. */
export * from './machine.js';
export * from './results.js';
export * from './rng.js';
export * from './stats.js';
export * from './table.js';
export * from './time.js';
