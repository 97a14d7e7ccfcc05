/**
 * Harness for the inbound proxy: a real inbound proxy on 127.0.0.1:0 with a policy store, a credential holder
 * holding a mintCa leaf for the server workload `shop/api`, metrics in a fresh registry and collected logs;
 * real applications on 127.0.0.1 (HTTP/1.1, h2c, TCP echo); and hand-written "client proxies" that speak the
 * proxy-to-proxy contract (`wire.ts`: TLS 1.3 with a client certificate, ALPN `loom.h2` / `loom.http1` /
 * `loom.opaque`). Every connection's original destination is the application's port (`dst`, changeable).
 * Everything opened here is closed at the test's teardown.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import {
  connect as h2Connect,
  constants as h2constants,
  createServer as createH2Server,
  type ClientHttp2Session,
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { mintCa, type TestCa } from '@loom/ca/testing';
import type { ProxyPolicy } from '@loom/shared/policy';
import { Registry } from 'prom-client';
import type { Test } from 'tap';
import { dataPathConfig, type DataPathConfig } from '../../src/config.js';
import { credentialsFromPem } from '../../src/identity/credentials.js';
import { CredentialHolder } from '../../src/identity/holder.js';
import { checkPeerIdentity } from '../../src/identity/tls.js';
import { createInbound, type InboundProxy, type InboundProxyOptions } from '../../src/inbound/index.js';
import { proxyMetrics, type ProxyMetrics } from '../../src/metrics/families.js';
import type { Logger } from '@loom/shared/runtime';
import { prepareSnapshot, PolicyStore } from '../../src/policy/snapshot.js';
import type { Runtime } from '../../src/runtime.js';
import type { SocketAddress } from '../../src/transport/orig-dst.js';
import { collectLogs, type LogRecord } from '../identity/support.js';
import { NEVER_SHED, type LoadShedder } from '../../src/overload.js';
import { waitFor } from '../support/wait.js';
import { allow, testPolicy } from '../support/policy.js';
import { InboundAuthz } from '../../src/inbound/authorize.js';
import { EstablishedConnections } from '../../src/inbound/established.js';
import { connectPlain } from '../../src/transport/connect.js';

export { freePort, within } from '../support/wait.js';
export { listenOn } from '../support/listen.js';
import { listenOn } from '../support/listen.js';
/** `waitFor` (a condition, what it is, at most `ms`). */
export const until = waitFor;

export { collectLogs, type LogRecord };

export const WEB = 'spiffe://cluster.local/ns/shop/sa/web';
export const API = 'spiffe://cluster.local/ns/shop/sa/api';

// ---- the inbound proxy ------------------------------------------------------------------------------------

export interface InboundOptions {
  readonly ca?: TestCa;
  /** Applied before the proxy starts; none = no policy yet. */
  readonly policy?: ProxyPolicy;
  readonly config?: Partial<DataPathConfig>;
  /** Options of `createInbound` beyond the config. */
  readonly proxyOptions?: InboundProxyOptions;
  /** Install the server certificate (default true). */
  readonly certificate?: boolean;
  /** The application port every connection was meant for (see `dst`). */
  readonly appPort: number;
  readonly draining?: () => boolean;
  /** What decides load shedding (default: never). */
  readonly overload?: LoadShedder;
}

export interface InboundFixture {
  readonly proxy: InboundProxy;
  readonly port: number;
  readonly ca: TestCa;
  readonly store: PolicyStore;
  readonly holder: CredentialHolder;
  readonly registry: Registry;
  readonly records: LogRecord[];
  /** The original destination of new connections; `null` = not redirected. */
  dst: SocketAddress | null;
  apply(policy: ProxyPolicy): void;
  /** One metric family as text (`name{labels} value` lines, no comments). */
  metric(name: string): Promise<string>;
  /** Log records with this event. */
  events(event: string): LogRecord[];
}

export async function startInbound(t: Test, options: InboundOptions): Promise<InboundFixture> {
  const ca = options.ca ?? mintCa();
  const holder = new CredentialHolder();
  if (options.certificate !== false) {
    const leaf = ca.leaf('shop', 'api');
    holder.install(credentialsFromPem({ keyPem: leaf.keyPem, certChainPem: leaf.certPem, trustBundle: [ca.rootPem], now: Date.now() }));
  }
  const store = new PolicyStore();
  if (options.policy !== undefined) store.apply(prepareSnapshot(options.policy));
  const registry = new Registry();
  const { logger, records } = collectLogs();
  const fixture = { dst: { address: '127.0.0.1', port: options.appPort } as SocketAddress | null };
  const rt: Runtime = {
    log: logger,
    metrics: proxyMetrics(registry),
    policy: store,
    credentials: holder,
    origDst: { lookup: () => fixture.dst },
    draining: options.draining ?? (() => false),
    overload: options.overload ?? NEVER_SHED,
  };
  const cfg = dataPathConfig({ bindAddress: '127.0.0.1', outboundPort: 0, inboundPort: 0, adminPort: 0, detectTimeoutMs: 300, ...options.config });
  const proxy = createInbound(cfg, rt, options.proxyOptions);
  const { port } = await proxy.listen();
  t.teardown(() => proxy.close());
  return Object.assign(fixture, {
    proxy,
    port,
    ca,
    store,
    holder,
    registry,
    records,
    apply: (policy: ProxyPolicy) => store.apply(prepareSnapshot(policy)),
    metric: async (name: string) =>
      (await registry.getSingleMetricAsString(name))
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .join('\n'),
    events: (event: string) => records.filter((r) => r.event === event),
  });
}

// ---- applications -----------------------------------------------------------------------------------------

/** What the HTTP/1.1 application saw of a request (its JSON reply). */
export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface H1App {
  readonly port: number;
  readonly server: HttpServer;
  /** Requests to `/hold` wait until this is called (releases every held request). */
  release(): void;
  /** Requests received so far. */
  readonly seen: Seen[];
}

/**
 * An HTTP/1.1 application: replies 200 with JSON of what it saw (`/hold` waits for `release()`, `/status/<n>`
 * answers n); Upgrade requests get a raw `101`, CONNECT requests a `200`, and then every byte echoed back.
 */
export async function startH1App(t: Test): Promise<H1App> {
  const seen: Seen[] = [];
  let held: (() => void)[] = [];
  const server = createHttpServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', httpVersion: req.httpVersion, headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      const reply = (): void => {
        const status = req.url?.startsWith('/status/') === true ? Number(req.url.slice(8)) : 200;
        const body = JSON.stringify(s);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-app': 'h1' });
        res.end(body);
      };
      if (req.url === '/hold') held.push(reply);
      else reply();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${req.headers.upgrade ?? ''}\r\nconnection: Upgrade\r\nx-seen-url: ${req.url ?? ''}\r\n\r\n`);
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    socket.write(`HTTP/1.1 200 Connection Established\r\nx-seen-url: ${req.url ?? ''}\r\n\r\n`);
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  await listenOn(t, server);
  return {
    port: (server.address() as AddressInfo).port,
    server,
    seen,
    release: () => {
      const pending = held;
      held = [];
      for (const reply of pending) reply();
    },
  };
}

/**
 * An h2c application. `/echo` (gRPC-style): responds `content-type: application/grpc`, echoes every request
 * chunk as it arrives (bidi streaming), and on the request's end sends trailers `grpc-status: 0`,
 * `x-trailer: done`, `x-count: <chunks>`. `/fail`: trailers-only `grpc-status: 13`. `/reset`: RST_STREAM before
 * responding; `/reset-late`: after the headers and some data; `/hang`: headers and some data, then nothing.
 * Anything else: 200 with a JSON body of the request headers.
 */
export interface H2App {
  readonly port: number;
  readonly server: Http2Server;
  /** Request headers of every stream received. */
  readonly streams: IncomingHttpHeaders[];
  /** Every stream that closed: its path and RST_STREAM code (0 = none). */
  readonly closed: { readonly path: string; readonly rstCode: number }[];
}

export async function startH2App(t: Test): Promise<H2App> {
  const streams: IncomingHttpHeaders[] = [];
  const closed: { path: string; rstCode: number }[] = [];
  const server = createH2Server();
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => {});
    stream.on('close', () => closed.push({ path: String(headers[':path']), rstCode: stream.rstCode ?? 0 }));
    streams.push(headers);
    switch (headers[':path']) {
      case '/echo': {
        let count = 0;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'x-trailer': 'done', 'x-count': String(count) }));
        stream.on('data', (chunk: Buffer) => {
          count += 1;
          stream.write(chunk);
        });
        stream.on('end', () => stream.end());
        return;
      }
      case '/fail':
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '13', 'grpc-message': 'boom' }, { endStream: true });
        return;
      case '/reset':
        stream.close(h2constants.NGHTTP2_INTERNAL_ERROR);
        return;
      case '/hang':
        stream.respond({ ':status': 200 });
        stream.write('started');
        return;
      case '/reset-late':
        stream.respond({ ':status': 200 });
        stream.write('partial', () => setTimeout(() => stream.destroy(new Error('boom')), 20));
        return;
      default:
        stream.resume();
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.end(JSON.stringify(headers));
    }
  });
  await listenOn(t, server);
  return { port: (server.address() as AddressInfo).port, server, streams, closed };
}

/** A TCP echo application; `connections` counts accepted connections. */
export async function startEchoApp(t: Test): Promise<{ port: number; server: NetServer; readonly connections: Socket[] }> {
  const connections: Socket[] = [];
  const server = createNetServer((socket) => {
    connections.push(socket);
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await listenOn(t, server);
  return { port: (server.address() as AddressInfo).port, server, connections };
}



// ---- client proxies (the contract) and plaintext clients ----------------------------------------------------

export interface Leaf {
  readonly keyPem: string;
  readonly certPem: string;
}

/** A mesh connection as a client proxy opens it: TLS 1.3, our leaf, the server's SPIFFE ID checked, one ALPN. */
export async function meshConnect(t: Test, port: number, options: { ca: TestCa; leaf: Leaf; alpn: string; expect?: string }): Promise<TLSSocket> {
  const socket = tlsConnect({
    host: '127.0.0.1',
    port,
    key: options.leaf.keyPem,
    cert: options.leaf.certPem,
    ca: [options.ca.rootPem],
    minVersion: 'TLSv1.3',
    ALPNProtocols: [options.alpn],
    checkServerIdentity: checkPeerIdentity(options.expect ?? API),
  });
  socket.on('error', () => {});
  t.teardown(() => {
    socket.destroy();
  });
  await once(socket, 'secureConnect');
  return socket;
}

/** An HTTP/2 session over a `loom.h2` mesh connection. */
export async function meshH2(t: Test, port: number, options: { ca: TestCa; leaf: Leaf }): Promise<ClientHttp2Session> {
  const socket = await meshConnect(t, port, { ...options, alpn: 'loom.h2' });
  const session = h2Connect('http://127.0.0.1', { createConnection: () => socket });
  session.on('error', () => {});
  t.teardown(() => {
    session.destroy();
  });
  return session;
}

/** A plaintext h2c session (prior knowledge). */
export function plainH2(t: Test, port: number): ClientHttp2Session {
  const session = h2Connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  t.teardown(() => {
    session.destroy();
  });
  return session;
}

export interface H2Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly trailers: IncomingHttpHeaders | undefined;
  /** RST_STREAM code the stream ended with (0 = none). */
  readonly rstCode: number;
}

/** One request on `session`; resolves when the stream closes (never rejects). */
export function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: string): Promise<H2Response> {
  return new Promise((resolve) => {
    const stream = session.request({ ':method': 'GET', ':path': '/', ...headers }, { endStream: body === undefined });
    let responseHeaders: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    let text = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (responseHeaders = h));
    stream.on('trailers', (h: IncomingHttpHeaders) => (trailers = h));
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('error', () => {});
    stream.on('close', () => resolve({ status: Number(responseHeaders[':status'] ?? 0), headers: responseHeaders, body: text, trailers, rstCode: stream.rstCode ?? 0 }));
    if (body !== undefined) stream.end(body);
  });
}

/** Resolves when `socket` closes: `reset` when the peer reset it (ECONNRESET), else `closed`; plus what it received. */
export function closeOf(socket: Socket): Promise<{ how: 'reset' | 'closed'; received: string }> {
  return new Promise((resolve) => {
    let received = '';
    let reset = false;
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'ECONNRESET') reset = true;
    });
    socket.on('close', () => resolve({ how: reset ? 'reset' : 'closed', received }));
  });
}

/** A plaintext TCP connection to the inbound port. */
export async function plainConnect(t: Test, port: number): Promise<Socket> {
  const socket = netConnect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  t.teardown(() => {
    socket.destroy();
  });
  await once(socket, 'connect');
  return socket;
}

/** Writes `data` and resolves with the first `length` bytes echoed back (or rejects when the socket closes first). */
export function roundTrip(socket: Socket, data: string, length = data.length): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer): void => {
      received += chunk.toString();
      if (received.length >= length) {
        cleanup();
        resolve(received);
      }
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error(`closed after ${JSON.stringify(received)}`));
    };
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.write(data);
  });
}

/** Sends raw bytes on a fresh plaintext connection and resolves with everything received until it closes. */
export async function rawExchange(t: Test, port: number, data: string | Buffer, options: { endAfterMs?: number } = {}): Promise<string> {
  const socket = await plainConnect(t, port);
  const closed = closeOf(socket);
  socket.write(data);
  if (options.endAfterMs !== undefined) setTimeout(() => socket.end(), options.endAfterMs).unref();
  return (await closed).received;
}

/**
 * The pieces of the inbound path that re-authorize established connections, over a policy allowing unmeshed
 * clients, and a `dial` that first changes the policy to one allowing only {@link WEB}: a connection authorized
 * as it arrived is revoked while its application connection opens.
 */
export interface RevokingInbound {
  readonly logger: Logger;
  readonly records: LogRecord[];
  readonly metrics: ProxyMetrics;
  readonly authz: InboundAuthz;
  readonly established: EstablishedConnections;
  readonly dial: (port: number) => Promise<Socket>;
}

export function revokedWhileDialing(): RevokingInbound {
  const store = new PolicyStore();
  store.apply(prepareSnapshot(testPolicy({ identity: API, mesh: { allowUnmeshed: true } })));
  const { logger, records } = collectLogs();
  const metrics = proxyMetrics(new Registry());
  const authz = new InboundAuthz(store, metrics, logger);
  const established = new EstablishedConnections(authz, logger);
  store.onChange((next) => established.reauthorize(next));
  const dial = (port: number): Promise<Socket> => {
    store.apply(prepareSnapshot(testPolicy({ identity: API, authorizations: [allow({ sources: [WEB] })] })));
    return connectPlain('127.0.0.1', port, 1_000);
  };
  return { logger, records, metrics, authz, established, dial };
}
