/**
 * Test harness for the policy stream client: a real `loom.policy.v1.Policy` gRPC server on 127.0.0.1 with
 * TLS from a test CA, requesting (not requiring) client certificates as the controller does, whose streams
 * the test drives by hand (read what the proxy sent, send policies, end with a status). Plus a clock that
 * records the delays it is asked for, a bounded poll, and a mesh certificate for the proxy.
 */
import { experimental, Server, status, type ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import type { TestCa } from '@loom/ca/testing';
import { encodePolicy, type ProxyPolicy, type WireProxyPolicy } from '@loom/shared/policy';
import { loadPolicyService, type ControllerMessage, type ProxyMessage__Output } from '@loom/shared/proto';
import type { Test } from 'tap';
import { systemClock, type Clock, type TimerHandle } from '../../src/identity/clock.js';
import { credentialsFromPem, type WorkloadCredentials } from '../../src/identity/credentials.js';
import { peerSpiffeId } from '../../src/identity/tls.js';

/** The DNS name of the test controller's serving certificate (as in a cluster). */
export const CONTROLLER_DNS = 'loom-controller.loom-system.svc';

/** Mesh credentials for `namespace/serviceAccount` from `ca`, trusting `ca`'s root. */
export function meshCredentials(ca: TestCa, namespace = 'shop', serviceAccount = 'web'): WorkloadCredentials {
  const leaf = ca.leaf(namespace, serviceAccount);
  return credentialsFromPem({ keyPem: leaf.keyPem, certChainPem: leaf.certPem, trustBundle: [ca.rootPem], now: Date.now() });
}

// ---- streams --------------------------------------------------------------------------------------------

/** One Policy/Stream as the server sees it. */
export class PolicySession {
  /** SPIFFE ID of the client certificate, undefined without one. */
  readonly peerId: string | undefined;
  /** Everything the proxy sent, in order. */
  readonly received: ProxyMessage__Output[] = [];
  /** Resolves when the stream is over (ended by either side, or cancelled). */
  readonly done: Promise<void>;
  readonly #call: ServerDuplexStream<ProxyMessage__Output, ControllerMessage>;
  readonly #waiters: ((message: ProxyMessage__Output) => void)[] = [];
  #cursor = 0;
  #over = false;

  constructor(call: ServerDuplexStream<ProxyMessage__Output, ControllerMessage>) {
    this.#call = call;
    this.peerId = peerSpiffeId(call.getAuthContext().sslPeerCertificate);
    call.on('data', (message: ProxyMessage__Output) => {
      this.received.push(message);
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) {
        this.#cursor += 1;
        waiter(message);
      }
    });
    call.on('error', () => {});
    this.done = new Promise((resolve) => {
      const over = (): void => {
        this.#over = true;
        resolve();
      };
      call.on('cancelled', over);
      call.on('close', over);
      call.on('finish', over);
      call.on('end', over);
    });
  }

  get over(): boolean {
    return this.#over;
  }

  /** The next message not yet returned by `next()` (the first is the Hello). */
  next(): Promise<ProxyMessage__Output> {
    const message = this.received[this.#cursor];
    if (message !== undefined) {
      this.#cursor += 1;
      return Promise.resolve(message);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Sends `policy`, encoded as the controller does. */
  send(policy: ProxyPolicy): void {
    this.sendWire(encodePolicy(policy));
  }

  /** Sends a wire policy as is (a corrupted one, or `null`: a message without a policy). */
  sendWire(policy: WireProxyPolicy | null): void {
    this.#call.write({ policy });
  }

  /** Ends the stream with `code`. */
  end(code: status, details: string): void {
    this.#call.emit('error', { code, details });
  }
}

// ---- server ---------------------------------------------------------------------------------------------

type Listener<U> = (update: U | null) => void;

/** A certificate provider with fixed values (grpc-js's experimental server credentials take providers). */
class StaticProvider implements experimental.CertificateProvider {
  readonly #identity: experimental.IdentityCertificateUpdate | null;
  readonly #ca: experimental.CaCertificateUpdate | null;

  constructor(identity: experimental.IdentityCertificateUpdate | null, ca: experimental.CaCertificateUpdate | null) {
    this.#identity = identity;
    this.#ca = ca;
  }

  addIdentityCertificateListener(listener: Listener<experimental.IdentityCertificateUpdate>): void {
    // Asynchronously: grpc-js registers the listener before the watcher that consumes its updates.
    queueMicrotask(() => listener(this.#identity));
  }

  removeIdentityCertificateListener(): void {}

  addCaCertificateListener(listener: Listener<experimental.CaCertificateUpdate>): void {
    queueMicrotask(() => listener(this.#ca));
  }

  removeCaCertificateListener(): void {}
}

export interface PolicyServerOptions {
  /** Signs the serving certificate (DNS {@link CONTROLLER_DNS}). */
  readonly ca: TestCa;
  /** PEM roots client certificates are verified against; `ca`'s root by default. */
  readonly clientRoots?: string;
  /** Bind this port (a restart) instead of an ephemeral one. */
  readonly port?: number;
}

export interface PolicyServer {
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  readonly sessions: PolicySession[];
  /** The next stream opened (or one opened already and not yet returned). */
  nextSession(): Promise<PolicySession>;
  /** Kills the server: every connection cut at once (a crashed controller). */
  stop(): void;
}

export async function startPolicyServer(t: Test, options: PolicyServerOptions): Promise<PolicyServer> {
  const { ca } = options;
  const serving = ca.leafFor({ dnsNames: [CONTROLLER_DNS], uris: [`spiffe://${ca.trustDomain}/ns/loom-system/sa/loom-controller`] });
  const sessions: PolicySession[] = [];
  const waiters: ((session: PolicySession) => void)[] = [];
  let cursor = 0;
  const server = new Server();
  server.addService(loadPolicyService().service, {
    Stream(call: ServerDuplexStream<ProxyMessage__Output, ControllerMessage>) {
      const session = new PolicySession(call);
      sessions.push(session);
      const waiter = waiters.shift();
      if (waiter !== undefined) {
        cursor += 1;
        waiter(session);
      }
    },
  });
  const credentials: ServerCredentials = experimental.createCertificateProviderServerCredentials(
    new StaticProvider({ certificate: Buffer.from(serving.certPem), privateKey: Buffer.from(serving.keyPem) }, null),
    new StaticProvider(null, { caCertificate: Buffer.from(options.clientRoots ?? ca.rootPem) }),
    false,
  );
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, credentials, (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    server.forceShutdown();
  };
  t.teardown(stop);
  return {
    port,
    address: `127.0.0.1:${port}`,
    sessions,
    nextSession() {
      const session = sessions[cursor];
      if (session !== undefined) {
        cursor += 1;
        return Promise.resolve(session);
      }
      return new Promise((resolve) => waiters.push(resolve));
    },
    stop,
  };
}

// ---- time -----------------------------------------------------------------------------------------------

/** The system clock, recording the delay of every timer set. */
export class RecordingClock implements Clock {
  readonly delays: number[] = [];

  now(): number {
    return systemClock.now();
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    this.delays.push(ms);
    return systemClock.setTimer(fn, ms);
  }

  clearTimer(handle: TimerHandle): void {
    systemClock.clearTimer(handle);
  }
}

/** Polls `predicate` every 5 ms; rejects after `timeoutMs` naming `what`. */
export async function eventually(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
