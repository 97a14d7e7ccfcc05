/**
 * The node:http server both proxies hand their HTTP/1 connections to (it never listens), with the proxy's
 * limits: request heads larger than `maxHeaderBytes` are refused (431), heads not complete within
 * `headersTimeoutMs` too (408, slowloris); whole requests have no deadline (bodies may stream for long);
 * keep-alive connections idle for `idleTimeoutMs` are closed.
 */
import { createServer, type Server } from 'node:http';

export interface H1ServerLimits {
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

export function createH1Server(limits: H1ServerLimits): Server {
  const server = createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: 0,
    keepAliveTimeout: limits.idleTimeoutMs,
    // How often node checks heads in progress against headersTimeout; a fraction of it so 408 comes on time.
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
    noDelay: true,
  });
  // Node tracks connections for headersTimeout (and closeIdleConnections) only once its server is 'listening';
  // this one never listens (connections are handed to it), so start the tracking by hand.
  server.emit('listening');
  return server;
}
