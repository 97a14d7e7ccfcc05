/**
 * The helper process (`main.js --helper`): runs the servers of the mTLS and gRPC scenarios so they have a
 * core of their own, and reports its CPU time so the parent can bill server CPU per operation.
 */
import type { Server } from 'node:net';
import { startCertifyServer, type CertifyServerOptions } from './grpc.js';
import { serveParent } from './ipc.js';
import { startHandshakeServer, type HandshakeServerOptions, type HandshakeServerStats } from './mtls.js';

export interface HelperUsage {
  /** User + system CPU of the helper process since it started. */
  readonly cpuSeconds: number;
}

export function runHelper(): void {
  const servers: Server[] = [];
  const identityServers: { close(graceMs?: number): Promise<void> }[] = [];
  const tls = new Map<number, () => HandshakeServerStats>();
  serveParent(
    {
      'tls-listen': async (body) => {
        const started = startHandshakeServer(body as HandshakeServerOptions);
        servers.push(started.server);
        const port = await started.listening;
        tls.set(port, started.stats);
        return port;
      },
      'grpc-listen': async (body) => {
        const started = await startCertifyServer(body as CertifyServerOptions);
        identityServers.push(started.server);
        return started.address;
      },
      'tls-stats': (body) => {
        const stats = tls.get((body as { port: number }).port);
        if (stats === undefined) throw new Error('no TLS server on that port');
        return stats();
      },
      usage: (): HelperUsage => {
        const cpu = process.cpuUsage();
        return { cpuSeconds: (cpu.user + cpu.system) / 1e6 };
      },
    },
    () => {
      for (const server of servers) server.close();
      void Promise.all(identityServers.map((server) => server.close(100))).finally(() => process.exit(0));
    },
  );
}
