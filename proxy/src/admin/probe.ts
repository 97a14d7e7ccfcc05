/**
 * Probe forwarding: the admin server runs the kubelet's HTTP and TCP probes against the application on
 * loopback, so that probes never cross the inbound proxy and its policy (a strict-mode pod still passes its
 * health checks). One probe is one fresh connection (no pooling: probes come seconds apart).
 *
 * What the prober gets back: for HTTP, the application's status code, its `content-type` and at most
 * {@link MAX_PROBE_BODY_BYTES} of its body (kubelet reads no more); `Location` and other headers are not
 * passed on, so a redirect is reported as the 3xx it is (kubelet counts 200-399 as success) instead of being
 * followed to the admin port. For TCP, 200 when the connection was accepted. Failures: 503 when the
 * application cannot be reached or the response broke off, 504 when it did not answer within the limit, each
 * with a one-line text body saying why.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

/** Body bytes passed back to the prober (kubelet reads 10 KiB at most and only logs it). */
export const MAX_PROBE_BODY_BYTES = 1024;

export interface ProbeResult {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer | string;
}

export interface HttpProbeTarget {
  readonly scheme: 'http' | 'https';
  /** The application's address (loopback). */
  readonly address: string;
  readonly port: number;
  /** Path and query, as the prober asked for them. */
  readonly path: string;
  readonly headers: OutgoingHttpHeaders;
}

/** Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1), plus the ones we set. */
const NOT_FORWARDED: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length', 'expect']);

/**
 * The headers to send to the application: the prober's (kubelet sends `user-agent: kube-probe/<v>`,
 * `accept`, and the probe's `httpHeaders`), minus hop-by-hop ones and those named in `Connection`, with
 * `Host` set to `host`.
 */
export function forwardedHeaders(incoming: IncomingHttpHeaders, host: string): OutgoingHttpHeaders {
  const connection = new Set(
    String(incoming.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== ''),
  );
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || NOT_FORWARDED.has(name) || connection.has(name)) continue;
    headers[name] = value;
  }
  headers.host = host;
  return headers;
}

/** `address:port` for a Host header or a message (IPv6 bracketed). */
export const hostPort = (address: string, port: number): string => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

const text = (status: number, body: string): ProbeResult => ({ status, contentType: 'text/plain; charset=utf-8', body: `${body}\n` });

/** A signal aborted after `ms` (or by `abort`), and the function that releases its timer once done. */
function deadline(ms: number, abort: AbortSignal): { readonly timedOut: () => boolean; readonly signal: AbortSignal; readonly clear: () => void } {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, ms);
  timer.unref();
  const onAbort = (): void => controller.abort();
  abort.addEventListener('abort', onAbort, { once: true });
  if (abort.aborted) controller.abort();
  return {
    timedOut: () => timedOut,
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      abort.removeEventListener('abort', onAbort);
    },
  };
}

/** Why a probe failed, as the prober sees it. */
function failure(error: unknown, what: string, timedOut: boolean, timeoutMs: number): ProbeResult {
  if (timedOut) return text(504, `probe: no answer from ${what} within ${timeoutMs} ms`);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return text(503, `probe: ${what} refused the connection`);
  return text(503, `probe: ${what} failed: ${code ?? (error as Error).message}`);
}

/**
 * GETs `target` and resolves with what to tell the prober; never rejects. `abort` ends it early (the prober
 * went away); `timeoutMs` bounds the whole exchange.
 */
export function httpProbe(target: HttpProbeTarget, timeoutMs: number, abort: AbortSignal): Promise<ProbeResult> {
  const limit = deadline(timeoutMs, abort);
  const what = `${target.scheme}://${hostPort(target.address, target.port)}`;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      limit.clear();
      resolve(result);
    };
    const fail = (error: unknown): void => settle(failure(error, what, limit.timedOut(), timeoutMs));
    const options = {
      host: target.address,
      port: target.port,
      path: target.path,
      method: 'GET',
      headers: target.headers,
      agent: false,
      signal: limit.signal,
    } as const;
    // kubelet does not verify the application's certificate for HTTPS probes; neither do we.
    const request = target.scheme === 'https' ? httpsRequest({ ...options, rejectUnauthorized: false }) : httpRequest(options);
    request.on('error', fail);
    request.on('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (): void => {
        settle({
          status: response.statusCode ?? 502,
          contentType: response.headers['content-type'] ?? 'text/plain; charset=utf-8',
          body: Buffer.concat(chunks, size).subarray(0, MAX_PROBE_BODY_BYTES),
        });
        response.destroy();
      };
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_PROBE_BODY_BYTES) done();
      });
      response.on('end', done);
      response.on('error', fail);
      response.on('close', () => fail(new Error('the response broke off')));
    });
    request.end();
  });
}

/** Connects to `address:port` and resolves with 200 when accepted; never rejects. */
export function tcpProbe(address: string, port: number, timeoutMs: number, abort: AbortSignal): Promise<ProbeResult> {
  const limit = deadline(timeoutMs, abort);
  const what = `tcp://${hostPort(address, port)}`;
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, signal: limit.signal });
    socket.once('connect', () => {
      limit.clear();
      socket.destroy();
      resolve(text(200, `probe: ${what} accepted the connection`));
    });
    socket.on('error', (error) => {
      limit.clear();
      resolve(failure(error, what, limit.timedOut(), timeoutMs));
    });
  });
}
