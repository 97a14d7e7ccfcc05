/**
 * The Loom pair: a `loom-proxy` in each namespace, the traffic redirected to them by `proxy-init`'s iptables
 * rules, so the load generator dials the upstreams' own addresses (`entries: 'transparent'`).
 *
 * Not wired yet: the proxy's main process is being written. `unavailable()` says so and the benchmark skips
 * the pair (it never reports figures for it). To wire it, `start(topology)` will:
 *  1. start a control-plane stand-in (the controller's identity service with the run's CA, `topology.ca`, and
 *     the policy server of `@loom/proxy/testing`, serving each pod a policy that declares port 8080 as HTTP,
 *     50051 as gRPC and 9000 as opaque TCP, and authorizes `bench/client` to reach `bench/server`), reachable
 *     from both namespaces: in the server namespace on the link address, with its port excluded from inbound
 *     redirection;
 *  2. run `proxy-init` in both namespaces (`topology.run`), and record how to undo it in `stop()` (flush the
 *     chains it added) so the next pair in the round sees clean namespaces;
 *  3. start `node proxy/dist/src/main.js` in each namespace (`topology.start(side, argv, { cpu: 'sut' })`, as
 *     the proxy's UID via `setpriv`), with POD_NAME, POD_NAMESPACE, POD_SERVICE_ACCOUNT,
 *     LOOM_CONTROLLER_ADDRESS, LOOM_CONTROLLER_SERVER_NAME, LOOM_TRUST_DOMAIN, LOOM_TOKEN_PATH and
 *     LOOM_TRUST_ANCHORS_PATH (see e2e/src/mesh/harness.ts), then wait for both admin `/ready`;
 *  4. return `serverTls: { host: server.address, port: 8080, alpn: ['loom.http1'], serverId }` (the inbound
 *     port through the redirect) and both proxies as `processes`.
 */
import type { PairUnderTest, ScenarioName } from './pair.js';

export const LOOM_NOT_WIRED = 'Loom pair: not wired yet';

export const loomPair: PairUnderTest = {
  name: 'loom',
  skips: new Map<ScenarioName, string>(),
  unavailable: () => Promise.resolve(LOOM_NOT_WIRED),
  start: () => Promise.reject(new Error(LOOM_NOT_WIRED)),
};
