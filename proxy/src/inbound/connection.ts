/**
 * One accepted inbound connection once the proxy knows who is calling and what it carries: the application
 * port, the peer's identity (null = plaintext), and the metric handles of its edges. Created once per
 * connection; everything per request reuses it.
 */
import type { Socket } from 'node:net';
import { parseSpiffeId } from '@loom/shared/identity';
import type { Decision, HttpRequestView, InboundRequest, RouteRef } from '@loom/shared/policy';
import type { EdgeLabels, EdgeMetrics, ProxyMetrics } from '../metrics/families.js';
import type { Exchange } from './exchange.js';
import type { Carried } from './protocol.js';

/** An `InboundRequest` the connection reuses for every authorization (`authorize` is synchronous and keeps no reference). */
interface ReusedRequest extends InboundRequest {
  http: HttpRequestView | undefined;
}

/** `namespace/name[/match]` of the route that admitted a request; `""` none. */
export function routeLabel(route: RouteRef | null): string {
  if (route === null) return '';
  return route.match === undefined ? `${route.namespace}/${route.name}` : `${route.namespace}/${route.name}/${route.match}`;
}

/** Edge labels of an inbound peer: namespace from its SPIFFE ID, `""` for plaintext. */
export function inboundEdgeLabels(identity: string | null, tls: boolean, route: string): EdgeLabels {
  return {
    direction: 'inbound',
    peer_namespace: identity === null ? '' : (parseSpiffeId(identity)?.namespace ?? ''),
    peer_workload: '',
    peer_identity: identity ?? '',
    dst_service: '',
    route,
    tls: tls ? 'true' : 'false',
  };
}

export interface ConnectionInit {
  /** The accepted TCP socket (under the TLS socket, for mesh connections). */
  readonly raw: Socket;
  readonly port: number;
  /** `ip:port` of the client. */
  readonly peer: string;
  readonly identity: string | null;
  readonly tls: boolean;
  readonly carried: Carried;
}

export class InboundConnection {
  readonly raw: Socket;
  readonly port: number;
  readonly peer: string;
  readonly identity: string | null;
  readonly tls: boolean;
  readonly carried: Carried;
  readonly request: ReusedRequest;
  /** HTTP requests on this connection not finished yet. */
  inFlight = 0;
  /**
   * HTTP requests admitted and not finished yet, each with the request view it was authorized with: judged
   * again when the policy changes (`InboundAuthz.reauthorize`). Added to and deleted from, nothing more, per request.
   */
  readonly exchanges = new Set<Exchange>();
  /** The connection ended because the proxy refused or failed something, not by the peer's choice. */
  failed = false;
  /**
   * The connection closes once its requests in flight finish (the proxy is draining, or a policy change left its
   * peer with nothing it may ask on this port): HTTP/1 responses not started yet say `Connection: close`.
   */
  closing = false;
  /** Called when `inFlight` drops to 0 (set while closing: close the connection after its last response). */
  whenIdle: (() => void) | null = null;
  readonly #metrics: ProxyMetrics;
  /**
   * Per admitting decision (the authorizer returns one frozen Decision per route), its edge. Decisions belong to
   * one policy version: the cache holds those of `#edgesPolicy` only (see `judgedUnder`).
   */
  readonly #edges = new Map<Decision, EdgeMetrics>();
  #edgesPolicy: object | null = null;
  #unrouted: EdgeMetrics | null = null;

  constructor(init: ConnectionInit, metrics: ProxyMetrics) {
    this.raw = init.raw;
    this.port = init.port;
    this.peer = init.peer;
    this.identity = init.identity;
    this.tls = init.tls;
    this.carried = init.carried;
    this.request = { port: init.port, protocol: 'tcp', peer: { identity: init.identity }, http: undefined };
    this.#metrics = metrics;
  }

  /**
   * The decisions that follow come from `policy` (the snapshot the authorizer used): when it is not the one the
   * cached edges were made under, they are dropped, so a long-lived connection keeps one policy version's worth
   * (the edges themselves live on in the metrics registry). One comparison on the hot path.
   */
  judgedUnder(policy: object): void {
    if (this.#edgesPolicy === policy) return;
    this.#edgesPolicy = policy;
    this.#edges.clear();
  }

  /** Edges cached by `edge()` (for tests and introspection). */
  get cachedEdges(): number {
    return this.#edges.size;
  }

  /** Edge metrics for requests admitted by `decision`; denials and route-less decisions share the unrouted edge. */
  edge(decision: Decision | null): EdgeMetrics {
    if (decision === null || decision.route === null || !decision.allowed || decision.audit) return this.unrouted();
    let edge = this.#edges.get(decision);
    if (edge === undefined) {
      edge = this.#metrics.edge(inboundEdgeLabels(this.identity, this.tls, routeLabel(decision.route)));
      this.#edges.set(decision, edge);
    }
    return edge;
  }

  unrouted(): EdgeMetrics {
    return (this.#unrouted ??= this.#metrics.edge(inboundEdgeLabels(this.identity, this.tls, '')));
  }

  /** Counts the connection as open on `edge` now and as closed when the raw socket closes. */
  countOn(edge: EdgeMetrics): void {
    countConnection(this.raw, edge, () => this.failed);
  }
}

/**
 * Counts `raw` open on `edge`, and closed (with its bytes) when it closes; `failed` is asked at close time. A
 * socket that already closed (its edge was decided only after, e.g. a TLS handshake the client abandoned) is
 * counted opened and closed at once: its `close` event is gone, and open and close must always pair.
 */
export function countConnection(raw: Socket, edge: EdgeMetrics, failed: () => boolean): void {
  edge.connectionOpened();
  if (raw.closed) edge.connectionClosed(failed(), raw.bytesRead, raw.bytesWritten);
  else raw.once('close', (hadError: boolean) => edge.connectionClosed(hadError || failed(), raw.bytesRead, raw.bytesWritten));
}
