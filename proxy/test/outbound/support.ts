/**
 * Harness for the outbound proxy: a real outbound proxy on 127.0.0.1:0 with a policy store, a real credential
 * holder (a mintCa leaf for `shop/web`), metrics in a fresh registry and collected logs; hand-written "server
 * proxies" that speak the proxy-to-proxy contract (`wire.ts`: TLS 1.3, client certificates required, ALPN
 * `loom.h2` / `loom.http1` / `loom.opaque`); plaintext upstreams; and clients. Everything opened here is closed
 * at the test's teardown.
 *
 * Original destinations: a test decides where each application connection "meant" to go by the local address
 * its client binds (`127.0.0.x`), so no race exists between the proxy accepting and the test registering.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect as h2Connect, performServerHandshake, type ClientHttp2Session, type IncomingHttpHeaders as H2Headers, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, TLSSocket, type TlsOptions } from 'node:tls';
import { mintCa, type TestCa } from '@loom/ca/testing';
import type { ProxyPolicy } from '@loom/shared/policy';
import { Registry } from 'prom-client';
import type { Test } from 'tap';
import { dataPathConfig, type DataPathConfig } from '../../src/config.js';
import { credentialsFromPem } from '../../src/identity/credentials.js';
import { CredentialHolder } from '../../src/identity/holder.js';
import { peerSpiffeId } from '../../src/identity/tls.js';
import { proxyMetrics } from '../../src/metrics/families.js';
import { createOutbound, type OutboundProxy } from '../../src/outbound/index.js';
import { prepareSnapshot, PolicyStore } from '../../src/policy/snapshot.js';
import type { Runtime } from '../../src/runtime.js';
import type { OriginalDstLookup, SocketAddress } from '../../src/transport/orig-dst.js';
import { NEVER_SHED, type LoadShedder } from '../../src/overload.js';
import { MESH_ALPN } from '../../src/wire.js';
import { collectLogs, type LogRecord } from '../identity/support.js';
import { listenOn } from '../support/listen.js';
import { waitFor } from '../support/wait.js';

export { freePort as closedPort } from '../support/wait.js';
/** Waits until `condition` holds (polled every 5 ms, bounded by `ms`). */
export const until = (condition: () => boolean, ms = 5_000): Promise<void> => waitFor(condition, 'a condition', ms);

export { collectLogs, type LogRecord };

/** The client's identity and the default server identity. */
export const WEB = { namespace: 'shop', serviceAccount: 'web' } as const;
export const API = { namespace: 'shop', serviceAccount: 'api' } as const;
export const spiffe = (who: { namespace: string; serviceAccount: string }): string => `spiffe://cluster.local/ns/${who.namespace}/sa/${who.serviceAccount}`;

/** The Service VIP applications dial in these tests. */
export const VIP = { address: '10.96.0.10', port: 80 } as const;

/** A deterministic random source in [0, 1) (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- the outbound proxy -----------------------------------------------------------------------------------

export interface OutboundOptions {
  readonly ca?: TestCa;
  /** Applied before the proxy starts; none = no policy yet. */
  readonly policy?: ProxyPolicy;
  readonly config?: Partial<DataPathConfig>;
  /** Install a certificate (default true). */
  readonly certificate?: boolean;
  readonly random?: () => number;
  /** The proxy's monotonic clock (ejection, passthrough idleness); `performance.now` by default. */
  readonly now?: () => number;
  readonly maxPassthrough?: number;
  /** What decides load shedding (default: never). */
  readonly overload?: LoadShedder;
  /**
   * Original destination by the client's local address (`null`: not redirected); anything else goes to
   * {@link VIP}. The map may be changed later.
   */
  readonly destinations?: ReadonlyMap<string, SocketAddress | null>;
}

export interface OutboundFixture {
  readonly proxy: OutboundProxy;
  readonly port: number;
  readonly ca: TestCa;
  readonly store: PolicyStore;
  readonly holder: CredentialHolder;
  readonly registry: Registry;
  readonly records: LogRecord[];
  readonly rt: Runtime;
  apply(policy: ProxyPolicy): void;
  /** One metric family as text (`name{labels} value` lines). */
  metric(name: string): Promise<string>;
}

export async function startOutbound(t: Test, options: OutboundOptions = {}): Promise<OutboundFixture> {
  const ca = options.ca ?? mintCa();
  const holder = new CredentialHolder();
  if (options.certificate !== false) {
    const leaf = ca.leaf(WEB.namespace, WEB.serviceAccount);
    holder.install(credentialsFromPem({ keyPem: leaf.keyPem, certChainPem: leaf.certPem, trustBundle: [ca.rootPem], now: Date.now() }));
  }
  const store = new PolicyStore();
  if (options.policy !== undefined) store.apply(prepareSnapshot(options.policy));
  const registry = new Registry();
  const { logger, records } = collectLogs();
  const destinations = options.destinations ?? new Map<string, SocketAddress | null>();
  const origDst: OriginalDstLookup = {
    lookup: (socket) => {
      const address = socket.remoteAddress ?? '';
      return destinations.has(address) ? (destinations.get(address) ?? null) : VIP;
    },
  };
  const rt: Runtime = { log: logger, metrics: proxyMetrics(registry), policy: store, credentials: holder, origDst, draining: () => false, overload: options.overload ?? NEVER_SHED };
  // The mesh servers here speak `loom.h2`: HTTP/1 rides HTTP/2 unless a test asks for the `loom.http1` carrier.
  const cfg = dataPathConfig({ bindAddress: '127.0.0.1', outboundPort: 0, inboundPort: 0, adminPort: 0, detectTimeoutMs: 200, meshHttp1Carrier: 'h2', ...options.config });
  const proxy = createOutbound(cfg, rt, {
    ...(options.random === undefined ? {} : { random: options.random }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.maxPassthrough === undefined ? {} : { maxPassthrough: options.maxPassthrough }),
  });
  const { port } = await proxy.listen();
  t.teardown(() => proxy.close({ drainMs: 0 }));
  return {
    proxy,
    port,
    ca,
    store,
    holder,
    registry,
    records,
    rt,
    apply: (policy) => store.apply(prepareSnapshot(policy)),
    metric: async (name) => (await registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#')).join('\n'),
  };
}

// ---- server proxies (the other side of the contract) ------------------------------------------------------

export type StreamHandler = (stream: ServerHttp2Stream, headers: H2Headers, peer: string | undefined) => void;

export interface MeshServer {
  readonly port: number;
  readonly identity: string;
  /** TLS handshakes completed ('secureConnection'). */
  handshakes: number;
  /** Streams received on `loom.h2`, in order: their request headers. */
  readonly streams: H2Headers[];
  /** ALPN of each accepted connection. */
  readonly alpns: string[];
  /** Whether each accepted connection resumed an earlier TLS session. */
  readonly resumed: boolean[];
  /** Handshakes that failed (counted with `rawTls` only). */
  failedHandshakes: number;
  /** Bytes received on `loom.opaque` connections. */
  raw: string;
}

export interface MeshServerOptions {
  readonly ca: TestCa;
  readonly who?: { namespace: string; serviceAccount: string };
  /** Handles `loom.h2` streams; {@link echoHandler} by default. */
  readonly onStream?: StreamHandler;
  /** Handles `loom.http1` connections (an HTTP/1 server with an 'upgrade' handler); a WebSocket-like echo by default. */
  readonly http1?: HttpServer;
  /**
   * Terminate TLS on accepted TCP sockets (`new TLSSocket(socket, { isServer })`) instead of a tls.Server: no
   * session id context, so OpenSSL refuses (alert) a client that tries to resume a session.
   */
  readonly rawTls?: boolean;
}

/** A hand-written server proxy: TLS 1.3 with a mintCa leaf, client certificates required, the mesh ALPNs. */
export async function startMeshServer(t: Test, options: MeshServerOptions): Promise<MeshServer> {
  const who = options.who ?? API;
  const leaf = options.ca.leaf(who.namespace, who.serviceAccount);
  const onStream = options.onStream ?? echoHandler;
  const http1 = options.http1 ?? upgradeEcho();
  const sessions = new Set<ServerHttp2Session>();
  const sockets = new Set<TLSSocket>();
  const state: MeshServer = { port: 0, identity: leaf.spiffeId, handshakes: 0, streams: [], alpns: [], resumed: [], failedHandshakes: 0, raw: '' };
  const tlsOptions: TlsOptions = { key: leaf.keyPem, cert: leaf.certPem, ca: [options.ca.rootPem], requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3', ALPNProtocols: [...MESH_ALPN] };
  const onSecure = (socket: TLSSocket): void => {
    state.handshakes++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    const alpn = String(socket.alpnProtocol);
    state.alpns.push(alpn);
    state.resumed.push(socket.isSessionReused());
    const peer = peerSpiffeId(socket.getPeerCertificate());
    if (alpn === 'loom.h2') {
      const session = performServerHandshake(socket);
      sessions.add(session);
      session.on('error', () => {});
      session.on('close', () => sessions.delete(session));
      session.on('stream', (stream: ServerHttp2Stream, headers: H2Headers) => {
        state.streams.push(headers);
        stream.on('error', () => {});
        onStream(stream, headers, peer);
      });
    } else if (alpn === 'loom.http1') {
      http1.emit('connection', socket);
    } else {
      socket.on('data', (d: Buffer) => {
        state.raw += d.toString('latin1');
        socket.write(d);
      });
      socket.on('end', () => socket.end());
    }
  };
  const context = createSecureContext(tlsOptions);
  const server: NetServer =
    options.rawTls === true
      ? createNetServer((tcp) => {
          tcp.on('error', () => {});
          const socket = new TLSSocket(tcp, { ...tlsOptions, isServer: true, secureContext: context });
          socket.on('error', () => {
            if (!socket.authorized) state.failedHandshakes++;
          });
          socket.once('secure', () => {
            // A server-side TLSSocket not made by tls.Server stays `secureConnecting`; an HTTP/2 session would wait.
            (socket as unknown as { secureConnecting: boolean }).secureConnecting = false;
            onSecure(socket);
          });
        })
      : createTlsServer(tlsOptions, onSecure);
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    for (const s of sessions) s.destroy();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return Object.assign(state, { port: (server.address() as AddressInfo).port });
}

/** Body of a stream, as text. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : chunk.toString();
  return text;
}

/**
 * The default server-side handler:
 * - `/echo...`: 200 with JSON `{ method, path, headers, body, peer }` (the request as received);
 * - `/trailers`: 200, body `payload`, trailers `x-checksum: abc`, `grpc-status: 0`;
 * - `/stream`: a gRPC-like bidirectional stream: `application/grpc` headers at once, each chunk echoed back
 *   upper-cased as it arrives, then trailers `grpc-status: 0`;
 * - `/reset`: headers and a first chunk, then RST_STREAM(INTERNAL_ERROR) (no END_STREAM);
 * - `/status/<n>`: status n;
 * - `/slow/<ms>`: 200 after ms.
 */
export const echoHandler: StreamHandler = (stream, headers, peer) => {
  const path = String(headers[':path']);
  if (path === '/stream') {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'done' }));
    stream.on('data', (chunk: Buffer) => stream.write(chunk.toString().toUpperCase()));
    stream.on('end', () => stream.end());
    return;
  }
  if (path === '/reset') {
    stream.respond({ ':status': 200 });
    stream.write('partial', () => setTimeout(() => stream.destroy(new Error('boom')), 20));
    return;
  }
  if (path.startsWith('/status/')) {
    stream.respond({ ':status': Number(path.slice(8)) });
    stream.end();
    return;
  }
  void readAll(stream).then((body) => {
    if (stream.closed || stream.destroyed) return;
    const respond = (): void => {
      if (path === '/trailers') {
        stream.respond({ ':status': 200 }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc', 'grpc-status': '0' }));
        stream.end('payload');
        return;
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(headers)) out[k] = v;
      stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-served-by': 'mesh' });
      stream.end(JSON.stringify({ method: headers[':method'], path, headers: out, body, peer }));
    };
    if (path.startsWith('/slow/')) setTimeout(respond, Number(path.slice(6)));
    else respond();
  });
};

/** An HTTP/1 server that accepts `Upgrade: echo` and then echoes bytes upper-cased. */
export function upgradeEcho(): HttpServer {
  const server = createHttpServer((_req, res) => res.end('not upgraded'));
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: ${req.headers.upgrade ?? ''}\r\nx-path: ${req.url ?? ''}\r\n\r\n`);
    if (head.length > 0) socket.write(head.toString().toUpperCase());
    socket.on('data', (d: Buffer) => socket.write(d.toString().toUpperCase()));
    socket.on('end', () => socket.end());
  });
  return server;
}

// ---- plaintext upstreams ----------------------------------------------------------------------------------

/** A plain HTTP/1 server on 127.0.0.1 answering JSON `{ method, url, headers, body }`. */
export async function startPlainHttp(t: Test, handler?: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ port: number; requests: number }> {
  const state = { port: 0, requests: 0 };
  const server = createHttpServer((req, res) => {
    state.requests++;
    void readAll(req).then((body) => {
      if (handler !== undefined) return handler(req, res, body);
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-served-by', 'plain');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
    });
  });
  state.port = await listenOn(t, server);
  return state;
}

/** A plain h2c server (prior knowledge) with `handler` for its streams. */
export async function startPlainH2(t: Test, handler: StreamHandler = echoHandler): Promise<{ port: number; streams: number }> {
  const state = { port: 0, streams: 0 };
  const sessions = new Set<ServerHttp2Session>();
  const server = createNetServer((socket) => {
    socket.on('error', () => {});
    const session = performServerHandshake(socket);
    sessions.add(session);
    session.on('error', () => {});
    session.on('close', () => sessions.delete(session));
    session.on('stream', (stream: ServerHttp2Stream, headers: H2Headers) => {
      state.streams++;
      stream.on('error', () => {});
      handler(stream, headers, undefined);
    });
  });
  t.teardown(() => {
    for (const s of sessions) s.destroy();
  });
  state.port = await listenOn(t, server);
  return state;
}

/** A plain TCP echo server. */
export async function startTcpEcho(t: Test): Promise<{ port: number; received: string }> {
  const state = { port: 0, received: '' };
  const server = createNetServer((socket) => {
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      state.received += d.toString();
      socket.write(d);
    });
    socket.on('end', () => socket.end());
  });
  state.port = await listenOn(t, server);
  return state;
}



// ---- clients ----------------------------------------------------------------------------------------------

export interface H1Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly trailers: Record<string, string | undefined>;
}

export interface H1RequestOptions {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | readonly string[];
  /** Client's local address (selects the original destination). */
  readonly localAddress?: string;
  readonly agent?: import('node:http').Agent | false;
}

/** One HTTP/1.1 request through the outbound port. */
export function h1(port: number, options: H1RequestOptions = {}): Promise<H1Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/echo',
        headers: { host: 'api.shop', ...options.headers },
        agent: options.agent ?? false,
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      },
      (res) => {
        readAll(res).then(
          (body) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, trailers: res.trailers }),
          reject,
        );
      },
    );
    req.on('error', reject);
    const body = options.body;
    if (typeof body === 'string') req.end(body);
    else if (body !== undefined) {
      for (const part of body) req.write(part);
      req.end();
    } else req.end();
  });
}

/** An h2c client session to the outbound port (prior knowledge). */
export async function h2Client(t: Test, port: number, localAddress?: string): Promise<ClientHttp2Session> {
  const session = h2Connect(`http://127.0.0.1:${port}`, localAddress === undefined ? {} : { createConnection: () => netConnect({ host: '127.0.0.1', port, localAddress }) });
  session.on('error', () => {});
  t.teardown(() => {
    session.destroy();
  });
  await once(session, 'connect');
  return session;
}

/** A raw TCP connection to the outbound port. */
export async function rawConnect(t: Test, port: number, localAddress?: string): Promise<Socket> {
  const socket = netConnect({ host: '127.0.0.1', port, ...(localAddress === undefined ? {} : { localAddress }) });
  socket.on('error', () => {});
  t.teardown(() => {
    socket.destroy();
  });
  await once(socket, 'connect');
  return socket;
}

/** A raw TCP connection to the outbound port, not waiting for it to be established (it may be reset at once). */
export function rawOpen(t: Test, port: number, localAddress?: string): Socket {
  const socket = netConnect({ host: '127.0.0.1', port, ...(localAddress === undefined ? {} : { localAddress }) });
  socket.on('error', () => {});
  t.teardown(() => {
    socket.destroy();
  });
  return socket;
}

/** Everything the socket receives until it closes (and whether it was reset). */
export function untilClosed(socket: Socket): Promise<{ data: string; error: string | undefined }> {
  return new Promise((resolve) => {
    let data = '';
    let error: string | undefined;
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.on('close', () => resolve({ data, error }));
  });
}

/** Reads from `socket` until `text` arrived (bounded by `ms`). */
export function readUntil(socket: Socket, text: string, ms = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${JSON.stringify(text)}; got ${JSON.stringify(data)}`));
    }, ms);
    const onData = (d: Buffer): void => {
      data += d.toString('latin1');
      if (data.includes(text)) {
        cleanup();
        resolve(data);
      }
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error(`closed before ${JSON.stringify(text)}; got ${JSON.stringify(data)}`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}


/** The metric family's text once it matches `pattern` (polling, bounded); the last text otherwise. */
export async function waitForMetric(out: Pick<OutboundFixture, 'metric'>, name: string, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const text = await out.metric(name);
    if (pattern.test(text)) return text;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return out.metric(name);
}
