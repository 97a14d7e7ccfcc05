/**
 * A small, real `loom.policy.v1.Policy` server for tests, the local demo's harnesses and benchmarks, until
 * (and besides) the controller's own distribution: it serves the policies it is given, per pod, over real
 * gRPC streams with the semantics of `shared/proto/loom/policy/v1/policy.proto` — Hello first, the peer's
 * identity from its client certificate (never from the message), full snapshots, only when changed, Ack/Nack
 * recorded. It compiles nothing: tests say which policy each pod gets.
 */
import { EventEmitter } from 'node:events';
import { Server, ServerCredentials, status, type ServerDuplexStream } from '@grpc/grpc-js';
import { parseSpiffeId } from '@loom/shared/identity';
import { encodePolicy, type ProxyPolicy } from '@loom/shared/policy';
import { loadPolicyService, type ControllerMessage, type PolicyHandlers, type ProxyMessage__Output } from '@loom/shared/proto';
import { peerSpiffeId } from '../identity/tls.js';

export interface ProxySession {
  readonly pod: string;
  readonly namespace: string;
  readonly identity: string | undefined;
  readonly proxyVersion: string;
  /** Last version sent on this stream. */
  sent: string | null;
}

export interface PolicyEvents {
  hello: [session: ProxySession];
  ack: [session: ProxySession, version: string];
  nack: [session: ProxySession, version: string, reason: string];
  end: [session: ProxySession];
}

type Call = ServerDuplexStream<ProxyMessage__Output, ControllerMessage>;

const key = (namespace: string, pod: string): string => `${namespace}/${pod}`;

/** Which policy each pod gets, and the live streams; `handlers` plugs into any grpc-js Server. */
export class PolicyDistributor extends EventEmitter<PolicyEvents> {
  readonly #policies = new Map<string, ProxyPolicy>();
  readonly #streams = new Map<Call, ProxySession>();
  /** Every Ack and Nack received, oldest first. */
  readonly acks: { readonly pod: string; readonly version: string }[] = [];
  readonly nacks: { readonly pod: string; readonly version: string; readonly reason: string }[] = [];
  /** Require a client certificate (the real controller does once proxies hold one). */
  requireClientCertificate = true;

  /** Sets (or replaces) the policy of `namespace/pod` and sends it to its open streams when it changed. */
  set(policy: ProxyPolicy): void {
    const k = key(policy.proxy.namespace, policy.proxy.pod);
    this.#policies.set(k, policy);
    for (const [call, session] of this.#streams) if (key(session.namespace, session.pod) === k) this.#send(call, session);
  }

  /** Sends a raw wire message (tests of the proxy's Nack path) to the streams of `namespace/pod`. */
  sendRaw(namespace: string, pod: string, message: ControllerMessage): void {
    for (const [call, session] of this.#streams) if (session.namespace === namespace && session.pod === pod) call.write(message);
  }

  /** Ends every open stream with UNAVAILABLE (what the controller does when it drains). */
  endAll(details = 'controller draining'): void {
    for (const call of [...this.#streams.keys()]) call.emit('error', { code: status.UNAVAILABLE, details });
  }

  sessions(): readonly ProxySession[] {
    return [...this.#streams.values()];
  }

  /**
   * Resolves with the first Ack of `version` from `namespace/pod`. Acks already received count, from index `since`
   * of `acks` on (default 0: all of them; `acks.length`: only acks still to come).
   */
  waitForAck(namespace: string, pod: string, version: string, timeoutMs = 10_000, since = 0): Promise<void> {
    const k = key(namespace, pod);
    if (this.acks.slice(since).some((a) => a.pod === k && a.version === version)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('ack', onAck);
        reject(new Error(`no Ack of ${version} from ${k} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onAck = (session: ProxySession, v: string): void => {
        if (key(session.namespace, session.pod) !== k || v !== version) return;
        clearTimeout(timer);
        this.off('ack', onAck);
        resolve();
      };
      this.on('ack', onAck);
    });
  }

  readonly handlers: PolicyHandlers = {
    Stream: (call: Call) => this.#serve(call),
  };

  #serve(call: Call): void {
    const identity = peerSpiffeId(call.getAuthContext().sslPeerCertificate);
    if (identity === undefined && this.requireClientCertificate) {
      call.emit('error', { code: status.UNAUTHENTICATED, details: 'a client certificate with a SPIFFE ID is required' });
      return;
    }
    let session: ProxySession | undefined;
    const cleanup = (): void => {
      if (session !== undefined && this.#streams.delete(call)) this.emit('end', session);
    };
    call.on('error', cleanup);
    call.on('cancelled', cleanup);
    call.on('close', cleanup);
    call.on('end', () => {
      cleanup();
      call.end();
    });
    call.on('data', (message: ProxyMessage__Output) => {
      if (session === undefined) {
        const hello = message.hello;
        if (message.message !== 'hello' || hello === null || hello === undefined) {
          call.emit('error', { code: status.INVALID_ARGUMENT, details: 'the first message must be a Hello' });
          return;
        }
        const certNamespace = identity === undefined ? undefined : parseSpiffeId(identity)?.namespace;
        if (certNamespace !== undefined && certNamespace !== hello.namespace) {
          call.emit('error', { code: status.PERMISSION_DENIED, details: `Hello names namespace ${hello.namespace}, the certificate ${certNamespace}` });
          return;
        }
        session = { pod: hello.pod, namespace: hello.namespace, identity, proxyVersion: hello.proxyVersion, sent: null };
        this.#streams.set(call, session);
        this.emit('hello', session);
        this.#send(call, session);
        return;
      }
      if (message.message === 'hello') {
        call.emit('error', { code: status.INVALID_ARGUMENT, details: 'a second Hello on one stream' });
        return;
      }
      const k = key(session.namespace, session.pod);
      if (message.message === 'ack' && message.ack) {
        this.acks.push({ pod: k, version: message.ack.version });
        this.emit('ack', session, message.ack.version);
      } else if (message.message === 'nack' && message.nack) {
        this.nacks.push({ pod: k, version: message.nack.version, reason: message.nack.reason });
        this.emit('nack', session, message.nack.version, message.nack.reason);
      }
    });
  }

  #send(call: Call, session: ProxySession): void {
    const policy = this.#policies.get(key(session.namespace, session.pod));
    if (policy === undefined || policy.version === session.sent) return;
    session.sent = policy.version;
    call.write({ policy: encodePolicy(policy) });
  }
}

export interface PolicyServerOptions {
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Serving key and certificate chain (PEM), e.g. from `mintCa().leafFor({ dnsNames: [...] })`. */
  readonly key: string;
  readonly certChain: string;
  /** Roots client certificates are verified against (the mesh trust bundle). */
  readonly rootCerts: string;
}

export interface PolicyServer {
  readonly port: number;
  readonly distributor: PolicyDistributor;
  /** Stops at once (streams end with UNAVAILABLE at the client). */
  close(): Promise<void>;
}

/** Serves `distributor` (a new one when omitted) on its own gRPC server with TLS. */
export async function startPolicyServer(options: PolicyServerOptions, distributor = new PolicyDistributor()): Promise<PolicyServer> {
  const server = new Server();
  server.addService(loadPolicyService().service, distributor.handlers);
  // Client certificates are required: the proxy's identity comes from its certificate (policy.proto), and proxies open
  // the policy stream only once they hold one.
  const credentials = ServerCredentials.createSsl(Buffer.from(options.rootCerts), [{ private_key: Buffer.from(options.key), cert_chain: Buffer.from(options.certChain) }], true);
  const host = options.host ?? '127.0.0.1';
  const address = host.includes(':') ? `[${host}]:${options.port ?? 0}` : `${host}:${options.port ?? 0}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, credentials, (error, bound) => (error === null ? resolve(bound) : reject(new Error(`cannot listen on ${address}: ${error.message}`))));
  });
  let closed: Promise<void> | undefined;
  return {
    port,
    distributor,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        distributor.endAll('policy server stopping');
        server.forceShutdown();
        resolve();
      })),
  };
}
