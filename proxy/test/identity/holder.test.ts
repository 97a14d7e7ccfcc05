/**
 * The credential holder over real mutual TLS on 127.0.0.1: contexts appear with the first certificate, a
 * trust-bundle swap admits new peers for new connections while established ones keep working, readiness
 * follows the held certificate's expiry.
 */
import { mintCa } from '@loom/ca/testing';
import t from 'tap';
import { credentialsFromPem, type WorkloadCredentials } from '../../src/identity/credentials.js';
import { CredentialHolder, type CredentialChange } from '../../src/identity/holder.js';
import { collectLogs, connectionOutcome, connectTls, exchange, FakeClock, startEchoServer } from './support.js';
import { createSecureContext } from 'node:tls';

const WEB = 'spiffe://cluster.local/ns/shop/sa/web';

function credentialsOf(ca: ReturnType<typeof mintCa>, namespace = 'shop', serviceAccount = 'web'): WorkloadCredentials {
  const leaf = ca.leaf(namespace, serviceAccount);
  return credentialsFromPem({ keyPem: leaf.keyPem, certChainPem: leaf.certPem, trustBundle: [ca.rootPem], now: Date.now() });
}

t.test('nothing before the first certificate; contexts and readiness after it, until notAfter', (t) => {
  const clock = new FakeClock(Date.now());
  const holder = new CredentialHolder({ clock });
  t.equal(holder.current(), undefined);
  t.equal(holder.ready, false);
  t.equal(holder.serverContext(), undefined);
  t.equal(holder.clientContext(), undefined);
  t.equal(holder.contextOptions(), undefined);
  t.equal(holder.setTrustBundle([mintCa().rootPem]), false, 'a bundle before any certificate changes nothing');

  const changes: CredentialChange[] = [];
  holder.onChange((change) => changes.push(change));
  const credentials = credentialsOf(mintCa());
  holder.install(credentials);
  t.equal(holder.current()?.serialNumber, credentials.serialNumber);
  t.equal(holder.ready, true);
  t.ok(holder.serverContext(), 'server context');
  t.ok(holder.clientContext(), 'client context');
  t.not(holder.serverContext(), holder.clientContext(), 'one context per role');
  t.match(holder.contextOptions(), { minVersion: 'TLSv1.3', cert: credentials.certChainPem, ca: credentials.trustBundle });
  t.strictSame(
    changes.map((c) => [c.reason, c.credentials.serialNumber]),
    [['certificate', credentials.serialNumber]],
  );

  clock.advanceTo(credentials.notAfter - 1);
  t.equal(holder.ready, true, 'ready until the last millisecond');
  clock.advanceTo(credentials.notAfter);
  t.equal(holder.ready, false, 'not ready once the held certificate expired');
  t.end();
});

t.test('a new certificate: new connections present it, an established connection keeps working', async (t) => {
  const ca = mintCa();
  const holder = new CredentialHolder();
  const first = credentialsOf(ca);
  holder.install(first);
  const server = await startEchoServer(t, holder);
  const before = await connectTls(t, server.port, holder.clientContext(), WEB);
  t.equal(await exchange(before, 'one'), 'one');
  t.equal(before.getPeerCertificate().serialNumber, first.serialNumber);

  const second = credentialsOf(ca);
  holder.install(second);
  t.equal(await exchange(before, 'two'), 'two', 'the connection opened before the change still exchanges data');
  const after = await connectTls(t, server.port, holder.clientContext(), WEB);
  t.equal(after.getPeerCertificate().serialNumber, second.serialNumber, 'a new connection is served the new certificate');
  t.equal(await exchange(after, 'three'), 'three');
  t.strictSame(server.clientSerials, [first.serialNumber, second.serialNumber], 'and presents the new one as a client');
});

t.test('setTrustBundle: peers of a new root are admitted on new connections; old connections survive', async (t) => {
  const ours = mintCa();
  const theirs = mintCa();
  const { logger, records } = collectLogs();
  const holder = new CredentialHolder({ logger });
  const credentials = credentialsOf(ours);
  holder.install(credentials);
  const server = await startEchoServer(t, holder);
  // A peer holding a leaf of the other root, trusting ours.
  const peerLeaf = theirs.leaf('shop', 'cart');
  const peer = createSecureContext({ key: peerLeaf.keyPem, cert: peerLeaf.certPem, ca: [ours.rootPem], minVersion: 'TLSv1.3' });

  t.type(await connectionOutcome(t, server.port, peer, WEB), Error, 'a peer of an untrusted root is refused');
  const established = await connectTls(t, server.port, holder.clientContext(), WEB);
  t.equal(await exchange(established, 'a'), 'a');

  const changes: CredentialChange[] = [];
  holder.onChange((change) => changes.push(change));
  t.equal(holder.setTrustBundle([ours.rootPem, theirs.rootPem]), true, 'changed');
  t.strictSame(changes.map((c) => c.reason), ['trust-bundle']);
  t.equal(holder.current()?.trustBundle.length, 2);
  t.equal(holder.current()?.serialNumber, credentials.serialNumber, 'same certificate');
  t.equal(await connectionOutcome(t, server.port, peer, WEB), 'ok', 'the peer is admitted after the swap');
  t.equal(await exchange(established, 'b'), 'b', 'the connection opened before the swap still works');
  t.equal(holder.setTrustBundle([theirs.rootPem + ours.rootPem]), true, 'order is significant (a new list)');
  t.equal(holder.setTrustBundle([theirs.rootPem, ours.rootPem]), false, 'the same bundle again is no change');
  t.equal(changes.length, 2);

  t.equal(holder.setTrustBundle([theirs.rootPem]), true, 'a bundle without our own root is obeyed');
  t.match(records, [{ level: 'warn', event: 'trust_bundle.excludes_own_chain', identity: WEB, reason: /does not end at a root/ }], 'with a warning');
  t.type(await connectionOutcome(t, server.port, holder.clientContext(), WEB), Error, 'our old-root leaf is no longer accepted');
  t.equal(await connectionOutcome(t, server.port, peer, WEB), 'ok');

  t.throws(() => holder.setTrustBundle(['garbage']), { name: 'CredentialsError', message: /^trust bundle entry 1 must hold PEM certificates only/ });
  t.throws(() => holder.setTrustBundle([]), { message: 'trust bundle is empty' });
  t.equal(holder.current()?.trustBundle.length, 1, 'a refused bundle leaves the held one');
});

t.test('a listener that throws is logged and does not stop the others', (t) => {
  const { logger, records } = collectLogs();
  const holder = new CredentialHolder({ logger });
  const seen: string[] = [];
  holder.onChange(() => {
    throw new Error('boom');
  });
  const unsubscribe = holder.onChange((change) => seen.push(change.reason));
  holder.install(credentialsOf(mintCa()));
  unsubscribe();
  holder.install(credentialsOf(mintCa()));
  t.strictSame(seen, ['certificate'], 'called once, not after unsubscribing');
  t.match(records, [{ level: 'error', event: 'credentials.listener_failed' }, { level: 'error', event: 'credentials.listener_failed' }]);
  t.end();
});
