/**
 * Proxy configuration from the environment (the injector sets these on the sidecar container). `loadConfig`
 * returns the frozen config or the complete list of problems, each naming the variable, its value and what was
 * expected. Defaults are the named constants below.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { isLogLevel, LOG_LEVELS, type LogLevel } from '@loom/shared/runtime';
import { parseTrustBundle } from './identity/credentials.js';

export const DEFAULT_OUTBOUND_PORT = 15001;
export const DEFAULT_INBOUND_PORT = 15006;
export const DEFAULT_ADMIN_PORT = 15020;
export const DEFAULT_PROXY_UID = 2502;

/** Settings the data path reads; everything has a default so tests can pass `{}` plus what they vary. */
export interface DataPathConfig {
  /**
   * Address the listeners (outbound, inbound, admin) bind. `::` by default: dual-stack, so both IPv4 and IPv6
   * connections are accepted (IPv4 ones arrive as IPv4-mapped addresses); on a host without IPv6 the listeners
   * fall back to `0.0.0.0` and log it. Tests use `127.0.0.1`.
   */
  readonly bindAddress: string;
  readonly outboundPort: number;
  readonly inboundPort: number;
  readonly adminPort: number;
  /** How long to wait for the first bytes when sniffing an undeclared port, before treating it as opaque. */
  readonly detectTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Largest request head (request line + headers) accepted, in bytes; larger gets 431. */
  readonly maxHeaderBytes: number;
  /** Time allowed for a client to send a complete request head (slowloris), then 408 and close. */
  readonly headersTimeoutMs: number;
  /** Idle keep-alive connections are closed after this long. */
  readonly idleTimeoutMs: number;
  /** Requests in flight per proxy direction before new ones get 503 with `retry-after`. */
  readonly maxConcurrentRequests: number;
  /**
   * Event loop lag (ms) above which a growing share of new requests gets 503 with `retry-after` (`overload.ts`);
   * 0 turns lag-based shedding off.
   */
  readonly overloadLagMs: number;
  /**
   * How HTTP/1 requests travel to meshed endpoints: multiplexed on the pooled HTTP/2 session (`h2`, ALPN
   * `loom.h2` with `loom-orig-proto`), or as HTTP/1.1 on pooled keep-alive mesh TLS connections (`http1`, ALPN
   * `loom.http1`, one request at a time per connection).
   */
  readonly meshHttp1Carrier: 'h2' | 'http1';
  /**
   * After SIGTERM: keep serving both directions this long, unready (endpoints stop sending new work meanwhile).
   * Shutdown as a whole never takes longer than `drainGraceMs + drainTimeoutMs` (see `app.ts`).
   */
  readonly drainGraceMs: number;
  /**
   * Then at most this long for the rest: the inbound side drains first, while the outbound side keeps accepting
   * and serving the application until its connections are closed or this budget is spent.
   */
  readonly drainTimeoutMs: number;
  /** Loopback address the inbound side forwards to (`127.0.0.1`). */
  readonly appAddress: string;
}

export const DEFAULT_DATA_PATH: DataPathConfig = Object.freeze({
  bindAddress: '::',
  outboundPort: DEFAULT_OUTBOUND_PORT,
  inboundPort: DEFAULT_INBOUND_PORT,
  adminPort: DEFAULT_ADMIN_PORT,
  detectTimeoutMs: 1_000,
  connectTimeoutMs: 3_000,
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 90_000,
  maxConcurrentRequests: 10_000,
  overloadLagMs: 200,
  meshHttp1Carrier: 'http1',
  drainGraceMs: 5_000,
  drainTimeoutMs: 20_000,
  appAddress: '127.0.0.1',
});

export function dataPathConfig(overrides: Partial<DataPathConfig> = {}): DataPathConfig {
  return Object.freeze({ ...DEFAULT_DATA_PATH, ...overrides });
}

// ---------------------------------------------------------------------------------------------------------
// The environment loader

/** `LOOM_CONTROLLER_ADDRESS`: the controller's gRPC port (identity and policy), `host:port`. */
export const DEFAULT_CONTROLLER_ADDRESS = 'loom-controller.loom-system.svc:15010';
/** `LOOM_TRUST_DOMAIN`: the SPIFFE trust domain of the mesh. */
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
/** `LOOM_TOKEN_PATH`: the projected ServiceAccount token (audience `loom`) the proxy proves its identity with. */
export const DEFAULT_TOKEN_PATH = '/var/run/secrets/loom/token';
/** `LOOM_LOG_LEVEL`: pino level at start (`/log-level` on the admin port changes it at run time). */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/**
 * Every variable `loadConfig` reads. Set by the injector on the sidecar container; the Downward API supplies
 * the `POD_*` ones. Unset and empty values are the same: the default applies, or the variable is reported
 * missing when it has none.
 */
export const PROXY_ENV = Object.freeze({
  /** `host:port` of the controller ({@link DEFAULT_CONTROLLER_ADDRESS}). */
  controllerAddress: 'LOOM_CONTROLLER_ADDRESS',
  /** DNS name in the controller's serving certificate when the address host is not it (optional). */
  controllerServerName: 'LOOM_CONTROLLER_SERVER_NAME',
  /** SPIFFE trust domain ({@link DEFAULT_TRUST_DOMAIN}). */
  trustDomain: 'LOOM_TRUST_DOMAIN',
  /** Pod name, Downward API `metadata.name` (required). */
  podName: 'POD_NAME',
  /** Pod namespace, Downward API `metadata.namespace` (required). */
  podNamespace: 'POD_NAMESPACE',
  /** The pod's ServiceAccount, Downward API `spec.serviceAccountName` (required). */
  podServiceAccount: 'POD_SERVICE_ACCOUNT',
  /** Absolute path of the projected token ({@link DEFAULT_TOKEN_PATH}). */
  tokenPath: 'LOOM_TOKEN_PATH',
  /** Absolute path of a PEM file with the roots that sign the controller's serving certificate (this or the next). */
  trustAnchorsPath: 'LOOM_TRUST_ANCHORS_PATH',
  /** The same roots inline, PEM (this or the previous; exactly one of the two). */
  trustAnchorsPem: 'LOOM_TRUST_ANCHORS_PEM',
  /** pino level ({@link DEFAULT_LOG_LEVEL}). */
  logLevel: 'LOOM_LOG_LEVEL',
  /**
   * The UID proxy-init exempts from redirection ({@link DEFAULT_PROXY_UID}, the same variable proxy-init reads).
   * The proxy warns at start when it runs as another UID: its own connections would loop back into it.
   */
  proxyUid: 'LOOM_PROXY_UID',
});

/** The variable overriding each data path setting (defaults: {@link DEFAULT_DATA_PATH}). */
export const DATA_PATH_ENV = Object.freeze({
  /** IP address the listeners bind (`::`: IPv6 and IPv4, falling back to IPv4 only without IPv6). */
  bindAddress: 'LOOM_BIND_ADDRESS',
  /** Port of the outbound listener (redirected application traffic). */
  outboundPort: 'LOOM_OUTBOUND_PORT',
  /** Port of the inbound listener (redirected traffic to the pod). */
  inboundPort: 'LOOM_INBOUND_PORT',
  /** Port of the admin server (`/live`, `/ready`, `/metrics`, probes). */
  adminPort: 'LOOM_ADMIN_PORT',
  /** Protocol detection deadline on undeclared ports, ms. */
  detectTimeoutMs: 'LOOM_DETECT_TIMEOUT_MS',
  /** Connect timeout to endpoints and the application, ms. */
  connectTimeoutMs: 'LOOM_CONNECT_TIMEOUT_MS',
  /** Largest request head accepted, bytes. */
  maxHeaderBytes: 'LOOM_MAX_HEADER_BYTES',
  /** Time allowed for a complete request head, ms. */
  headersTimeoutMs: 'LOOM_HEADERS_TIMEOUT_MS',
  /** Idle keep-alive connections are closed after this long, ms. */
  idleTimeoutMs: 'LOOM_IDLE_TIMEOUT_MS',
  /** Requests in flight per direction before load is shed. */
  maxConcurrentRequests: 'LOOM_MAX_CONCURRENT_REQUESTS',
  /** Event loop lag that starts load shedding, ms; 0 = off. */
  overloadLagMs: 'LOOM_OVERLOAD_LAG_MS',
  /** `h2` or `http1`: how the application's HTTP/1 requests travel to meshed endpoints. */
  meshHttp1Carrier: 'LOOM_MESH_HTTP1_CARRIER',
  /** After SIGTERM: keep serving (unready) this long, ms; 0 allowed. */
  drainGraceMs: 'LOOM_DRAIN_GRACE_MS',
  /** Then at most this long to drain inbound and close outbound, ms; 0 allowed (shutdown ≤ grace + this). */
  drainTimeoutMs: 'LOOM_DRAIN_TIMEOUT_MS',
  /** Loopback address the inbound side forwards to. */
  appAddress: 'LOOM_APP_ADDRESS',
} satisfies Record<keyof DataPathConfig, string>);

/** Where the roots for the controller's serving certificate come from. */
export type TrustAnchorsSource = { readonly kind: 'path'; readonly path: string } | { readonly kind: 'pem'; readonly pem: string };

export interface PodInfo {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** Everything the proxy process reads from its environment. */
export interface ProxyConfig {
  readonly dataPath: DataPathConfig;
  readonly controllerAddress: string;
  readonly controllerServerName?: string;
  readonly trustDomain: string;
  readonly pod: PodInfo;
  readonly tokenPath: string;
  /** Initial trust for the controller (the policy stream delivers the mesh bundle later); see {@link readTrustAnchors}. */
  readonly trustAnchors: TrustAnchorsSource;
  readonly logLevel: LogLevel;
  /** The UID the pod's redirection rules exempt; the proxy should run as it. */
  readonly proxyUid: number;
}

export type ConfigResult = { readonly ok: true; readonly config: ProxyConfig } | { readonly ok: false; readonly errors: readonly string[] };

/** Largest value a Node timer takes (2^31 - 1 ms); longer timeouts would fire at once. */
const MAX_MS = 2 ** 31 - 1;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d{1,5})$/;

/** Reads the variables, collecting every problem. */
class EnvReader {
  readonly errors: string[] = [];
  readonly #env: Readonly<Record<string, string | undefined>>;

  constructor(env: Readonly<Record<string, string | undefined>>) {
    this.#env = env;
  }

  /** The value, or undefined when unset or empty. */
  raw(name: string): string | undefined {
    const value = this.#env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  fail(name: string, value: string, expected: string): void {
    const shown = value.length > 80 ? `${JSON.stringify(value.slice(0, 77))}...` : JSON.stringify(value);
    this.errors.push(`${name}=${shown}: expected ${expected}`);
  }

  missing(name: string, expected: string): void {
    this.errors.push(`${name} is not set: expected ${expected}`);
  }

  /** A string matching `check`, the default when unset; `required` (no default) reports it missing. */
  string(name: string, expected: string, check: (value: string) => boolean, fallback: string | undefined): string {
    const value = this.raw(name);
    if (value === undefined) {
      if (fallback === undefined) this.missing(name, expected);
      return fallback ?? '';
    }
    if (!check(value)) this.fail(name, value, expected);
    return value;
  }

  /** A whole number in [min, max]. */
  integer(name: string, expected: string, min: number, max: number, fallback: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = /^\d{1,16}$/.test(value) ? Number(value) : NaN;
    if (!(n >= min && n <= max)) {
      this.fail(name, value, expected);
      return fallback;
    }
    return n;
  }

  port(name: string, fallback: number): number {
    return this.integer(name, 'a port number (1-65535)', 1, 65_535, fallback);
  }

  ms(name: string, fallback: number, min: 0 | 1): number {
    return this.integer(name, `a duration in milliseconds, a whole number from ${min} to ${MAX_MS}`, min, MAX_MS, fallback);
  }

  ip(name: string, fallback: string): string {
    return this.string(name, 'an IP address', (v) => isIP(v) !== 0, fallback);
  }

  absolutePath(name: string, fallback: string | undefined): string {
    return this.string(name, 'an absolute file path', (v) => v.startsWith('/') && !v.includes('\0'), fallback);
  }
}

function readDataPath(r: EnvReader): DataPathConfig {
  const d = DEFAULT_DATA_PATH;
  const e = DATA_PATH_ENV;
  const config = dataPathConfig({
    bindAddress: r.ip(e.bindAddress, d.bindAddress),
    outboundPort: r.port(e.outboundPort, d.outboundPort),
    inboundPort: r.port(e.inboundPort, d.inboundPort),
    adminPort: r.port(e.adminPort, d.adminPort),
    detectTimeoutMs: r.ms(e.detectTimeoutMs, d.detectTimeoutMs, 1),
    connectTimeoutMs: r.ms(e.connectTimeoutMs, d.connectTimeoutMs, 1),
    maxHeaderBytes: r.integer(e.maxHeaderBytes, 'a size in bytes, a whole number from 1024 to 1048576', 1024, 1024 * 1024, d.maxHeaderBytes),
    headersTimeoutMs: r.ms(e.headersTimeoutMs, d.headersTimeoutMs, 1),
    idleTimeoutMs: r.ms(e.idleTimeoutMs, d.idleTimeoutMs, 1),
    maxConcurrentRequests: r.integer(e.maxConcurrentRequests, 'a whole number from 1 to 1000000', 1, 1_000_000, d.maxConcurrentRequests),
    overloadLagMs: r.ms(e.overloadLagMs, d.overloadLagMs, 0),
    meshHttp1Carrier: r.string(e.meshHttp1Carrier, '`h2` or `http1`', (v) => v === 'h2' || v === 'http1', d.meshHttp1Carrier) as 'h2' | 'http1',
    drainGraceMs: r.ms(e.drainGraceMs, d.drainGraceMs, 0),
    drainTimeoutMs: r.ms(e.drainTimeoutMs, d.drainTimeoutMs, 0),
    appAddress: r.ip(e.appAddress, d.appAddress),
  });
  const ports: [string, number][] = [
    [e.outboundPort, config.outboundPort],
    [e.inboundPort, config.inboundPort],
    [e.adminPort, config.adminPort],
  ];
  for (const [i, [nameA, a]] of ports.entries()) {
    for (const [nameB, b] of ports.slice(i + 1)) {
      if (a === b) r.errors.push(`${nameA} and ${nameB} are both ${a}: expected distinct ports, one per listener`);
    }
  }
  return config;
}

function readTrustAnchorsSource(r: EnvReader): TrustAnchorsSource {
  const { trustAnchorsPath: pathVar, trustAnchorsPem: pemVar } = PROXY_ENV;
  const path = r.raw(pathVar);
  const pem = r.raw(pemVar);
  if (path !== undefined && pem !== undefined) {
    r.errors.push(`${pathVar} and ${pemVar} are both set: expected exactly one source for the controller's trust anchors`);
  }
  if (pem !== undefined) {
    try {
      parseTrustBundle([pem]);
    } catch (error) {
      r.errors.push(`${pemVar}: expected PEM CA certificates (${(error as Error).message})`);
    }
    return { kind: 'pem', pem };
  }
  if (path !== undefined) return { kind: 'path', path: r.absolutePath(pathVar, undefined) };
  r.errors.push(`${pathVar} and ${pemVar} are not set: expected one of them (the roots of the controller's serving certificate)`);
  return { kind: 'pem', pem: '' };
}

/**
 * The proxy's configuration from `env` (`process.env` in main), frozen, or every problem found: each names
 * the variable, its value and what was expected.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): ConfigResult {
  const r = new EnvReader(env);
  const e = PROXY_ENV;
  const dataPath = readDataPath(r);
  const controllerAddress = r.string(e.controllerAddress, 'host:port with a port from 1 to 65535', validHostPort, DEFAULT_CONTROLLER_ADDRESS);
  const serverName = r.raw(e.controllerServerName);
  if (serverName !== undefined && !DNS_SUBDOMAIN.test(serverName.toLowerCase())) r.fail(e.controllerServerName, serverName, 'a DNS name');
  const trustDomain = r.string(e.trustDomain, 'a trust domain (lower-case letters, digits, ".", "-", "_")', (v) => TRUST_DOMAIN.test(v), DEFAULT_TRUST_DOMAIN);
  const pod: PodInfo = Object.freeze({
    name: r.string(e.podName, 'the pod name (a DNS subdomain; Downward API metadata.name)', (v) => DNS_SUBDOMAIN.test(v), undefined),
    namespace: r.string(e.podNamespace, 'the pod namespace (a DNS label; Downward API metadata.namespace)', (v) => DNS_LABEL.test(v), undefined),
    serviceAccount: r.string(e.podServiceAccount, 'the pod ServiceAccount name (a DNS subdomain; Downward API spec.serviceAccountName)', (v) => DNS_SUBDOMAIN.test(v), undefined),
  });
  const tokenPath = r.absolutePath(e.tokenPath, DEFAULT_TOKEN_PATH);
  const trustAnchors = Object.freeze(readTrustAnchorsSource(r));
  const logLevel = r.string(e.logLevel, `a log level (${LOG_LEVELS.join(', ')})`, isLogLevel, DEFAULT_LOG_LEVEL) as LogLevel;
  const proxyUid = r.integer(e.proxyUid, 'a UID, a whole number from 0 to 4294967294', 0, 4_294_967_294, DEFAULT_PROXY_UID);
  if (r.errors.length > 0) return Object.freeze({ ok: false, errors: Object.freeze([...r.errors]) });
  const config: ProxyConfig = {
    dataPath,
    controllerAddress,
    ...(serverName === undefined ? {} : { controllerServerName: serverName }),
    trustDomain,
    pod,
    tokenPath,
    trustAnchors,
    logLevel,
    proxyUid,
  };
  return Object.freeze({ ok: true, config: Object.freeze(config) });
}

function validHostPort(value: string): boolean {
  const match = HOST_PORT.exec(value);
  const port = Number(match?.[2]);
  return match !== null && port >= 1 && port <= 65_535;
}

/**
 * The trust anchors as PEM, read from the file when configured so, and checked (CA certificates only, at
 * least one). Throws an Error whose message is one line naming the variable.
 */
export async function readTrustAnchors(source: TrustAnchorsSource, read: (path: string) => Promise<string> = (path) => readFile(path, 'utf8')): Promise<string> {
  let pem: string;
  let origin: string;
  if (source.kind === 'pem') {
    pem = source.pem;
    origin = PROXY_ENV.trustAnchorsPem;
  } else {
    origin = `${PROXY_ENV.trustAnchorsPath}=${source.path}`;
    try {
      pem = await read(source.path);
    } catch (error) {
      throw new Error(`${origin}: cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
  }
  try {
    return parseTrustBundle([pem]).pems.join('');
  } catch (error) {
    throw new Error(`${origin}: expected PEM CA certificates (${(error as Error).message})`, { cause: error });
  }
}
