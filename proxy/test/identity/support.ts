/**
 * Test harness for the identity client: a real gRPC Identity server over TLS on 127.0.0.1 backed by a
 * throwaway CA from @loom/ca/testing and a token table, a fake clock, token files, a log collector and
 * real TLS echo servers/clients. Everything opened here is closed at the test's teardown.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer as createTlsServer, type SecureContext, type TLSSocket } from 'node:tls';
import { Metadata, Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { CsrRefused, type IssuedCertificate } from '@loom/ca';
import type { TestCa } from '@loom/ca/testing';
import type { WorkloadIdentity } from '@loom/shared/identity';
import { loadIdentityService, type CertifyRequest__Output, type CertifyResponse } from '@loom/shared/proto';
import { createLogger, type Logger } from '@loom/shared/runtime';
import type { Test } from 'tap';
import type { Clock, TimerHandle } from '../../src/identity/clock.js';
import type { CredentialHolder } from '../../src/identity/holder.js';
import type { IdentityClient, IdentityEvent } from '../../src/identity/client.js';
import { checkPeerIdentity } from '../../src/identity/tls.js';
export { freePort } from '../support/wait.js';

// ---- fake clock -----------------------------------------------------------------------------------------

/** A clock that moves only when told to; due timers fire in time order during {@link advanceTo}. */
export class FakeClock implements Clock {
  #now: number;
  #sequence = 0;
  readonly #timers = new Map<number, { readonly at: number; readonly fn: () => void }>();

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    this.#sequence += 1;
    this.#timers.set(this.#sequence, { at: this.#now + Math.max(0, ms), fn });
    return this.#sequence;
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** When the earliest pending timer is due, or undefined. */
  get nextAt(): number | undefined {
    let next: number | undefined;
    for (const timer of this.#timers.values()) if (next === undefined || timer.at < next) next = timer.at;
    return next;
  }

  get pending(): number {
    return this.#timers.size;
  }

  /** Moves to `time`, firing every timer due by then (timers set while firing included), earliest first. */
  advanceTo(time: number): void {
    for (let fired = 0; fired < 10_000; fired += 1) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= time && (due === undefined || entry[1].at < due[1].at)) due = entry;
      if (due === undefined) break;
      this.#timers.delete(due[0]);
      this.#now = Math.max(this.#now, due[1].at);
      due[1].fn();
    }
    this.#now = Math.max(this.#now, time);
  }

  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }
}

/**
 * A start time for fake clocks whose certificates must also pass real TLS (OpenSSL checks validity against
 * the real time): 20 h ago, so that a 24 h leaf and its renewal at ~2/3 of its life are both valid now.
 */
export const PAST_START = (): number => Date.now() - 20 * 3_600_000;

// ---- events ---------------------------------------------------------------------------------------------

/** The next event of `type` the client emits (subscribe before triggering it). */
export function nextEvent<T extends IdentityEvent['type']>(client: IdentityClient, type: T): Promise<Extract<IdentityEvent, { type: T }>> {
  return new Promise((resolve) => {
    const unsubscribe = client.subscribe((event) => {
      if (event.type !== type) return;
      unsubscribe();
      resolve(event as Extract<IdentityEvent, { type: T }>);
    });
  });
}

// ---- logs -----------------------------------------------------------------------------------------------

export interface LogRecord {
  readonly level: string;
  readonly event?: string;
  readonly reason?: string;
  readonly [field: string]: unknown;
}

/** A real pino logger at debug level whose lines are parsed into `records`. */
export function collectLogs(): { readonly logger: Logger; readonly records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = createLogger({
    name: 'loom-proxy-test',
    level: 'debug',
    destination: { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) },
  });
  return { logger, records };
}

// ---- files and ports ------------------------------------------------------------------------------------

export async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'loom-proxy-identity-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A token file holding `token`; write it again to rotate. */
export async function tokenFile(t: Test, token: string): Promise<string> {
  const path = join(await tempDir(t), 'token');
  await writeFile(path, `${token}\n`);
  return path;
}


// ---- identity server ------------------------------------------------------------------------------------

/** The DNS name of the test controller's serving certificate. */
export const CONTROLLER_NAME = 'localhost';

/** Replaces what the server answers for a call it would have signed (a misbehaving controller). */
export type Tamper = (issued: IssuedCertificate, request: CertifyRequest__Output) => CertifyResponse;

/** A status the server answers every call with, optionally with a `grpc-retry-pushback-ms` trailer. */
export interface Refusal {
  readonly code: status;
  readonly details: string;
  /** The trailer's value, sent as is (malformed values included). */
  readonly pushbackMs?: string;
}

export interface IdentityServer {
  readonly port: number;
  /** `127.0.0.1:<port>`; the serving certificate is for {@link CONTROLLER_NAME}. */
  readonly address: string;
  /** PEM root the client must trust for the serving certificate. */
  readonly trustPem: string;
  /** Requests received. */
  readonly requests: CertifyRequest__Output[];
  tamper: Tamper | undefined;
  /** When set, every call is answered with this status (a rate-limited or degraded controller). */
  refuse: Refusal | undefined;
  /** When true, calls are left unanswered (a hung controller). */
  hang: boolean;
  /** Resolves with the next request the server receives. */
  nextRequest(): Promise<CertifyRequest__Output>;
  close(): void;
}

export interface IdentityServerOptions {
  readonly ca: TestCa;
  /** Token → the identity it proves (what a TokenReview would say); other tokens are UNAUTHENTICATED. */
  readonly tokens: Readonly<Record<string, WorkloadIdentity>>;
  /** Bind this port instead of an ephemeral one. */
  readonly port?: number;
}

/**
 * A real `loom.identity.v1.Identity` server: TLS with a serving certificate from `ca`, status codes as the
 * proto specifies, leaves signed by `ca.authority.signWorkloadCsr`.
 */
export async function startIdentityServer(t: Test, options: IdentityServerOptions): Promise<IdentityServer> {
  const { ca, tokens } = options;
  const serving = ca.leafFor({ dnsNames: [CONTROLLER_NAME], uris: [`spiffe://${ca.trustDomain}/ns/loom-system/sa/loom-controller`] });
  const requests: CertifyRequest__Output[] = [];
  const pending: sendUnaryData<CertifyResponse>[] = [];
  const waiters: ((request: CertifyRequest__Output) => void)[] = [];
  const grpcServer = new Server();
  const state: IdentityServer = {
    port: 0,
    address: '',
    trustPem: ca.rootPem,
    requests,
    tamper: undefined,
    refuse: undefined,
    hang: false,
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
    close: () => grpcServer.forceShutdown(),
  };
  grpcServer.addService(loadIdentityService().service, {
    Certify(call: ServerUnaryCall<CertifyRequest__Output, CertifyResponse>, callback: sendUnaryData<CertifyResponse>) {
      requests.push(call.request);
      for (const waiter of waiters.splice(0)) waiter(call.request);
      if (state.hang) {
        pending.push(callback);
        return;
      }
      if (state.refuse !== undefined) {
        const metadata = new Metadata();
        if (state.refuse.pushbackMs !== undefined) metadata.set('grpc-retry-pushback-ms', state.refuse.pushbackMs);
        return callback({ code: state.refuse.code, details: state.refuse.details, metadata });
      }
      const { csr, token } = call.request;
      if (token === '') return callback({ code: status.INVALID_ARGUMENT, details: 'token is empty' });
      const identity = tokens[token];
      if (identity === undefined) return callback({ code: status.UNAUTHENTICATED, details: 'token rejected by TokenReview' });
      let issued: IssuedCertificate;
      try {
        issued = ca.authority.signWorkloadCsr(csr, identity);
      } catch (error) {
        if (error instanceof CsrRefused) {
          return callback({ code: error.code === 'permission-denied' ? status.PERMISSION_DENIED : status.INVALID_ARGUMENT, details: error.message });
        }
        return callback({ code: status.UNAVAILABLE, details: (error as Error).message });
      }
      const response: CertifyResponse = state.tamper?.(issued, call.request) ?? {
        certificateChain: [...issued.chain],
        trustBundle: [...issued.trustBundle],
        notAfter: Math.floor(issued.notAfter.getTime() / 1000),
        renewAfter: Math.floor(issued.renewAfter.getTime() / 1000),
      };
      callback(null, response);
    },
  });
  const credentials = ServerCredentials.createSsl(null, [{ private_key: Buffer.from(serving.keyPem), cert_chain: Buffer.from(serving.certPem) }], false);
  const port = await new Promise<number>((resolve, reject) => {
    grpcServer.bindAsync(`127.0.0.1:${options.port ?? 0}`, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  t.teardown(() => state.close());
  return Object.assign(state, { port, address: `127.0.0.1:${port}` });
}

// ---- TLS ------------------------------------------------------------------------------------------------

export interface EchoServer {
  readonly port: number;
  /** Serial numbers of the client certificates of accepted connections, in order. */
  readonly clientSerials: string[];
}

/** A mutual-TLS echo server whose default context the holder keeps current (attachToServer). */
export async function startEchoServer(t: Test, holder: CredentialHolder): Promise<EchoServer> {
  const clientSerials: string[] = [];
  const sockets = new Set<TLSSocket>();
  const server = createTlsServer({ requestCert: true, rejectUnauthorized: true }, (socket) => {
    sockets.add(socket);
    clientSerials.push(socket.getPeerCertificate().serialNumber);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
  });
  server.on('tlsClientError', () => {}); // refused handshakes are expected in some tests
  const detach = holder.attachToServer(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  t.teardown(async () => {
    detach();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, clientSerials };
}

/** Opens a mutual-TLS connection with `context`, verifying that the server is `expectedId`. */
export async function connectTls(t: Test, port: number, context: SecureContext | undefined, expectedId: string): Promise<TLSSocket> {
  if (context === undefined) throw new Error('no secure context');
  const socket = connect({ host: '127.0.0.1', port, secureContext: context, checkServerIdentity: checkPeerIdentity(expectedId) });
  t.teardown(() => {
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/**
 * Writes `text` and resolves with what comes back once as many bytes arrived; rejects if the connection
 * fails or closes first (a TLS 1.3 server refuses a client certificate only after the client's handshake).
 */
export function exchange(socket: TLSSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.toString();
      if (received.length >= text.length) {
        cleanup();
        resolve(received);
      }
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('connection closed'));
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(text);
  });
}

/** Connects and exchanges one message; resolves with the error when either step fails. */
export async function connectionOutcome(t: Test, port: number, context: SecureContext | undefined, expectedId: string): Promise<'ok' | Error> {
  try {
    const socket = await connectTls(t, port, context, expectedId);
    await exchange(socket, 'ping');
    socket.destroy();
    return 'ok';
  } catch (error) {
    return error as Error;
  }
}
