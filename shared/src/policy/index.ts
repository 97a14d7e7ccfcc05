/** The compiled per-proxy policy: model, wire codec and content hash. One line per module. */
export type * from './model.js';
export * from './codec.js';
export * from './hash.js';
export * from './authorize.js';
export * from './split.js';
export * from './route-match.js';
