/**
 * The constant-rate (open-loop) HTTP/1.1 load generator, free of coordinated omission: request `i` is due at
 * `start + i / rate`, whatever happened to earlier requests, and its latency is measured from that intended
 * time to the end of its response. Requests go round robin over `connections` keep-alive connections and are
 * pipelined when the previous response on a connection has not arrived yet, so a slow system under test sees
 * the queue build up (and the latency shows it) instead of the generator slowing down to its pace.
 *
 * A worker thread (ticker-worker.ts) keeps the schedule; `sendLag` reports how late the main thread actually
 * wrote requests, which bounds the generator's own error. Raw sockets and a prepared request buffer keep the
 * per-request cost low (a few µs), so one core drives tens of thousands of requests per second.
 */
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { Worker } from 'node:worker_threads';
import { mean, percentile } from '../lib/index.js';
import { Http1ResponseReader } from './http1-reader.js';
import type { TickerData } from './ticker-worker.js';

export interface RateOptions {
  readonly host: string;
  readonly port: number;
  /** Requests per second offered. */
  readonly rate: number;
  readonly connections: number;
  /** How long requests are sent. */
  readonly seconds: number;
  /** After the last request is due, how long to wait for outstanding responses. */
  readonly drainSeconds: number;
}

export interface LatencySummary {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

export interface RateResult {
  /** Requests written. */
  readonly sent: number;
  /** Seconds between the first and the last due time (the offered window). */
  readonly seconds: number;
  /** 2xx responses. */
  readonly ok: number;
  /** 2xx responses that arrived before the offered window ended (the rate the system kept up with). */
  readonly okInWindow: number;
  /** 503 responses (load shed). */
  readonly shed: number;
  /** Other statuses. */
  readonly otherStatus: number;
  /** Requests lost when their connection closed or failed before answering. */
  readonly failed: number;
  /** Still unanswered when the drain time ran out. */
  readonly unanswered: number;
  /** From the intended send time, over 2xx responses. */
  readonly latency: LatencySummary;
  /** How late requests were written after their due time (the generator's own error). */
  readonly sendLag: { readonly p50Ms: number; readonly p99Ms: number };
  /** Connection errors seen (first message), for the report. */
  readonly errors: readonly string[];
}

export function summariseLatency(samples: readonly number[]): LatencySummary {
  return {
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    p999Ms: percentile(samples, 99.9),
    meanMs: mean(samples),
    maxMs: samples.length === 0 ? NaN : samples.reduce((a, b) => Math.max(a, b), 0),
  };
}

const requestBuffer = (host: string, port: number): Buffer => Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nUser-Agent: loom-bench\r\n\r\n`, 'latin1');

/** Shared state of one run: the clock, the counters and the samples. */
class Run {
  readonly base = process.hrtime.bigint();
  readonly okLatencies: number[] = [];
  readonly lags: number[] = [];
  readonly errors: string[] = [];
  ok = 0;
  okInWindow = 0;
  /** End of the offered window (ms on this run's clock). */
  windowEnd = Infinity;
  shed = 0;
  otherStatus = 0;
  failed = 0;
  /** Responses are stamped with the arrival time of the chunk that completed them. */
  chunkTime = 0;

  now(): number {
    return Number(process.hrtime.bigint() - this.base) / 1e6;
  }

  error(message: string): void {
    if (this.errors.length < 5 && !this.errors.includes(message)) this.errors.push(message);
  }
}

/** One keep-alive connection with its requests in flight (intended times, in order). */
class Connection {
  readonly #run: Run;
  readonly #options: RateOptions;
  readonly #request: Buffer;
  #socket: Socket | null = null;
  #connected = false;
  /** Due times of requests written (or waiting for the connection), oldest first from `#head`. */
  #pending: number[] = [];
  #head = 0;
  /** How many of `#pending` (from the end) still wait for the connection to open. */
  #unwritten = 0;
  #closed = false;

  constructor(run: Run, options: RateOptions, requestBytes: Buffer) {
    this.#run = run;
    this.#options = options;
    this.#request = requestBytes;
  }

  get outstanding(): number {
    return this.#pending.length - this.#head;
  }

  get connected(): boolean {
    return this.#connected;
  }

  open(): void {
    if (this.#closed) return;
    const socket = connect({ host: this.#options.host, port: this.#options.port, noDelay: true });
    this.#socket = socket;
    this.#connected = false;
    const reader = new Http1ResponseReader((status, close) => this.#onResponse(status, close));
    let everConnected = false;
    socket.on('connect', () => {
      everConnected = true;
      this.#connected = true;
      for (; this.#unwritten > 0; this.#unwritten--) socket.write(this.#request);
    });
    socket.on('data', (chunk: Buffer) => {
      this.#run.chunkTime = this.#run.now();
      try {
        reader.push(chunk);
      } catch (error) {
        this.#run.error((error as Error).message);
        socket.destroy();
      }
    });
    socket.on('end', () => {
      this.#run.chunkTime = this.#run.now();
      reader.end();
    });
    socket.on('error', (error: Error) => this.#run.error(error.message));
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#connected = false;
      // What was written and not answered is lost; what waited for the connection goes on the next one.
      const lost = this.outstanding - this.#unwritten;
      this.#run.failed += lost;
      this.#pending = this.#pending.slice(this.#pending.length - this.#unwritten);
      this.#head = 0;
      if (this.#closed) return;
      // Reconnect at once after a close by the server; after a failed connect, not in a tight loop.
      if (everConnected) this.open();
      else setTimeout(() => this.open(), 50);
    });
  }

  /** Writes a request due at `due` (pipelined behind any in flight). */
  send(due: number): void {
    this.#pending.push(due);
    if (this.#socket !== null && this.#connected) this.#socket.write(this.#request);
    else this.#unwritten += 1;
  }

  close(): void {
    this.#closed = true;
    this.#socket?.destroy();
  }

  #onResponse(status: number, close: boolean): void {
    const due = this.#pending[this.#head++];
    if (this.#head > 4096 && this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
    const run = this.#run;
    if (due === undefined) {
      run.error(`status ${status} with no request outstanding`);
      return;
    }
    if (status >= 200 && status < 300) {
      run.ok += 1;
      if (run.chunkTime <= run.windowEnd) run.okInWindow += 1;
      run.okLatencies.push(run.chunkTime - due);
    } else if (status === 503) run.shed += 1;
    else run.otherStatus += 1;
    if (close) this.#socket?.end();
  }
}

/** Offers `rate` requests per second for `seconds` and reports what came back. */
export async function runConstantRate(options: RateOptions): Promise<RateResult> {
  const run = new Run();
  const requestBytes = requestBuffer(options.host, options.port);
  const connections = Array.from({ length: Math.max(1, options.connections) }, () => new Connection(run, options, requestBytes));
  for (const c of connections) c.open();
  await waitConnected(connections, run);
  const count = Math.max(1, Math.round(options.rate * options.seconds));
  const intervalMs = 1000 / options.rate;
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const start = new Float64Array(new SharedArrayBuffer(8));
  const data: TickerData = { baseNs: run.base, intervalNs: intervalMs * 1e6, count, minGapNs: 50_000, flag, start };
  const ticker = new Worker(new URL('./ticker-worker.js', import.meta.url), { workerData: data });
  let startMs = NaN;
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    ticker.on('message', (due: number | 'ready') => {
      const now = run.now();
      if (due === 'ready') {
        // The schedule starts once the clock thread runs (it takes tens of ms to boot).
        startMs = now + 2;
        run.windowEnd = startMs + count * intervalMs;
        start[0] = startMs * 1e6;
        Atomics.store(flag, 1, 1);
        Atomics.notify(flag, 1);
        return;
      }
      for (; next < due; next++) {
        const intended = startMs + next * intervalMs;
        run.lags.push(now - intended);
        connections[next % connections.length]?.send(intended);
      }
      if (next >= count) resolve();
    });
    ticker.on('error', reject);
    ticker.on('exit', () => (next >= count ? resolve() : reject(new Error('the ticker thread stopped early'))));
  });
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  await ticker.terminate();
  const deadline = run.now() + options.drainSeconds * 1000;
  while (connections.some((c) => c.outstanding > 0) && run.now() < deadline) await sleep(10);
  const unanswered = connections.reduce((n, c) => n + c.outstanding, 0);
  for (const c of connections) c.close();
  return {
    sent: next,
    seconds: count / options.rate,
    ok: run.ok,
    okInWindow: run.okInWindow,
    shed: run.shed,
    otherStatus: run.otherStatus,
    failed: run.failed,
    unanswered,
    latency: summariseLatency(run.okLatencies),
    sendLag: { p50Ms: percentile(run.lags, 50), p99Ms: percentile(run.lags, 99) },
    errors: run.errors,
  };
}

/** Waits until every connection is open, so the first due requests are not late because of connecting. */
async function waitConnected(connections: readonly Connection[], run: Run): Promise<void> {
  const deadline = run.now() + 5_000;
  while (!connections.every((c) => c.connected)) {
    if (run.now() > deadline) {
      for (const c of connections) c.close();
      throw new Error(`cannot connect: ${run.errors[0] ?? 'timed out'}`);
    }
    await sleep(5);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One GET: status and body length (readiness checks, not timed). */
export function httpGet(host: string, port: number, path = '/', timeoutMs = 5_000): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, timeout: timeoutMs, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
