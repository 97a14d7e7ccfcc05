/**
 * The outbound proxy (port 15001; DESIGN §6): every TCP connection the application opens is redirected here.
 * The stack, in linkerd2-proxy's vocabulary, read top to bottom:
 *
 * 1. accept — the connection and its original destination (`rt.origDst`);
 * 2. discover — what the policy says about that destination (`discover.ts`): a logical service, passthrough,
 *    deny, or a connection that must be refused (not redirected, or a loop back into the proxy);
 * 3. protocol — declared on the Service port, else detected from the first bytes (`transport/protocol.ts`);
 * 4. HTTP (`http1.ts`, `http2.ts`), per request — logical: the TrafficSplit choice (`logical.ts`); concrete: the
 *    balancer over the chosen endpoint list; endpoint: the pooled connection to it (`exchange.ts`,
 *    `endpoints.ts`, `session.ts`);
 *    TCP (`tcp.ts`), per connection — the same choices once, then a byte relay.
 *
 * The policy is read when each connection and each request starts (`rt.policy.current()`), so a change applies
 * to new work at once while work in flight finishes where it started. Pools and sessions of endpoints that
 * left the policy are closed gracefully on each change.
 *
 * Shutdown: the application's own calls are never refused while the process lives. `close()` keeps accepting
 * and serving exactly as before — no `Connection: close`, no GOAWAY, no idle connection closed under the
 * application — until the application has no connection open to the proxy (it exited, or closed them) or the
 * drain budget is spent; only then does it stop accepting and destroy what is left. The app calls it last, after
 * the inbound side drained (`app.ts`).
 */
import type { AddressInfo, Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { PreparedOutboundPort } from '@loom/shared/policy';
import type { DataPathConfig } from '../config.js';
import type { EdgeMetrics } from '../metrics/families.js';
import type { Runtime } from '../runtime.js';
import { formatAddress, peerOf } from '../transport/address.js';
import { detect } from '../transport/detect.js';
import { listen, type Listener } from '../transport/listen.js';
import type { SocketAddress } from '../transport/orig-dst.js';
import { discover, localAddressCheck, type Discovery } from './discover.js';
import { Endpoints } from './endpoints.js';
import type { ExchangeDeps } from './exchange.js';
import { Http1Server } from './http1.js';
import { Http2Sessions } from './http2.js';
import { Router, type Destination } from './logical.js';
import { serviceName } from './names.js';
import { declaredProtocol, detectedProtocol, type ServeAs } from '../transport/protocol.js';
import { denied, type AppConnection, type HttpContext } from './requests.js';
import { forwardTcp, type TcpDeps } from './tcp.js';

export interface OutboundOptions {
  /** Random source in [0, 1) for splits and endpoint choice; `Math.random` by default. */
  readonly random?: () => number;
  /** Monotonic clock in milliseconds (load estimates, ejection, durations); `performance.now` by default. */
  readonly now?: () => number;
  /** Passthrough destinations held at most (`DEFAULT_MAX_PASSTHROUGH` of `endpoints.ts` by default). */
  readonly maxPassthrough?: number;
}

export interface OutboundStats {
  /** Application connections open. */
  readonly connections: number;
  /** HTTP requests in flight. */
  readonly requests: number;
  /** Endpoints of the policy the proxy holds state for. */
  readonly endpoints: number;
  /** Passthrough destinations (outside the policy) the proxy holds state for; bounded. */
  readonly passthrough: number;
  /** HTTP/2 client sessions open to endpoints. */
  readonly sessions: number;
}

export interface OutboundProxy {
  /** Starts accepting on `cfg.bindAddress:cfg.outboundPort`. */
  listen(): Promise<AddressInfo>;
  /**
   * The end: serves on, still accepting, until no application connection is open or `drainMs` (default
   * `cfg.drainTimeoutMs`) has passed; then stops accepting and closes everything left. Idempotent.
   */
  close(options?: { readonly drainMs?: number }): Promise<void>;
  stats(): OutboundStats;
}

export function createOutbound(cfg: DataPathConfig, rt: Runtime, options: OutboundOptions = {}): OutboundProxy {
  const log = rt.log.bindings().component === 'outbound' ? rt.log : rt.log.child({ component: 'outbound' });
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => performance.now());

  // Endpoint → concrete → logical: where requests and connections go.
  const endpoints = new Endpoints({ cfg, rt, log, now }, random, options.maxPassthrough);
  const router = new Router(rt.policy, endpoints, random);
  const unsubscribe = rt.policy.onChange((next) => endpoints.retain(next.policy));

  // Connection-level metrics of connections not (yet) tied to an endpoint: the logical service, no peer.
  const logicalEdges = new Map<string, EdgeMetrics>();
  const logicalEdge = (service: string): EdgeMetrics => {
    let edge = logicalEdges.get(service);
    if (edge === undefined) {
      edge = rt.metrics.edge({ direction: 'outbound', peer_namespace: '', peer_workload: '', peer_identity: '', dst_service: service, route: '', tls: 'false' });
      logicalEdges.set(service, edge);
    }
    return edge;
  };

  // The servers that speak to the application.
  const inflight = { count: 0 };
  let closing = false;
  const exchange: ExchangeDeps = { log, now, finished: () => void inflight.count--, closing: () => closing, meshHttp1: cfg.meshHttp1Carrier === 'http1' };
  const http: HttpContext = { cfg, rt, log, router, exchange, inflight };
  const http1 = new Http1Server(http);
  const http2 = new Http2Sessions(http);
  const tcp: TcpDeps = { log, now, logicalEdge };

  const self = { ports: new Set([cfg.outboundPort, cfg.inboundPort, cfg.adminPort].filter((p) => p > 0)), isLocal: localAddressCheck(interfaceAddresses()) };
  let listener: Listener | null = null;
  let warnedDirect = false;

  // 1. accept (the listener gives every socket `error`/`close` handlers and tracks it until it closes)
  const onSocketError = (err: Error): void => log.debug({ event: 'connection.error', err }, 'application connection failed');
  function onConnection(socket: Socket): void {
    socket.on('error', onSocketError);
    let dst: SocketAddress | null;
    try {
      dst = rt.origDst.lookup(socket);
    } catch (err) {
      log.warn({ event: 'orig_dst.failed', err: err as Error }, 'cannot read the original destination; connection reset');
      socket.resetAndDestroy();
      return;
    }
    const snapshot = rt.policy.current();
    route(socket, discover(dst, snapshot, self), snapshot);
  }

  // 2. discover
  function route(socket: Socket, found: Discovery, snapshot: Destination['snapshot']): void {
    switch (found.kind) {
      case 'direct':
        // Not redirected: someone dialled the proxy port itself. Logged loudly once, then quietly.
        if (warnedDirect) log.debug({ event: 'connection.direct', peer: peerOf(socket) }, 'connection to the outbound port that was not redirected; reset');
        else log.warn({ event: 'connection.direct', peer: peerOf(socket) }, 'connection to the outbound port that was not redirected; reset (logged once)');
        warnedDirect = true;
        socket.resetAndDestroy();
        return;
      case 'loop':
        log.warn({ event: 'connection.loop', peer: peerOf(socket), dst: formatAddress(found.dst) }, 'connection would loop back into the proxy; reset');
        socket.resetAndDestroy();
        return;
      case 'deny':
        denied(rt, log, found, null);
        socket.resetAndDestroy();
        return;
      case 'passthrough':
        if (log.isLevelEnabled('debug')) log.debug({ event: 'connection.passthrough', dst: formatAddress(found.dst), why: found.why }, 'outbound connection passed through');
        forwardTcp(socket, router.passthrough(found.dst), tcp);
        return;
      case 'logical':
        serveLogical(socket, { dst: found.dst, snapshot, discovery: found }, found.entry);
        return;
    }
  }

  // 3. protocol
  function serveLogical(socket: Socket, dest: Destination, entry: PreparedOutboundPort): void {
    const declared = declaredProtocol(entry.port.protocol);
    if (declared !== 'detect') {
      serve(socket, dest, entry, declared);
      return;
    }
    detect(socket, cfg.detectTimeoutMs)
      .then((detection) => {
        rt.metrics.detected('outbound', detection.kind);
        const protocol = detectedProtocol(detection);
        if (protocol === 'closed') socket.destroy();
        else serve(socket, dest, entry, protocol);
      })
      .catch((err: unknown) => {
        log.error({ event: 'connection.failed', err: err as Error }, 'serving an application connection failed');
        socket.destroy();
      });
  }

  // 4. HTTP per request, TCP per connection
  function serve(socket: Socket, dest: Destination, entry: PreparedOutboundPort, protocol: ServeAs): void {
    if (log.isLevelEnabled('debug')) log.debug({ event: 'connection', peer: peerOf(socket), dst: formatAddress(dest.dst), dst_service: serviceName(entry.service), protocol }, 'outbound connection');
    if (protocol === 'opaque') {
      forwardTcp(socket, router.plan(entry, undefined, dest.snapshot?.policy.mesh.pathMatch ?? 'prefix'), tcp);
      return;
    }
    const conn: AppConnection = { dest, edge: logicalEdge(serviceName(entry.service)), pending: 0 };
    conn.edge.connectionOpened();
    socket.once('close', (hadError: boolean) => conn.edge.connectionClosed(hadError, socket.bytesWritten, socket.bytesRead));
    if (protocol === 'http1') http1.accept(socket, conn);
    else http2.accept(socket, conn);
  }

  let closed: Promise<void> | undefined;

  async function shutdown(drainMs: number): Promise<void> {
    // Serving as usual meanwhile: the application may still need its calls (it may be shutting down too).
    const idle = listener === null || (await listener.whenIdle(drainMs));
    closing = true;
    unsubscribe();
    if (!idle) {
      log.info({ event: 'drain.timeout', drainMs, connections: listener?.connections.size ?? 0 }, 'application connections still open at the end of the drain; closed');
    }
    await listener?.close();
    http2.destroy();
    http1.close();
    await endpoints.destroy();
  }

  return {
    async listen() {
      if (listener !== null) return listener.address;
      listener = await listen({ host: cfg.bindAddress, port: cfg.outboundPort, onConnection, log, name: 'outbound listener' });
      self.ports.add(listener.address.port);
      log.info({ event: 'listening', address: formatAddress(listener.address) }, 'outbound proxy listening');
      return listener.address;
    },
    close(closeOptions = {}) {
      return (closed ??= shutdown(closeOptions.drainMs ?? cfg.drainTimeoutMs));
    },
    stats() {
      return { connections: listener?.connections.size ?? 0, requests: inflight.count, endpoints: endpoints.size, passthrough: endpoints.passthroughSize, sessions: endpoints.sessions };
    },
  };
}

function interfaceAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) out.push(i.address);
  return out;
}
