/**
 * The HTTPS call kube-apiserver makes to an admission or conversion webhook: a JSON POST to the webhook's
 * `clientConfig` (an https `url`, or a `service` reached through the cluster's own resolution, verified as
 * `<name>.<namespace>.svc`), trusting its `caBundle` (or the system's roots), within the webhook's timeout, with
 * the response read up to a size limit and parsed as JSON.
 *
 * Failures are one sentence each, worded as Kubernetes words them (the callers add Kubernetes' prefixes such as
 * `failed calling webhook "<name>": failed to call webhook: `): a transport failure reads
 * `Post "https://web.shop.svc:443/mutate?timeout=10s": dial tcp 10.0.0.7:443: connect: connection refused`, an
 * HTTP error status is described as client-go describes it.
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';

/** Maps a Service port to an address this process reaches it on; `undefined` when the Service has no endpoint. */
export type ResolveService = (namespace: string, name: string, port: number) => Promise<{ host: string; port: number } | undefined>;

/** kube-apiserver's default for `timeoutSeconds`, and the largest value it accepts. */
export const DEFAULT_TIMEOUT_SECONDS = 10;
export const MAX_TIMEOUT_SECONDS = 30;
/** The timeout of calls without one of their own (conversion webhooks): kube-apiserver's client default. */
export const CLIENT_TIMEOUT_SECONDS = 30;
/** Responses larger than this are refused (a webhook answers with one review, not with a stream). */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** A `clientConfig` that cannot be called (Kubernetes: "could not get REST client: <message>"). */
export class WebhookConfigError extends Error {
  override readonly name = 'WebhookConfigError';
}

/** A call that failed: not sent, no answer, an HTTP error status, or a body that is not JSON. */
export class WebhookCallError extends Error {
  override readonly name = 'WebhookCallError';
}

/** Where and how to call a webhook, from its `clientConfig`. */
export interface WebhookTarget {
  /** The URL as Kubernetes shows it in messages, without the `?timeout=` it adds. */
  readonly url: string;
  /** The request path (`/` when none is configured). */
  readonly path: string;
  /** For a `url`: its host (a name or an address) and port. For a `service`: the Service's DNS name and port. */
  readonly host: string;
  readonly port: number;
  /** For a `service`: resolved at call time through {@link ResolveService}. */
  readonly service?: { readonly namespace: string; readonly name: string; readonly port: number };
  /** The name the server's certificate must carry (absent for an IP address: the address itself is checked). */
  readonly serverName?: string;
  /** The caBundle's certificates (PEM); absent: the system trust store. */
  readonly ca?: readonly string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const URL_FORM = '; desired format: https://host[/path]';

/**
 * The target of a `clientConfig` (`{url}` or `{service: {namespace, name, path?, port?}}`, with an optional base64
 * `caBundle`). Throws a {@link WebhookConfigError} saying what is wrong, with Kubernetes' wording.
 */
export function webhookTarget(clientConfig: unknown): WebhookTarget {
  if (!isRecord(clientConfig)) throw new WebhookConfigError('webhook configuration must have either service or URL');
  const { url, service } = clientConfig;
  const ca = caBundleOf(clientConfig['caBundle']);
  const withCa = ca === undefined ? {} : { ca };
  if (url !== undefined && url !== null && service !== undefined && service !== null) {
    throw new WebhookConfigError('exactly one of url or service is required');
  }
  if (service !== undefined && service !== null) return { ...serviceTarget(service), ...withCa };
  if (url === undefined || url === null || url === '') throw new WebhookConfigError('webhook configuration must have either service or URL');
  return { ...urlTarget(url), ...withCa };
}

function serviceTarget(service: unknown): WebhookTarget {
  if (!isRecord(service)) throw new WebhookConfigError('service must be an object with namespace, name, path and port');
  const { name, namespace, path } = service;
  if (typeof name !== 'string' || name === '') throw new WebhookConfigError('service name is required');
  if (typeof namespace !== 'string' || namespace === '') throw new WebhookConfigError('service namespace is required');
  const port = service['port'] ?? 443;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new WebhookConfigError(`service port is not valid: ${JSON.stringify(port)}: must be between 1 and 65535, inclusive`);
  }
  if (path !== undefined && path !== null && typeof path !== 'string') throw new WebhookConfigError('service path must be a string');
  const requestPath = typeof path === 'string' && path !== '' ? path : '/';
  if (!requestPath.startsWith('/')) throw new WebhookConfigError(`service path ${JSON.stringify(requestPath)} must start with a '/'`);
  const serverName = `${name}.${namespace}.svc`;
  return {
    url: `https://${serverName}:${port}${requestPath}`,
    path: requestPath,
    host: serverName,
    port,
    service: { namespace, name, port },
    serverName,
  };
}

function urlTarget(raw: unknown): WebhookTarget {
  if (typeof raw !== 'string') throw new WebhookConfigError(`url must be a string${URL_FORM}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookConfigError(`Unparsable URL: parse ${JSON.stringify(raw)}: invalid URL${URL_FORM}`);
  }
  if (url.protocol !== 'https:') throw new WebhookConfigError(`'https' is the only allowed URL scheme${URL_FORM}`);
  if (url.hostname === '') throw new WebhookConfigError(`host must be provided${URL_FORM}`);
  if (url.username !== '' || url.password !== '') throw new WebhookConfigError('user information is not permitted in the URL');
  if (url.hash !== '') throw new WebhookConfigError('fragments are not permitted in the URL');
  if (url.search !== '') throw new WebhookConfigError('query parameters are not permitted in the URL');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? 443 : Number(url.port);
  const path = url.pathname === '' ? '/' : url.pathname;
  return {
    url: `https://${url.host}${path}`,
    path,
    host,
    port,
    ...(isIP(host) === 0 ? { serverName: host } : {}),
  };
}

/** The certificates of a base64 caBundle; undefined when there is none (the system trust store applies). */
function caBundleOf(bundle: unknown): string[] | undefined {
  if (bundle === undefined || bundle === null || bundle === '') return undefined;
  if (typeof bundle !== 'string') throw new WebhookConfigError('caBundle must be a base64 string');
  const compact = bundle.replace(/[\r\n]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw new WebhookConfigError('unable to load root certificates: caBundle is not valid base64');
  }
  const text = Buffer.from(compact, 'base64').toString('latin1');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new WebhookConfigError('unable to load root certificates: unable to parse bytes as PEM block');
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new WebhookConfigError(`unable to load root certificates: failed to parse certificate: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return blocks.map((b) => `${b}\n`);
}

export interface PostOptions {
  /** The whole call (resolution, connection, TLS, request, response) must end within this (whole seconds). */
  readonly timeoutSeconds: number;
  readonly resolveService: ResolveService;
  readonly maxResponseBytes?: number;
}

/**
 * POSTs `body` as JSON to the target (with `?timeout=<n>s`, as kube-apiserver does) and returns the parsed JSON
 * answer of a 2xx response. Throws a {@link WebhookCallError} for everything else.
 */
export async function postJson(target: WebhookTarget, body: unknown, options: PostOptions): Promise<unknown> {
  const timeout = `${options.timeoutSeconds}s`;
  const shown = `${target.url}?timeout=${timeout}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutSeconds * 1000);
  let address = { host: target.host, port: target.port };
  try {
    if (target.service !== undefined) {
      const { namespace, name, port } = target.service;
      const resolved = await untilAborted(options.resolveService(namespace, name, port), controller.signal);
      if (resolved === undefined) throw new Error(`no endpoints available for service "${name}"`);
      address = resolved;
    }
    const response = await send(target, address, `${target.path}?timeout=${encodeURIComponent(timeout)}`, JSON.stringify(body), controller.signal);
    const text = await readBody(response, options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, controller.signal);
    return interpret(response, text);
  } catch (err) {
    if (err instanceof WebhookCallError) throw err;
    throw new WebhookCallError(`Post ${JSON.stringify(shown)}: ${controller.signal.aborted ? 'context deadline exceeded' : transportReason(err, address, target.serverName)}`);
  } finally {
    clearTimeout(timer);
  }
}

async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error('aborted'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

function send(target: WebhookTarget, address: { host: string; port: number }, path: string, payload: string, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: address.host,
      port: address.port,
      method: 'POST',
      path,
      agent: false,
      signal,
      ...(target.serverName === undefined ? {} : { servername: target.serverName }),
      ...(target.ca === undefined ? {} : { ca: [...target.ca] }),
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, */*',
        'user-agent': 'kube-apiserver-admission',
        'content-length': Buffer.byteLength(payload),
      },
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end(payload);
  });
}

function readBody(response: IncomingMessage, limit: number, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const onAbort = (): void => {
      settle(() => reject(new Error('aborted')));
      response.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        settle(() => reject(new WebhookCallError(`the webhook's response is larger than ${limit} bytes`)));
        response.destroy();
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => settle(() => resolve(Buffer.concat(chunks))));
    response.on('error', (err) => settle(() => reject(err)));
    response.on('close', () => settle(() => reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))));
  });
}

/** client-go's reading of a response: JSON on 2xx, else a Status' message or a description of the status code. */
function interpret(response: IncomingMessage, body: Buffer): unknown {
  const code = response.statusCode ?? 0;
  const contentType = response.headers['content-type'] ?? '';
  const text = body.toString('utf8');
  if (code >= 200 && code < 300) {
    if (body.length === 0) throw new WebhookCallError(`0-length response with status code: ${code} and content type: ${contentType}`);
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new WebhookCallError(`couldn't get version/kind; json parse error: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new WebhookCallError(statusMessage(code, contentType, text));
}

/** The message client-go gives an HTTP error status (the body's Status message when it sends one). */
export function statusMessage(code: number, contentType: string, text: string): string {
  const status = parseJson(text);
  if (isRecord(status) && status['kind'] === 'Status' && typeof status['message'] === 'string' && status['message'] !== '') return status['message'];
  const isText = /^text\/plain\b/i.test(contentType);
  const serverMessage = isText ? text.slice(0, 2048).trim() : 'unknown';
  switch (code) {
    case 400:
      return 'the server rejected our request for an unknown reason';
    case 401:
      return 'the server has asked for the client to provide credentials';
    case 403:
      return serverMessage;
    case 404:
      return 'the server could not find the requested resource';
    case 405:
      return 'the server does not allow this method on the requested resource';
    case 409:
      return 'the server reported a conflict';
    case 422:
      return 'the server rejected our request due to an error in our request';
    case 429:
      return 'the server has received too many requests and has asked us to try again later';
    case 503:
      return 'the server is currently unable to handle the request';
    case 504:
      return 'the server was unable to return a response in the time allotted, but may still be processing the request';
    default:
      if (code >= 500) return `an error on the server (${JSON.stringify(serverMessage)}) has prevented the request from succeeding`;
      return `the server responded with the status code ${code} but did not return more information`;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const UNKNOWN_AUTHORITY = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** A Node network or TLS error as Go's HTTP client reports it (what Kubernetes' messages carry). */
/**
 * Go's x509.HostnameError text: an IP host is checked against the IP SANs only, a name against the DNS SANs only
 * (`subjectAltName` is Node's `DNS:a, IP Address:b` list).
 */
export function hostnameError(subjectAltName: string, host: string): string {
  const sans = subjectAltName.split(', ').filter((n) => n !== '');
  const of = (prefix: string): string[] => sans.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) !== 0) {
    const ips = of('IP Address:');
    if (ips.length === 0) return `x509: cannot validate certificate for ${bare} because it doesn't contain any IP SANs`;
    return `x509: certificate is valid for ${ips.join(', ')}, not ${bare}`;
  }
  const names = of('DNS:');
  if (names.length === 0) return `x509: certificate is not valid for any names, but wanted to match ${host}`;
  return `x509: certificate is valid for ${names.join(', ')}, not ${host}`;
}

function transportReason(err: unknown, address: { host: string; port: number }, serverName: string | undefined): string {
  const e = err instanceof Error ? (err as Error & { code?: string; cert?: { subjectaltname?: string } }) : undefined;
  const message = e?.message ?? String(err);
  const hostPort = isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
  const code = e?.code ?? '';
  if (code === 'ECONNREFUSED') return `dial tcp ${hostPort}: connect: connection refused`;
  if (code === 'EHOSTUNREACH') return `dial tcp ${hostPort}: connect: no route to host`;
  if (code === 'ENETUNREACH') return `dial tcp ${hostPort}: connect: network is unreachable`;
  if (code === 'ETIMEDOUT') return `dial tcp ${hostPort}: i/o timeout`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `dial tcp: lookup ${address.host}: no such host`;
  if (code === 'ECONNRESET') return message === 'socket hang up' ? 'EOF' : `read tcp ${hostPort}: read: connection reset by peer`;
  if (UNKNOWN_AUTHORITY.has(code)) return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `tls: failed to verify certificate: ${hostnameError(e?.cert?.subjectaltname ?? '', serverName ?? address.host)}`;
  if (/wrong version number|packet length too long|http request/i.test(message)) return 'http: server gave HTTP response to HTTPS client';
  return message;
}
