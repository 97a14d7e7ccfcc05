import { createServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { mintCa } from '@loom/ca/testing';
import { checkRefusesAnonymous, runHandshakes } from '../../src/proxy/tls.js';

const ca = mintCa({ trustDomain: 'bench.test' });
const server = ca.leaf('bench', 'server');
const client = ca.leaf('bench', 'client');

/** A mesh-like TLS server: TLS 1.3, client certificate required or not, answers one HTTP/1.1 response and closes. */
async function tlsServer(requestCert: boolean): Promise<{ port: number; close: () => void }> {
  const s = createServer({ key: server.keyPem, cert: server.certPem, ca: [ca.rootPem], requestCert, rejectUnauthorized: requestCert, minVersion: 'TLSv1.3' }, (socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'));
  });
  s.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { port: (s.address() as AddressInfo).port, close: () => s.close() };
}

t.test('full handshakes with one request each, the server identity checked', async (t) => {
  const s = await tlsServer(true);
  t.teardown(s.close);
  const target = { host: '127.0.0.1', port: s.port, alpn: ['http/1.1'], serverId: server.spiffeId };
  const identity = { keyPem: client.keyPem, certPem: client.certPem, rootPem: ca.rootPem };
  const r = await runHandshakes(target, identity, 0.2, 2);
  t.ok(r.count > 0, `${r.count} handshakes`);
  t.equal(r.errors, 0);
  t.equal(r.protocol, 'TLSv1.3');
  t.ok(r.group !== '', `key exchange ${r.group}`);
  await t.rejects(runHandshakes({ ...target, serverId: 'spiffe://bench.test/ns/bench/sa/other' }, identity, 0.1, 1), /not spiffe:\/\/bench\.test\/ns\/bench\/sa\/other/);
  t.match(await checkRefusesAnonymous(target, ca.rootPem), /alert "certificate required"|ECONNRESET|socket hang up|answered/);
});

t.test('a server that lets anonymous clients in is reported', async (t) => {
  const s = await tlsServer(false);
  t.teardown(s.close);
  await t.rejects(checkRefusesAnonymous({ host: '127.0.0.1', port: s.port, alpn: ['http/1.1'], serverId: server.spiffeId }, ca.rootPem), /answered "HTTP\/1\.1 200 OK" to a client without a certificate/);
});
