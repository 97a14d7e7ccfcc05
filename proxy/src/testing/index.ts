/** @loom/proxy/testing: real servers that stand in for the controller's policy distribution in tests and benchmarks. */
export { PolicyDistributor, startPolicyServer, type PolicyEvents, type PolicyServer, type PolicyServerOptions, type ProxySession } from './policy-server.js';
export { checkoutUnreadableBy, proxyUserArgs, PROXY_MAIN } from './access.js';
