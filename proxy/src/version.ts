/** The proxy's version, reported in Hello (`loom status`) and the startup banner. */
export const PROXY_VERSION = '0.1.0';
