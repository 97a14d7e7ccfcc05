/** The webhook client: clientConfig checks, and real HTTPS calls to servers on 127.0.0.1 (TLS, timeouts, errors). */
import type { IncomingHttpHeaders } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { mintCa, type TestCa } from '@loom/ca/testing';
import { generateKeySync } from '@loom/shared/identity';
import t, { type Test } from 'tap';
import { hostnameError, postJson, webhookTarget, WebhookCallError, WebhookConfigError, type ResolveService, type WebhookTarget } from '../../../src/api/webhooks/client.js';

const ca = mintCa();
const otherCa = mintCa();
const bundle = (c: TestCa): string => Buffer.from(c.rootPem).toString('base64');

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly servername: string | false;
}

interface Reply {
  readonly status?: number;
  readonly contentType?: string;
  readonly body?: string;
  /** Never answer (until the test ends). */
  readonly hang?: boolean;
}

/** An HTTPS server on 127.0.0.1 with a certificate for `dnsNames` and 127.0.0.1, answering with `reply`. */
async function server(t: Test, reply: (seen: Seen) => Reply, dnsNames = ['hook.webhooks.svc'], authority: TestCa = ca): Promise<{ port: number; seen: Seen[] }> {
  const key = generateKeySync('ec-p256');
  const issued = authority.authority.issue(key.publicKey, { dnsNames, ipAddresses: ['127.0.0.1'] });
  const seen: Seen[] = [];
  const hanging: (() => void)[] = [];
  const srv: Server = createServer({ key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: issued.chain.join('') }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), servername: (req.socket as TLSSocket).servername ?? false };
      seen.push(s);
      const r = reply(s);
      if (r.hang === true) {
        hanging.push(() => res.destroy());
        return;
      }
      res.writeHead(r.status ?? 200, { 'content-type': r.contentType ?? 'application/json' });
      res.end(r.body ?? '{}');
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const h of hanging) h();
    srv.closeAllConnections();
    srv.close();
  });
  return { port: (srv.address() as AddressInfo).port, seen };
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const srv = createHttpServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

const resolveTo =
  (port: number): ResolveService =>
  (namespace, name, servicePort) =>
    Promise.resolve(namespace === 'webhooks' && servicePort === 443 ? { host: '127.0.0.1', port } : undefined);

const serviceRef = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ service: { namespace: 'webhooks', name: 'hook', path: '/mutate' }, caBundle: bundle(ca), ...extra });

async function callError(target: WebhookTarget, resolveService: ResolveService, timeoutSeconds = 10, maxResponseBytes?: number): Promise<string> {
  try {
    await postJson(target, { hello: 'world' }, { timeoutSeconds, resolveService, ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }) });
  } catch (err) {
    if (err instanceof WebhookCallError) return err.message;
    throw err;
  }
  throw new Error('the call succeeded');
}

t.test('clientConfig: where a webhook is called, or why it cannot be', (t) => {
  const ok: [string, unknown, Record<string, unknown>][] = [
    ['service, defaults', { service: { namespace: 'ns', name: 'svc' } }, { url: 'https://svc.ns.svc:443/', path: '/', host: 'svc.ns.svc', port: 443, serverName: 'svc.ns.svc' }],
    ['service, port and path', { service: { namespace: 'ns', name: 'svc', port: 8443, path: '/mutate/pods' } }, { url: 'https://svc.ns.svc:8443/mutate/pods', path: '/mutate/pods', port: 8443 }],
    ['url with an address', { url: 'https://127.0.0.1:9443/validate' }, { url: 'https://127.0.0.1:9443/validate', host: '127.0.0.1', port: 9443, serverName: undefined }],
    ['url with a name, no port, no path', { url: 'https://hooks.example.com' }, { url: 'https://hooks.example.com/', path: '/', host: 'hooks.example.com', port: 443, serverName: 'hooks.example.com' }],
    ['url with an IPv6 address', { url: 'https://[::1]:8443/x' }, { url: 'https://[::1]:8443/x', host: '::1', port: 8443, serverName: undefined }],
  ];
  for (const [name, config, expected] of ok) {
    const target = webhookTarget(config);
    for (const [k, v] of Object.entries(expected)) t.strictSame(target[k as keyof WebhookTarget], v, `${name}: ${k}`);
  }
  t.equal(webhookTarget({ url: 'https://a.example', caBundle: bundle(ca) }).ca?.length, 1, 'a caBundle gives the roots to trust');
  t.equal(webhookTarget({ url: 'https://a.example' }).ca, undefined, 'no caBundle: the system trust store');

  const bad: [string, unknown, string][] = [
    ['nothing', undefined, 'webhook configuration must have either service or URL'],
    ['neither', {}, 'webhook configuration must have either service or URL'],
    ['both', { url: 'https://a', service: { namespace: 'n', name: 's' } }, 'exactly one of url or service is required'],
    ['http', { url: 'http://a.example/x' }, "'https' is the only allowed URL scheme; desired format: https://host[/path]"],
    ['unparsable', { url: 'https://' }, 'Unparsable URL: parse "https://": invalid URL; desired format: https://host[/path]'],
    ['query', { url: 'https://a.example/x?y=1' }, 'query parameters are not permitted in the URL'],
    ['fragment', { url: 'https://a.example/x#y' }, 'fragments are not permitted in the URL'],
    ['user', { url: 'https://me:pw@a.example/' }, 'user information is not permitted in the URL'],
    ['no service name', { service: { namespace: 'n' } }, 'service name is required'],
    ['no service namespace', { service: { name: 's' } }, 'service namespace is required'],
    ['bad port', { service: { namespace: 'n', name: 's', port: 70000 } }, 'service port is not valid: 70000: must be between 1 and 65535, inclusive'],
    ['relative path', { service: { namespace: 'n', name: 's', path: 'mutate' } }, `service path "mutate" must start with a '/'`],
    ['caBundle not base64', { url: 'https://a', caBundle: 'not base64!' }, 'unable to load root certificates: caBundle is not valid base64'],
    ['caBundle not PEM', { url: 'https://a', caBundle: Buffer.from('hello').toString('base64') }, 'unable to load root certificates: unable to parse bytes as PEM block'],
    [
      'caBundle with a broken certificate',
      { url: 'https://a', caBundle: Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').toString('base64') },
      'unable to load root certificates: failed to parse certificate',
    ],
  ];
  for (const [name, config, message] of bad) {
    t.throws(() => webhookTarget(config), WebhookConfigError, name);
    try {
      webhookTarget(config);
    } catch (err) {
      t.match((err as Error).message, message.endsWith('certificate') ? new RegExp(`^${message}`) : message, name);
      if (!message.endsWith('certificate')) t.equal((err as Error).message, message, name);
    }
  }
  t.end();
});

t.test('a service webhook is called as kube-apiserver calls it: POST JSON, ?timeout, the service DNS name verified', async (t) => {
  const { port, seen } = await server(t, () => ({ body: JSON.stringify({ ok: true }) }));
  const answer = await postJson(webhookTarget(serviceRef()), { hello: 'world' }, { timeoutSeconds: 7, resolveService: resolveTo(port) });
  t.strictSame(answer, { ok: true });
  t.equal(seen.length, 1);
  const s = seen[0];
  t.equal(s?.method, 'POST');
  t.equal(s?.url, '/mutate?timeout=7s');
  t.equal(s?.servername, 'hook.webhooks.svc', 'SNI: <name>.<namespace>.svc');
  t.equal(s?.headers['content-type'], 'application/json');
  t.equal(s?.headers['user-agent'], 'kube-apiserver-admission');
  t.strictSame(JSON.parse(s?.body ?? ''), { hello: 'world' });
});

t.test('a url webhook on an address is verified against the address', async (t) => {
  const { port, seen } = await server(t, () => ({ body: '[1,2]' }));
  const target = webhookTarget({ url: `https://127.0.0.1:${port}/validate`, caBundle: bundle(ca) });
  t.strictSame(await postJson(target, {}, { timeoutSeconds: 5, resolveService: () => Promise.reject(new Error('not used')) }), [1, 2]);
  t.equal(seen[0]?.url, '/validate?timeout=5s');
});

t.test('failures read as Kubernetes reports them', async (t) => {
  const shown = (port: number | string, path = '/mutate', timeout = '10s'): string => `Post "https://hook.webhooks.svc:${port}${path}?timeout=${timeout}": `;
  const { port } = await server(t, () => ({}));

  t.equal(
    await callError(webhookTarget(serviceRef({ caBundle: bundle(otherCa) })), resolveTo(port)),
    `${shown(443)}tls: failed to verify certificate: x509: certificate signed by unknown authority`,
    'a caBundle that did not sign the server certificate',
  );
  t.equal(
    await callError(webhookTarget(serviceRef({ caBundle: undefined })), resolveTo(port)),
    `${shown(443)}tls: failed to verify certificate: x509: certificate signed by unknown authority`,
    'no caBundle: the system roots do not know the test CA',
  );
  t.equal(
    await callError(webhookTarget({ service: { namespace: 'webhooks', name: 'other', path: '/mutate' }, caBundle: bundle(ca) }), resolveTo(port)),
    'Post "https://other.webhooks.svc:443/mutate?timeout=10s": tls: failed to verify certificate: x509: certificate is valid for hook.webhooks.svc, not other.webhooks.svc',
    'a certificate for another service',
  );
  const dead = await deadPort();
  t.equal(await callError(webhookTarget(serviceRef()), resolveTo(dead)), `${shown(443)}dial tcp 127.0.0.1:${dead}: connect: connection refused`, 'nothing listening');
  t.equal(
    await callError(webhookTarget({ service: { namespace: 'elsewhere', name: 'hook', path: '/mutate' } }), resolveTo(port)),
    'Post "https://hook.elsewhere.svc:443/mutate?timeout=10s": no endpoints available for service "hook"',
    'a service that does not resolve',
  );

  const plain = createHttpServer((_, res) => res.end('plain'));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    plain.closeAllConnections();
    plain.close();
  });
  t.equal(
    await callError(webhookTarget(serviceRef()), resolveTo((plain.address() as AddressInfo).port)),
    `${shown(443)}http: server gave HTTP response to HTTPS client`,
    'a plain HTTP server',
  );
});

t.test('the timeout bounds the whole call', async (t) => {
  const { port, seen } = await server(t, () => ({ hang: true }));
  const started = Date.now();
  const message = await callError(webhookTarget(serviceRef()), resolveTo(port), 1);
  const elapsed = Date.now() - started;
  t.equal(message, 'Post "https://hook.webhooks.svc:443/mutate?timeout=1s": context deadline exceeded');
  t.equal(seen.length, 1, 'the request reached the server');
  t.ok(elapsed >= 900 && elapsed < 4000, `gave up after about a second (${elapsed} ms)`);

  const stuck: ResolveService = () => new Promise(() => {});
  const resolvingStarted = Date.now();
  t.equal(await callError(webhookTarget(serviceRef()), stuck, 1), 'Post "https://hook.webhooks.svc:443/mutate?timeout=1s": context deadline exceeded', 'a resolution that never ends');
  t.ok(Date.now() - resolvingStarted < 4000);
});

t.test('answers that are not usable', async (t) => {
  const cases: [string, Reply, string][] = [
    ['500 with text', { status: 500, contentType: 'text/plain', body: 'boom\n' }, 'an error on the server ("boom") has prevented the request from succeeding'],
    ['500 with JSON that is not a Status', { status: 500, body: '{"x":1}' }, 'an error on the server ("unknown") has prevented the request from succeeding'],
    ['404', { status: 404, contentType: 'text/plain', body: 'no' }, 'the server could not find the requested resource'],
    ['403 with a Status', { status: 403, body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'forbidden: go away', code: 403 }) }, 'forbidden: go away'],
    ['401', { status: 401 }, 'the server has asked for the client to provide credentials'],
    ['302', { status: 302 }, 'the server responded with the status code 302 but did not return more information'],
    ['empty 200', { status: 200, body: '' }, '0-length response with status code: 200 and content type: application/json'],
  ];
  for (const [name, reply, message] of cases) {
    const { port } = await server(t, () => reply);
    t.equal(await callError(webhookTarget(serviceRef()), resolveTo(port)), message, name);
  }
  const { port } = await server(t, () => ({ body: 'this is not JSON' }));
  t.match(await callError(webhookTarget(serviceRef()), resolveTo(port)), /^couldn't get version\/kind; json parse error: /, 'a body that is not JSON');

  const big = await server(t, () => ({ body: JSON.stringify({ data: 'x'.repeat(5000) }) }));
  t.equal(await callError(webhookTarget(serviceRef()), resolveTo(big.port), 10, 1000), "the webhook's response is larger than 1000 bytes", 'a response over the limit');
});

t.test('hostnameError: Go\'s x509.HostnameError wording', (t) => {
  const cases: [string, string, string][] = [
    ['DNS:hook.svc, IP Address:127.0.0.1', 'other.svc', 'x509: certificate is valid for hook.svc, not other.svc'],
    ['IP Address:127.0.0.1', 'hook.svc', 'x509: certificate is not valid for any names, but wanted to match hook.svc'],
    ['DNS:hook.svc, IP Address:127.0.0.1, IP Address:10.0.0.1', '10.0.0.2', 'x509: certificate is valid for 127.0.0.1, 10.0.0.1, not 10.0.0.2'],
    ['DNS:hook.svc', '10.0.0.2', "x509: cannot validate certificate for 10.0.0.2 because it doesn't contain any IP SANs"],
    ['DNS:hook.svc', '[::1]', "x509: cannot validate certificate for ::1 because it doesn't contain any IP SANs"],
    ['', 'hook.svc', 'x509: certificate is not valid for any names, but wanted to match hook.svc'],
  ];
  for (const [sans, host, want] of cases) t.equal(hostnameError(sans, host), want, `${sans || 'no SANs'} / ${host}`);
  t.end();
});
