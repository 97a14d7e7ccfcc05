/**
 * Container probes: one attempt of a probe (httpGet from the host to the pod's address, 2xx/3xx is success,
 * HTTPS without verification; tcpSocket connects; exec runs in the container as its user and succeeds with
 * exit 0) with the kubelet's failure messages, and the {@link Prober} that repeats it every periodSeconds
 * after initialDelaySeconds and reports when successThreshold successes or failureThreshold failures in a row
 * change the result.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { ContainerPort, Probe, ProbeHandler } from './spec.js';

export interface ProbeResult {
  readonly ok: boolean;
  /** Why it failed (the message of the Unhealthy event). */
  readonly message: string;
}

export interface ProbeTarget {
  /** The pod's address: where http and tcp probes connect unless they name a host. */
  readonly podIP: string;
  readonly ports: readonly ContainerPort[];
  /** Runs an exec probe's command in the container; `timeoutMs` bounds it. */
  readonly exec: (command: readonly string[], timeoutMs: number) => Promise<ProbeResult>;
}

export const PROBE_USER_AGENT = 'kube-probe/1.32';

/** A port number, or a named port of the container. */
export function resolvePort(port: number | string, ports: readonly ContainerPort[]): number | string {
  if (typeof port === 'number') return port;
  const found = ports.find((p) => p.name === port);
  return found === undefined ? `couldn't find port: ${port} in ${JSON.stringify(ports.map((p) => p.name ?? String(p.containerPort)))}` : found.containerPort;
}

const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** One attempt of `handler` against `target`, bounded by `timeoutMs`. */
export function probeOnce(handler: ProbeHandler, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  switch (handler.kind) {
    case 'http': {
      const port = resolvePort(handler.port, target.ports);
      if (typeof port === 'string') return Promise.resolve({ ok: false, message: port });
      return httpProbe(handler, handler.host ?? target.podIP, port, timeoutMs);
    }
    case 'tcp': {
      const port = resolvePort(handler.port, target.ports);
      if (typeof port === 'string') return Promise.resolve({ ok: false, message: port });
      return tcpProbe(handler.host ?? target.podIP, port, timeoutMs);
    }
    case 'exec':
      return target.exec(handler.command, timeoutMs);
    case 'unsupported':
      return Promise.resolve({ ok: false, message: `${handler.what} are not supported by the local cluster` });
  }
}

function httpProbe(handler: Extract<ProbeHandler, { kind: 'http' }>, host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const scheme = handler.scheme === 'HTTPS' ? 'https' : 'http';
  const url = `${scheme}://${hostPort(host, port)}${handler.path}`;
  const headers: Record<string, string> = { 'User-Agent': PROBE_USER_AGENT, Accept: '*/*' };
  for (const [name, value] of handler.headers) headers[name] = value;
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const options = { host, port, path: handler.path, method: 'GET', headers, agent: false as const };
    // The status line decides; the body is not read (a streaming endpoint would never end).
    const onResponse = (res: IncomingMessage): void => {
      const status = res.statusCode ?? 0;
      res.on('error', () => {});
      if (status >= 200 && status < 400) done({ ok: true, message: '' });
      else done({ ok: false, message: `HTTP probe failed with statuscode: ${status}` });
    };
    const req = scheme === 'https' ? httpsRequest({ ...options, rejectUnauthorized: false }, onResponse) : httpRequest(options, onResponse);
    const timer = setTimeout(() => done({ ok: false, message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` }), timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, message: `Get "${url}": ${dialMessage(err, host, port)}` }));
    req.end();
  });
}

function dialMessage(err: NodeJS.ErrnoException, host: string, port: number): string {
  if (err.code === 'ECONNREFUSED') return `dial tcp ${hostPort(host, port)}: connect: connection refused`;
  if (err.code === 'EHOSTUNREACH') return `dial tcp ${hostPort(host, port)}: connect: no route to host`;
  return err.message;
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const socket = connect({ host, port });
    const done = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, message: `dial tcp ${hostPort(host, port)}: i/o timeout` }), timeoutMs);
    socket.on('connect', () => done({ ok: true, message: '' }));
    socket.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, message: dialMessage(err, host, port) }));
    socket.on('close', () => done({ ok: false, message: `dial tcp ${hostPort(host, port)}: connection closed` }));
  });
}

export type ProbeKind = 'Startup' | 'Readiness' | 'Liveness';

export interface ProberOptions {
  readonly kind: ProbeKind;
  readonly probe: Probe;
  readonly attempt: () => Promise<ProbeResult>;
  /** Called when the result changes (after the thresholds), and for every failed attempt (`failed`). */
  readonly onResult: (ok: boolean) => void;
  readonly onFailure: (message: string) => void;
  /** How long a probe's second is (tests shorten it); 1000. */
  readonly secondMs?: number;
}

/**
 * Repeats a probe: first after initialDelaySeconds, then every periodSeconds (attempts never overlap). The result
 * starts as failure for startup and readiness probes and as success for liveness probes, as the kubelet's;
 * `onResult` is called when successThreshold successes or failureThreshold failures in a row change it. A
 * startup probe stops once it succeeded.
 */
export class Prober {
  readonly #options: ProberOptions;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #result: boolean;
  #successes = 0;
  #failures = 0;

  constructor(options: ProberOptions) {
    this.#options = options;
    this.#result = options.kind === 'Liveness';
  }

  get result(): boolean {
    return this.#result;
  }

  start(): void {
    this.#schedule(this.#options.probe.initialDelaySeconds * (this.#options.secondMs ?? 1000));
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#run(), ms);
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    if (this.#stopped) return;
    const started = Date.now();
    let result: ProbeResult;
    try {
      result = await this.#options.attempt();
    } catch (err) {
      result = { ok: false, message: (err as Error).message };
    }
    if (this.#stopped) return;
    const { probe, kind } = this.#options;
    if (result.ok) {
      this.#failures = 0;
      this.#successes++;
      if (!this.#result && this.#successes >= (kind === 'Readiness' ? probe.successThreshold : 1)) this.#change(true);
      if (kind === 'Startup' && this.#result) return this.stop();
    } else {
      this.#successes = 0;
      this.#failures++;
      this.#options.onFailure(result.message);
      if (this.#stopped) return;
      if ((this.#result || kind === 'Startup') && this.#failures >= probe.failureThreshold) {
        this.#failures = 0;
        this.#change(false);
      }
    }
    this.#schedule(Math.max(0, probe.periodSeconds * (this.#options.secondMs ?? 1000) - (Date.now() - started)));
  }

  #change(ok: boolean): void {
    this.#result = ok;
    this.#options.onResult(ok);
  }
}
