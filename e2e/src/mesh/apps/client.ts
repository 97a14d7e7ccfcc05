/**
 * The client-side application of end-to-end tests: one command per process, run inside a pod's network namespace
 * (so its connections go through that pod's iptables and proxy). The command is a JSON argument; the result is one
 * JSON line on stdout.
 *
 *   node client.js '{"kind":"http1","url":"http://10.96.0.10:8080/x","count":100}'
 */
import { connect as tcpConnect } from 'node:net';
import { request, Agent } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { credentials, Metadata, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { echoService, type Msg } from './echo-proto.js';

export type Command =
  | { kind: 'http1'; url: string; count: number; concurrency?: number; method?: string; headers?: Record<string, string>; body?: string }
  | { kind: 'load'; url: string; durationMs: number; concurrency: number }
  | { kind: 'h2'; url: string; count: number }
  | { kind: 'grpc-unary'; target: string; count: number }
  | { kind: 'grpc-bidi'; target: string; messages: number }
  | { kind: 'ws'; host: string; port: number; path: string; message: string }
  | { kind: 'tcp'; host: string; port: number; message: string }
  | { kind: 'raw'; host: string; port: number; data: string; waitMs: number };

export interface Result {
  /** Completed exchanges (any status). */
  completed: number;
  statuses: Record<string, number>;
  /** Which pod answered, from the `x-pod` header / trailer / body. */
  pods: Record<string, number>;
  errorCount: number;
  errors: string[];
  /** First response body (or echo), for detailed assertions. */
  sample?: string;
  /** Headers of the first response. */
  sampleHeaders?: Record<string, unknown>;
  trailers?: Record<string, unknown>;
}

const MAX_REQUESTS = 200_000;

function newResult(): Result {
  return { completed: 0, statuses: {}, pods: {}, errorCount: 0, errors: [] };
}

function count(r: Result, status: number | string, pod: string | undefined): void {
  r.completed += 1;
  r.statuses[String(status)] = (r.statuses[String(status)] ?? 0) + 1;
  if (pod !== undefined) r.pods[pod] = (r.pods[pod] ?? 0) + 1;
}

function fail(r: Result, err: unknown): void {
  r.errorCount += 1;
  if (r.errors.length < 5) r.errors.push(err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message}` : String(err));
}

function http1Once(agent: Agent, url: URL, c: { method?: string; headers?: Record<string, string>; body?: string }, r: Result): Promise<void> {
  return new Promise((resolve) => {
    const req = request(url, { agent, method: c.method ?? 'GET', headers: c.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('error', (err) => {
        fail(r, err);
        resolve();
      });
      res.on('end', () => {
        const pod = res.headers['x-pod'];
        count(r, res.statusCode ?? 0, typeof pod === 'string' ? pod : undefined);
        if (r.sample === undefined) {
          r.sample = Buffer.concat(chunks).toString();
          r.sampleHeaders = { ...res.headers };
        }
        resolve();
      });
    });
    req.on('error', (err) => {
      fail(r, err);
      resolve();
    });
    req.end(c.body);
  });
}

async function http1(c: Extract<Command, { kind: 'http1' }>): Promise<Result> {
  const r = newResult();
  const agent = new Agent({ keepAlive: true, maxSockets: c.concurrency ?? 1 });
  const url = new URL(c.url);
  let next = 0;
  const total = Math.min(c.count, MAX_REQUESTS);
  const worker = async (): Promise<void> => {
    while (next < total) {
      next += 1;
      await http1Once(agent, url, c, r);
    }
  };
  await Promise.all(Array.from({ length: c.concurrency ?? 1 }, worker));
  agent.destroy();
  return r;
}

async function load(c: Extract<Command, { kind: 'load' }>): Promise<Result> {
  const r = newResult();
  const agent = new Agent({ keepAlive: true, maxSockets: c.concurrency });
  const url = new URL(c.url);
  const deadline = Date.now() + Math.min(c.durationMs, 120_000);
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (Date.now() < deadline && sent < MAX_REQUESTS) {
      sent += 1;
      await http1Once(agent, url, {}, r);
    }
  };
  await Promise.all(Array.from({ length: c.concurrency }, worker));
  agent.destroy();
  return r;
}

async function h2(c: Extract<Command, { kind: 'h2' }>): Promise<Result> {
  const r = newResult();
  const url = new URL(c.url);
  const session = h2connect(url.origin);
  session.on('error', (err) => fail(r, err));
  for (let i = 0; i < Math.min(c.count, MAX_REQUESTS); i++) {
    await new Promise<void>((resolve) => {
      const stream = session.request({ ':path': url.pathname + url.search });
      const chunks: Buffer[] = [];
      let status = 0;
      let pod: string | undefined;
      stream.on('response', (h) => {
        status = Number(h[':status']);
        pod = typeof h['x-pod'] === 'string' ? h['x-pod'] : undefined;
      });
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('error', (err) => {
        fail(r, err);
        resolve();
      });
      stream.on('end', () => {
        count(r, status, pod);
        r.sample ??= Buffer.concat(chunks).toString();
        resolve();
      });
      stream.end();
    });
  }
  session.close();
  return r;
}

function grpcClient(target: string): InstanceType<ReturnType<typeof echoService>> {
  const Echo = echoService();
  return new Echo(target, credentials.createInsecure());
}

async function grpcUnary(c: Extract<Command, { kind: 'grpc-unary' }>): Promise<Result> {
  const r = newResult();
  const client = grpcClient(c.target);
  const unary = (client as unknown as { Unary: (m: Msg, md: Metadata, cb: (e: ServiceError | null, m?: Msg) => void) => { on(ev: 'status', f: (s: { metadata: Metadata }) => void): void } }).Unary.bind(client);
  for (let i = 0; i < Math.min(c.count, MAX_REQUESTS); i++) {
    await new Promise<void>((resolve) => {
      const call = unary({ text: `hello ${i}`, pod: '' }, new Metadata(), (err, msg) => {
        if (err !== null) {
          fail(r, err);
          count(r, `grpc-${err.code}`, undefined);
        } else {
          count(r, 'grpc-0', msg?.pod);
          if (msg !== undefined) r.sample ??= msg.text;
        }
      });
      call.on('status', (s) => {
        r.trailers ??= s.metadata.getMap();
        resolve();
      });
    });
  }
  client.close();
  return r;
}

async function grpcBidi(c: Extract<Command, { kind: 'grpc-bidi' }>): Promise<Result> {
  const r = newResult();
  const client = grpcClient(c.target);
  const call = (client as unknown as { Bidi: () => ClientDuplexStream<Msg, Msg> }).Bidi();
  const texts: string[] = [];
  await new Promise<void>((resolve) => {
    let sent = 0;
    const sendNext = (): void => {
      if (sent < c.messages) {
        call.write({ text: `m${sent}`, pod: '' });
        sent += 1;
      } else call.end();
    };
    call.on('data', (m: Msg) => {
      texts.push(m.text);
      count(r, 'message', m.pod);
      sendNext(); // ping-pong: each reply triggers the next message, proving both directions stream
    });
    call.on('error', (err) => fail(r, err));
    call.on('status', (s) => {
      r.trailers = { ...s.metadata.getMap(), code: s.code };
      resolve();
    });
    sendNext();
  });
  r.sample = texts.join(',');
  client.close();
  return r;
}

function ws(c: Extract<Command, { kind: 'ws' }>): Promise<Result> {
  const r = newResult();
  return new Promise((resolve) => {
    const socket = tcpConnect(c.port, c.host);
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    const timer = setTimeout(() => {
      fail(r, new Error('timed out'));
      socket.destroy();
    }, 10_000);
    socket.on('connect', () => {
      socket.write(`GET ${c.path} HTTP/1.1\r\nHost: ${c.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    socket.on('data', (d: Buffer) => {
      buffer = Buffer.concat([buffer, d]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString();
        buffer = buffer.subarray(end + 4);
        const status = Number(head.split(' ')[1]);
        const pod = /x-pod: (.*)/i.exec(head)?.[1]?.trim();
        r.sampleHeaders = { head };
        if (status !== 101) {
          count(r, status, pod);
          socket.destroy();
          return;
        }
        upgraded = true;
        count(r, 101, pod);
        socket.write(c.message);
      }
      if (upgraded && buffer.length >= Buffer.byteLength(c.message)) {
        r.sample = buffer.toString();
        socket.end();
      }
    });
    socket.on('error', (err) => fail(r, err));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(r);
    });
  });
}

function tcp(c: Extract<Command, { kind: 'tcp' }>): Promise<Result> {
  const r = newResult();
  return new Promise((resolve) => {
    const socket = tcpConnect(c.port, c.host);
    let echoed = '';
    const timer = setTimeout(() => {
      fail(r, new Error('timed out'));
      socket.destroy();
    }, 10_000);
    socket.on('connect', () => socket.write(c.message));
    socket.on('data', (d: Buffer) => {
      echoed += d.toString();
      if (echoed.length >= c.message.length) {
        count(r, 'echoed', undefined);
        socket.end();
      }
    });
    socket.on('error', (err) => fail(r, err));
    socket.on('close', () => {
      clearTimeout(timer);
      r.sample = echoed;
      resolve(r);
    });
  });
}

function raw(c: Extract<Command, { kind: 'raw' }>): Promise<Result> {
  const r = newResult();
  return new Promise((resolve) => {
    const socket = tcpConnect(c.port, c.host);
    let received = '';
    const timer = setTimeout(() => socket.destroy(), c.waitMs);
    socket.on('connect', () => socket.write(c.data));
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.on('error', (err) => fail(r, err));
    socket.on('close', () => {
      clearTimeout(timer);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(received)?.[1];
      count(r, status ?? 'none', undefined);
      r.sample = received;
      resolve(r);
    });
  });
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === undefined) throw new Error('usage: client.js <json command>');
  const c = JSON.parse(arg) as Command;
  const result =
    c.kind === 'http1' ? await http1(c)
    : c.kind === 'load' ? await load(c)
    : c.kind === 'h2' ? await h2(c)
    : c.kind === 'grpc-unary' ? await grpcUnary(c)
    : c.kind === 'grpc-bidi' ? await grpcBidi(c)
    : c.kind === 'ws' ? await ws(c)
    : c.kind === 'tcp' ? await tcp(c)
    : await raw(c);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`client: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
