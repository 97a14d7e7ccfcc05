/**
 * Concrete → endpoint (linkerd2-proxy's vocabulary): an {@link EndpointSet} is the
 * balancer over one list of endpoints from the policy (a Service's own endpoints or a split backend's), and an
 * {@link EndpointHandle} is everything the proxy keeps per endpoint — its load and ejection state, its pooled
 * HTTP/2 session (`loom.h2` to a meshed endpoint, h2c to an unmeshed one), its {@link H1Pool} (HTTP/1 to an
 * unmeshed endpoint), its metric edges, and how to open a raw connection to it.
 *
 * Handles are keyed by address, port and expected identity, and shared by every set that lists the endpoint,
 * so load and ejection follow the endpoint across policy versions. Sets are built once per endpoint list of a
 * policy snapshot. When the policy changes, {@link Endpoints.retain} closes the handles of endpoints no longer
 * listed, gracefully: their requests in flight finish.
 *
 * Passthrough destinations (outside the policy) get handles too, kept apart and bounded: at most
 * `maxPassthrough` of them, least recently used first out, and none unused for longer than the idle timeout;
 * an evicted handle closes gracefully and a later connection to that destination simply builds a new one.
 *
 * Connect failures are counted per connect attempt (`balance.ts`): the pooled HTTP/2 session's opening counts
 * once however many requests wait on it.
 */
import type { Socket } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import type { Endpoint, ProxyPolicy } from '@loom/shared/policy';
import type { Logger } from '@loom/shared/runtime';
import { H1Pool, type H1DispatchOptions, type H1Handler } from '../http/h1-client/index.js';
import type { DataPathConfig } from '../config.js';
import { checkPeerIdentity } from '../identity/tls.js';
import type { EdgeMetrics } from '../metrics/families.js';
import type { Runtime } from '../runtime.js';
import { ALPN_HTTP1, ALPN_HTTP2, type MeshAlpn } from '../wire.js';
import { attemptToken, connectFailed, connectSucceeded, newLoad, pick, type Candidate, type Load } from './balance.js';
import { formatAddress, unmapped } from '../transport/address.js';
import { connectMesh, connectPlain, ConnectError } from '../transport/connect.js';
import { H2Origin } from './session.js';

/** The endpoint is meshed but the proxy holds no certificate yet: nothing can be sent to it. */
export class NoCertificateError extends ConnectError {
  constructor() {
    super('no mesh certificate yet');
  }
}

/** At most one warning per endpoint per this long about failing connects. */
const WARN_INTERVAL_MS = 10_000;

/** Passthrough destinations the proxy keeps state for, at most (least recently used ones are closed first). */
export const DEFAULT_MAX_PASSTHROUGH = 256;

export interface EndpointDeps {
  readonly cfg: DataPathConfig;
  readonly rt: Runtime;
  readonly log: Logger;
  readonly now: () => number;
}

export class EndpointHandle {
  readonly address: string;
  readonly port: number;
  /** The SPIFFE ID the endpoint must prove; `null` = unmeshed, plaintext. */
  readonly identity: string | null;
  readonly load: Load;
  /** `address:port`. */
  readonly where: string;
  readonly #deps: EndpointDeps;
  readonly #peerNamespace: string;
  readonly #checkIdentity: ((host: string, cert: PeerCertificate) => Error | undefined) | undefined;
  /** A TLS session to resume on the next connection (TLS 1.3 tickets), while the peer accepts resumption. */
  #tlsSession: Buffer | undefined;
  #resumable = true;
  #h2: H2Origin | null = null;
  #h1: H1Pool | null = null;
  #retired = false;
  #lastWarnAt = -Infinity;
  /** Edges by dst_service, then route. */
  readonly #edges = new Map<string, Map<string, EdgeMetrics>>();

  constructor(endpoint: Endpoint, deps: EndpointDeps) {
    this.address = endpoint.address;
    this.port = endpoint.port;
    this.identity = endpoint.identity;
    this.where = formatAddress(endpoint);
    this.load = newLoad(deps.now());
    this.#deps = deps;
    this.#peerNamespace = endpoint.pod?.namespace ?? '';
    this.#checkIdentity = endpoint.identity === null ? undefined : checkPeerIdentity(endpoint.identity);
  }

  get meshed(): boolean {
    return this.identity !== null;
  }

  /**
   * A raw connection: mesh TLS with `alpn` to a meshed endpoint, plain TCP otherwise. Rejects with
   * {@link ConnectError} ({@link NoCertificateError} before the proxy holds a certificate).
   */
  connect(alpn: MeshAlpn): Promise<Socket> {
    const { cfg, rt } = this.#deps;
    const check = this.#checkIdentity;
    if (check === undefined) return connectPlain(this.address, this.port, cfg.connectTimeoutMs);
    const secureContext = rt.credentials.clientContext();
    if (secureContext === undefined) return Promise.reject(new NoCertificateError());
    const attempt = (session: Buffer | undefined): Promise<Socket> =>
      connectMesh({ address: this.address, port: this.port, alpn, secureContext, checkServerIdentity: check, timeoutMs: cfg.connectTimeoutMs, session, onSession: this.#keepSession });
    const session = this.#tlsSession;
    if (session === undefined) return attempt(undefined);
    // Loom proxies resume sessions (their server contexts have a session id context); a peer without one (an older
    // proxy during a rollout, another TLS server) fails the handshake instead of falling back to a full one: try
    // once more without a session, and stop offering sessions to that peer. The request never sees the failure.
    return attempt(session).catch((err: unknown) => {
      if (!(err instanceof ConnectError) || !err.inHandshake) throw err;
      this.#resumable = false;
      this.#tlsSession = undefined;
      return attempt(undefined);
    });
  }

  readonly #keepSession = (session: Buffer): void => {
    if (this.#resumable) this.#tlsSession = session;
  };

  /**
   * The pooled HTTP/2 session holder: `loom.h2` when meshed, h2c when not. Its connects are counted here, once
   * per attempt (success ends a failure streak, failure ejects), however many requests wait on one.
   */
  h2(): H2Origin {
    return (this.#h2 ??= new H2Origin({
      authority: `http://${this.where}`,
      connect: () => this.#connectCounted(ALPN_HTTP2),
      idleTimeoutMs: this.#deps.cfg.idleTimeoutMs,
      log: this.#deps.log,
    }));
  }

  async #connectCounted(alpn: MeshAlpn): Promise<Socket> {
    const token = attemptToken(this.load);
    try {
      const socket = await this.connect(alpn);
      this.succeeded();
      return socket;
    } catch (err) {
      if (!(err instanceof NoCertificateError)) this.failed(err as Error, token);
      throw err;
    }
  }

  /** Token for a connect attempt starting now, passed to {@link failed} if it fails. */
  attempt(): number {
    return attemptToken(this.load);
  }

  /**
   * Where the pooled HTTP/2 session opened for a request to `dstService` is counted as a connection
   * (`loom_tcp_*`): the endpoint edge, meshed endpoints only (`tls="true"`, the peer's identity). Sessions to
   * unmeshed endpoints are not counted (the application's connections are, on the logical edge).
   */
  sessionEdge(dstService: string): EdgeMetrics | null {
    return this.identity === null ? null : this.edge(dstService, '');
  }

  /** Sends an HTTP/1 request through the endpoint's {@link H1Pool} (unmeshed endpoints, or meshed ones with `meshHttp1Carrier: http1`). */
  dispatchH1(options: H1DispatchOptions, handler: H1Handler, dstService: string): void {
    const pool = (this.#h1 ??= this.#newPool(dstService));
    pool.dispatch(options, handler);
    if (this.#retired) {
      // Left the policy while this request was being routed: the pool closes once the request is done.
      this.#h1 = null;
      void pool.close();
    }
  }

  /** `dstService`: whose endpoint edge counts the pool's mesh connections (`loom_tcp_*`), as for HTTP/2 sessions. */
  #newPool(dstService: string): H1Pool {
    // Streaming: no response deadline (DESIGN §6); free keep-alive connections close after 4 s unless the
    // server says otherwise (servers commonly close at 5 s). Connect failures reach each request's handler.
    // To a meshed endpoint (`meshHttp1Carrier: http1`): mesh TLS with ALPN `loom.http1`, identity checked, TLS
    // sessions resumed; connect failures are counted by the request that waited (as for plain ones), except
    // NoCertificateError (wrapped by the pool as the cause of its connect failure): ours, not the endpoint's.
    const connect = this.meshed ? { connect: () => this.connect(ALPN_HTTP1).then((socket) => this.#counted(socket, dstService)) } : {};
    return new H1Pool({ host: unmapped(this.address), port: this.port, connectTimeoutMs: this.#deps.cfg.connectTimeoutMs, ...connect });
  }

  /** Counts a pooled mesh connection on the endpoint edge while it is open. */
  #counted(socket: Socket, dstService: string): Socket {
    const edge = this.sessionEdge(dstService);
    if (edge !== null) {
      edge.connectionOpened();
      socket.once('close', (hadError: boolean) => edge.connectionClosed(hadError, socket.bytesRead, socket.bytesWritten));
    }
    return socket;
  }

  /** Metric handles for requests and connections to this endpoint as part of `dstService` (and `route`). */
  edge(dstService: string, route: string): EdgeMetrics {
    let byRoute = this.#edges.get(dstService);
    if (byRoute === undefined) this.#edges.set(dstService, (byRoute = new Map<string, EdgeMetrics>()));
    let edge = byRoute.get(route);
    if (edge === undefined) {
      edge = this.#deps.rt.metrics.edge({
        direction: 'outbound',
        peer_namespace: this.#peerNamespace,
        peer_workload: '',
        peer_identity: this.identity ?? '',
        dst_service: dstService,
        route,
        tls: this.identity === null ? 'false' : 'true',
      });
      byRoute.set(route, edge);
    }
    return edge;
  }

  /**
   * Records the failure of the connect attempt that took `token` ({@link attempt}): ejects the endpoint and logs
   * it, loudly when it keeps failing. Attempts that failed together (one connect several requests waited on, or
   * connects started before another failure was counted) count once.
   */
  failed(err: Error, token: number): void {
    const now = this.#deps.now();
    const ms = connectFailed(this.load, now, token);
    if (ms === 0) return;
    const fields = { event: 'endpoint.ejected', peer: this.where, identity: this.identity ?? undefined, reason: err.message, ejectedForMs: ms, failures: this.load.failures };
    if (this.load.failures >= 2 && now - this.#lastWarnAt >= WARN_INTERVAL_MS) {
      this.#lastWarnAt = now;
      this.#deps.log.warn(fields, 'endpoint keeps refusing connections');
    } else {
      this.#deps.log.debug(fields, 'endpoint refused a connection');
    }
  }

  /** A connect succeeded: ends the failure streak. */
  succeeded(): void {
    if (this.load.failures > 0 || this.load.ejectedUntil > -Infinity) connectSucceeded(this.load);
  }

  get sessions(): number {
    return this.#h2?.sessions ?? 0;
  }

  /** Graceful: requests in flight finish; later use still works but opens nothing lasting. */
  retire(): Promise<void> {
    this.#retired = true;
    this.#h2?.close();
    const pool = this.#h1;
    this.#h1 = null; // a request routed here meanwhile gets a pool of its own (closed once it is done)
    return pool === null ? Promise.resolve() : pool.close();
  }

  destroy(): Promise<void> {
    this.#retired = true;
    this.#h2?.destroy();
    const pool = this.#h1;
    this.#h1 = null;
    return pool === null ? Promise.resolve() : pool.destroy();
  }
}

/** The balancer over one endpoint list. */
export class EndpointSet {
  readonly handles: readonly EndpointHandle[];
  readonly #candidates: readonly Candidate[];
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(handles: readonly EndpointHandle[], ready: readonly boolean[], now: () => number, random: () => number) {
    this.handles = handles;
    this.#candidates = handles.map((h, i) => ({ ready: ready[i] ?? true, load: h.load }));
    this.#now = now;
    this.#random = random;
  }

  /** The endpoint to use, or `null` when the list is empty (or holds only `exclude`). */
  pick(exclude: EndpointHandle | null = null): EndpointHandle | null {
    const i = pick(this.#candidates, this.#now(), this.#random, exclude === null ? -1 : this.handles.indexOf(exclude));
    return i < 0 ? null : this.handles[i]!;
  }
}

const keyOf = (address: string, port: number, identity: string | null): string => `${address}\u0000${port}\u0000${identity ?? ''}`;

interface PassthroughEntry {
  readonly set: EndpointSet;
  readonly handle: EndpointHandle;
  lastUsed: number;
}

/** Every endpoint handle, and the sets over them. */
export class Endpoints {
  readonly #deps: EndpointDeps;
  readonly #random: () => number;
  readonly #maxPassthrough: number;
  readonly #handles = new Map<string, EndpointHandle>();
  readonly #sets = new WeakMap<readonly Endpoint[], EndpointSet>();
  /** Passthrough destinations by `address:port`, least recently used first (Map order). */
  readonly #passthrough = new Map<string, PassthroughEntry>();

  constructor(deps: EndpointDeps, random: () => number, maxPassthrough = DEFAULT_MAX_PASSTHROUGH) {
    this.#deps = deps;
    this.#random = random;
    this.#maxPassthrough = Math.max(1, maxPassthrough);
  }

  /** The set over `endpoints` (a list from the policy; built once per list). */
  set(endpoints: readonly Endpoint[]): EndpointSet {
    let set = this.#sets.get(endpoints);
    if (set === undefined) {
      set = new EndpointSet(
        endpoints.map((e) => this.handle(e)),
        endpoints.map((e) => e.ready),
        this.#deps.now,
        this.#random,
      );
      this.#sets.set(endpoints, set);
    }
    return set;
  }

  /**
   * A one-endpoint, unmeshed set for a destination outside the policy. Bounded: the least recently used
   * destinations beyond `maxPassthrough`, and those unused for `idleTimeoutMs`, are closed (gracefully).
   */
  passthrough(address: string, port: number): EndpointSet {
    const key = keyOf(address, port, null);
    const now = this.#deps.now();
    const found = this.#passthrough.get(key);
    if (found !== undefined) {
      found.lastUsed = now;
      // Most recently used last: delete and insert again (Map keeps insertion order).
      this.#passthrough.delete(key);
      this.#passthrough.set(key, found);
      return found.set;
    }
    this.#evictPassthrough(now, this.#maxPassthrough - 1);
    const handle = new EndpointHandle({ address, port, identity: null, pod: null, ready: true }, this.#deps);
    const set = new EndpointSet([handle], [true], this.#deps.now, this.#random);
    this.#passthrough.set(key, { set, handle, lastUsed: now });
    return set;
  }

  /** Closes passthrough handles idle for longer than the idle timeout, then the oldest until at most `keep` remain. */
  #evictPassthrough(now: number, keep: number): void {
    const idleMs = this.#deps.cfg.idleTimeoutMs;
    for (const [key, entry] of this.#passthrough) {
      if (this.#passthrough.size <= keep && now - entry.lastUsed < idleMs) break;
      this.#passthrough.delete(key);
      void entry.handle.retire();
    }
  }

  handle(endpoint: Endpoint): EndpointHandle {
    const key = keyOf(endpoint.address, endpoint.port, endpoint.identity);
    let handle = this.#handles.get(key);
    if (handle === undefined) {
      handle = new EndpointHandle(endpoint, this.#deps);
      this.#handles.set(key, handle);
    }
    return handle;
  }

  /** Retires every handle whose endpoint `policy` no longer lists (and the passthrough ones). */
  retain(policy: ProxyPolicy): void {
    const keep = new Set<string>();
    const add = (list: readonly Endpoint[]): void => {
      for (const e of list) keep.add(keyOf(e.address, e.port, e.identity));
    };
    for (const svc of policy.outbound) {
      for (const port of svc.ports) {
        add(port.endpoints);
        for (const b of port.split?.backends ?? []) add(b.endpoints);
      }
    }
    for (const entry of this.#passthrough.values()) void entry.handle.retire();
    this.#passthrough.clear();
    for (const [key, handle] of this.#handles) {
      if (keep.has(key)) continue;
      this.#handles.delete(key);
      void handle.retire();
    }
  }

  /** Handles of policy endpoints. */
  get size(): number {
    return this.#handles.size;
  }

  /** Passthrough destinations held. */
  get passthroughSize(): number {
    return this.#passthrough.size;
  }

  get sessions(): number {
    let n = 0;
    for (const h of this.#handles.values()) n += h.sessions;
    for (const e of this.#passthrough.values()) n += e.handle.sessions;
    return n;
  }

  #all(): EndpointHandle[] {
    return [...this.#handles.values(), ...[...this.#passthrough.values()].map((e) => e.handle)];
  }

  /** Graceful close of every pool and session. */
  async close(): Promise<void> {
    await Promise.all(this.#all().map((h) => h.retire()));
  }

  async destroy(): Promise<void> {
    const all = this.#all();
    this.#handles.clear();
    this.#passthrough.clear();
    await Promise.all(all.map((h) => h.destroy()));
  }
}
