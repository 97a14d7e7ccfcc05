/**
 * The agents: this same script run with `--agent client` inside the client namespace (the load generators,
 * pinned to the load core) or `--agent server` inside the server namespace (the gRPC echo server and the TCP
 * sink, pinned to the upstream core); `--agent control-plane` is the Loom pair's control plane
 * (control-plane.ts). The orchestrator drives them over IPC (ipc.ts); each op is one generator run or one
 * check, and answers with plain data.
 */
import { connect, type Server } from 'node:net';
import { grpcCheck, runStreaming, runUnary, startEchoServer, type GrpcLoadOptions } from './grpc.js';
import { httpGet, runConstantRate, type RateOptions } from './http1-load.js';
import { serveOrchestrator, type Handlers } from './ipc.js';
import { sendBulk, startSink } from './tcp-bulk.js';
import { checkRefusesAnonymous, runHandshakes, type TlsIdentity, type TlsTarget } from './tls.js';

export interface Address {
  readonly host: string;
  readonly port: number;
}

/** Resolves once a TCP connection to `host:port` succeeds; rejects after `timeoutMs`. */
export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host, port });
        socket.setTimeout(500, () => socket.destroy(new Error('connect timed out')));
        socket.on('connect', () => {
          socket.destroy();
          resolve();
        });
        socket.on('error', reject);
      });
      return;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms (${last})`);
}

export interface ServerPorts {
  readonly grpcPort: number;
  readonly tcpPort: number;
}

const common: Handlers = {
  probe: (body) => {
    const { host, port, timeoutMs } = body as Address & { timeoutMs: number };
    return waitForPort(host, port, timeoutMs);
  },
  'http-get': (body) => {
    const { host, port, path } = body as Address & { path?: string };
    return httpGet(host, port, path);
  },
  usage: () => {
    const cpu = process.cpuUsage();
    return (cpu.user + cpu.system) / 1e6;
  },
};

function clientHandlers(): Handlers {
  return {
    ...common,
    'http-rate': (body) => runConstantRate(body as RateOptions),
    'grpc-check': (body) => {
      const { host, port } = body as Address;
      return grpcCheck(host, port);
    },
    'grpc-unary': (body) => runUnary(body as GrpcLoadOptions),
    'grpc-stream': (body) => runStreaming(body as GrpcLoadOptions),
    'tcp-bulk': (body) => {
      const { host, port, bytes } = body as Address & { bytes: number };
      return sendBulk(host, port, bytes);
    },
    'tls-handshakes': (body) => {
      const { target, identity, seconds, concurrency } = body as { target: TlsTarget; identity: TlsIdentity; seconds: number; concurrency: number };
      return runHandshakes(target, identity, seconds, concurrency);
    },
    'tls-anonymous': (body) => {
      const { target, rootPem } = body as { target: TlsTarget; rootPem: string };
      return checkRefusesAnonymous(target, rootPem);
    },
  };
}

function serverHandlers(): { handlers: Handlers; stop: () => Promise<void> } {
  const stops: (() => Promise<void>)[] = [];
  const handlers: Handlers = {
    ...common,
    'start-upstreams': async (body): Promise<ServerPorts> => {
      const { host, grpcPort, tcpPort } = body as { host: string } & ServerPorts;
      const echo = await startEchoServer(host, grpcPort);
      stops.push(echo.stop);
      const sink: Server = await startSink(host, tcpPort);
      stops.push(() => new Promise<void>((resolve) => sink.close(() => resolve())));
      return { grpcPort: echo.port, tcpPort };
    },
  };
  return { handlers, stop: () => Promise.all(stops.map((s) => s())).then(() => undefined) };
}

/** Runs this process as the agent of `role` until the orchestrator disconnects. */
export function runAgent(role: string | undefined): void {
  if (role === 'control-plane') {
    // Loaded only here: the controller and the policy server stay out of the other agents and the orchestrator.
    import('./control-plane.js').then(
      (m) => m.runControlPlaneAgent(),
      (error: unknown) => {
        process.stderr.write(`control plane: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
    return;
  }
  if (role === 'client') {
    serveOrchestrator(clientHandlers(), () => process.exit(0));
    return;
  }
  if (role === 'server') {
    const server = serverHandlers();
    serveOrchestrator(server.handlers, () => {
      const timer = setTimeout(() => process.exit(0), 1_000);
      void server.stop().finally(() => {
        clearTimeout(timer);
        process.exit(0);
      });
    });
    return;
  }
  throw new Error(`--agent needs "client", "server" or "control-plane", not ${role ?? 'nothing'}`);
}
