/**
 * Harness for the HTTP/1 client tests: real servers on 127.0.0.1:0 (node:http, and raw `net` servers that
 * script exact bytes), each counting the connections it accepted and those open; a handler that collects what
 * a request reports; waits bounded in time. Everything opened is closed at the test's teardown.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Test } from 'tap';
import type { H1Controller, H1DispatchOptions, H1Handler } from '../../../src/http/h1-client/index.js';
import type { H1Pool } from '../../../src/http/h1-client/index.js';
import { waitFor, within } from '../../support/wait.js';

export { within };
/** `waitFor` (a condition, what it is, at most `ms`). */
export const until = waitFor;

export interface Counted {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  /** Connections open now. */
  readonly open: () => number;
  /** The most connections open at once. */
  readonly maxOpen: () => number;
  /** Server-side sockets, in accept order. */
  readonly sockets: Socket[];
}

function counting(server: NetServer | HttpServer): Counted & { readonly ready: Promise<void> } {
  const sockets: Socket[] = [];
  let open = 0;
  let maxOpen = 0;
  server.on('connection', (socket: Socket) => {
    sockets.push(socket);
    open++;
    maxOpen = Math.max(maxOpen, open);
    socket.on('error', () => {});
    socket.on('close', () => open--);
  });
  const info = {
    port: 0,
    accepted: () => sockets.length,
    open: () => open,
    maxOpen: () => maxOpen,
    sockets,
    ready: Promise.resolve(),
  };
  info.ready = (async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    info.port = (server.address() as AddressInfo).port;
  })();
  return info;
}

async function closeServer(server: NetServer | HttpServer, sockets: readonly Socket[]): Promise<void> {
  for (const s of sockets) s.destroy();
  if ('closeAllConnections' in server) server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A node:http server on 127.0.0.1:0. */
export async function httpServer(t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Counted> {
  const server = createHttpServer(handler);
  server.keepAliveTimeout = 60_000;
  const counted = counting(server);
  await counted.ready;
  t.teardown(() => closeServer(server, counted.sockets));
  return counted;
}

/** A raw TCP server; `onConnection(socket, index)` scripts the bytes (index from 0, in accept order). */
export async function rawServer(t: Test, onConnection: (socket: Socket, index: number) => void): Promise<Counted> {
  let n = 0;
  const server = createNetServer((socket) => onConnection(socket, n++));
  const counted = counting(server);
  await counted.ready;
  t.teardown(() => closeServer(server, counted.sockets));
  return counted;
}

/** Collects on `socket` until `marker` (a complete request head: `\r\n\r\n` by default) has arrived `count` times, then calls `then`. */
export function onRequests(socket: Socket, then: (index: number, received: string) => void, marker = '\r\n\r\n'): void {
  let received = '';
  let seen = 0;
  socket.on('data', (d: Buffer) => {
    received += d.toString('latin1');
    let at = 0;
    let count = 0;
    for (;;) {
      const i = received.indexOf(marker, at);
      if (i < 0) break;
      count++;
      at = i + marker.length;
    }
    while (seen < count) then(seen++, received);
  });
}

export interface Outcome {
  readonly status: number;
  readonly statusText: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly trailers: IncomingHttpHeaders | null;
  readonly error: (Error & { code?: string }) | null;
  /** onRequestStart was called. */
  readonly started: boolean;
  /** Callbacks in order, by name (onResponseData once per chunk). */
  readonly calls: readonly string[];
}

/** A handler recording everything; `done` resolves at onResponseEnd or onResponseError. */
export class Recorder implements H1Handler {
  status = 0;
  statusText = '';
  headers: IncomingHttpHeaders = {};
  chunks: Buffer[] = [];
  trailers: IncomingHttpHeaders | null = null;
  error: (Error & { code?: string }) | null = null;
  started = false;
  controller: H1Controller | null = null;
  readonly calls: string[] = [];
  readonly done: Promise<Outcome>;
  /** Called with each chunk (after recording it). */
  onData: ((controller: H1Controller, chunk: Buffer) => void) | null = null;
  onStart: ((controller: H1Controller) => void) | null = null;
  #resolve!: (outcome: Outcome) => void;

  constructor() {
    this.done = new Promise<Outcome>((resolve) => {
      this.#resolve = resolve;
    });
  }

  get received(): number {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    return n;
  }

  #outcome(): Outcome {
    return {
      status: this.status,
      statusText: this.statusText,
      headers: this.headers,
      body: Buffer.concat(this.chunks),
      trailers: this.trailers,
      error: this.error,
      started: this.started,
      calls: this.calls,
    };
  }

  onRequestStart(controller: H1Controller): void {
    this.calls.push('onRequestStart');
    this.started = true;
    this.controller = controller;
    this.onStart?.(controller);
  }

  onResponseStart(_controller: H1Controller, status: number, headers: IncomingHttpHeaders, statusText: string): void {
    this.calls.push('onResponseStart');
    this.status = status;
    this.headers = headers;
    this.statusText = statusText;
  }

  onResponseData(controller: H1Controller, chunk: Buffer): void {
    this.calls.push('onResponseData');
    this.chunks.push(Buffer.from(chunk));
    this.onData?.(controller, chunk);
  }

  onResponseEnd(_controller: H1Controller, trailers: IncomingHttpHeaders): void {
    this.calls.push('onResponseEnd');
    this.trailers = trailers;
    this.#resolve(this.#outcome());
  }

  onResponseError(_controller: H1Controller, err: Error): void {
    this.calls.push('onResponseError');
    this.error = err;
    this.#resolve(this.#outcome());
  }
}

/** Dispatches a request (GET / without body by default) and waits for its outcome. */
export function send(pool: H1Pool, options: Partial<H1DispatchOptions> = {}, recorder = new Recorder()): Promise<Outcome> {
  pool.dispatch({ method: 'GET', path: '/', headers: ['host', 'app'], body: null, ...options }, recorder);
  return within(recorder.done, `the response to ${options.method ?? 'GET'} ${options.path ?? '/'}`);
}

