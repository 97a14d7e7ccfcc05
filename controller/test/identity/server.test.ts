/**
 * The identity gRPC server on its own (a stub Certify handler): TLS with the serving certificate, optional
 * client certificates, the message size limit, certificate replacement while running, and shutdown.
 */
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { mintCa, type TestCa } from '@loom/ca/testing';
import { loadIdentityService, type CertifyResponse__Output, type IdentityClient, type IdentityHandlers } from '@loom/shared/proto';
import t, { type Test } from 'tap';
import { DEFAULT_MAX_MESSAGE_BYTES, startIdentityServer, type IdentityServer, type IdentityServerOptions } from '../../src/identity/server.js';
import { issueServingCertificate, type ServingCertificate } from '../../src/identity/serving.js';
import { SERVER_NAME } from './harness.js';

/** A Certify stub answering with the URI SAN of the client certificate it saw, or "none". */
function echoPeer(): { handlers: IdentityHandlers; calls: () => number } {
  let calls = 0;
  return {
    handlers: {
      Certify(call, callback) {
        calls += 1;
        const san = call.getAuthContext().sslPeerCertificate?.subjectaltname;
        callback(null, { certificateChain: [san === undefined || san === '' ? 'none' : san], trustBundle: [], notAfter: 0, renewAfter: 0 });
      },
    },
    calls: () => calls,
  };
}

async function start(t: Test, ca: TestCa, serving: ServingCertificate, options: Partial<IdentityServerOptions> = {}): Promise<IdentityServer & { calls: () => number }> {
  const stub = echoPeer();
  const server = await startIdentityServer({ handlers: stub.handlers, host: '127.0.0.1', port: 0, key: serving.keyPem, certChain: serving.certChainPem, ...options });
  t.teardown(() => server.close(0));
  return Object.assign(server, { calls: stub.calls });
}

function client(t: Test, port: number, root: string, leaf?: { keyPem: string; certPem: string }): IdentityClient {
  const Identity = loadIdentityService();
  const creds = leaf === undefined ? credentials.createSsl(Buffer.from(root)) : credentials.createSsl(Buffer.from(root), Buffer.from(leaf.keyPem), Buffer.from(leaf.certPem));
  const c = new Identity(`127.0.0.1:${port}`, creds, { 'grpc.ssl_target_name_override': SERVER_NAME });
  t.teardown(() => c.close());
  return c;
}

function certify(c: IdentityClient, token = 't'): Promise<{ ok: true; seen: string } | { ok: false; code: number; details: string }> {
  return new Promise((resolve) => {
    c.Certify({ csr: 'csr', token }, { deadline: Date.now() + 20_000 }, (error: ServiceError | null, response?: CertifyResponse__Output) => {
      resolve(error === null ? { ok: true, seen: response?.certificateChain[0] ?? '' } : { ok: false, code: error.code, details: error.details });
    });
  });
}

/** The certificate the server presents to a plain TLS client verifying it as SERVER_NAME. */
function presented(port: number, root: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: SERVER_NAME, ca: root, ALPNProtocols: ['h2'] }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.destroy();
      if (cert === undefined) reject(new Error('no peer certificate'));
      else resolve(cert);
    });
    socket.on('error', reject);
  });
}

t.test('serves over TLS with the controller certificate; clients verify it by its Service name', async (t) => {
  const ca = mintCa();
  const serving = await issueServingCertificate(ca.authority);
  const server = await start(t, ca, serving);
  const cert = await presented(server.port, ca.rootPem);
  t.equal(cert.toString(), serving.chain[0], 'the serving leaf');
  t.match(await certify(client(t, server.port, ca.rootPem)), { ok: true, seen: 'none' });
  const stranger = mintCa();
  t.match(await certify(client(t, server.port, stranger.rootPem)), { ok: false, code: status.UNAVAILABLE }, 'a client trusting another root refuses the server');
});

t.test('with rootCerts, a client certificate is requested but optional', async (t) => {
  const ca = mintCa();
  const serving = await issueServingCertificate(ca.authority);
  const server = await start(t, ca, serving, { rootCerts: ca.rootPem });
  t.match(await certify(client(t, server.port, ca.rootPem)), { ok: true, seen: 'none' }, 'first certification: no client certificate');
  const leaf = ca.leaf('shop', 'web');
  t.match(await certify(client(t, server.port, ca.rootPem, leaf)), { ok: true, seen: 'URI:spiffe://cluster.local/ns/shop/sa/web' }, 'renewal over mutual TLS');
  const foreign = mintCa().leaf('shop', 'web');
  t.match(await certify(client(t, server.port, ca.rootPem, foreign)), { ok: true }, 'an unverifiable client certificate does not block the call: the token decides');
});

t.test('without rootCerts no client certificate is requested', async (t) => {
  const ca = mintCa();
  const server = await start(t, ca, await issueServingCertificate(ca.authority));
  t.match(await certify(client(t, server.port, ca.rootPem, ca.leaf('shop', 'web'))), { ok: true, seen: 'none' });
  t.throws(() => server.replaceRootCerts(ca.rootPem), /started without rootCerts/);
});

t.test('requests above the size limit are refused with RESOURCE_EXHAUSTED before the handler runs', async (t) => {
  const ca = mintCa();
  const server = await start(t, ca, await issueServingCertificate(ca.authority));
  const c = client(t, server.port, ca.rootPem);
  t.match(await certify(c, 'x'.repeat(DEFAULT_MAX_MESSAGE_BYTES + 1)), { ok: false, code: status.RESOURCE_EXHAUSTED });
  t.equal(server.calls(), 0, 'the handler never ran');
  t.match(await certify(c, 'x'.repeat(DEFAULT_MAX_MESSAGE_BYTES - 1024)), { ok: true }, 'just under the default 64 KiB is served');
  await t.rejects(startIdentityServer({ handlers: echoPeer().handlers, host: '127.0.0.1', port: 0, key: '', certChain: '', maxMessageBytes: 0 }), /maxMessageBytes must be a positive integer/);
});

t.test('replaceCertificate: new handshakes get the new certificate, open connections keep working', async (t) => {
  const ca = mintCa();
  const first = await issueServingCertificate(ca.authority);
  const server = await start(t, ca, first);
  const c = client(t, server.port, ca.rootPem);
  t.match(await certify(c), { ok: true }, 'a connection opened with the first certificate');

  const second = await issueServingCertificate(ca.authority);
  server.replaceCertificate(second.keyPem, second.certChainPem);
  t.equal((await presented(server.port, ca.rootPem)).toString(), second.chain[0], 'a new handshake sees the new certificate');
  t.match(await certify(c), { ok: true }, 'the connection opened before still works');

  t.throws(() => server.replaceCertificate(first.keyPem, second.certChainPem), { message: 'unusable serving key/certificate: the key does not match the certificate' }, 'a mismatched pair is refused');
  t.equal((await presented(server.port, ca.rootPem)).toString(), second.chain[0], 'and the current certificate stays');
});

t.test('start-up errors are clear', async (t) => {
  const ca = mintCa();
  const a = await issueServingCertificate(ca.authority);
  const b = await issueServingCertificate(ca.authority);
  await t.rejects(startIdentityServer({ handlers: echoPeer().handlers, host: '127.0.0.1', port: 0, key: a.keyPem, certChain: b.certChainPem }), { message: 'unusable serving key/certificate: the key does not match the certificate' });
  const server = await start(t, ca, a);
  await t.rejects(
    startIdentityServer({ handlers: echoPeer().handlers, host: '127.0.0.1', port: server.port, key: a.keyPem, certChain: a.certChainPem }),
    new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${server.port}: `),
  );
});

t.test('close is idempotent and stops serving', async (t) => {
  const ca = mintCa();
  const server = await start(t, ca, await issueServingCertificate(ca.authority));
  const c = client(t, server.port, ca.rootPem);
  t.match(await certify(c), { ok: true });
  const closing = server.close();
  t.equal(server.close(), closing, 'the same promise');
  await closing;
  t.match(await certify(client(t, server.port, ca.rootPem)), { ok: false, code: status.UNAVAILABLE });
});
