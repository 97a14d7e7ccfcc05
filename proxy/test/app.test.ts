/**
 * The whole proxy process in-process (`ProxyApp`), with real parts: a controller on one gRPC port serving
 * Certify (leaves signed by a test CA for a token table) and the policy stream (`@loom/proxy/testing`), the admin
 * server, and both data paths. The original destination comes from a lookup table instead of iptables: the
 * application's connections by the client address it binds (127.0.0.x), connections to the inbound port by
 * that port. The pod calls itself: its Service `shop/api` has one endpoint, this pod's own inbound listener
 * (mutual TLS with its own identity), in front of a real HTTP application; `shop/ext` is an unmeshed server.
 *
 * Readiness (`/ready` names what is missing until the certificate and the first policy are held), `/config`,
 * and shutdown: unready at once, the application's outbound calls served through the grace period and the inbound
 * drain (new connections included), and the whole within `drainGraceMs + drainTimeoutMs`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, createServer as createHttpServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { experimental, Server, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { mintCa, type TestCa } from '@loom/ca/testing';
import type { ProxyPolicy } from '@loom/shared/policy';
import { loadIdentityService, loadPolicyService, type CertifyRequest__Output, type CertifyResponse } from '@loom/shared/proto';
import t, { type Test } from 'tap';
import { ProxyApp, uidWarning } from '../src/app.js';
import { dataPathConfig, DEFAULT_PROXY_UID, type DataPathConfig, type ProxyConfig } from '../src/config.js';
import { PolicyDistributor } from '../src/testing/index.js';
import { unmapped } from '../src/transport/address.js';
import type { OriginalDstLookup, SocketAddress } from '../src/transport/orig-dst.js';
import { collectLogs, type LogRecord } from './identity/support.js';
import { allow, endpoint, service, servicePort, testPolicy } from './support/policy.js';
import { listenOn } from './support/listen.js';
import { waitFor } from './support/wait.js';

const until = (condition: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> => waitFor(condition, 'a condition', ms);

const POD = { name: 'web-0', namespace: 'shop', serviceAccount: 'web' } as const;
const IDENTITY = 'spiffe://cluster.local/ns/shop/sa/web';
const TOKEN = 'token-of-web-0';
/** The DNS name of the test controller's serving certificate. */
const CONTROLLER_NAME = 'localhost';
const API_VIP = { address: '10.96.0.10', port: 80 } as const;
const EXT_VIP = { address: '10.96.0.20', port: 80 } as const;
/** The client address the application binds to reach each Service (selects the original destination). */
const VIA = { api: '127.0.0.2', ext: '127.0.0.3' } as const;

// ---- the controller: Certify + the policy stream on one TLS port ----------------------------------------------

/** Fixed certificates for grpc-js's certificate-provider credentials. */
class StaticProvider implements experimental.CertificateProvider {
  readonly #identity: experimental.IdentityCertificateUpdate | null;
  readonly #ca: experimental.CaCertificateUpdate | null;

  constructor(identity: experimental.IdentityCertificateUpdate | null, ca: experimental.CaCertificateUpdate | null) {
    this.#identity = identity;
    this.#ca = ca;
  }

  addIdentityCertificateListener(listener: (update: experimental.IdentityCertificateUpdate | null) => void): void {
    // Asynchronously: grpc-js registers the listener before the watcher that consumes its updates.
    queueMicrotask(() => listener(this.#identity));
  }

  removeIdentityCertificateListener(): void {}

  addCaCertificateListener(listener: (update: experimental.CaCertificateUpdate | null) => void): void {
    queueMicrotask(() => listener(this.#ca));
  }

  removeCaCertificateListener(): void {}
}

interface Controller {
  readonly address: string;
  readonly distributor: PolicyDistributor;
  /** Certify calls are held until this is called (a controller slow to answer); released ones are signed. */
  releaseCertify(): void;
}

async function startController(t: Test, ca: TestCa): Promise<Controller> {
  const serving = ca.leafFor({ dnsNames: [CONTROLLER_NAME] });
  const distributor = new PolicyDistributor();
  const held: (() => void)[] = [];
  let released = false;
  const server = new Server();
  server.addService(loadIdentityService().service, {
    Certify(call: ServerUnaryCall<CertifyRequest__Output, CertifyResponse>, callback: sendUnaryData<CertifyResponse>) {
      const answer = (): void => {
        if (call.request.token !== TOKEN) return callback({ code: status.UNAUTHENTICATED, details: 'token rejected' });
        try {
          const issued = ca.authority.signWorkloadCsr(call.request.csr, { trustDomain: ca.trustDomain, namespace: POD.namespace, serviceAccount: POD.serviceAccount });
          callback(null, {
            certificateChain: [...issued.chain],
            trustBundle: [...issued.trustBundle],
            notAfter: Math.floor(issued.notAfter.getTime() / 1000),
            renewAfter: Math.floor(issued.renewAfter.getTime() / 1000),
          });
        } catch (error) {
          callback({ code: status.INVALID_ARGUMENT, details: (error as Error).message });
        }
      };
      if (released) answer();
      else held.push(answer);
    },
  });
  server.addService(loadPolicyService().service, distributor.handlers);
  // Client certificates requested, not required: Certify comes before the proxy has one, the stream after.
  const credentials = experimental.createCertificateProviderServerCredentials(
    new StaticProvider({ certificate: Buffer.from(serving.certPem), privateKey: Buffer.from(serving.keyPem) }, null),
    new StaticProvider(null, { caCertificate: Buffer.from(ca.rootPem) }),
    false,
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound))));
  t.teardown(() => {
    distributor.endAll('test over');
    server.forceShutdown();
  });
  return {
    address: `127.0.0.1:${port}`,
    distributor,
    releaseCertify: () => {
      released = true;
      for (const answer of held.splice(0)) answer();
    },
  };
}

// ---- the application and an unmeshed server --------------------------------------------------------------------

interface App {
  readonly port: number;
  /** Paths of the requests received, in order. */
  readonly paths: string[];
  /** Requests to `/hold` wait until this is called. */
  release(): void;
}

async function startApp(t: Test, name: string): Promise<App> {
  const paths: string[] = [];
  const held: ServerResponse[] = [];
  let releaseAll = false;
  const answer = (res: ServerResponse): void => {
    if (!res.destroyed) res.end(`${name} answered`);
  };
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    paths.push(req.url ?? '');
    req.resume();
    if (req.url === '/hold' && !releaseAll) held.push(res);
    else answer(res);
  });
  const port = await listenOn(t, server);
  return {
    port,
    paths,
    release: () => {
      releaseAll = true;
      for (const res of held.splice(0)) answer(res);
    },
  };
}

// ---- the proxy ---------------------------------------------------------------------------------------------------

interface Pod {
  readonly app: ProxyApp;
  readonly records: LogRecord[];
  readonly controller: Controller;
  readonly ports: { readonly inbound: number; readonly outbound: number; readonly admin: number };
  readonly application: App;
  readonly ext: App;
  /** The pod's policy (after start: the inbound port is its own endpoint). */
  readonly policy: ProxyPolicy;
}

async function startPod(t: Test, dataPath: Partial<DataPathConfig> = {}): Promise<Pod> {
  const ca = mintCa();
  const controller = await startController(t, ca);
  const application = await startApp(t, 'application');
  const ext = await startApp(t, 'ext');
  const dir = await mkdtemp(join(tmpdir(), 'loom-proxy-app-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tokenPath = join(dir, 'token');
  await writeFile(tokenPath, `${TOKEN}\n`);
  const config: ProxyConfig = {
    dataPath: dataPathConfig({ bindAddress: '127.0.0.1', outboundPort: 0, inboundPort: 0, adminPort: 0, ...dataPath }),
    controllerAddress: controller.address,
    controllerServerName: CONTROLLER_NAME,
    trustDomain: ca.trustDomain,
    pod: POD,
    tokenPath,
    trustAnchors: { kind: 'pem', pem: ca.rootPem },
    logLevel: 'debug',
    proxyUid: DEFAULT_PROXY_UID,
  };
  // Original destinations: the inbound port leads to the application; the application's own connections go to
  // the Service its client address names.
  const byClient = new Map<string, SocketAddress>([
    [VIA.api, API_VIP],
    [VIA.ext, EXT_VIP],
  ]);
  let inboundPort = -1;
  const origDst: OriginalDstLookup = {
    lookup: (socket) => (socket.localPort === inboundPort ? { address: '127.0.0.1', port: application.port } : (byClient.get(unmapped(socket.remoteAddress ?? '')) ?? null)),
  };
  const { logger, records } = collectLogs();
  const app = await ProxyApp.create({ config, logger, origDst });
  t.teardown(() => app.shutdown());
  const started = await app.start();
  inboundPort = started.inbound.port;
  const policy = testPolicy({
    identity: IDENTITY,
    pod: POD.name,
    trustBundle: [ca.rootPem],
    inboundPorts: { [application.port]: 'http1' },
    authorizations: [allow({ sources: [IDENTITY] })],
    outbound: [
      service({ name: 'api', vips: [API_VIP.address], ports: [servicePort({ port: API_VIP.port, endpoints: [endpoint({ address: '127.0.0.1', port: inboundPort, identity: IDENTITY })] })] }),
      service({ name: 'ext', vips: [EXT_VIP.address], ports: [servicePort({ port: EXT_VIP.port, endpoints: [endpoint({ address: '127.0.0.1', port: ext.port, identity: null })] })] }),
    ],
  });
  return { app, records, controller, ports: { inbound: started.inbound.port, outbound: started.outbound.port, admin: started.admin.port }, application, ext, policy };
}

async function makeReady(pod: Pod): Promise<void> {
  pod.controller.releaseCertify();
  pod.controller.distributor.set(pod.policy);
  await pod.controller.distributor.waitForAck(POD.namespace, POD.name, pod.policy.version);
}

// ---- clients -----------------------------------------------------------------------------------------------------

interface Answer {
  readonly status: number;
  readonly body: string;
}

function get(port: number, path: string, options: { localAddress?: string; agent?: Agent } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: options.agent ?? false, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A request through the outbound port to Service `via`. */
const call = (pod: Pod, via: keyof typeof VIA, path: string, agent?: Agent): Promise<Answer> =>
  get(pod.ports.outbound, path, { localAddress: VIA[via], ...(agent === undefined ? {} : { agent }) });

const admin = (pod: Pod, path: string): Promise<Answer> => get(pod.ports.admin, path);

/** Whether a TCP connection to `port` is accepted (true; resetting it at once counts) or refused (false). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'ECONNREFUSED'));
  });
}


// ---- tests -------------------------------------------------------------------------------------------------------

t.test('/ready names what is missing until the certificate and the first policy are held; /config shows the policy', async (t) => {
  const pod = await startPod(t);
  const before = await admin(pod, '/ready');
  t.equal(before.status, 503);
  t.match(before.body, /^not ready\n/);
  t.match(before.body, /- identity: /, 'no certificate yet');
  t.match(before.body, /- policy: /, 'no policy yet');
  t.equal((await admin(pod, '/config')).status, 503, '/config: no policy yet');

  pod.controller.releaseCertify();
  await until(async () => !(await admin(pod, '/ready')).body.includes('- identity:'));
  const certified = await admin(pod, '/ready');
  t.equal(certified.status, 503, 'a certificate alone is not enough');
  t.match(certified.body, /- policy: /);

  pod.controller.distributor.set(pod.policy);
  await until(async () => (await admin(pod, '/ready')).status === 200);
  t.equal((await admin(pod, '/ready')).body, 'ready\n');
  const config = await admin(pod, '/config');
  t.equal(config.status, 200);
  const shown = JSON.parse(config.body) as ProxyPolicy;
  t.equal(shown.version, pod.policy.version, '/config shows the policy in force');
  t.strictSame(
    shown.outbound.map((s) => s.service.name),
    ['api', 'ext'],
  );

  const api = await call(pod, 'api', '/through-the-mesh');
  t.strictSame(api, { status: 200, body: 'application answered' }, 'outbound → mutual TLS → inbound → application');
  t.strictSame(await call(pod, 'ext', '/plain'), { status: 200, body: 'ext answered' });
  t.equal(pod.records.filter((r) => r.event === 'proxy.uid_mismatch').length, process.getuid?.() === DEFAULT_PROXY_UID ? 0 : 1, 'a UID other than the proxy UID is warned about once');
});

t.test('shutdown: unready at once; outbound accepts and serves through the grace period and the inbound drain; done when the application lets go', async (t) => {
  const pod = await startPod(t, { drainGraceMs: 300, drainTimeoutMs: 20_000 });
  await makeReady(pod);
  const kept = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => kept.destroy());
  t.equal((await call(pod, 'ext', '/before', kept)).status, 200, 'the application holds a keep-alive connection');
  const held = call(pod, 'api', '/hold');
  await until(() => pod.application.paths.includes('/hold'));

  const startedAt = performance.now();
  let done = false;
  const shutdown = pod.app.shutdown().then(() => (done = true));
  const ready = await admin(pod, '/ready');
  t.equal(ready.status, 503, 'unready at once');
  t.match(ready.body, /- draining/);
  t.strictSame(await call(pod, 'api', '/during-grace'), { status: 200, body: 'application answered' }, 'both directions serve during the grace period');

  // After the grace period the inbound side stops accepting; the request it holds keeps it draining.
  await until(async () => !(await accepts(pod.ports.inbound)));
  t.ok(await accepts(pod.ports.outbound), 'the outbound listener still accepts during the inbound drain');
  t.strictSame(await call(pod, 'ext', '/during-inbound-drain'), { status: 200, body: 'ext answered' }, 'a new outbound connection is served');
  t.strictSame(await call(pod, 'ext', '/on-kept-connection', kept), { status: 200, body: 'ext answered' }, 'so is the kept one');

  pod.application.release();
  t.strictSame(await held, { status: 200, body: 'application answered' }, 'the inbound request in flight finished');
  await until(() => pod.records.some((r) => r.event === 'drain.inbound_done'));
  t.ok(await accepts(pod.ports.outbound), 'the inbound side drained, the outbound listener still accepts');
  t.strictSame(await call(pod, 'ext', '/after-inbound-drain'), { status: 200, body: 'ext answered' }, 'and serves new connections');
  t.strictSame(await call(pod, 'ext', '/on-kept-connection-again', kept), { status: 200, body: 'ext answered' }, 'the kept connection too');
  t.notOk(done, 'not done while the application holds a connection');

  kept.destroy(); // the application exits
  await shutdown;
  const elapsed = performance.now() - startedAt;
  t.ok(elapsed < 300 + 20_000, `done within the deadline (${Math.round(elapsed)} ms)`);
  t.notOk(await accepts(pod.ports.outbound), 'then the outbound listener is closed');
  t.notOk(await accepts(pod.ports.admin), 'and the admin server');
});

t.test('shutdown never takes longer than drainGraceMs + drainTimeoutMs, whatever is still open', async (t) => {
  const grace = 200;
  const timeout = 1_500;
  const pod = await startPod(t, { drainGraceMs: grace, drainTimeoutMs: timeout });
  await makeReady(pod);
  const kept = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => kept.destroy());
  t.equal((await call(pod, 'ext', '/before', kept)).status, 200, 'an application connection that is never closed');
  const stuck = call(pod, 'api', '/hold').then(
    (r) => r.status,
    () => 'cut',
  );
  await until(() => pod.application.paths.includes('/hold'));
  const startedAt = performance.now();
  await pod.app.shutdown();
  const elapsed = performance.now() - startedAt;
  t.ok(elapsed >= grace, `not before the grace period (${Math.round(elapsed)} ms)`);
  // The deadline, plus scheduling slack for a loaded test machine.
  t.ok(elapsed < grace + timeout + 1_000, `within the deadline of ${grace + timeout} ms (${Math.round(elapsed)} ms)`);
  t.ok([502, 'cut'].includes(await stuck), 'the request that never finished was answered 502 or cut');
  t.equal(pod.records.filter((r) => r.event === 'proxy.stopped').length, 1);
});

t.test('the UID check: a warning only when the process runs as another UID than the proxy UID', (t) => {
  t.equal(uidWarning(2502, 2502), null);
  t.equal(uidWarning(undefined, 2502), null, 'no UIDs on this platform');
  t.match(uidWarning(0, 2502), /runs as UID 0, not as the proxy UID 2502 \(LOOM_PROXY_UID\).*loop/);
  t.end();
});
