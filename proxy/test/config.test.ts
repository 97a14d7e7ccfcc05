/**
 * The proxy's environment loader: defaults, every override, and every problem reported at once naming the
 * variable, its value and what was expected. Plus reading the trust anchors.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintCa } from '@loom/ca/testing';
import t from 'tap';
import {
  DATA_PATH_ENV,
  DEFAULT_CONTROLLER_ADDRESS,
  DEFAULT_DATA_PATH,
  DEFAULT_LOG_LEVEL,
  DEFAULT_PROXY_UID,
  DEFAULT_TOKEN_PATH,
  DEFAULT_TRUST_DOMAIN,
  loadConfig,
  PROXY_ENV,
  readTrustAnchors,
  type DataPathConfig,
  type ProxyConfig,
} from '../src/config.js';

const ca = mintCa();
const other = mintCa();
const MINIMAL: Readonly<Record<string, string>> = {
  POD_NAME: 'web-5d8f7c-abcde',
  POD_NAMESPACE: 'shop',
  POD_SERVICE_ACCOUNT: 'web',
  LOOM_TRUST_ANCHORS_PEM: ca.rootPem,
};

function ok(env: Readonly<Record<string, string | undefined>>): ProxyConfig {
  const result = loadConfig(env);
  if (!result.ok) throw new Error(`unexpected errors: ${result.errors.join(' | ')}`);
  return result.config;
}

function errors(env: Readonly<Record<string, string | undefined>>): readonly string[] {
  const result = loadConfig(env);
  return result.ok ? [] : result.errors;
}

t.test('defaults: only the pod and the trust anchors are required', (t) => {
  const config = ok(MINIMAL);
  t.strictSame(config, {
    dataPath: DEFAULT_DATA_PATH,
    controllerAddress: DEFAULT_CONTROLLER_ADDRESS,
    trustDomain: DEFAULT_TRUST_DOMAIN,
    pod: { name: 'web-5d8f7c-abcde', namespace: 'shop', serviceAccount: 'web' },
    tokenPath: DEFAULT_TOKEN_PATH,
    trustAnchors: { kind: 'pem', pem: ca.rootPem },
    logLevel: DEFAULT_LOG_LEVEL,
    proxyUid: DEFAULT_PROXY_UID,
  });
  t.equal(config.dataPath.bindAddress, '::', 'listeners bind every address, IPv6 and (dual-stack) IPv4');
  t.equal(DEFAULT_PROXY_UID, 2502, 'the UID proxy-init exempts by default');
  t.notOk('controllerServerName' in config, 'no server name unless set');
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.dataPath) && Object.isFrozen(config.pod) && Object.isFrozen(config.trustAnchors), 'frozen');
  t.throws(() => {
    (config as { logLevel: string }).logLevel = 'debug';
  }, TypeError);
  t.strictSame(ok({ ...MINIMAL, LOOM_LOG_LEVEL: '', LOOM_TRUST_DOMAIN: '' }).logLevel, DEFAULT_LOG_LEVEL, 'empty means unset');
  t.end();
});

t.test('every variable overrides its setting', (t) => {
  const config = ok({
    ...MINIMAL,
    LOOM_TRUST_ANCHORS_PEM: undefined,
    LOOM_TRUST_ANCHORS_PATH: '/etc/loom/anchors.pem',
    LOOM_CONTROLLER_ADDRESS: '10.96.0.5:15010',
    LOOM_CONTROLLER_SERVER_NAME: 'loom-controller.loom-system.svc',
    LOOM_TRUST_DOMAIN: 'example.org',
    LOOM_TOKEN_PATH: '/var/run/secrets/tokens/loom',
    LOOM_LOG_LEVEL: 'debug',
    LOOM_BIND_ADDRESS: '127.0.0.1',
    LOOM_OUTBOUND_PORT: '16001',
    LOOM_INBOUND_PORT: '16006',
    LOOM_ADMIN_PORT: '16020',
    LOOM_DETECT_TIMEOUT_MS: '250',
    LOOM_CONNECT_TIMEOUT_MS: '1500',
    LOOM_MAX_HEADER_BYTES: '8192',
    LOOM_HEADERS_TIMEOUT_MS: '5000',
    LOOM_IDLE_TIMEOUT_MS: '60000',
    LOOM_MAX_CONCURRENT_REQUESTS: '500',
    LOOM_OVERLOAD_LAG_MS: '0',
    LOOM_MESH_HTTP1_CARRIER: 'http1',
    LOOM_DRAIN_GRACE_MS: '0',
    LOOM_DRAIN_TIMEOUT_MS: '0',
    LOOM_APP_ADDRESS: '::1',
    LOOM_PROXY_UID: '1337',
  });
  const dataPath: DataPathConfig = {
    bindAddress: '127.0.0.1',
    outboundPort: 16001,
    inboundPort: 16006,
    adminPort: 16020,
    detectTimeoutMs: 250,
    connectTimeoutMs: 1500,
    maxHeaderBytes: 8192,
    headersTimeoutMs: 5000,
    idleTimeoutMs: 60000,
    maxConcurrentRequests: 500,
    overloadLagMs: 0,
    meshHttp1Carrier: 'http1',
    drainGraceMs: 0,
    drainTimeoutMs: 0,
    appAddress: '::1',
  };
  t.strictSame(config, {
    dataPath,
    controllerAddress: '10.96.0.5:15010',
    controllerServerName: 'loom-controller.loom-system.svc',
    trustDomain: 'example.org',
    pod: { name: 'web-5d8f7c-abcde', namespace: 'shop', serviceAccount: 'web' },
    tokenPath: '/var/run/secrets/tokens/loom',
    trustAnchors: { kind: 'path', path: '/etc/loom/anchors.pem' },
    logLevel: 'debug',
    proxyUid: 1337,
  });
  t.strictSame(Object.keys(DATA_PATH_ENV).sort(), Object.keys(DEFAULT_DATA_PATH).sort(), 'one variable per data path setting');
  t.ok(Object.values(DATA_PATH_ENV).every((name) => /^LOOM_[A-Z][A-Z0-9_]*$/.test(name)), 'named LOOM_*');
  t.end();
});

t.test('each bad value is reported with the variable, the value and what was expected', (t) => {
  const cases: [string, Record<string, string | undefined>, string][] = [
    ['missing pod name', { POD_NAME: undefined }, 'POD_NAME is not set: expected the pod name (a DNS subdomain; Downward API metadata.name)'],
    ['missing namespace', { POD_NAMESPACE: '' }, 'POD_NAMESPACE is not set: expected the pod namespace (a DNS label; Downward API metadata.namespace)'],
    ['missing service account', { POD_SERVICE_ACCOUNT: undefined }, 'POD_SERVICE_ACCOUNT is not set: expected the pod ServiceAccount name (a DNS subdomain; Downward API spec.serviceAccountName)'],
    ['pod name with a slash', { POD_NAME: 'web/0' }, 'POD_NAME="web/0": expected the pod name (a DNS subdomain; Downward API metadata.name)'],
    ['namespace with a dot', { POD_NAMESPACE: 'shop.prod' }, 'POD_NAMESPACE="shop.prod": expected the pod namespace (a DNS label; Downward API metadata.namespace)'],
    ['upper-case service account', { POD_SERVICE_ACCOUNT: 'Web' }, 'POD_SERVICE_ACCOUNT="Web": expected the pod ServiceAccount name (a DNS subdomain; Downward API spec.serviceAccountName)'],
    ['address without port', { LOOM_CONTROLLER_ADDRESS: 'loom-controller' }, 'LOOM_CONTROLLER_ADDRESS="loom-controller": expected host:port with a port from 1 to 65535'],
    ['address port 0', { LOOM_CONTROLLER_ADDRESS: 'loom:0' }, 'LOOM_CONTROLLER_ADDRESS="loom:0": expected host:port with a port from 1 to 65535'],
    ['address port too large', { LOOM_CONTROLLER_ADDRESS: 'loom:70000' }, 'LOOM_CONTROLLER_ADDRESS="loom:70000": expected host:port with a port from 1 to 65535'],
    ['bad server name', { LOOM_CONTROLLER_SERVER_NAME: 'not a name' }, 'LOOM_CONTROLLER_SERVER_NAME="not a name": expected a DNS name'],
    ['bad trust domain', { LOOM_TRUST_DOMAIN: 'Cluster/Local' }, 'LOOM_TRUST_DOMAIN="Cluster/Local": expected a trust domain (lower-case letters, digits, ".", "-", "_")'],
    ['relative token path', { LOOM_TOKEN_PATH: 'token' }, 'LOOM_TOKEN_PATH="token": expected an absolute file path'],
    ['unknown log level', { LOOM_LOG_LEVEL: 'verbose' }, 'LOOM_LOG_LEVEL="verbose": expected a log level (fatal, error, warn, info, debug, trace, silent)'],
    ['bad bind address', { LOOM_BIND_ADDRESS: 'localhost' }, 'LOOM_BIND_ADDRESS="localhost": expected an IP address'],
    ['bad app address', { LOOM_APP_ADDRESS: '127.0.0.256' }, 'LOOM_APP_ADDRESS="127.0.0.256": expected an IP address'],
    ['bad mesh carrier', { LOOM_MESH_HTTP1_CARRIER: 'h3' }, 'LOOM_MESH_HTTP1_CARRIER="h3": expected `h2` or `http1`'],
    ['proxy UID not a number', { LOOM_PROXY_UID: 'loom' }, 'LOOM_PROXY_UID="loom": expected a UID, a whole number from 0 to 4294967294'],
    ['negative proxy UID', { LOOM_PROXY_UID: '-1' }, 'LOOM_PROXY_UID="-1": expected a UID, a whole number from 0 to 4294967294'],
    ['port not a number', { LOOM_OUTBOUND_PORT: 'abc' }, 'LOOM_OUTBOUND_PORT="abc": expected a port number (1-65535)'],
    ['port 0', { LOOM_INBOUND_PORT: '0' }, 'LOOM_INBOUND_PORT="0": expected a port number (1-65535)'],
    ['port too large', { LOOM_ADMIN_PORT: '65536' }, 'LOOM_ADMIN_PORT="65536": expected a port number (1-65535)'],
    ['port with spaces', { LOOM_ADMIN_PORT: ' 15020' }, 'LOOM_ADMIN_PORT=" 15020": expected a port number (1-65535)'],
    ['negative timeout', { LOOM_CONNECT_TIMEOUT_MS: '-1' }, 'LOOM_CONNECT_TIMEOUT_MS="-1": expected a duration in milliseconds, a whole number from 1 to 2147483647'],
    ['zero timeout', { LOOM_DETECT_TIMEOUT_MS: '0' }, 'LOOM_DETECT_TIMEOUT_MS="0": expected a duration in milliseconds, a whole number from 1 to 2147483647'],
    ['fractional timeout', { LOOM_IDLE_TIMEOUT_MS: '1.5' }, 'LOOM_IDLE_TIMEOUT_MS="1.5": expected a duration in milliseconds, a whole number from 1 to 2147483647'],
    ['timeout with a unit', { LOOM_HEADERS_TIMEOUT_MS: '10s' }, 'LOOM_HEADERS_TIMEOUT_MS="10s": expected a duration in milliseconds, a whole number from 1 to 2147483647'],
    ['timeout beyond a timer', { LOOM_DRAIN_TIMEOUT_MS: '2147483648' }, 'LOOM_DRAIN_TIMEOUT_MS="2147483648": expected a duration in milliseconds, a whole number from 0 to 2147483647'],
    ['negative grace', { LOOM_DRAIN_GRACE_MS: '-5' }, 'LOOM_DRAIN_GRACE_MS="-5": expected a duration in milliseconds, a whole number from 0 to 2147483647'],
    ['tiny header limit', { LOOM_MAX_HEADER_BYTES: '100' }, 'LOOM_MAX_HEADER_BYTES="100": expected a size in bytes, a whole number from 1024 to 1048576'],
    ['zero concurrency', { LOOM_MAX_CONCURRENT_REQUESTS: '0' }, 'LOOM_MAX_CONCURRENT_REQUESTS="0": expected a whole number from 1 to 1000000'],
    ['two listeners on one port', { LOOM_INBOUND_PORT: '15001' }, 'LOOM_OUTBOUND_PORT and LOOM_INBOUND_PORT are both 15001: expected distinct ports, one per listener'],
    ['no trust anchors', { LOOM_TRUST_ANCHORS_PEM: undefined }, "LOOM_TRUST_ANCHORS_PATH and LOOM_TRUST_ANCHORS_PEM are not set: expected one of them (the roots of the controller's serving certificate)"],
    ['both trust anchors', { LOOM_TRUST_ANCHORS_PATH: '/etc/loom/anchors.pem' }, "LOOM_TRUST_ANCHORS_PATH and LOOM_TRUST_ANCHORS_PEM are both set: expected exactly one source for the controller's trust anchors"],
    ['relative anchors path', { LOOM_TRUST_ANCHORS_PEM: undefined, LOOM_TRUST_ANCHORS_PATH: 'anchors.pem' }, 'LOOM_TRUST_ANCHORS_PATH="anchors.pem": expected an absolute file path'],
  ];
  for (const [name, overrides, expected] of cases) {
    t.strictSame(errors({ ...MINIMAL, ...overrides }), [expected], name);
  }
  t.match(errors({ ...MINIMAL, LOOM_TRUST_ANCHORS_PEM: 'not pem' }), [/^LOOM_TRUST_ANCHORS_PEM: expected PEM CA certificates \(/], 'inline anchors are checked');
  t.match(errors({ ...MINIMAL, LOOM_TRUST_ANCHORS_PEM: ca.leaf('shop', 'web').certPem }), [/^LOOM_TRUST_ANCHORS_PEM: expected PEM CA certificates \(.*not a CA certificate/], 'a leaf is not an anchor');
  t.match(errors({ ...MINIMAL, LOOM_CONTROLLER_SERVER_NAME: 'x'.repeat(300) }), [/^LOOM_CONTROLLER_SERVER_NAME="x{77}"\.\.\.: expected a DNS name$/], 'long values are shortened');
  t.end();
});

t.test('every problem at once', (t) => {
  const all = errors({ LOOM_OUTBOUND_PORT: 'x', LOOM_LOG_LEVEL: 'loud', LOOM_TRUST_DOMAIN: 'A B' });
  t.equal(all.length, 7, all.join('\n'));
  for (const name of ['LOOM_OUTBOUND_PORT', 'LOOM_LOG_LEVEL', 'LOOM_TRUST_DOMAIN', PROXY_ENV.podName, PROXY_ENV.podNamespace, PROXY_ENV.podServiceAccount, PROXY_ENV.trustAnchorsPath]) {
    t.ok(
      all.some((e) => e.startsWith(name)),
      `names ${name}`,
    );
  }
  t.ok(Object.isFrozen(all), 'frozen');
  t.end();
});

t.test('readTrustAnchors: inline or from the file, checked', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'loom-proxy-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'anchors.pem');
  await writeFile(path, ca.rootPem + other.rootPem);
  const fromFile = await readTrustAnchors({ kind: 'path', path });
  t.equal((fromFile.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, 'both roots from the file');
  t.equal(await readTrustAnchors({ kind: 'pem', pem: ca.rootPem }), ca.rootPem);

  await t.rejects(readTrustAnchors({ kind: 'path', path: join(dir, 'missing.pem') }), { message: `LOOM_TRUST_ANCHORS_PATH=${join(dir, 'missing.pem')}: cannot read the file: ENOENT` });
  const bad = join(dir, 'bad.pem');
  await writeFile(bad, 'garbage');
  await t.rejects(readTrustAnchors({ kind: 'path', path: bad }), { message: new RegExp(`^LOOM_TRUST_ANCHORS_PATH=${bad}: expected PEM CA certificates \\(`) });
  await t.rejects(readTrustAnchors({ kind: 'pem', pem: 'garbage' }), { message: /^LOOM_TRUST_ANCHORS_PEM: expected PEM CA certificates/ });
});
