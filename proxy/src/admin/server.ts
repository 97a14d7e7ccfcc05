/**
 * The proxy's admin server (port 15020; DESIGN §3): plain node:http, nothing loaded that the data path does
 * not need. Endpoints (plain text unless said otherwise; anything else is 404, a wrong method 405 with `Allow`):
 *
 * | request | answer |
 * |---|---|
 * | `GET /live` | 200 `live` (503 `not live` when the `live` callback says so) |
 * | `GET /ready` | 200 `ready`, or 503 `not ready` then one reason per line (`- no certificate yet`, `- draining`...) |
 * | `GET /metrics` | the registry in the Prometheus text format (`registry.contentType`) |
 * | `GET /config` | the policy in force as JSON (`application/json`); 503 `no policy yet` before the first |
 * | `GET /log-level` | the current pino level |
 * | `PUT` or `POST /log-level` | sets the level from the body (`debug`) or `?level=debug`; 400 listing the valid levels otherwise. Only from loopback clients (`kubectl port-forward` arrives on loopback) unless `remoteLogLevel`; 403 otherwise |
 * | `GET /probe/http/<port>/<path>` | kubelet HTTP probe forwarded to the application (below) |
 * | `GET /probe/https/<port>/<path>` | the same over TLS, the application's certificate not verified (as kubelet does) |
 * | `GET /probe/tcp/<port>` | kubelet TCP probe: 200 when `<app address>:<port>` accepts a connection, else 503 |
 *
 * Probe forwarding (the injector rewrites pod probes to these paths): kubelet probes must never depend on
 * policy, so they come to the admin port and the proxy itself runs them against the application on loopback
 * (its own connections are not redirected). A probe `httpGet {path: /healthz?full=1, port: 8080}` becomes
 * `httpGet {path: /probe/http/8080/healthz?full=1, port: 15020}`: the path and query after the port are
 * requested as they are, with the prober's headers (kubelet's `user-agent`, `accept`, the probe's
 * `httpHeaders`) minus hop-by-hop ones, and `Host` replaced by `<pod IP>:<port>`, what kubelet would have sent
 * to the application (the address the prober reached us on, and the application's port). The answer is the
 * application's status code, `content-type` and at most 1 KiB of body (`probe.ts`). Timeout: the prober's own
 * (kubelet's `timeoutSeconds`) is the one that counts: when the prober gives up and disconnects, the forwarded
 * request is aborted at once. The proxy adds only a ceiling (`probes.timeoutMs`, {@link DEFAULT_PROBE_TIMEOUT_MS})
 * so a hung application cannot pile up connections, answered 504. A `tcpSocket {port: 5432}` probe becomes
 * `httpGet {path: /probe/tcp/5432, port: 15020}`. Probes to the admin port itself (and `probes.refusePorts`)
 * are refused with 400 (no loops).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLogLevel, LOG_LEVELS, type Logger } from '@loom/shared/runtime';
import type { Registry } from 'prom-client';
import { formatAddress, unmapped } from '../transport/address.js';
import { bindAny, listenOn } from '../transport/listen.js';
import { forwardedHeaders, hostPort, httpProbe, tcpProbe, type ProbeResult } from './probe.js';
import { routeAdmin, type AdminRoute } from './routes.js';

/** Ceiling on one forwarded probe, ms (the prober's own timeout normally ends it first). */
export const DEFAULT_PROBE_TIMEOUT_MS = 30_000;
/** Largest `/log-level` request body. */
export const MAX_LOG_LEVEL_BODY_BYTES = 64;
/** A client must send its request head within this long. */
export const ADMIN_HEADERS_TIMEOUT_MS = 10_000;

export interface AdminReadiness {
  readonly ready: boolean;
  /** Why not, one short line each (shown by `/ready`). */
  readonly reasons: readonly string[];
}

export interface ProbeOptions {
  /** Where the application listens; `127.0.0.1` by default (the data path's `appAddress`). */
  readonly appAddress?: string;
  /** Ceiling on one probe, ms; {@link DEFAULT_PROBE_TIMEOUT_MS} by default. */
  readonly timeoutMs?: number;
  /** Ports never probed (the proxy's own listeners); the admin port is always refused. */
  readonly refusePorts?: readonly number[];
}

export interface AdminOptions {
  /** Address to listen on (`::`: every address, IPv4 too, falling back to `0.0.0.0` without IPv6; kubelet reaches it on the pod IP). */
  readonly host: string;
  /** 0 picks a free port (read it back from {@link AdminServer.address}). */
  readonly port: number;
  readonly registry: Registry;
  /** The process's root logger: `/log-level` sets its level, which children without their own level follow. */
  readonly logger: Logger;
  readonly ready: () => AdminReadiness;
  /** Liveness; always live when omitted. */
  readonly live?: () => boolean;
  /** The policy in force for `/config` (JSON-serialisable), `null`/`undefined` before the first. */
  readonly config: () => unknown;
  readonly probes?: ProbeOptions;
  /** Allow `PUT /log-level` from non-loopback clients; false by default. */
  readonly remoteLogLevel?: boolean;
}

export interface AdminServer {
  readonly address: AddressInfo;
  /** Stops listening and closes every connection. Idempotent. */
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';
const NOT_FOUND_BODY = 'not found; endpoints: /live /ready /metrics /config /log-level /probe/http/<port>/<path> /probe/https/<port>/<path> /probe/tcp/<port>\n';

export async function startAdmin(options: AdminOptions): Promise<AdminServer> {
  const probeTimeoutMs = options.probes?.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  if (!(Number.isInteger(probeTimeoutMs) && probeTimeoutMs > 0)) throw new RangeError(`probes.timeoutMs must be a positive integer, got ${String(probeTimeoutMs)}`);
  const log = options.logger.child({ component: 'admin' });
  const refused = new Set(options.probes?.refusePorts ?? []);
  const admin = new Admin(options, log, { appAddress: options.probes?.appAddress ?? '127.0.0.1', timeoutMs: probeTimeoutMs, refused });
  const server = createServer({ headersTimeout: ADMIN_HEADERS_TIMEOUT_MS, requestTimeout: ADMIN_HEADERS_TIMEOUT_MS + 5_000, requireHostHeader: false }, (req, res) => {
    admin.handle(req, res).catch((error: unknown) => {
      log.error({ event: 'admin.internal_error', err: error as Error, path: req.url }, 'admin request failed');
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  await bindAny(listenOn(server, options.port), options.host, log, 'admin server');
  server.on('error', (error) => log.error({ event: 'admin.server_error', err: error }, 'admin server error'));
  const address = server.address() as AddressInfo;
  refused.add(address.port);
  log.info({ event: 'admin.listening', address: address.address, port: address.port }, `admin server on ${formatAddress(address)}`);
  let closing: Promise<void> | undefined;
  return {
    address,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

interface ProbeSettings {
  readonly appAddress: string;
  readonly timeoutMs: number;
  readonly refused: ReadonlySet<number>;
}

class Admin {
  readonly #options: AdminOptions;
  readonly #log: Logger;
  readonly #probes: ProbeSettings;

  constructor(options: AdminOptions, log: Logger, probes: ProbeSettings) {
    this.#options = options;
    this.#log = log;
    this.#probes = probes;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = routeAdmin(req.method ?? 'GET', req.url ?? '/');
    switch (route.kind) {
      case 'live':
        return (this.#options.live?.() ?? true) ? send(res, 200, 'live\n') : send(res, 503, 'not live\n');
      case 'ready': {
        const { ready, reasons } = this.#options.ready();
        return ready ? send(res, 200, 'ready\n') : send(res, 503, `not ready\n${reasons.map((r) => `- ${r}\n`).join('')}`);
      }
      case 'metrics': {
        const { registry } = this.#options;
        return send(res, 200, await registry.metrics(), registry.contentType);
      }
      case 'config': {
        const config = this.#options.config();
        if (config === null || config === undefined) return send(res, 503, 'no policy yet\n');
        return send(res, 200, `${JSON.stringify(config, null, 2)}\n`, 'application/json');
      }
      case 'log-level':
        return this.#logLevel(req, res, route.query);
      case 'probe-http':
      case 'probe-tcp':
        return this.#probe(req, res, route);
      case 'bad-request':
        return send(res, 400, `${route.reason}\n`);
      case 'method-not-allowed':
        return send(res, 405, `method ${req.method ?? ''} not allowed; allowed: ${route.allow.join(', ')}\n`, TEXT, { allow: route.allow.join(', ') });
      case 'not-found':
        return send(res, 404, NOT_FOUND_BODY);
    }
  }

  async #logLevel(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const logger = this.#options.logger;
    if (req.method === 'GET' || req.method === 'HEAD') return send(res, 200, `${logger.level}\n`);
    if (this.#options.remoteLogLevel !== true && !isLoopback(req.socket.remoteAddress)) {
      req.resume();
      return send(res, 403, 'the log level can only be changed from the pod itself (loopback, e.g. through kubectl port-forward)\n');
    }
    const body = await readBody(req, MAX_LOG_LEVEL_BODY_BYTES);
    if (body === null) return send(res, 413, `the body must be a log level (at most ${MAX_LOG_LEVEL_BODY_BYTES} bytes)\n`);
    const requested = (query.get('level') ?? body).trim();
    if (!isLogLevel(requested)) return send(res, 400, `unknown log level ${JSON.stringify(requested)}; valid levels: ${LOG_LEVELS.join(', ')}\n`);
    const previous = logger.level;
    logger.level = requested;
    this.#log.info({ event: 'admin.log_level', from: previous, to: requested, peer: formatAddress({ address: req.socket.remoteAddress ?? '?', port: req.socket.remotePort ?? 0 }) }, `log level set to ${requested}`);
    return send(res, 200, `${requested}\n`);
  }

  async #probe(req: IncomingMessage, res: ServerResponse, route: Extract<AdminRoute, { kind: 'probe-http' | 'probe-tcp' }>): Promise<void> {
    const { appAddress, timeoutMs, refused } = this.#probes;
    if (refused.has(route.port)) return send(res, 400, `port ${route.port} belongs to the proxy, not the application\n`);
    const abort = new AbortController();
    // The prober went away (its own timeout): stop at once.
    res.once('close', () => abort.abort());
    let result: ProbeResult;
    if (route.kind === 'probe-tcp') {
      result = await tcpProbe(appAddress, route.port, timeoutMs, abort.signal);
    } else {
      const local = req.socket.localAddress;
      const host = hostPort(local === undefined ? appAddress : unmapped(local), route.port);
      result = await httpProbe({ scheme: route.scheme, address: appAddress, port: route.port, path: route.path, headers: forwardedHeaders(req.headers, host) }, timeoutMs, abort.signal);
    }
    this.#log.debug({ event: 'admin.probe', kind: route.kind, port: route.port, status: result.status }, 'probe forwarded');
    if (res.destroyed || res.writableEnded) return;
    send(res, result.status, result.body, result.contentType);
  }
}

function send(res: ServerResponse, status: number, body: string | Buffer, contentType = TEXT, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  res.end(body);
}

/** The request body as text, or `null` once it exceeds `limit` bytes (the rest is drained). */
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

/** A loopback client: 127.0.0.0/8 or ::1 (mapped forms included). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const plain = unmapped(address);
  return plain === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(plain);
}
