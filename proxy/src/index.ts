/** @loom/proxy: the sidecar proxy; see README.md. */
export * from './identity/index.js';
export { PROXY_NODE_FLAGS } from './node-flags.js';
export { PROXY_VERSION } from './version.js';
