/**
 * gRPC scenarios with @grpc/grpc-js: an echo service (unary, and a bidirectional stream) over h2c, with
 * raw-bytes messages (no protobuf: the proxies see real gRPC framing, content type, HTTP/2 streams and
 * trailers; encoding is not what is measured). The server runs in the server namespace (the upstream), the
 * clients in the client namespace (load generator). Closed loop: each of `concurrency` callers (unary) or
 * streams (streaming) starts its next message when the previous answer arrives.
 *
 * bench does not list @grpc/grpc-js itself: it is loaded from @loom/shared's dependencies (as bench/src/ca
 * does), typed by the small interfaces below.
 */
import { createRequire } from 'node:module';
import { nowNs } from '../lib/index.js';
import { summariseLatency, type LatencySummary } from './http1-load.js';

interface MethodDefinition {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestSerialize: (value: Buffer) => Buffer;
  readonly requestDeserialize: (bytes: Buffer) => Buffer;
  readonly responseSerialize: (value: Buffer) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => Buffer;
  readonly originalName: string;
}

interface ServerUnaryCall {
  readonly request: Buffer;
}
interface ServerDuplexStream {
  on(event: 'data', listener: (message: Buffer) => void): this;
  on(event: 'end' | 'close', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  write(message: Buffer): boolean;
  end(): void;
}
interface GrpcServer {
  addService(service: Record<string, MethodDefinition>, implementation: Record<string, unknown>): void;
  bindAsync(address: string, credentials: unknown, callback: (error: Error | null, port: number) => void): void;
  tryShutdown(callback: (error?: Error) => void): void;
  forceShutdown(): void;
}
interface ClientDuplexStream {
  on(event: 'data', listener: (message: Buffer) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'status' | 'end' | 'close', listener: () => void): this;
  write(message: Buffer): boolean;
  end(): void;
  cancel(): void;
}
interface GrpcClient {
  makeUnaryRequest(path: string, serialize: (value: Buffer) => Buffer, deserialize: (bytes: Buffer) => Buffer, argument: Buffer, callback: (error: Error | null, value?: Buffer) => void): unknown;
  makeBidiStreamRequest(path: string, serialize: (value: Buffer) => Buffer, deserialize: (bytes: Buffer) => Buffer): ClientDuplexStream;
  waitForReady(deadline: Date, callback: (error?: Error) => void): void;
  close(): void;
}
interface GrpcJs {
  readonly Server: new (options?: Record<string, unknown>) => GrpcServer;
  readonly ServerCredentials: { createInsecure(): unknown };
  readonly credentials: { createInsecure(): unknown };
  readonly Client: new (address: string, credentials: unknown, options?: Record<string, unknown>) => GrpcClient;
}

let loaded: GrpcJs | undefined;
function grpcJs(): GrpcJs {
  loaded ??= createRequire(import.meta.resolve('@loom/shared/package.json'))('@grpc/grpc-js') as GrpcJs;
  return loaded;
}

/** The version of the grpc-js in use. */
export function grpcJsVersion(): string {
  const require = createRequire(import.meta.resolve('@loom/shared/package.json'));
  return (require('@grpc/grpc-js/package.json') as { version: string }).version;
}

const same = (b: Buffer): Buffer => b;
const method = (name: string, stream: boolean): MethodDefinition => ({
  path: `/loom.bench.Echo/${name}`,
  requestStream: stream,
  responseStream: stream,
  requestSerialize: same,
  requestDeserialize: same,
  responseSerialize: same,
  responseDeserialize: same,
  originalName: name,
});
const UNARY = method('Unary', false);
const STREAM = method('Stream', true);
/** A message of the size of a small real request (a few fields). */
const PAYLOAD = Buffer.alloc(128, 0x61);

/** Starts the echo server on `host:port` (0 picks one); resolves with the port and a stop function. */
export function startEchoServer(host: string, port: number): Promise<{ port: number; stop: () => Promise<void> }> {
  const grpc = grpcJs();
  const server = new grpc.Server({ 'grpc.max_concurrent_streams': 1000 });
  server.addService(
    { Unary: UNARY, Stream: STREAM },
    {
      Unary: (call: ServerUnaryCall, callback: (error: Error | null, value: Buffer) => void) => callback(null, call.request),
      Stream: (call: ServerDuplexStream) => {
        call.on('data', (message) => call.write(message));
        call.on('end', () => call.end());
        call.on('error', () => undefined); // the client cancels its streams at the end of a round
      },
    },
  );
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => {
      if (error !== null) {
        reject(new Error(`gRPC echo server cannot listen on ${host}:${port}: ${error.message}`));
        return;
      }
      resolve({
        port: bound,
        stop: () =>
          new Promise<void>((done) => {
            const timer = setTimeout(() => server.forceShutdown(), 1_000);
            server.tryShutdown(() => {
              clearTimeout(timer);
              done();
            });
          }),
      });
    });
  });
}

export interface GrpcLoadOptions {
  readonly host: string;
  readonly port: number;
  /** Calls (unary) or streams (streaming) in flight. */
  readonly concurrency: number;
  readonly seconds: number;
  /** Untimed calls first (connection, JIT, the proxies' pools). */
  readonly warmupSeconds: number;
}

export interface GrpcLoadResult {
  readonly count: number;
  readonly seconds: number;
  readonly errors: number;
  readonly firstError: string;
  readonly latency: LatencySummary;
}

/** One channel (one HTTP/2 connection) to the target. */
function client(host: string, port: number): GrpcClient {
  const grpc = grpcJs();
  return new grpc.Client(`${host}:${port}`, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
  });
}

function ready(c: GrpcClient, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    c.waitForReady(new Date(Date.now() + timeoutMs), (error) => (error === undefined ? resolve() : reject(error)));
  });
}

function unaryCall(c: GrpcClient): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    c.makeUnaryRequest(UNARY.path, same, same, PAYLOAD, (error, value) => {
      if (error !== null) reject(error);
      else if (value === undefined || value.length !== PAYLOAD.length) reject(new Error('echo returned a different message'));
      else resolve(value);
    });
  });
}

/** One unary echo (readiness check). */
export async function grpcCheck(host: string, port: number): Promise<void> {
  const c = client(host, port);
  try {
    await ready(c, 5_000);
    await unaryCall(c);
  } finally {
    c.close();
  }
}

/** `concurrency` unary callers in a closed loop over one channel. */
export async function runUnary(options: GrpcLoadOptions): Promise<GrpcLoadResult> {
  const c = client(options.host, options.port);
  try {
    await ready(c, 5_000);
    await closedLoop(options.concurrency, options.warmupSeconds, () => unaryCall(c));
    return await closedLoop(options.concurrency, options.seconds, () => unaryCall(c));
  } finally {
    c.close();
  }
}

/** `concurrency` bidirectional streams over one channel, each echoing one message at a time. */
export async function runStreaming(options: GrpcLoadOptions): Promise<GrpcLoadResult> {
  const c = client(options.host, options.port);
  try {
    await ready(c, 5_000);
    const streams = Array.from({ length: options.concurrency }, () => new EchoStream(c));
    try {
      await closedLoop(options.concurrency, options.warmupSeconds, (i) => (streams[i] as EchoStream).echo());
      return await closedLoop(options.concurrency, options.seconds, (i) => (streams[i] as EchoStream).echo());
    } finally {
      for (const s of streams) s.close();
    }
  } finally {
    c.close();
  }
}

/** A bidi stream used as a ping-pong channel: one message out, wait for its echo. */
class EchoStream {
  readonly #call: ClientDuplexStream;
  #waiting: { resolve: () => void; reject: (error: Error) => void } | null = null;
  #failure: Error | null = null;

  constructor(c: GrpcClient) {
    this.#call = c.makeBidiStreamRequest(STREAM.path, same, same);
    this.#call.on('data', () => {
      const w = this.#waiting;
      this.#waiting = null;
      w?.resolve();
    });
    this.#call.on('error', (error) => this.#fail(error));
    this.#call.on('end', () => this.#fail(new Error('the stream ended')));
  }

  echo(): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#call.write(PAYLOAD);
    });
  }

  close(): void {
    this.#failure ??= new Error('closed');
    this.#call.cancel();
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const w = this.#waiting;
    this.#waiting = null;
    w?.reject(error);
  }
}

/** `concurrency` loops of `op(loopIndex)` for `seconds`; counts, errors and latencies. */
async function closedLoop(concurrency: number, seconds: number, op: (loop: number) => Promise<unknown>): Promise<GrpcLoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError = '';
  const start = nowNs();
  const limit = BigInt(Math.round(seconds * 1e9));
  const loop = async (i: number): Promise<void> => {
    while (nowNs() - start < limit) {
      const t = nowNs();
      try {
        await op(i);
        latencies.push(Number(nowNs() - t) / 1e6);
      } catch (error) {
        errors += 1;
        firstError ||= (error as Error).message;
        if (errors > 100) return;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => loop(i)));
  return { count: latencies.length, seconds: Number(nowNs() - start) / 1e9, errors, firstError, latency: summariseLatency(latencies) };
}
