/**
 * The server-side application of end-to-end tests, run inside a pod's network namespace:
 * - HTTP/1.1 on $HTTP_PORT (8080): answers JSON {pod, method, url, headers, body}; `/status/<code>` answers
 *   that code; an Upgrade request (WebSocket handshake) gets 101 and then every byte echoed back.
 * - gRPC (h2c) on $GRPC_PORT (8081): loom.e2e.echo.Echo Unary and Bidi, answering with the pod name and a
 *   trailer `x-pod`.
 * - TCP echo on $TCP_PORT (9090).
 * - HTTP/2 without TLS (h2c, prior knowledge) on $H2_PORT (8082): the same JSON answer as HTTP/1.1.
 * - HTTP/1.1 again on $ALT_PORT (8083), a port whose protocol is not declared (the proxies detect it).
 * With LOG_REQUESTS=1 every connection accepted (HTTP, h2c, TCP) and every HTTP request is written to stdout as a
 * line (`connection <port>`, `request <method> <url>`): tests read the app log to prove what reached it.
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createH2Server } from 'node:http2';
import { createServer as createTcpServer } from 'node:net';
import { Metadata, Server, ServerCredentials, type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { echoService, type Msg } from './echo-proto.js';

const pod = process.env.POD_NAME ?? 'unknown';
const httpPort = Number(process.env.HTTP_PORT ?? 8080);
const grpcPort = Number(process.env.GRPC_PORT ?? 8081);
const tcpPort = Number(process.env.TCP_PORT ?? 9090);
const h2Port = Number(process.env.H2_PORT ?? 8082);
const altPort = Number(process.env.ALT_PORT ?? 8083);
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const logRequests = process.env.LOG_REQUESTS === '1';
const logConnection = (port: number) => (): void => {
  if (logRequests) process.stdout.write(`connection ${port}\n`);
};

interface Req {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersion: string;
  readonly headers: IncomingHttpHeaders;
  on(event: 'data', f: (c: Buffer) => void): unknown;
  on(event: 'end' | 'error', f: () => void): unknown;
}
interface Res {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: string): unknown;
  destroy(): unknown;
}

function echo(req: Req, res: Res): void {
  if (logRequests) process.stdout.write(`request ${req.method ?? ''} ${req.url ?? ''}\n`);
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('error', () => res.destroy());
  req.on('end', () => {
    const status = /^\/status\/(\d{3})/.exec(req.url ?? '');
    const body = JSON.stringify({ pod, method: req.method, url: req.url, httpVersion: req.httpVersion, headers: req.headers, body: Buffer.concat(chunks).toString() });
    res.writeHead(status === null ? 200 : Number(status[1]), { 'content-type': 'application/json', 'x-pod': pod });
    res.end(body);
  });
}

const http = createHttpServer(echo);
http.on('upgrade', (req, socket, head) => {
  const key = req.headers['sec-websocket-key'];
  const accept = typeof key === 'string' ? createHash('sha1').update(key + WS_GUID).digest('base64') : '';
  socket.on('error', () => socket.destroy());
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade ?? 'websocket'}\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nx-pod: ${pod}\r\n\r\n`);
  if (head.length > 0) socket.write(head);
  socket.pipe(socket);
});
http.on('connection', logConnection(httpPort));
http.listen(httpPort, '0.0.0.0');
const alt = createHttpServer(echo);
alt.on('connection', logConnection(altPort));
alt.listen(altPort, '0.0.0.0');
const h2 = createH2Server(echo);
h2.on('sessionError', () => undefined);
h2.on('connection', logConnection(h2Port));
h2.listen(h2Port, '0.0.0.0');

const tcp = createTcpServer((socket) => {
  logConnection(tcpPort)();
  socket.on('error', () => socket.destroy());
  socket.pipe(socket);
});
tcp.listen(tcpPort, '0.0.0.0');

const grpc = new Server();
grpc.addService(echoService().service, {
  Unary: (call: ServerUnaryCall<Msg, Msg>, callback: sendUnaryData<Msg>) => {
    const trailer = new Metadata();
    trailer.set('x-pod', pod);
    callback(null, { text: call.request.text, pod }, trailer);
  },
  Bidi: (call: ServerDuplexStream<Msg, Msg>) => {
    call.on('data', (m: Msg) => call.write({ text: m.text, pod }));
    call.on('error', () => undefined);
    call.on('end', () => {
      const trailer = new Metadata();
      trailer.set('x-pod', pod);
      call.end(trailer);
    });
  },
});
grpc.bindAsync(`0.0.0.0:${grpcPort}`, ServerCredentials.createInsecure(), (err) => {
  if (err !== null) {
    process.stderr.write(`grpc listen failed: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`echo-server ${pod} listening: http ${httpPort}, grpc ${grpcPort}, tcp ${tcpPort}\n`);
});

const stop = (): void => {
  http.close();
  alt.close();
  h2.close();
  tcp.close();
  grpc.forceShutdown();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
