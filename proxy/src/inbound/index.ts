/**
 * The inbound side of the sidecar (DESIGN §6): connections iptables redirected from the pod's ports to the
 * inbound port, from client proxies (mTLS) or unmeshed clients (plaintext), authorized against the policy and
 * forwarded to the application on `appAddress:<original port>`.
 *
 * Per connection, in order (each step its own module):
 *   accept     where was it going? (original destination; not redirected or looping back → reset)
 *   sniff      first bytes (metered): on undeclared ports detection (TLS, HTTP/1, HTTP/2 preface, or opaque);
 *              on declared ones TLS or plaintext only, briefly on opaque ports open to plaintext (protocol.ts)
 *   mTLS       a ClientHello offering a mesh ALPN → terminate it; the client's SPIFFE ID is the peer identity
 *   serve      by ALPN (mesh) or by declaration/detection (plaintext, identity null):
 *                http2   a session; each stream authorized, forwarded as HTTP/1.1 (loom-orig-proto) or h2c
 *                http1   node:http; each request authorized, forwarded through an H1Pool; Upgrade/CONNECT tunnels
 *                opaque  authorized once, relayed as bytes
 * A policy change judges everything open again: opaque and tunnelled connections (established.ts), HTTP
 * requests in flight and the peers of HTTP connections (http1.ts, http2.ts); what the new policy denies is
 * reset or closed, the rest is untouched. New HTTP requests meet the policy in force when they arrive.
 *
 * Connections carried as bytes (opaque, tunnels) have no idle limit unless `tcpIdleTimeoutMs` sets one;
 * `idleTimeoutMs` of the config applies to HTTP keep-alive connections and sessions.
 */
import type { AddressInfo, Socket } from 'node:net';
import type { DataPathConfig } from '../config.js';
import type { EdgeMetrics } from '../metrics/families.js';
import type { Runtime } from '../runtime.js';
import { peerOf } from '../transport/address.js';
import { connectPlain } from '../transport/connect.js';
import { listen, type Listener } from '../transport/listen.js';
import { acceptMeshTls, offersAny, readClientHello } from '../transport/tls.js';
import { MESH_ALPN } from '../wire.js';
import { acceptDecision } from './accept.js';
import { AppH1Pools } from './app-h1.js';
import { AppH2Sessions } from './app-h2.js';
import { InboundAuthz } from './authorize.js';
import { countConnection, inboundEdgeLabels, InboundConnection } from './connection.js';
import { EstablishedConnections, type BytesOptions } from './established.js';
import { H1Inbound } from './http1.js';
import { H2Inbound } from './http2.js';
import { RequestLimit } from './limit.js';
import { meshProtocol, plaintextProtocol, type Carried } from './protocol.js';
import { sniff } from './sniff.js';
import { forwardTcp } from './tcp.js';
import { openTunnel } from './upgrade.js';

export interface InboundStats {
  /** Accepted connections still open. */
  readonly connections: number;
  readonly requestsInFlight: number;
}

export interface InboundProxy {
  /** Binds `bindAddress:inboundPort` (0 = ephemeral) and starts accepting. */
  listen(): Promise<AddressInfo>;
  /**
   * Drains: stops accepting, sends GOAWAY on HTTP/2 sessions, closes idle HTTP/1 connections (busy ones after
   * their response), lets the rest finish for up to `drainTimeoutMs`, then destroys what is left. Idempotent.
   */
  close(): Promise<void>;
  stats(): InboundStats;
}

export interface InboundProxyOptions {
  /** Close an opaque or tunnelled connection idle (no bytes either way) this long; 0 or absent = never. */
  readonly tcpIdleTimeoutMs?: number;
}

export function createInbound(cfg: DataPathConfig, rt: Runtime, options: InboundProxyOptions = {}): InboundProxy {
  const log = rt.log.child({ component: 'inbound' });
  const authz = new InboundAuthz(rt.policy, rt.metrics, log);
  const limit = new RequestLimit(cfg.maxConcurrentRequests, rt.overload);
  // Opaque and tunnelled connections, judged again whenever the policy changes.
  const established = new EstablishedConnections(authz, log);
  // The application: HTTP/1.1 through H1Pools (one per port), h2c sessions, TCP connections (one per connection).
  const pools = new AppH1Pools({ address: cfg.appAddress, connectTimeoutMs: cfg.connectTimeoutMs });
  const sessions = new AppH2Sessions({ address: cfg.appAddress, connectTimeoutMs: cfg.connectTimeoutMs, idleTimeoutMs: cfg.idleTimeoutMs, log });
  const bytes: BytesOptions = {
    dial: (port) => connectPlain(cfg.appAddress, port, cfg.connectTimeoutMs),
    idleTimeoutMs: options.tcpIdleTimeoutMs ?? 0,
    authz,
    established,
    log,
  };
  // HTTP servers the accepted connections are handed to.
  const h2 = new H2Inbound({ maxHeaderBytes: cfg.maxHeaderBytes, idleTimeoutMs: cfg.idleTimeoutMs, authz, limit, apps: { h1: pools, h2: sessions }, metrics: rt.metrics, log });
  const h1 = new H1Inbound({
    maxHeaderBytes: cfg.maxHeaderBytes,
    headersTimeoutMs: cfg.headersTimeoutMs,
    idleTimeoutMs: cfg.idleTimeoutMs,
    authz,
    limit,
    pools,
    metrics: rt.metrics,
    log,
    draining: rt.draining,
    tunnel: (conn, req, socket, head) => void openTunnel(conn, req, socket, head, bytes).catch((err: unknown) => fail(socket, err)),
  });

  let listener: Listener | null = null;
  let closing: Promise<void> | null = null;
  let unsubscribe: (() => void) | null = null;
  /** The proxy's own ports: a connection meant for one of them would loop. */
  const proxyPorts = new Set([cfg.inboundPort, cfg.outboundPort, cfg.adminPort].filter((p) => p !== 0));
  /** Edges of connections refused before the peer was known (per TLS or not). */
  const anonymous = new Map<boolean, EdgeMetrics>();
  const anonymousEdge = (tls: boolean): EdgeMetrics => {
    let edge = anonymous.get(tls);
    if (edge === undefined) anonymous.set(tls, (edge = rt.metrics.edge(inboundEdgeLabels(null, tls, ''))));
    return edge;
  };
  const logged = new Set<string>();
  /** Info the first time per kind, debug afterwards (port scanners and misrouted clients repeat). */
  const logOnce = (kind: string, fields: Record<string, unknown>, message: string): void => {
    if (logged.has(kind)) log.debug(fields, message);
    else {
      logged.add(kind);
      log.info(fields, message);
    }
  };

  function fail(socket: Socket, err: unknown): void {
    log.error({ event: 'inbound.connection_failed', err: err as Error }, 'serving an inbound connection failed');
    socket.destroy();
  }

  /** Refuses a connection before its peer is known: counted on the anonymous edge as a failure, reset. */
  function refuse(raw: Socket, tls: boolean): void {
    countConnection(raw, anonymousEdge(tls), () => true);
    raw.resetAndDestroy();
  }

  async function accept(raw: Socket): Promise<void> {
    const peer = peerOf(raw);
    // Accept: the application port is the original destination's.
    const dst = acceptDecision(rt.origDst.lookup(raw), proxyPorts);
    if (dst.kind === 'direct') {
      logOnce('direct', { event: 'inbound.not_redirected', peer }, 'connection refused: not redirected (a direct connection to the inbound port)');
      return refuse(raw, false);
    }
    if (dst.kind === 'loop') {
      logOnce('loop', { event: 'inbound.loop', peer, port: dst.port }, 'connection refused: its destination is one of the proxy ports');
      return refuse(raw, false);
    }
    const port = dst.port;
    // Sniff: what the client sent first (as much as the port's declaration needs to know).
    const snapshot = rt.policy.current();
    const detection = await sniff(raw, port, snapshot, cfg.detectTimeoutMs);
    rt.metrics.detected('inbound', detection.kind);
    if (detection.kind === 'closed') {
      countConnection(raw, anonymousEdge(false), () => false);
      raw.destroy();
      return;
    }
    if (detection.kind === 'tls') {
      const hello = await readClientHello(raw, cfg.detectTimeoutMs);
      if (hello.kind === 'hello' && offersAny(hello.alpn, MESH_ALPN)) return acceptMesh(raw, port, peer);
      if (hello.kind === 'closed') {
        countConnection(raw, anonymousEdge(false), () => false);
        raw.destroy();
        return;
      }
      // The client's own TLS to the application: opaque bytes from an unmeshed client.
    }
    const declared = snapshot?.inboundProtocol(port) ?? 'detect';
    serve(new InboundConnection({ raw, port, peer, identity: null, tls: false, carried: plaintextProtocol(detection.kind, declared) }, rt.metrics), raw);
  }

  /** mTLS from a client proxy: handshake with our current certificate, then serve what the ALPN names. */
  async function acceptMesh(raw: Socket, port: number, peer: string): Promise<void> {
    const secureContext = rt.credentials.serverContext();
    if (secureContext === undefined) {
      logOnce('no-certificate', { event: 'tls.no_certificate', peer, port }, 'mesh connection refused: no certificate yet');
      return refuse(raw, true);
    }
    const tls = await acceptMeshTls(raw, { secureContext, alpn: MESH_ALPN, handshakeTimeoutMs: cfg.connectTimeoutMs });
    if (!tls.ok) {
      log.info({ event: 'tls.refused', peer, port, reason: tls.reason }, 'mesh connection refused');
      countConnection(raw, anonymousEdge(true), () => true);
      return;
    }
    const carried = meshProtocol(tls.alpn) as Carried;
    if (log.isLevelEnabled('debug')) log.debug({ event: 'tls.accepted', peer, port, identity: tls.identity, alpn: tls.alpn, resumed: tls.resumed }, 'mesh connection accepted');
    serve(new InboundConnection({ raw, port, peer, identity: tls.identity, tls: true, carried }, rt.metrics), tls.socket);
  }

  /** Hands the connection (`socket`: raw or TLS) to what serves its protocol. */
  function serve(conn: InboundConnection, socket: Socket): void {
    if (closing !== null) {
      conn.raw.destroy();
      return;
    }
    switch (conn.carried) {
      case 'http2':
        conn.countOn(conn.unrouted());
        return h2.serve(conn, socket);
      case 'http1':
        conn.countOn(conn.unrouted());
        return h1.serve(conn, socket);
      case 'opaque':
        void forwardTcp(conn, socket, bytes).catch((err: unknown) => fail(conn.raw, err));
    }
  }

  return {
    async listen() {
      if (listener !== null) return listener.address;
      listener = await listen({
        host: cfg.bindAddress,
        port: cfg.inboundPort,
        log,
        onConnection: (raw) => void accept(raw).catch((err: unknown) => fail(raw, err)),
      });
      proxyPorts.add(listener.address.port);
      unsubscribe = rt.policy.onChange((next) => {
        established.reauthorize(next);
        h2.reauthorize(next);
        h1.reauthorize(next);
      });
      log.info({ event: 'inbound.listening', address: `${listener.address.address}:${listener.address.port}` }, 'inbound listening');
      return listener.address;
    },
    close() {
      closing ??= (async () => {
        unsubscribe?.();
        const drained = listener?.close({ drainMs: cfg.drainTimeoutMs }) ?? Promise.resolve();
        h2.drain();
        h1.drain();
        await drained;
        h1.close();
        sessions.destroy();
        await pools.destroy();
      })();
      return closing;
    },
    stats() {
      return { connections: listener?.connections.size ?? 0, requestsInFlight: limit.inFlight };
    },
  };
}
