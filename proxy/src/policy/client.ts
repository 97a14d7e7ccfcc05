/**
 * The policy stream client (DESIGN §5; the contract is `shared/proto/loom/policy/v1/policy.proto`). Holds one
 * `loom.policy.v1.Policy/Stream` open to the controller: sends `Hello{pod, namespace, proxy_version}`, then
 * for every policy received either applies it (trust bundle into the credential holder, prepared snapshot
 * into the store) and Acks, or Nacks with the reason naming the field and keeps the previous policy
 * (`acceptPolicy` decides). A policy with the version already in force is Acked without being re-applied.
 *
 * Connection: mutual TLS with the proxy's mesh certificate (the controller identifies the proxy by it, so
 * nothing is opened before the holder has one), verifying the controller against the initial trust anchors
 * plus the held trust bundle (root rotation). Each attempt gets a fresh channel built from the credentials
 * held at that moment, and a fresh {@link StreamCall}: its `status` event is the one terminal event,
 * `error` only records. When a stream ends (controller restart or drain: UNAVAILABLE; refusals; network
 * failures) the client reconnects after a jittered exponential backoff that resets once a message has been
 * received; refusals (PERMISSION_DENIED, UNAUTHENTICATED, INVALID_ARGUMENT) are logged at warn and retried
 * at the slowest rate. The last good policy stays in force while disconnected.
 *
 * Logs (component `policy`): `policy.connected` (with a summary of the outage when it follows failures),
 * `policy.applied`, `policy.rejected`, `policy.disconnected`, and `policy.connect_failed` at warn for the
 * first failure of an outage (or a new refusal), at debug for the repeats.
 *
 * Lifecycle: construct (no I/O), `start()`, `close()` (idempotent). Timers come from the injected clock
 * (unref'd by the system clock).
 */
import { credentials, status as Status, type ChannelOptions, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import { loadPolicyService, type ControllerMessage__Output, type PolicyClient as PolicyStub, type ProxyMessage } from '@loom/shared/proto';
import { backoffDelayMs, silentLogger, type BackoffOptions, type Logger } from '@loom/shared/runtime';
import { systemClock, type Clock, type TimerHandle } from '../identity/clock.js';
import { CredentialsError, parseTrustBundle, type WorkloadCredentials } from '../identity/credentials.js';
import type { CredentialHolder } from '../identity/holder.js';
import type { ProxyMetrics } from '../metrics/families.js';
import { acceptPolicy } from './accept.js';
import type { PolicySnapshot, PolicyStore } from './snapshot.js';

/** First retry within 1 s, then doubling, at most 30 s apart (full jitter: each delay is drawn in [0, cap)). */
export const DEFAULT_POLICY_BACKOFF: BackoffOptions = Object.freeze({ initialMs: 1_000, maxMs: 30_000 });
/** HTTP/2 keepalive ping interval on the stream's connection: a vanished controller is noticed within ~40 s. */
export const DEFAULT_KEEPALIVE_MS = 30_000;
/** How long a keepalive ping may go unanswered before the connection is considered dead. */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 10_000;
/** Largest policy message accepted (gRPC's default is 4 MiB; a policy with many endpoints can be larger). */
export const MAX_POLICY_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Statuses by which the controller refuses this proxy (misconfiguration): warn, and retry at the slowest rate. */
const REFUSALS: ReadonlySet<Status> = new Set([Status.PERMISSION_DENIED, Status.UNAUTHENTICATED, Status.INVALID_ARGUMENT]);

export interface PolicyClientOptions {
  /** `host:port` of the controller's gRPC port (15010). */
  readonly controllerAddress: string;
  /** The DNS name in the controller's serving certificate (e.g. `loom-controller.loom-system.svc`) when the address host is not it. */
  readonly controllerServerName?: string;
  /** PEM roots for the controller's serving certificate, injected at pod creation; the held trust bundle is trusted too. */
  readonly initialTrustPem: string;
  /** The proxy's certificate (client certificate of the stream) and trust bundle; the policy's bundle is installed here. */
  readonly holder: CredentialHolder;
  /** This pod (Downward API); sent in Hello and checked against every policy's `proxy`. */
  readonly pod: { readonly name: string; readonly namespace: string };
  /** Version of the proxy binary, sent in Hello. */
  readonly proxyVersion: string;
  /** Where accepted policies go. */
  readonly store: PolicyStore;
  readonly metrics: ProxyMetrics;
  readonly logger?: Logger;
  /** Reconnect backoff; {@link DEFAULT_POLICY_BACKOFF} by default. */
  readonly backoff?: BackoffOptions;
  /** Uniform in [0, 1): backoff jitter. Math.random by default. */
  readonly random?: () => number;
  /** Schedules reconnects; the system clock (unref'd timers) by default. */
  readonly clock?: Clock;
  /** Keepalive ping interval, ms; {@link DEFAULT_KEEPALIVE_MS} by default. */
  readonly keepaliveMs?: number;
}

/** The last policy this proxy refused. */
export interface PolicyNack {
  readonly version: string;
  readonly reason: string;
}

export interface PolicyClientStatus {
  /** A policy is in force (what `/ready` requires). */
  readonly ready: boolean;
  /** Why not ready, one line (present exactly when `ready` is false). */
  readonly reason?: string;
  /** A stream is open and the controller has answered on it. */
  readonly connected: boolean;
  /** Version of the policy in force, `null` before the first. */
  readonly lastVersion: string | null;
  /** Why the last stream ended or failed to open (`UNAVAILABLE: ...`). */
  readonly lastError?: string;
  readonly lastNack?: PolicyNack;
  /** Attempts that failed since the last stream that connected. */
  readonly consecutiveFailures: number;
}

/** Options that cannot work; `message` is one line naming the option. */
export class PolicyConfigError extends Error {
  override readonly name = 'PolicyConfigError';
}

export class PolicyClient {
  readonly #address: string;
  readonly #serverName: string | undefined;
  readonly #initialTrust: readonly string[];
  readonly #holder: CredentialHolder;
  readonly #pod: { readonly name: string; readonly namespace: string };
  readonly #proxyVersion: string;
  readonly #store: PolicyStore;
  readonly #metrics: ProxyMetrics;
  readonly #log: Logger;
  readonly #backoff: BackoffOptions;
  readonly #random: () => number;
  readonly #clock: Clock;
  readonly #keepaliveMs: number;

  #started = false;
  #closed = false;
  /** The stream of the current attempt; undefined while waiting (certificate, backoff). */
  #call: StreamCall | undefined;
  /** The scheduled reconnect, if any. */
  #retry: { readonly handle: TimerHandle } | undefined;
  #unsubscribeHolder: (() => void) | undefined;
  /** Backoff exponent: streams ended since a message was last received. */
  #backoffAttempt = 0;
  /** Attempts that failed since the last stream that connected. */
  #failures = 0;
  /** When the outage began (last connected stream ended, or the first attempt failed), epoch ms. */
  #downSince: number | undefined;
  #lastError: string | undefined;
  #everConnected = false;
  #lastNack: PolicyNack | undefined;
  /** The failure reason last logged at warn in this outage; repeats go to debug. */
  #loggedFailure: string | undefined;

  constructor(options: PolicyClientOptions) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/.test(options.controllerAddress)) {
      throw new PolicyConfigError(`controllerAddress "${options.controllerAddress}" is not host:port`);
    }
    for (const [name, value] of Object.entries({ 'pod.name': options.pod.name, 'pod.namespace': options.pod.namespace })) {
      if (value === '' || /[/\s]/.test(value)) throw new PolicyConfigError(`${name} "${value}" is not a name (empty, or holds "/" or spaces)`);
    }
    try {
      this.#initialTrust = parseTrustBundle([options.initialTrustPem]).pems;
    } catch (error) {
      throw new PolicyConfigError(`initialTrustPem: ${(error as Error).message}`);
    }
    this.#backoff = options.backoff ?? DEFAULT_POLICY_BACKOFF;
    try {
      backoffDelayMs(0, this.#backoff, () => 0);
    } catch (error) {
      throw new PolicyConfigError((error as Error).message);
    }
    this.#keepaliveMs = options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    if (!(Number.isInteger(this.#keepaliveMs) && this.#keepaliveMs > 0)) throw new PolicyConfigError(`keepaliveMs must be a positive integer, got ${this.#keepaliveMs}`);
    this.#address = options.controllerAddress;
    this.#serverName = options.controllerServerName;
    this.#holder = options.holder;
    this.#pod = { name: options.pod.name, namespace: options.pod.namespace };
    this.#proxyVersion = options.proxyVersion;
    this.#store = options.store;
    this.#metrics = options.metrics;
    this.#log = (options.logger ?? silentLogger()).child({ component: 'policy' });
    this.#random = options.random ?? Math.random;
    this.#clock = options.clock ?? systemClock;
  }

  /** A policy is in force (it stays so while disconnected). */
  get ready(): boolean {
    return this.#store.current() !== null;
  }

  status(): PolicyClientStatus {
    const current = this.#store.current();
    const reason = current === null ? this.#notReadyReason() : undefined;
    return {
      ready: current !== null,
      ...(reason === undefined ? {} : { reason }),
      connected: this.#call?.connected ?? false,
      lastVersion: current?.version ?? null,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
      ...(this.#lastNack === undefined ? {} : { lastNack: this.#lastNack }),
      consecutiveFailures: this.#failures,
    };
  }

  /** Opens the stream, at once if a certificate is held, else as soon as one is. Idempotent. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    if (this.#holder.current() !== undefined) {
      this.#connect();
      return;
    }
    this.#log.info({ event: 'policy.waiting_for_certificate', controller: this.#address }, 'waiting for a certificate before opening the policy stream');
    this.#unsubscribeHolder = this.#holder.onChange(() => {
      if (this.#closed || this.#holder.current() === undefined) return;
      this.#unsubscribeHolder?.();
      this.#unsubscribeHolder = undefined;
      this.#connect();
    });
  }

  /** Ends the stream and stops reconnecting. The policy in force stays in the store. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribeHolder?.();
    this.#unsubscribeHolder = undefined;
    if (this.#retry !== undefined) this.#clock.clearTimer(this.#retry.handle);
    this.#retry = undefined;
    const call = this.#call;
    this.#call = undefined;
    call?.cancel();
  }

  #notReadyReason(): string {
    if (this.#closed) return 'no policy yet: the policy client is closed';
    if (!this.#started) return 'no policy yet: the policy client has not started';
    if (this.#call === undefined && this.#retry === undefined) return 'no policy yet: waiting for a certificate before connecting to the controller';
    if (this.#lastNack !== undefined) return `no policy yet: the last one (${this.#lastNack.version || 'no version'}) was rejected: ${this.#lastNack.reason}`;
    if (this.#lastError !== undefined && !(this.#call?.connected ?? false)) return `no policy yet: controller ${this.#address} not reachable: ${this.#lastError}`;
    return 'no policy yet';
  }

  #connect(): void {
    this.#retry = undefined;
    if (this.#closed) return;
    const held = this.#holder.current();
    if (held === undefined) return; // unreachable: start() waits for a certificate, which is never removed
    let stub: PolicyStub | undefined;
    let call: StreamCall;
    try {
      stub = this.#stub(held);
      call = new StreamCall(stub, {
        connected: (c) => this.#connected(c),
        message: (c, message) => this.#received(c, message),
        ended: (c, status) => this.#ended(c, status),
      });
    } catch (error) {
      // Credentials grpc-js will not take (it checks the PEM when building them): a failed attempt.
      stub?.close();
      this.#failed(Status.INTERNAL, `cannot open the policy stream: ${(error as Error).message}`);
      return;
    }
    this.#call = call;
    call.send({ hello: { pod: this.#pod.name, namespace: this.#pod.namespace, proxyVersion: this.#proxyVersion } });
  }

  /** A channel for one attempt, with the credentials held now. */
  #stub(held: WorkloadCredentials): PolicyStub {
    const trust = [...new Set([...this.#initialTrust, ...held.trustBundle])].join('');
    const channelCredentials = credentials.createSsl(Buffer.from(trust), Buffer.from(held.keyPem), Buffer.from(held.certChainPem));
    const options: ChannelOptions = {
      // Nothing shared with other channels of the process: this channel lives for one stream.
      'grpc.use_local_subchannel_pool': 1,
      'grpc.keepalive_time_ms': this.#keepaliveMs,
      'grpc.keepalive_timeout_ms': DEFAULT_KEEPALIVE_TIMEOUT_MS,
      'grpc.max_receive_message_length': MAX_POLICY_MESSAGE_BYTES,
      ...(this.#serverName === undefined ? {} : { 'grpc.ssl_target_name_override': this.#serverName, 'grpc.default_authority': this.#serverName }),
    };
    const Policy = loadPolicyService();
    return new Policy(this.#address, channelCredentials, options);
  }

  #connected(call: StreamCall): void {
    if (call !== this.#call || call.connected) return;
    call.connected = true;
    const fields = {
      event: 'policy.connected',
      controller: this.#address,
      ...(this.#failures === 0 ? {} : { failedAttempts: this.#failures }),
      ...(this.#downSince === undefined ? {} : { downForMs: this.#clock.now() - this.#downSince }),
    };
    this.#log.info(fields, this.#everConnected ? 'policy stream reconnected' : 'policy stream connected');
    this.#everConnected = true;
    this.#failures = 0;
    this.#downSince = undefined;
    this.#loggedFailure = undefined;
  }

  #received(call: StreamCall, message: ControllerMessage__Output): void {
    if (call !== this.#call) return;
    this.#connected(call);
    this.#backoffAttempt = 0;
    const current = this.#store.current();
    const result = acceptPolicy(message.policy, { namespace: this.#pod.namespace, pod: this.#pod.name, identity: this.#holder.current()?.spiffeId }, current?.version ?? null);
    switch (result.kind) {
      case 'unchanged':
        this.#metrics.policyUpdate('ack');
        this.#log.debug({ event: 'policy.unchanged', version: result.version }, 'policy unchanged');
        call.send({ ack: { version: result.version } });
        return;
      case 'reject':
        this.#reject(call, result.version, result.reason);
        return;
      case 'apply':
        this.#apply(call, result.snapshot, current);
        return;
    }
  }

  #apply(call: StreamCall, snapshot: PolicySnapshot, previous: PolicySnapshot | null): void {
    const { policy, version } = snapshot;
    let bundleChanged: boolean;
    try {
      bundleChanged = this.#holder.setTrustBundle(policy.trustBundle);
    } catch (error) {
      if (!(error instanceof CredentialsError)) throw error;
      this.#reject(call, version, `trustBundle: ${error.message}`);
      return;
    }
    try {
      this.#store.apply(snapshot);
    } catch (error) {
      // The snapshot is in force (listeners run after the swap); a listener's failure is its own.
      this.#log.error({ event: 'policy.listener_failed', version, err: error as Error }, 'a policy listener threw');
    }
    this.#lastNack = undefined;
    this.#metrics.policyApplied(version);
    this.#metrics.policyUpdate('ack');
    this.#log.info(
      {
        event: 'policy.applied',
        version,
        ...(previous === null ? {} : { previousVersion: previous.version }),
        mode: policy.mesh.mode,
        inboundPorts: policy.inbound.ports.length,
        authorizations: policy.inbound.authorizations.length,
        outboundServices: policy.outbound.length,
        endpoints: countEndpoints(snapshot),
        trustBundleChanged: bundleChanged,
      },
      'policy applied',
    );
    call.send({ ack: { version } });
  }

  #reject(call: StreamCall, version: string, reason: string): void {
    this.#lastNack = { version, reason };
    this.#metrics.policyUpdate('nack');
    this.#log.warn(
      { event: 'policy.rejected', version, reason, keptVersion: this.#store.current()?.version ?? null },
      'policy rejected; the previous one stays in force',
    );
    call.send({ nack: { version, reason } });
  }

  #ended(call: StreamCall, status: StatusObject): void {
    if (call !== this.#call) return;
    this.#call = undefined;
    if (this.#closed) return;
    const reason = describeStatus(status);
    if (call.connected) {
      this.#lastError = reason;
      this.#downSince = this.#clock.now();
      this.#log.info({ event: 'policy.disconnected', reason, code: Status[status.code], version: this.#store.current()?.version ?? null }, 'policy stream ended; reconnecting, the policy in force stays');
      this.#schedule(status.code);
      return;
    }
    this.#failed(status.code, reason);
  }

  /** An attempt that never connected. */
  #failed(code: Status, reason: string): void {
    this.#failures += 1;
    this.#downSince ??= this.#clock.now();
    this.#lastError = reason;
    const refused = REFUSALS.has(code);
    const retryInMs = this.#schedule(code);
    const fields = { event: 'policy.connect_failed', controller: this.#address, reason, code: Status[code], consecutiveFailures: this.#failures, retryInMs };
    const message = refused ? 'the controller refused the policy stream; retrying' : 'cannot open the policy stream; retrying';
    // The first failure of an outage, and each new refusal, at warn; repeats at debug (no log storm while the controller is down).
    const loud = this.#loggedFailure === undefined || (refused && reason !== this.#loggedFailure);
    if (loud) {
      this.#log.warn(fields, message);
      this.#loggedFailure = reason;
    } else {
      this.#log.debug(fields, message);
    }
  }

  /** Schedules the next attempt; returns its delay. */
  #schedule(code: Status): number {
    const attempt = this.#backoffAttempt;
    this.#backoffAttempt += 1;
    const { maxMs } = this.#backoff;
    // Refusals need someone to fix something: retry at the slowest rate, in [maxMs/2, maxMs).
    const delay = REFUSALS.has(code) ? Math.floor(maxMs / 2 + this.#random() * (maxMs / 2)) : backoffDelayMs(attempt, this.#backoff, this.#random);
    this.#retry = { handle: this.#clock.setTimer(() => this.#connect(), delay) };
    return delay;
  }
}

function describeStatus(status: StatusObject): string {
  const name = Status[status.code] ?? `status ${status.code}`;
  if (status.code === Status.OK) return 'the controller ended the stream';
  return status.details === '' ? name : `${name}: ${status.details}`;
}

function countEndpoints(snapshot: PolicySnapshot): number {
  let n = 0;
  for (const service of snapshot.policy.outbound) for (const port of service.ports) n += port.endpoints.length;
  return n;
}

interface CallHandlers {
  connected(call: StreamCall): void;
  message(call: StreamCall, message: ControllerMessage__Output): void;
  ended(call: StreamCall, status: StatusObject): void;
}

/**
 * One attempt: a channel and the stream on it, thrown away when the stream ends. `status` is the terminal
 * event (it follows every outcome, cancellation included); `error` is attached only so that it can never go
 * unhandled, the status carries the same outcome.
 */
class StreamCall {
  /** The controller answered on this stream (response headers or a message). */
  connected = false;
  readonly #stub: PolicyStub;
  readonly #call: ClientDuplexStream<ProxyMessage, ControllerMessage__Output>;
  #ended = false;

  constructor(stub: PolicyStub, handlers: CallHandlers) {
    this.#stub = stub;
    this.#call = stub.Stream();
    this.#call.on('metadata', () => handlers.connected(this));
    this.#call.on('data', (message: ControllerMessage__Output) => handlers.message(this, message));
    this.#call.on('error', () => {});
    this.#call.on('status', (status: StatusObject) => {
      if (this.#ended) return;
      this.#ended = true;
      this.#stub.close();
      handlers.ended(this, status);
    });
  }

  send(message: ProxyMessage): void {
    if (!this.#ended) this.#call.write(message);
  }

  cancel(): void {
    if (this.#ended) return;
    this.#call.cancel();
    this.#stub.close();
  }
}
