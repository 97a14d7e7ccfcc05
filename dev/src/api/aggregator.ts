/**
 * API aggregation as kube-aggregator does it: a request for `/apis/<group>/<version>/...` of an APIService with a
 * `spec.service` is proxied over HTTPS to that Service, verifying the backend with `spec.caBundle` for the
 * server name `<service>.<namespace>.svc` (unless `insecureSkipTLSVerify`), authenticating as the front proxy
 * (a client certificate plus `X-Remote-User` / `X-Remote-Group` / `X-Remote-Extra-*` headers naming the caller),
 * and streaming both bodies (so watches work). An unreachable backend or a TLS failure answers 503 with a
 * `service unavailable` Status and the reason goes to the log.
 *
 * A local APIService (`spec.service` null: the group is served by the API server itself) is not proxied: the
 * caller checks {@link apiServiceBackend} first and serves it as any other group.
 *
 * Also here: {@link apiServiceAvailability}, the check kube-aggregator's availability controller runs to set
 * the APIService's `Available` condition, and {@link frontProxyMaterial}, a front-proxy CA and client
 * certificate like kubeadm's `front-proxy-ca` / `front-proxy-client`.
 */
import { X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { createRoot, nameDer, OID, signCertificate } from '@loom/ca';
import { generateKeySync } from '@loom/shared/identity';
import type { Logger } from '@loom/shared/runtime';
import type { KubeObject } from './store.js';

/** `spec.service.port` when the APIService names none (apiregistration's default). */
export const DEFAULT_SERVICE_PORT = 443;
/** kube-aggregator gives discovery requests (`/apis/<group>/<version>`) this long. */
export const DISCOVERY_TIMEOUT_MS = 5_000;
/** How long connecting and the TLS handshake may take (Kubernetes' proxy dialer uses 30 s). */
export const CONNECT_TIMEOUT_MS = 30_000;
/** The common name of the front proxy's client certificate (kubeadm's `--requestheader-allowed-names`). */
export const FRONT_PROXY_CLIENT_NAME = 'front-proxy-client';

/** Who the caller is, as the backend learns it from the front-proxy headers. */
export interface ProxyUser {
  readonly username: string;
  readonly groups: readonly string[];
  readonly uid?: string;
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export interface ServiceAddress {
  readonly host: string;
  readonly port: number;
}

/** Where a Service's port is reached (its ClusterIP, or an endpoint); undefined when nowhere. */
export type ResolveService = (namespace: string, name: string, port: number) => Promise<ServiceAddress | undefined>;

export interface ProxyClientMaterial {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ProxyOptions {
  readonly resolveService: ResolveService;
  /** The front proxy's client certificate (chain) and key, presented to every backend. */
  readonly proxyClient: ProxyClientMaterial;
  readonly log: Logger;
  readonly connectTimeoutMs?: number;
  readonly discoveryTimeoutMs?: number;
}

export interface ProxyTarget {
  readonly apiService: KubeObject;
  readonly user: ProxyUser;
}

/** What `spec.service` and the TLS settings of an APIService say. */
export interface ApiServiceBackend {
  readonly namespace: string;
  readonly name: string;
  readonly port: number;
  /** `<name>.<namespace>.svc`: the name the backend's certificate must carry. */
  readonly serverName: string;
  /** `spec.caBundle` decoded (PEM); undefined when empty (then the system roots apply, as in Go). */
  readonly caBundlePem?: string;
  readonly insecureSkipTLSVerify: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The backend of an APIService, or undefined for a local one (`spec.service` null or absent). */
export function apiServiceBackend(apiService: KubeObject): ApiServiceBackend | undefined {
  const spec = isRecord(apiService['spec']) ? apiService['spec'] : {};
  const service = spec['service'];
  if (!isRecord(service)) return undefined;
  const namespace = typeof service['namespace'] === 'string' ? service['namespace'] : '';
  const name = typeof service['name'] === 'string' ? service['name'] : '';
  const port = typeof service['port'] === 'number' ? service['port'] : DEFAULT_SERVICE_PORT;
  const caBundle = typeof spec['caBundle'] === 'string' && spec['caBundle'] !== '' ? Buffer.from(spec['caBundle'], 'base64').toString('utf8') : undefined;
  return {
    namespace,
    name,
    port,
    serverName: `${name}.${namespace}.svc`,
    ...(caBundle === undefined ? {} : { caBundlePem: caBundle }),
    insecureSkipTLSVerify: spec['insecureSkipTLSVerify'] === true,
  };
}

/** The APIService's `Available` condition, if it has one. */
export function availableCondition(apiService: KubeObject): ApiServiceCondition | undefined {
  const status = isRecord(apiService['status']) ? apiService['status'] : {};
  const conditions = Array.isArray(status['conditions']) ? status['conditions'] : [];
  const found = conditions.find((c): c is Record<string, unknown> => isRecord(c) && c['type'] === 'Available');
  if (found === undefined) return undefined;
  const text = (key: string): string => (typeof found[key] === 'string' ? found[key] : '');
  const status_ = text('status');
  return {
    type: 'Available',
    status: status_ === 'True' || status_ === 'False' ? status_ : 'Unknown',
    reason: text('reason'),
    message: text('message'),
    ...(text('lastTransitionTime') === '' ? {} : { lastTransitionTime: text('lastTransitionTime') }),
  };
}

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1), never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

/** Request headers the API server consumed (credentials, impersonation) or the front proxy owns. */
function dropRequestHeader(name: string): boolean {
  return (
    name === 'host' ||
    name === 'authorization' ||
    name.startsWith('impersonate-') ||
    name === 'x-remote-user' ||
    name === 'x-remote-uid' ||
    name === 'x-remote-group' ||
    name.startsWith('x-remote-extra-') ||
    name === 'x-forwarded-for'
  );
}

/** Header names listed in `Connection` are hop-by-hop too. */
function connectionTokens(raw: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() !== 'connection') continue;
    for (const token of (raw[i + 1] ?? '').split(',')) if (token.trim() !== '') tokens.add(token.trim().toLowerCase());
  }
  return tokens;
}

/** rawHeaders (name, value, name, value...) → name → values, minus hop-by-hop and `drop`. */
function copyHeaders(raw: readonly string[], drop: (lowerName: string) => boolean): Record<string, string[]> {
  const listed = connectionTokens(raw);
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed.has(lower) || drop(lower)) continue;
    (out[lower] ??= []).push(raw[i + 1] ?? '');
  }
  return out;
}

/** Bytes of a header key that are not HTTP token characters, and `%`, are %-encoded (kube-aggregator's headerKeyEscape). */
export function escapeExtraKey(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /^[A-Za-z0-9!#$&'*+.^_`|~-]$/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The front-proxy identity headers for `user` (what kube-aggregator's SetAuthProxyHeaders writes). */
export function frontProxyHeaders(user: ProxyUser): Record<string, string[]> {
  const out: Record<string, string[]> = { 'x-remote-user': [user.username] };
  if (user.uid !== undefined && user.uid !== '') out['x-remote-uid'] = [user.uid];
  if (user.groups.length > 0) out['x-remote-group'] = [...user.groups];
  for (const [key, values] of Object.entries(user.extra ?? {})) {
    if (values.length > 0) (out[`x-remote-extra-${escapeExtraKey(key)}`] ??= []).push(...values);
  }
  return out;
}

const hostPort = (a: ServiceAddress): string => `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;

/** `/apis/<group>/<version>` (and `/api/<version>`): a discovery request, which gets a short deadline. */
function isDiscoveryPath(path: string): boolean {
  const parts = path.split('?')[0]?.replace(/^\/+|\/+$/g, '').split('/') ?? [];
  return parts.length === 3 && parts[0] === 'apis';
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  // Node suggests --use-system-ca on verification failures: no help when the CA is the APIService's caBundle.
  const message = err.message.replace(/; if the root CA is installed locally.*$/, '');
  return code === undefined || message.includes(code) ? message : `${code}: ${message}`;
}

/** How the backend's certificate was checked, for the log of a TLS failure. */
function trustDescription(backend: ApiServiceBackend): string {
  if (backend.insecureSkipTLSVerify) return 'not verified (insecureSkipTLSVerify)';
  if (backend.caBundlePem === undefined) return 'verified with the system roots (no spec.caBundle)';
  const certificates = backend.caBundlePem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const readable = certificates.filter((pem) => {
    try {
      return new X509Certificate(pem).ca;
    } catch {
      return false;
    }
  });
  return readable.length === 0 ? 'spec.caBundle holds no CA certificate' : `verified with spec.caBundle (${readable.length} CA certificate${readable.length === 1 ? '' : 's'})`;
}

/** kube-aggregator's answer when the backend cannot be reached: plain text (kubectl words it "the server is currently unable to handle the request"). */
function sendUnavailable(res: ServerResponse): void {
  const text = 'service unavailable\n';
  res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache, private' });
  res.end(text);
}

/**
 * Proxies `req` to the backend of `target.apiService` and streams the answer into `res`. Resolves when the
 * exchange is over (answered, failed with 503, or either side went away); never rejects, except when the
 * APIService is local, which the caller must serve itself (check {@link apiServiceBackend} first).
 *
 * As kube-aggregator: the caller's `Authorization`, `Impersonate-*` and any `X-Remote-*` headers are not
 * forwarded (the API server consumed the first two; the last would let a caller claim any identity);
 * `X-Remote-User`, `X-Remote-Uid`, `X-Remote-Group` and `X-Remote-Extra-*` name `target.user`;
 * `X-Forwarded-For` gets the caller's address; hop-by-hop headers are dropped. An APIService whose
 * `Available` condition is present and not True answers 503 at once; one with no condition is tried.
 * Protocol upgrades are not proxied (the request goes without `Upgrade`).
 */
export async function proxyToApiService(req: IncomingMessage, res: ServerResponse, target: ProxyTarget, options: ProxyOptions): Promise<void> {
  const apiService = target.apiService.metadata.name;
  const backend = apiServiceBackend(target.apiService);
  if (backend === undefined) throw new Error(`APIService ${apiService} is local (spec.service is null): the API server serves its group itself`);
  const path = req.url ?? '/';
  const fields = { event: 'aggregator.unavailable', apiService, method: req.method, path, service: `${backend.namespace}/${backend.name}:${backend.port}` };
  const unavailable = (reason: string): void => {
    options.log.warn({ ...fields, reason }, 'APIService backend unavailable');
    req.resume();
    if (!res.headersSent) sendUnavailable(res);
    else res.destroy();
  };

  const condition = availableCondition(target.apiService);
  if (condition !== undefined && condition.status !== 'True') {
    unavailable(`the APIService is not available (${condition.status}): ${condition.reason}${condition.message === '' ? '' : `: ${condition.message}`}`);
    return;
  }
  let address: ServiceAddress | undefined;
  try {
    address = await options.resolveService(backend.namespace, backend.name, backend.port);
  } catch (err) {
    unavailable(`resolving service/${backend.name} in "${backend.namespace}" failed: ${describeError(err)}`);
    return;
  }
  if (address === undefined) {
    unavailable(`service/${backend.name} in "${backend.namespace}" has no address for port ${backend.port}`);
    return;
  }
  if (req.destroyed) return;

  const headers: Record<string, string[]> = { ...copyHeaders(req.rawHeaders, dropRequestHeader), ...frontProxyHeaders(target.user) };
  const forwardedFor = req.headers['x-forwarded-for'];
  const client = req.socket.remoteAddress;
  const chain = [...(typeof forwardedFor === 'string' && forwardedFor !== '' ? [forwardedFor] : []), ...(client === undefined ? [] : [client])];
  if (chain.length > 0) headers['x-forwarded-for'] = [chain.join(', ')];
  headers['host'] = [hostPort(address)];

  const where = hostPort(address);
  await new Promise<void>((resolve) => {
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      resolve();
    };
    const upstream: ClientRequest = httpsRequest({
      host: address.host,
      port: address.port,
      method: req.method ?? 'GET',
      path,
      headers: headers as OutgoingHttpHeaders,
      servername: backend.serverName,
      ...(backend.caBundlePem === undefined ? {} : { ca: backend.caBundlePem }),
      cert: options.proxyClient.certPem,
      key: options.proxyClient.keyPem,
      rejectUnauthorized: !backend.insecureSkipTLSVerify,
      minVersion: 'TLSv1.2',
      agent: false,
    });
    const fail = (reason: string): void => {
      upstream.destroy();
      unavailable(reason);
      finish();
    };
    timers.push(
      setTimeout(() => fail(`connecting to ${where} (TLS server name ${backend.serverName}) timed out`), options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS),
    );
    upstream.once('socket', (socket) => socket.once('secureConnect', () => clearTimeout(timers[0])));
    if (isDiscoveryPath(path)) {
      timers.push(setTimeout(() => fail(`discovery request to ${where} took longer than ${(options.discoveryTimeoutMs ?? DISCOVERY_TIMEOUT_MS) / 1000}s`), options.discoveryTimeoutMs ?? DISCOVERY_TIMEOUT_MS));
    }
    upstream.on('error', (err) => {
      if (settled) return;
      fail(`proxying to ${where} (TLS server name ${backend.serverName}, ${trustDescription(backend)}) failed: ${describeError(err)}`);
    });
    upstream.on('response', (upRes) => {
      if (settled) {
        upRes.resume();
        return;
      }
      for (const timer of timers) clearTimeout(timer);
      res.writeHead(upRes.statusCode ?? 502, copyHeaders(upRes.rawHeaders, () => false));
      res.flushHeaders();
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
      upRes.on('close', () => {
        if (!upRes.complete) res.destroy();
      });
    });
    res.on('close', () => {
      upstream.destroy();
      finish();
    });
    res.on('finish', finish);
    req.pipe(upstream);
  });
}

// ---- availability (kube-aggregator's AvailableConditionController) ----

export interface ApiServiceCondition {
  readonly type: 'Available';
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime?: string;
}

export interface AvailabilityProbe {
  /** The current Service or Endpoints object of that name. */
  lookup(kind: 'Service' | 'Endpoints', namespace: string, name: string): KubeObject | undefined;
  /** The Service's EndpointSlices (label kubernetes.io/service-name), consulted when it has no Endpoints object. */
  endpointSlices?(namespace: string, name: string): readonly KubeObject[];
  readonly resolveService: ResolveService;
  readonly proxyClient: ProxyClientMaterial;
  /** The discovery request's deadline; default 5 s. */
  readonly timeoutMs?: number;
}

/**
 * What kube-aggregator's availability controller would set as the APIService's `Available` condition: True
 * `Local` for a local APIService; False `ServiceNotFound`, `ServicePortError` (the Service does not expose
 * the port), `EndpointsNotFound` or `MissingEndpoints` (no ready address for that port) for a ClusterIP
 * Service; then a discovery GET of `/apis/<group>/<version>` as `system:kube-aggregator` (group
 * `system:masters`) with the proxy client certificate, TLS not verified (as Kubernetes does for this check):
 * False `FailedDiscoveryCheck` unless it answers 2xx in time, else True `Passed`. Kubernetes makes five
 * concurrent attempts and needs one success; this makes one.
 */
export async function apiServiceAvailability(apiService: KubeObject, probe: AvailabilityProbe): Promise<ApiServiceCondition> {
  const backend = apiServiceBackend(apiService);
  if (backend === undefined) return { type: 'Available', status: 'True', reason: 'Local', message: 'Local APIServices are always available' };
  const { namespace, name, port } = backend;
  const unavailable = (reason: string, message: string): ApiServiceCondition => ({ type: 'Available', status: 'False', reason, message });

  const service = probe.lookup('Service', namespace, name);
  if (service === undefined) return unavailable('ServiceNotFound', `service/${name} in "${namespace}" is not present`);
  const serviceSpec = isRecord(service['spec']) ? service['spec'] : {};
  const type = typeof serviceSpec['type'] === 'string' ? serviceSpec['type'] : 'ClusterIP';
  if (type === 'ClusterIP') {
    const ports = Array.isArray(serviceSpec['ports']) ? serviceSpec['ports'].filter(isRecord) : [];
    const servicePort = ports.find((p) => p['port'] === port);
    if (servicePort === undefined) return unavailable('ServicePortError', `service/${name} in "${namespace}" is not listening on port ${port}`);
    const portName = typeof servicePort['name'] === 'string' ? servicePort['name'] : '';
    const endpoints = probe.lookup('Endpoints', namespace, name);
    const slices = endpoints === undefined ? (probe.endpointSlices?.(namespace, name) ?? []) : [];
    if (endpoints === undefined && slices.length === 0) return unavailable('EndpointsNotFound', `cannot find endpoints for service/${name} in "${namespace}"`);
    const active = endpoints === undefined ? slices.some((slice) => sliceServes(slice, portName)) : endpointsServe(endpoints, portName);
    if (!active) return unavailable('MissingEndpoints', `endpoints for service/${name} in "${namespace}" have no addresses with port name "${portName}"`);
  }

  let address: ServiceAddress | undefined;
  try {
    address = await probe.resolveService(namespace, name, port);
  } catch (err) {
    return unavailable('FailedDiscoveryCheck', `service/${name} in "${namespace}" could not be resolved: ${describeError(err)}`);
  }
  if (address === undefined) return unavailable('FailedDiscoveryCheck', `service/${name} in "${namespace}" has no address for port ${port}`);
  const spec = isRecord(apiService['spec']) ? apiService['spec'] : {};
  const version = typeof spec['version'] === 'string' ? spec['version'] : '';
  const group = typeof spec['group'] === 'string' ? spec['group'] : '';
  const path = apiService.metadata.name === 'v1.' ? `/api/${version}` : `/apis/${group}/${version}`;
  const url = `https://${hostPort(address)}${path}`;
  const failure = await discoveryCheck(address, path, backend.serverName, probe);
  if (failure !== undefined) {
    const why = typeof failure === 'number' ? `bad status from ${url}: ${failure}` : `Get "${url}": ${failure}`;
    return unavailable('FailedDiscoveryCheck', `failing or missing response from ${url}: ${why}`);
  }
  return { type: 'Available', status: 'True', reason: 'Passed', message: 'all checks passed' };
}

const named = (p: unknown, portName: string): boolean => isRecord(p) && (typeof p['name'] === 'string' ? p['name'] : '') === portName;

/** Whether an Endpoints object has a subset with addresses and a port of that name. */
function endpointsServe(endpoints: KubeObject, portName: string): boolean {
  const subsets = Array.isArray(endpoints['subsets']) ? endpoints['subsets'].filter(isRecord) : [];
  return subsets.some((s) => Array.isArray(s['addresses']) && s['addresses'].length > 0 && Array.isArray(s['ports']) && s['ports'].some((p) => named(p, portName)));
}

/** Whether an EndpointSlice has a ready endpoint with an address and a port of that name. */
function sliceServes(slice: KubeObject, portName: string): boolean {
  const ports = Array.isArray(slice['ports']) ? slice['ports'] : [];
  const endpoints = Array.isArray(slice['endpoints']) ? slice['endpoints'].filter(isRecord) : [];
  const ready = endpoints.some((e) => Array.isArray(e['addresses']) && e['addresses'].length > 0 && !(isRecord(e['conditions']) && e['conditions']['ready'] === false));
  return ready && ports.some((p) => named(p, portName));
}

/** One discovery GET: undefined when it answered 2xx, else the status code it answered or why it did not. */
function discoveryCheck(address: ServiceAddress, path: string, serverName: string, probe: AvailabilityProbe): Promise<number | string | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const settle = (why: number | string | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      request.destroy();
      resolve(why);
    };
    const request = httpsRequest({
      host: address.host,
      port: address.port,
      method: 'GET',
      path,
      headers: { ...frontProxyHeaders({ username: 'system:kube-aggregator', groups: ['system:masters'] }), accept: 'application/json' },
      servername: serverName,
      cert: probe.proxyClient.certPem,
      key: probe.proxyClient.keyPem,
      rejectUnauthorized: false,
      agent: false,
    });
    const timer = setTimeout(() => settle('context deadline exceeded (Client.Timeout exceeded while awaiting headers)'), probe.timeoutMs ?? DISCOVERY_TIMEOUT_MS);
    request.on('error', (err) => settle(describeError(err)));
    request.on('response', (response) => {
      response.resume();
      const code = response.statusCode ?? 0;
      settle(code >= 200 && code < 300 ? undefined : code);
    });
    request.end();
  });
}

/**
 * `apiService` with its `Available` condition set to `condition`: `lastTransitionTime` moves to `now` only when
 * the status changes (apiregistration's SetAPIServiceCondition). A copy; the input is not changed.
 */
export function withAvailableCondition(apiService: KubeObject, condition: ApiServiceCondition, now: number = Date.now()): KubeObject {
  const copy = structuredClone(apiService);
  const status = isRecord(copy['status']) ? copy['status'] : {};
  const conditions = Array.isArray(status['conditions']) ? status['conditions'].filter(isRecord) : [];
  const previous = availableCondition(apiService);
  const lastTransitionTime =
    previous !== undefined && previous.status === condition.status && previous.lastTransitionTime !== undefined
      ? previous.lastTransitionTime
      : new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  const next = { type: 'Available', status: condition.status, lastTransitionTime, reason: condition.reason, message: condition.message };
  const others = conditions.filter((c) => c['type'] !== 'Available');
  copy['status'] = { ...status, conditions: [...others, next] };
  return copy;
}

// ---- the front proxy's credentials ----

export interface FrontProxyMaterial {
  /** The front-proxy CA (the backend's `requestheader-client-ca-file`). */
  readonly caPem: string;
  /** The client certificate, common name {@link FRONT_PROXY_CLIENT_NAME}. */
  readonly certPem: string;
  readonly keyPem: string;
}

const FRONT_PROXY_LIFETIME_MS = 365 * 24 * 3600_000;

/** A fresh front-proxy CA and client certificate, as kubeadm makes `front-proxy-ca` and `front-proxy-client`. */
export function frontProxyMaterial(now: number = Date.now()): FrontProxyMaterial {
  const issuer = createRoot({ trustDomain: 'front-proxy.cluster.local', keyType: 'ec-p256', now });
  const key = generateKeySync('ec-p256');
  const signed = signCertificate(
    {
      subjectDer: nameDer([[OID.commonName, FRONT_PROXY_CLIENT_NAME]]),
      publicKey: key.publicKey,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(Math.min(now + FRONT_PROXY_LIFETIME_MS, Date.parse(issuer.certificate.validTo))),
      isCa: false,
    },
    issuer,
  );
  return { caPem: issuer.pem, certPem: signed.pem, keyPem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/**
 * The data of `kube-system/extension-apiserver-authentication`, the ConfigMap kube-apiserver publishes so
 * aggregated API servers know whom to trust: client certificates (`clientCaPem`) and the front proxy
 * (`requestHeaderCaPem`, its client name and header names).
 */
export function extensionApiserverAuthentication(clientCaPem: string, requestHeaderCaPem: string): Record<string, string> {
  return {
    'client-ca-file': clientCaPem,
    'requestheader-allowed-names': JSON.stringify([FRONT_PROXY_CLIENT_NAME]),
    'requestheader-client-ca-file': requestHeaderCaPem,
    'requestheader-extra-headers-prefix': JSON.stringify(['X-Remote-Extra-']),
    'requestheader-group-headers': JSON.stringify(['X-Remote-Group']),
    'requestheader-username-headers': JSON.stringify(['X-Remote-User']),
  };
}
