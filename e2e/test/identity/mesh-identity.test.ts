/**
 * Workload identity across the real parts: the controller's identity server (gRPC over TLS with a serving
 * certificate from the CA) and the proxy's identity client, then mutual TLS between two proxies with the
 * certificates they obtained. Only the TokenReview API is stood in for (no Kubernetes here): a validator
 * with a token table; the controller's own tests cover TokenReviewValidator against a faithful API.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import { verifyChain } from '@loom/ca';
import { mintCa, type TestCa } from '@loom/ca/testing';
import { createIdentityService, issueServingCertificate, startIdentityServer, type TokenValidator } from '@loom/controller/identity';
import { checkPeerIdentity, IdentityClient, peerSpiffeId, type IdentityEvent } from '@loom/proxy';

const TOKENS: Readonly<Record<string, { namespace: string; serviceAccount: string }>> = {
  'token-web': { namespace: 'shop', serviceAccount: 'web' },
  'token-api': { namespace: 'shop', serviceAccount: 'api' },
};

const tokens: TokenValidator = {
  validate: (token) =>
    Promise.resolve(
      TOKENS[token] === undefined ? { ok: false, code: 'unauthenticated', reason: 'unknown token' } : { ok: true, identity: TOKENS[token] },
    ),
};

/** The controller's identity server, as the controller runs it: a serving certificate from the CA, TLS, gRPC. */
async function startController(t: Test, ca: TestCa, registry: Registry): Promise<{ readonly port: number; readonly dir: string }> {
  const serving = await issueServingCertificate(ca.authority, { trustDomain: 'cluster.local' });
  const server = await startIdentityServer({
    handlers: createIdentityService({ authority: ca.authority, tokens, trustDomain: 'cluster.local', registry }),
    host: '127.0.0.1',
    port: 0,
    key: serving.keyPem,
    certChain: serving.certChainPem,
  });
  t.teardown(() => server.close());
  const dir = await mkdtemp(join(tmpdir(), 'loom-e2e-identity-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return { port: server.port, dir };
}

t.test('proxies obtain certificates from the controller and talk mutual TLS with them', async (t) => {
  const ca = mintCa({ trustDomain: 'cluster.local' });
  const controllerMetrics = new Registry();
  const server = await startController(t, ca, controllerMetrics);
  const dir = server.dir;

  const proxy = async (serviceAccount: string, token: string): Promise<IdentityClient> => {
    const tokenPath = join(dir, `${serviceAccount}.token`);
    await writeFile(tokenPath, token);
    const client = new IdentityClient({
      controllerAddress: `127.0.0.1:${server.port}`,
      controllerServerName: 'loom-controller.loom-system.svc',
      initialTrustPem: ca.rootPem,
      tokenPath,
      identity: { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount },
      backoff: { initialMs: 20, maxMs: 100 },
      registry: new Registry(),
    });
    t.teardown(() => client.close());
    client.start();
    return client;
  };

  const web = await proxy('web', 'token-web');
  const api = await proxy('api', 'token-api');
  const [webCredentials, apiCredentials] = await Promise.all([web.waitForCredentials(), api.waitForCredentials()]);
  t.equal(verifyChain(webCredentials.chain, ca.authority.trustBundle).spiffeId, 'spiffe://cluster.local/ns/shop/sa/web');
  t.equal(verifyChain(apiCredentials.chain, ca.authority.trustBundle).spiffeId, 'spiffe://cluster.local/ns/shop/sa/api');
  t.ok(web.ready && api.ready, 'both proxies are ready once they hold a certificate');
  t.match(await controllerMetrics.metrics(), /loom_identity_certify_total\{result="issued"\} 2/);

  // api serves, web calls: each side verifies the other's SPIFFE ID.
  const seenByServer: string[] = [];
  const tlsServer = createServer({ requestCert: true, rejectUnauthorized: true }, (socket) => {
    seenByServer.push(peerSpiffeId(socket.getPeerCertificate()) ?? '');
    socket.on('error', () => socket.destroy());
    socket.end('hello from api');
  });
  const detach = api.holder.attachToServer(tlsServer);
  t.teardown(() => {
    detach();
    tlsServer.close();
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  const socket: TLSSocket = connect({
    host: '127.0.0.1',
    port: (tlsServer.address() as AddressInfo).port,
    secureContext: web.holder.clientContext(),
    checkServerIdentity: checkPeerIdentity('spiffe://cluster.local/ns/shop/sa/api'),
  });
  const reply = await new Promise<string>((resolve, reject) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  t.equal(reply, 'hello from api');
  t.same(seenByServer, ['spiffe://cluster.local/ns/shop/sa/web']);
});

t.test('a proxy whose token names another ServiceAccount is refused, with the reason, and gets nothing', async (t) => {
  const ca = mintCa();
  const registry = new Registry();
  const server = await startController(t, ca, registry);
  const tokenPath = join(server.dir, 'token');
  await writeFile(tokenPath, 'token-api'); // the pod runs as sa/api but its proxy asks for sa/web
  const client = new IdentityClient({
    controllerAddress: `127.0.0.1:${server.port}`,
    controllerServerName: 'loom-controller.loom-system.svc',
    initialTrustPem: ca.rootPem,
    tokenPath,
    identity: { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' },
    backoff: { initialMs: 10_000, maxMs: 10_000 },
  });
  t.teardown(() => client.close());
  const failure = new Promise<IdentityEvent>((resolve) => {
    client.subscribe((event) => {
      if (event.type === 'failed') resolve(event);
    });
  });
  client.start();
  const event = await failure;
  t.match(event, { type: 'failed', failure: { code: 'PERMISSION_DENIED', reason: /token is for ns\/shop sa\/api, CSR asks for ns\/shop sa\/web/ } });
  t.equal(client.ready, false, 'not ready without a certificate');
  const metrics = await registry.metrics();
  t.match(metrics, /loom_identity_certify_total\{result="permission_denied"\} 1/);
  t.match(metrics, /loom_identity_certify_total\{result="issued"\} 0/);
});
