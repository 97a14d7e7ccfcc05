/** @loom/proxy: the sidecar proxy; see README.md. */
export * from './identity/index.js';
