/**
 * Test support for the admin server: a raw HTTP/1.1 client (node:http, one connection per request, so
 * tests can set any header and abort), and a scripted application server recording what it was asked.
 */
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TestCa } from '@loom/ca/testing';
import type { Test } from 'tap';

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string;
  /** Connect to this host instead of 127.0.0.1. */
  readonly host?: string;
  /** Aborts the request (the client goes away). */
  readonly signal?: AbortSignal;
}

/** One request on a fresh connection. */
export function call(port: number, path: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: options.host ?? '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false, ...(options.signal === undefined ? {} : { signal: options.signal }) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** What the application received. */
export interface Seen {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface AppServer {
  readonly port: number;
  readonly seen: Seen[];
  /** How the application answers; 200 `ok` by default. */
  handler: Handler;
  /** Requests whose connection closed before the application answered. */
  readonly abandoned: Seen[];
}

/** An application on 127.0.0.1:0 (HTTPS with a certificate from `ca` when given). */
export async function startApp(t: Test, ca?: TestCa): Promise<AppServer> {
  const seen: Seen[] = [];
  const abandoned: Seen[] = [];
  const sockets = new Set<Socket>();
  const app: AppServer = {
    port: 0,
    seen,
    abandoned,
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    },
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const record = { url: req.url ?? '', headers: req.headers };
    seen.push(record);
    res.on('close', () => {
      if (!res.writableFinished) abandoned.push(record);
    });
    app.handler(req, res);
  };
  const leaf = ca?.leafFor({ dnsNames: ['app.local'] });
  const server = leaf === undefined ? createServer(onRequest) : createHttpsServer({ key: leaf.keyPem, cert: leaf.certPem }, onRequest);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return Object.assign(app, { port: (server.address() as AddressInfo).port });
}
