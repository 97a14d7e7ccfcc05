/** The APIService proxy against a real HTTPS backend on 127.0.0.1, and the availability check. */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { mintCa } from '@loom/ca/testing';
import { createLogger } from '@loom/shared/runtime';
import t, { type Test } from 'tap';
import {
  apiServiceAvailability,
  apiServiceBackend,
  escapeExtraKey,
  extensionApiserverAuthentication,
  frontProxyMaterial,
  proxyToApiService,
  withAvailableCondition,
  type ProxyOptions,
  type ProxyUser,
} from '../../src/api/aggregator.js';
import type { KubeObject } from '../../src/api/store.js';

const GROUP_PATH = '/apis/metrics.smi-spec.io/v1alpha1';
const frontProxy = frontProxyMaterial();
const backendCa = mintCa();
const strangerCa = mintCa();
const backendLeaf = backendCa.leafFor({ dnsNames: ['metrics.loom.svc'] });

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly rawHeaders: string[];
  readonly peerCommonName: string | undefined;
  readonly authorized: boolean;
  readonly body: string;
}

/** The aggregated API server: records what it saw; echoes bodies; streams watches; stalls on request. */
class Backend {
  readonly seen: Seen[] = [];
  readonly server: HttpsServer;
  port = 0;
  releaseWatch: () => void = () => undefined;
  watchClosed: Promise<void> = Promise.resolve();

  constructor() {
    this.server = createHttpsServer({ cert: backendLeaf.certPem, key: backendLeaf.keyPem, ca: frontProxy.caPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      void this.#handle(req, res);
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const commonName = peer.subject?.CN;
    this.seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      peerCommonName: Array.isArray(commonName) ? commonName.join(',') : commonName,
      authorized: socket.authorized,
      body: Buffer.concat(chunks).toString('utf8'),
    });
    const url = req.url ?? '';
    if (url.startsWith(`${GROUP_PATH}/watch/`)) {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.write('{"type":"ADDED","object":{"kind":"TrafficMetrics","metadata":{"name":"a"}}}\n');
      const released = new Promise<void>((resolve) => (this.releaseWatch = resolve));
      this.watchClosed = new Promise<void>((resolve) => res.on('close', () => resolve()));
      await released;
      res.write('{"type":"MODIFIED","object":{"kind":"TrafficMetrics","metadata":{"name":"a"}}}\n');
      return; // open until the client goes away
    }
    if (url.startsWith('/apis/slow.group/v1')) {
      await new Promise((resolve) => setTimeout(resolve, 600));
      if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end('{"slow":true}');
      return;
    }
    if (url.startsWith(`${GROUP_PATH}/missing`)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404}');
      return;
    }
    if (url.startsWith('/apis/broken.group/v1')) {
      res.writeHead(503).end();
      return;
    }
    const type = req.headers['content-type'] ?? 'application/json';
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': type, 'x-backend': 'yes', connection: 'close, x-hop-response', 'keep-alive': 'timeout=77', 'x-hop-response': 'dropped' });
    res.end(req.method === 'POST' ? Buffer.concat(chunks) : JSON.stringify({ kind: 'APIResourceList', groupVersion: 'metrics.smi-spec.io/v1alpha1', resources: [] }));
  }
}

function apiService(spec: Record<string, unknown> = {}, status?: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: 'v1alpha1.metrics.smi-spec.io' },
    spec: {
      group: 'metrics.smi-spec.io',
      version: 'v1alpha1',
      service: { namespace: 'loom', name: 'metrics', port: 443 },
      caBundle: Buffer.from(backendCa.rootPem).toString('base64'),
      groupPriorityMinimum: 100,
      versionPriority: 100,
      ...spec,
    },
    ...(status === undefined ? {} : { status }),
  };
}

const USER: ProxyUser = {
  username: 'system:serviceaccount:default:web',
  uid: 'sa-uid-1',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
  extra: { 'authentication.kubernetes.io/pod-name': ['web-0'] },
};

interface Reply {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** The API server side: a plain HTTP server that proxies every request to `target()` with `options()`. */
async function setup(t: Test) {
  const backend = new Backend();
  backend.server.listen(0, '127.0.0.1');
  await once(backend.server, 'listening');
  backend.port = (backend.server.address() as AddressInfo).port;
  const logged: Record<string, unknown>[] = [];
  const log = createLogger({ name: 'test', level: 'debug', destination: { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) } });
  let target = apiService();
  let overrides: Partial<ProxyOptions> = {};
  const done: Promise<void>[] = [];
  const front: HttpServer = createHttpServer((req, res) => {
    const options: ProxyOptions = {
      resolveService: (ns, name, port) => Promise.resolve(ns === 'loom' && (name === 'metrics' || name === 'other') && port === 443 ? { host: '127.0.0.1', port: backend.port } : undefined),
      proxyClient: { certPem: frontProxy.certPem, keyPem: frontProxy.keyPem },
      log,
      ...overrides,
    };
    done.push(proxyToApiService(req, res, { apiService: target, user: USER }, options));
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  const frontPort = (front.address() as AddressInfo).port;
  t.teardown(async () => {
    front.closeAllConnections();
    backend.server.closeAllConnections();
    await Promise.all([new Promise((r) => front.close(r)), new Promise((r) => backend.server.close(r))]);
  });

  const call = (method: string, path: string, options: { headers?: Record<string, string | string[]>; body?: Buffer | string } = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: frontPort, method, path, headers: options.headers ?? {}, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(options.body);
    });
  return {
    backend,
    logged,
    call,
    frontPort,
    done,
    use(next: KubeObject, options: Partial<ProxyOptions> = {}) {
      target = next;
      overrides = options;
    },
  };
}


/** Rejects after `ms`, so a proxy that buffers or hangs fails the test instead of stalling it. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

t.test('a request reaches the backend as the caller, through the front proxy certificate', async (t) => {
  const s = await setup(t);
  const reply = await s.call('GET', `${GROUP_PATH}/namespaces/default/pods?labelSelector=app%3Dweb&limit=5`, {
    headers: {
      authorization: 'Bearer secret-admin-token',
      'x-remote-user': 'system:admin',
      'x-remote-group': 'system:masters',
      'x-remote-uid': 'forged',
      'x-remote-extra-scopes': 'all',
      'impersonate-user': 'root',
      'impersonate-group': 'system:masters',
      accept: 'application/json;as=Table;g=meta.k8s.io;v=v1, application/json',
      'x-custom': 'kept',
      connection: 'keep-alive, x-hop',
      'x-hop': 'dropped',
      'x-forwarded-for': '10.0.0.9',
    },
  });
  t.equal(reply.status, 200);
  t.equal(reply.headers['x-backend'], 'yes', 'response headers come back');
  t.not(reply.headers['keep-alive'], 'timeout=77', 'hop-by-hop response headers do not');
  t.equal(reply.headers['x-hop-response'], undefined, 'nor those the backend named in Connection');
  t.match(JSON.parse(reply.body), { kind: 'APIResourceList' });
  t.equal(s.backend.seen.length, 1);
  const seen = s.backend.seen[0];
  if (seen === undefined) return;
  t.equal(seen.url, `${GROUP_PATH}/namespaces/default/pods?labelSelector=app%3Dweb&limit=5`, 'path and query unchanged');
  t.equal(seen.peerCommonName, 'front-proxy-client', 'the proxy client certificate was presented');
  t.equal(seen.authorized, true, 'and it chains to the front-proxy CA');
  t.equal(seen.headers['x-remote-user'], USER.username);
  t.equal(seen.headers['x-remote-uid'], 'sa-uid-1');
  const groups = seen.rawHeaders.filter((_, i) => i % 2 === 1 && seen.rawHeaders[i - 1]?.toLowerCase() === 'x-remote-group');
  t.strictSame(groups, USER.groups, 'one X-Remote-Group line per group, the caller’s forged one gone');
  t.equal(seen.headers['x-remote-extra-authentication.kubernetes.io%2fpod-name'], 'web-0', 'extra keys escaped as kube-aggregator does');
  t.equal(seen.headers['x-remote-extra-scopes'], undefined);
  t.equal(seen.headers['authorization'], undefined, 'the caller’s credentials stay with the API server');
  t.equal(seen.headers['impersonate-user'], undefined);
  t.equal(seen.headers['impersonate-group'], undefined);
  t.equal(seen.headers['accept'], 'application/json;as=Table;g=meta.k8s.io;v=v1, application/json');
  t.equal(seen.headers['x-custom'], 'kept');
  t.equal(seen.headers['x-hop'], undefined, 'headers named in Connection are hop-by-hop');
  t.equal(seen.headers['host'], `127.0.0.1:${s.backend.port}`);
  t.equal(seen.headers['x-forwarded-for'], '10.0.0.9, 127.0.0.1');
  await Promise.all(s.done);
});

t.test('request and response bodies make the round trip, with status and content type', async (t) => {
  const s = await setup(t);
  const big = JSON.stringify({ kind: 'TrafficMetrics', pad: 'x'.repeat(1 << 20) });
  const reply = await s.call('POST', `${GROUP_PATH}/namespaces/default/things`, { headers: { 'content-type': 'application/json; charset=utf-8' }, body: big });
  t.equal(reply.status, 201);
  t.equal(reply.headers['content-type'], 'application/json; charset=utf-8');
  t.equal(reply.body.length, big.length);
  t.ok(reply.body === big, 'the body came back byte for byte');
  t.equal(s.backend.seen[0]?.body.length, big.length, 'the backend got all of it');
  const missing = await s.call('GET', `${GROUP_PATH}/missing`);
  t.equal(missing.status, 404, 'backend errors pass through as they are');
  t.equal(missing.body, '{"kind":"Status","code":404}');
  const utf8 = 'überall ✓';
  const echoed = await s.call('POST', `${GROUP_PATH}/echo`, { headers: { 'content-type': 'text/plain' }, body: utf8 });
  t.equal(echoed.body, utf8);
});

t.test('a watch streams event by event, and a client hang-up closes the backend request', async (t) => {
  const s = await setup(t);
  const chunks: string[] = [];
  let arrived: () => void = () => undefined;
  const req = httpRequest({ host: '127.0.0.1', port: s.frontPort, path: `${GROUP_PATH}/watch/namespaces/default/trafficmetrics?watch=true`, agent: false });
  const response = await within(once(req.end(), 'response') as Promise<[IncomingMessage]>, 5_000, 'the watch response');
  const [res] = response;
  t.equal(res.statusCode, 200);
  res.on('data', (c: Buffer) => {
    chunks.push(c.toString());
    arrived();
  });
  const next = (): Promise<void> => new Promise((resolve) => (arrived = resolve));
  await within(chunks.length > 0 ? Promise.resolve() : next(), 5_000, 'the first event before the backend sent more');
  t.match(chunks.join(''), /"type":"ADDED"/);
  t.notMatch(chunks.join(''), /MODIFIED/, 'the second event is not there before the backend writes it');
  const second = next();
  s.backend.releaseWatch();
  await within(second, 5_000, 'the second event');
  t.match(chunks.join(''), /"type":"MODIFIED"/);
  req.destroy();
  await within(s.backend.watchClosed, 5_000, 'the backend seeing the client leave');
  await within(Promise.all(s.done), 5_000, 'the proxy call settling');
  t.pass('the backend connection closed after the client left');
});

t.test('503 Service Unavailable, with the reason in the log', async (t) => {
  const s = await setup(t);
  const dead = createHttpServer();
  dead.listen(0, '127.0.0.1');
  await once(dead, 'listening');
  const deadPort = (dead.address() as AddressInfo).port;
  await new Promise((r) => dead.close(r));

  const cases: [string, KubeObject, Partial<ProxyOptions>, RegExp][] = [
    ['nothing listens', apiService(), { resolveService: () => Promise.resolve({ host: '127.0.0.1', port: deadPort }) }, /ECONNREFUSED/],
    ['the caBundle is another CA', apiService({ caBundle: Buffer.from(strangerCa.rootPem).toString('base64') }), {}, /verified with spec\.caBundle \(1 CA certificate\)\) failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate$/],
    ['the caBundle is no certificate', apiService({ caBundle: Buffer.from('not a pem').toString('base64') }), {}, /spec\.caBundle holds no CA certificate\) failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE/],
    ['no caBundle (system roots do not know the cluster CA)', apiService({ caBundle: undefined }), {}, /verified with the system roots \(no spec\.caBundle\)\) failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE/],
    ['the certificate is for another service', apiService({ service: { namespace: 'loom', name: 'other', port: 443 } }), {}, /TLS server name other\.loom\.svc, .*ERR_TLS_CERT_ALTNAME_INVALID.*DNS:metrics\.loom\.svc/],
    ['the service has no address', apiService({ service: { namespace: 'loom', name: 'gone', port: 443 } }), {}, /service\/gone in "loom" has no address for port 443/],
    ['resolving fails', apiService(), { resolveService: () => Promise.reject(new Error('store closed')) }, /resolving service\/metrics in "loom" failed: store closed/],
    [
      'the APIService is not Available',
      apiService({}, { conditions: [{ type: 'Available', status: 'False', reason: 'MissingEndpoints', message: 'endpoints for service/metrics in "loom" have no addresses with port name ""' }] }),
      {},
      /not available \(False\): MissingEndpoints/,
    ],
    ['the APIService availability is Unknown', apiService({}, { conditions: [{ type: 'Available', status: 'Unknown' }] }), {}, /not available \(Unknown\)/],
  ];
  for (const [name, service, options, reason] of cases) {
    s.use(service, options);
    s.logged.length = 0;
    const before = s.backend.seen.length;
    const reply = await s.call('GET', `${GROUP_PATH}/namespaces/default/pods`, { headers: { authorization: 'Bearer x' } });
    t.equal(reply.status, 503, name);
    t.equal(reply.body, 'service unavailable\n', `${name}: plain text, as kube-aggregator answers`);
    t.match(reply.headers['content-type'], /^text\/plain/, `${name}: text/plain`);
    t.equal(s.backend.seen.length, before, `${name}: the backend served nothing`);
    const line = s.logged.find((l) => l['event'] === 'aggregator.unavailable');
    t.match(line, { level: 'warn', apiService: 'v1alpha1.metrics.smi-spec.io', method: 'GET', path: `${GROUP_PATH}/namespaces/default/pods`, reason }, `${name}: logged why`);
  }
  await Promise.all(s.done);
});

t.test('insecureSkipTLSVerify trusts whatever the backend presents', async (t) => {
  const s = await setup(t);
  s.use(apiService({ caBundle: Buffer.from(strangerCa.rootPem).toString('base64'), insecureSkipTLSVerify: true, service: { namespace: 'loom', name: 'other', port: 443 } }));
  const reply = await s.call('GET', GROUP_PATH);
  t.equal(reply.status, 200);
  t.equal(s.backend.seen[0]?.peerCommonName, 'front-proxy-client', 'the client certificate is still presented');
});

t.test('discovery requests get a deadline; resource requests do not', async (t) => {
  const s = await setup(t);
  s.use(apiService(), { discoveryTimeoutMs: 200 });
  const started = Date.now();
  const cut = await s.call('GET', '/apis/slow.group/v1');
  t.equal(cut.status, 503);
  t.ok(Date.now() - started < 550, 'answered at the deadline, not when the backend did');
  t.match(s.logged.find((l) => l['event'] === 'aggregator.unavailable'), { reason: /took longer than 0.2s/ });
  const slow = await s.call('GET', '/apis/slow.group/v1/namespaces/default/things');
  t.equal(slow.status, 200, 'a resource request waits for the backend');
  t.equal(slow.body, '{"slow":true}');
});

t.test('a local APIService is the caller’s to serve', async (t) => {
  const local = apiService({ service: null, caBundle: undefined });
  t.equal(apiServiceBackend(local), undefined);
  t.strictSame(apiServiceBackend(apiService({ service: { namespace: 'loom', name: 'metrics' }, insecureSkipTLSVerify: true })), {
    namespace: 'loom',
    name: 'metrics',
    port: 443,
    serverName: 'metrics.loom.svc',
    caBundlePem: backendCa.rootPem,
    insecureSkipTLSVerify: true,
  });
  const fakeReq = {} as IncomingMessage;
  const fakeRes = {} as ServerResponse;
  await t.rejects(
    proxyToApiService(fakeReq, fakeRes, { apiService: local, user: USER }, { resolveService: () => Promise.resolve(undefined), proxyClient: frontProxy, log: createLogger({ name: 't', level: 'silent' }) }),
    /local \(spec.service is null\)/,
  );
});

t.test('X-Remote-Extra- keys are %-escaped like kube-aggregator escapes them', (t) => {
  const cases: [string, string][] = [
    ['scopes', 'scopes'],
    ['authentication.kubernetes.io/pod-name', 'authentication.kubernetes.io%2Fpod-name'],
    ['a b', 'a%20b'],
    ['100%', '100%25'],
    ['ü', '%C3%BC'],
    ["ok!#$&'*+-.^_`|~", "ok!#$&'*+-.^_`|~"],
  ];
  for (const [key, escaped] of cases) t.equal(escapeExtraKey(key), escaped, key);
  t.end();
});

t.test('availability: the Available condition kube-aggregator would set', async (t) => {
  const s = await setup(t);
  const objects = new Map<string, KubeObject>();
  const service = (ports: unknown[], type?: string): KubeObject => ({ metadata: { name: 'metrics', namespace: 'loom' }, spec: { ports, ...(type === undefined ? {} : { type }) } });
  const endpoints = (subsets: unknown[]): KubeObject => ({ metadata: { name: 'metrics', namespace: 'loom' }, subsets });
  const ready = [{ addresses: [{ ip: '10.0.0.5' }], ports: [{ name: 'https', port: 8443 }] }];
  const probe = {
    lookup: (kind: 'Service' | 'Endpoints', ns: string, name: string) => objects.get(`${kind}/${ns}/${name}`),
    resolveService: (ns: string, name: string, port: number) => Promise.resolve(name === 'metrics' && port === 443 ? { host: '127.0.0.1', port: s.backend.port } : undefined),
    proxyClient: frontProxy,
    timeoutMs: 2_000,
  };
  const check = async (name: string, target: KubeObject, svc: KubeObject | undefined, eps: KubeObject | undefined, expected: Record<string, unknown>): Promise<void> => {
    objects.clear();
    if (svc !== undefined) objects.set('Service/loom/metrics', svc);
    if (eps !== undefined) objects.set('Endpoints/loom/metrics', eps);
    t.strictSame(await apiServiceAvailability(target, probe), { type: 'Available', ...expected }, name);
  };
  const url = `https://127.0.0.1:${s.backend.port}`;
  await check('local', apiService({ service: null }), undefined, undefined, { status: 'True', reason: 'Local', message: 'Local APIServices are always available' });
  await check('no Service', apiService(), undefined, undefined, { status: 'False', reason: 'ServiceNotFound', message: 'service/metrics in "loom" is not present' });
  await check('port not exposed', apiService(), service([{ name: 'https', port: 8443 }]), endpoints(ready), { status: 'False', reason: 'ServicePortError', message: 'service/metrics in "loom" is not listening on port 443' });
  await check('no Endpoints', apiService(), service([{ name: 'https', port: 443 }]), undefined, { status: 'False', reason: 'EndpointsNotFound', message: 'cannot find endpoints for service/metrics in "loom"' });
  await check('no ready address', apiService(), service([{ name: 'https', port: 443 }]), endpoints([{ notReadyAddresses: [{ ip: '10.0.0.5' }], ports: [{ name: 'https', port: 8443 }] }]), {
    status: 'False',
    reason: 'MissingEndpoints',
    message: 'endpoints for service/metrics in "loom" have no addresses with port name "https"',
  });
  await check('addresses on another port name', apiService(), service([{ port: 443 }]), endpoints(ready), { status: 'False', reason: 'MissingEndpoints', message: 'endpoints for service/metrics in "loom" have no addresses with port name ""' });
  await check('discovery answers', apiService(), service([{ name: 'https', port: 443 }]), endpoints(ready), { status: 'True', reason: 'Passed', message: 'all checks passed' });
  const discovery = s.backend.seen.at(-1);
  t.equal(discovery?.url, GROUP_PATH, 'the check asks for the group version');
  t.equal(discovery?.headers['x-remote-user'], 'system:kube-aggregator');
  t.equal(discovery?.headers['x-remote-group'], 'system:masters');
  t.equal(discovery?.peerCommonName, 'front-proxy-client');
  await check('an ExternalName Service skips the port and endpoint checks', apiService(), service([], 'ExternalName'), undefined, { status: 'True', reason: 'Passed', message: 'all checks passed' });
  await check('discovery fails', apiService({ group: 'broken.group', version: 'v1' }), service([{ name: 'https', port: 443 }]), endpoints(ready), {
    status: 'False',
    reason: 'FailedDiscoveryCheck',
    message: `failing or missing response from ${url}/apis/broken.group/v1: bad status from ${url}/apis/broken.group/v1: 503`,
  });
  const slow = await (async () => {
    objects.set('Service/loom/metrics', service([{ name: 'https', port: 443 }]));
    objects.set('Endpoints/loom/metrics', endpoints(ready));
    return apiServiceAvailability(apiService({ group: 'slow.group', version: 'v1' }), { ...probe, timeoutMs: 100 });
  })();
  t.strictSame(slow, {
    type: 'Available',
    status: 'False',
    reason: 'FailedDiscoveryCheck',
    message: `failing or missing response from ${url}/apis/slow.group/v1: Get "${url}/apis/slow.group/v1": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
  });
  const refused = await apiServiceAvailability(apiService(), { ...probe, resolveService: () => Promise.resolve({ host: '127.0.0.1', port: 1 }) });
  t.match(refused, { status: 'False', reason: 'FailedDiscoveryCheck', message: /^failing or missing response from https:\/\/127\.0\.0\.1:1\/apis\/metrics\.smi-spec\.io\/v1alpha1: Get ".*": .*ECONNREFUSED/ });
  const unresolved = await apiServiceAvailability(apiService({ service: { namespace: 'loom', name: 'metrics', port: 8443 } }), { ...probe, lookup: (kind: 'Service' | 'Endpoints') => (kind === 'Service' ? service([{ port: 8443 }]) : endpoints([{ addresses: [{ ip: '1.2.3.4' }], ports: [{ port: 1 }] }])) });
  t.strictSame(unresolved, { type: 'Available', status: 'False', reason: 'FailedDiscoveryCheck', message: 'service/metrics in "loom" has no address for port 8443' });
});

t.test('withAvailableCondition moves lastTransitionTime only when the status changes', (t) => {
  const T = Date.parse('2025-03-01T12:00:00Z');
  const first = withAvailableCondition(apiService(), { type: 'Available', status: 'False', reason: 'ServiceNotFound', message: 'm1' }, T);
  t.strictSame((first['status'] as { conditions: unknown[] }).conditions, [{ type: 'Available', status: 'False', lastTransitionTime: '2025-03-01T12:00:00Z', reason: 'ServiceNotFound', message: 'm1' }]);
  const same = withAvailableCondition(first, { type: 'Available', status: 'False', reason: 'MissingEndpoints', message: 'm2' }, T + 60_000);
  t.strictSame((same['status'] as { conditions: unknown[] }).conditions, [{ type: 'Available', status: 'False', lastTransitionTime: '2025-03-01T12:00:00Z', reason: 'MissingEndpoints', message: 'm2' }]);
  const flipped = withAvailableCondition(same, { type: 'Available', status: 'True', reason: 'Passed', message: 'all checks passed' }, T + 120_000);
  t.strictSame((flipped['status'] as { conditions: unknown[] }).conditions, [{ type: 'Available', status: 'True', lastTransitionTime: '2025-03-01T12:02:00Z', reason: 'Passed', message: 'all checks passed' }]);
  t.equal(first['status'] !== same['status'], true, 'a copy each time');
  const other = withAvailableCondition(apiService({}, { conditions: [{ type: 'Other', status: 'True' }] }), { type: 'Available', status: 'True', reason: 'Local', message: '' }, T);
  t.equal((other['status'] as { conditions: unknown[] }).conditions.length, 2, 'other conditions are kept');
  t.end();
});

t.test('front-proxy material: a client certificate named front-proxy-client, signed by its own CA', (t) => {
  const material = frontProxyMaterial(Date.parse('2025-03-01T12:00:00Z'));
  const cert = new X509Certificate(material.certPem);
  const ca = new X509Certificate(material.caPem);
  t.equal(cert.subject, 'CN=front-proxy-client');
  t.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'issued and signed by the CA');
  t.equal(cert.ca, false);
  t.match(cert.keyUsage ?? [], ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  t.ok(cert.checkPrivateKey(createPrivateKey(material.keyPem)), 'the key matches');
  t.not(material.caPem, frontProxy.caPem, 'each call makes a new CA');
  t.strictSame(extensionApiserverAuthentication('CLIENT', 'PROXY'), {
    'client-ca-file': 'CLIENT',
    'requestheader-allowed-names': '["front-proxy-client"]',
    'requestheader-client-ca-file': 'PROXY',
    'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
    'requestheader-group-headers': '["X-Remote-Group"]',
    'requestheader-username-headers': '["X-Remote-User"]',
  });
  t.end();
});
