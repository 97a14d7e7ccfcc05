import { X509Certificate } from 'node:crypto';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { generateKeySync, spiffeId } from '@loom/shared/identity';
import t, { type Test } from 'tap';
import { CertificateAuthority } from '../src/authority.js';
import { decodeMaterial, encodeMaterial, type CaMaterial } from '../src/material.js';
import { applyRotation, formatDuration, planRotation, rotationPhase, RotationRefused, type ApplyRotationOptions } from '../src/rotation.js';
import { mintCa, mintIntermediate } from '../src/testing/index.js';
import { uriSans, verifyChain } from '../src/verify.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');
const OPTIONS: ApplyRotationOptions = { trustDomain: 'cluster.local', leafLifetimeMs: 24 * HOUR, clockSkewMs: 5 * 60_000 };
const fingerprints = (material: CaMaterial): string[] => material.bundle.map((root) => root.fingerprint256);
/** Material survives the store: every phase encodes and decodes to the same state. */
const roundTrip = (material: CaMaterial, now: number): CaMaterial => decodeMaterial(encodeMaterial(material), now);

t.test('formatDuration', (t) => {
  const table: [number, string][] = [
    [0, '0s'],
    [90_000, '1m30s'],
    [24 * HOUR, '1d'],
    [25 * HOUR + 5 * 60_000, '1d1h5m'],
    [-5, '0s'],
  ];
  for (const [ms, text] of table) t.equal(formatDuration(ms), text, `${ms} ms`);
  t.end();
});

t.test('steady → staged → switched → steady, with the plan at each phase', (t) => {
  const ca = mintCa({ now: () => T0 });
  const steady = ca.material;
  const oldRoot = steady.issuer.root.fingerprint256;

  t.equal(rotationPhase(steady), 'steady');
  t.match(planRotation(steady, T0, OPTIONS), { phase: 'steady', step: 'stage', allowed: true, description: /^stage a new root/ });

  const stagedAt = T0 + HOUR;
  const staged = roundTrip(applyRotation(steady, stagedAt, OPTIONS), stagedAt);
  t.equal(rotationPhase(staged), 'staged');
  t.equal(staged.issuer.certificate.fingerprint256, steady.issuer.certificate.fingerprint256, 'the old issuer keeps issuing');
  const newRoot = staged.next?.root.fingerprint256 ?? '';
  t.not(newRoot, oldRoot, 'a new root');
  t.strictSame(uriSans(staged.next?.root ?? steady.issuer.root), ['spiffe://cluster.local'], 'for the trust domain');
  t.strictSame(fingerprints(staged), [oldRoot, newRoot], 'bundle = old + new');
  t.not(staged.next?.root.subject, steady.issuer.root.subject, 'the roots have distinct names');
  const sameSecond = applyRotation(steady, T0, OPTIONS);
  t.not(sameSecond.next?.root.subject, steady.issuer.root.subject, 'even when staged in the second the old root was made');
  t.strictSame(staged.rotation, { phase: 'staged', stagedAt: new Date(stagedAt).toISOString() });

  const switchAt = stagedAt + 2 * HOUR;
  const expectedRetire = switchAt + OPTIONS.leafLifetimeMs + OPTIONS.clockSkewMs;
  const stagedPlan = planRotation(staged, switchAt, OPTIONS);
  t.match(stagedPlan, { phase: 'staged', step: 'switch', allowed: true, description: /^switch issuance to the staged issuer "O=Loom cluster\.local, CN=Loom root CA / });
  t.equal(stagedPlan.retireAfter?.getTime(), expectedRetire, 'says when the old root could go if switched now');

  const switched = roundTrip(applyRotation(staged, switchAt, OPTIONS), switchAt);
  t.equal(rotationPhase(switched), 'switched');
  t.equal(switched.issuer.root.fingerprint256, newRoot, 'the new issuer issues');
  t.equal(switched.next, undefined);
  t.strictSame(fingerprints(switched), [oldRoot, newRoot], 'the old root is still trusted');
  t.strictSame(switched.rotation, {
    phase: 'switched',
    stagedAt: new Date(stagedAt).toISOString(),
    switchedAt: new Date(switchAt).toISOString(),
    retiringRoot: oldRoot,
    retireAfter: new Date(expectedRetire).toISOString(),
  });

  const early = switchAt + HOUR;
  const refused = planRotation(switched, early, OPTIONS);
  t.match(refused, { phase: 'switched', step: 'retire', allowed: false });
  t.equal(refused.retireAfter?.getTime(), expectedRetire);
  t.match(refused.reason, `may be valid until ${new Date(expectedRetire).toISOString()} (the switch + 1d5m of leaf lifetime and clock skew)`);
  t.match(refused.reason, `retiring is allowed from ${new Date(expectedRetire).toISOString()}`);
  t.throws(() => applyRotation(switched, early, OPTIONS), RotationRefused, 'apply refuses too');
  t.throws(() => applyRotation(switched, expectedRetire - 1, OPTIONS), RotationRefused, 'one millisecond early is early');

  const forced = planRotation(switched, early, { ...OPTIONS, force: true });
  t.match(forced, { allowed: true, reason: /^forced 23h5m early: .*peers refuse those leaves, so the workloads holding them fail mTLS until they renew/ });

  t.match(planRotation(switched, expectedRetire, OPTIONS), { allowed: true, reason: /every leaf the old root anchors expired/ });
  const done = roundTrip(applyRotation(switched, expectedRetire, OPTIONS), expectedRetire);
  t.equal(rotationPhase(done), 'steady');
  t.strictSame(fingerprints(done), [newRoot], 'bundle = new root only');
  t.equal(done.rotation, undefined);
  t.equal(done.issuer.root.fingerprint256, newRoot);

  const forcedDone = applyRotation(switched, early, { ...OPTIONS, force: true });
  t.strictSame(fingerprints(forcedDone), [newRoot], 'force retires early');
  t.end();
});

t.test('an operator-supplied issuer is staged instead of a new root', (t) => {
  const ca = mintCa({ now: () => T0 });
  const corp = mintCa({ now: () => T0, trustDomain: 'cluster.local' });
  const intermediate = mintIntermediate(corp.issuer, { now: T0, name: 'Corp issuer' });
  const staged = roundTrip(applyRotation(ca.material, T0, { ...OPTIONS, newIssuer: intermediate }), T0);
  t.equal(staged.next?.certificate.subject, 'CN=Corp issuer');
  t.strictSame(fingerprints(staged), [ca.issuer.root.fingerprint256, corp.issuer.root.fingerprint256], "the operator's root joins the bundle");
  const switched = roundTrip(applyRotation(staged, T0, OPTIONS), T0);
  t.equal(switched.issuer.certificate.subject, 'CN=Corp issuer');
  t.equal(switched.rotation?.retiringRoot, ca.issuer.root.fingerprint256);
  t.end();
});

t.test('the plan for an operator-supplied issuer: named, and refused when it is the current issuer (as the step is)', (t) => {
  const ca = mintCa({ now: () => T0 });
  const intermediate = mintIntermediate(ca.issuer, { now: T0, name: 'Corp issuer' });
  t.match(planRotation(ca.material, T0, { ...OPTIONS, newIssuer: intermediate }), { phase: 'steady', step: 'stage', allowed: true, description: /^stage the issuer "CN=Corp issuer": / });
  const same = planRotation(ca.material, T0, { ...OPTIONS, newIssuer: ca.issuer });
  t.match(same, { phase: 'steady', step: 'stage', allowed: false, reason: /^the new issuer "O=Loom cluster\.local, CN=[^"]+" is the current issuer$/ });
  t.throws(() => applyRotation(ca.material, T0, { ...OPTIONS, newIssuer: ca.issuer }), { name: 'RotationRefused', message: `cannot stage: ${same.reason}` }, 'the step says the same');
  t.end();
});

t.test('a new issuer under the same root changes no trust: the switch completes the rotation', (t) => {
  const ca = mintCa({ now: () => T0 });
  const intermediate = mintIntermediate(ca.issuer, { now: T0 });
  const staged = applyRotation(ca.material, T0, { ...OPTIONS, newIssuer: intermediate });
  t.strictSame(fingerprints(staged), [ca.issuer.root.fingerprint256], 'the bundle is unchanged');
  const switched = roundTrip(applyRotation(staged, T0, OPTIONS), T0);
  t.equal(rotationPhase(switched), 'steady');
  t.equal(switched.issuer.certificate.fingerprint256, intermediate.certificate.fingerprint256);
  t.strictSame(fingerprints(switched), [ca.issuer.root.fingerprint256]);
  t.end();
});

t.test('refusals', (t) => {
  const ca = mintCa({ now: () => T0 });
  t.throws(() => applyRotation(ca.material, T0, { ...OPTIONS, newIssuer: ca.issuer }), { name: 'RotationRefused', message: /is the current issuer/ });
  const staged = applyRotation(ca.material, T0, OPTIONS);
  const other = mintCa({ now: () => T0 }).issuer;
  t.throws(() => applyRotation(staged, T0, { ...OPTIONS, newIssuer: other }), {
    name: 'RotationRefused',
    message: 'a new issuer can only be given when staging a rotation; the rotation is already in phase "staged"',
  });
  const switched = applyRotation(staged, T0, OPTIONS);
  t.throws(() => applyRotation(switched, T0, { ...OPTIONS, newIssuer: other }), { message: /already in phase "switched"/ });
  t.throws(() => applyRotation(switched, T0, OPTIONS), { name: 'RotationRefused', message: /^cannot retire yet: / });
  t.end();
});

// --- End to end: real mTLS with node:tls across the rotation --------------------------------------------

interface Party {
  readonly keyPem: string;
  /** Leaf + chain, PEM. */
  readonly certPem: string;
  readonly id: string;
}

function leafFrom(authority: CertificateAuthority, serviceAccount: string): Party {
  const { privateKey, publicKey } = generateKeySync();
  const id = spiffeId('cluster.local', 'shop', serviceAccount);
  const issued = authority.issue(publicKey, { uris: [id] });
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), certPem: issued.chain.join(''), id };
}

interface Outcome {
  /** The server accepted the client and the client read the greeting. */
  readonly ok: boolean;
  readonly serverSawClient?: string;
  readonly clientSawServer?: string;
  readonly serverError?: string;
  readonly clientError?: string;
}

const sanOf = (socket: TLSSocket): string | undefined => socket.getPeerCertificate().subjectaltname;

/** One mTLS exchange on 127.0.0.1: the server greets a verified client, each side trusting only `*.trust`. */
async function mtls(t: Test, server: Party & { readonly trust: readonly string[] }, client: Party & { readonly trust: readonly string[] }): Promise<Outcome> {
  let serverSawClient: string | undefined;
  let serverError: string | undefined;
  const tlsServer = createServer({ key: server.keyPem, cert: server.certPem, ca: [...server.trust], requestCert: true, rejectUnauthorized: true }, (socket) => {
    socket.on('error', () => undefined);
    serverSawClient = sanOf(socket);
    socket.end('hello');
  });
  tlsServer.on('tlsClientError', (error) => (serverError = error.message));
  t.teardown(() => new Promise<void>((done) => tlsServer.close(() => done())));
  await new Promise<void>((done) => tlsServer.listen(0, '127.0.0.1', done));
  const { port } = tlsServer.address() as AddressInfo;

  return new Promise<Outcome>((resolve) => {
    let clientSawServer: string | undefined;
    let clientError: string | undefined;
    let data = '';
    const socket = connect({
      host: '127.0.0.1',
      port,
      key: client.keyPem,
      cert: client.certPem,
      ca: [...client.trust],
      // Loom peers are named by their SPIFFE ID, not a host name.
      checkServerIdentity: (_host, cert) => (cert.subjectaltname === `URI:${server.id}` ? undefined : new Error(`unexpected server ${cert.subjectaltname}`)),
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('timed out')));
    socket.on('secureConnect', () => (clientSawServer = sanOf(socket)));
    socket.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
    socket.on('error', (error: Error) => (clientError = error.message));
    socket.on('close', () => {
      // The server's verdict on the client may land just after the client's close; give it a turn.
      setImmediate(() =>
        resolve({
          ok: data === 'hello' && serverError === undefined,
          ...(serverSawClient === undefined ? {} : { serverSawClient }),
          ...(clientSawServer === undefined ? {} : { clientSawServer }),
          ...(serverError === undefined ? {} : { serverError }),
          ...(clientError === undefined ? {} : { clientError }),
        }),
      );
    });
  });
}

t.test('end to end: old-root and new-root leaves interoperate during the overlap; after retirement the old leaf is refused', async (t) => {
  const ca = mintCa();
  const authority = new CertificateAuthority(ca.material, { trustDomain: 'cluster.local' });
  const now = Date.now();

  // Stage: the bundle grows; leaves still come from the old issuer.
  const staged = applyRotation(ca.material, now, OPTIONS);
  authority.replace(staged);
  const oldLeaf = leafFrom(authority, 'old-client');
  const oldServer = leafFrom(authority, 'old-server');

  // Switch: leaves now come from the new root.
  const switched = applyRotation(staged, now, OPTIONS);
  authority.replace(switched);
  const newLeaf = leafFrom(authority, 'new-client');
  const newServer = leafFrom(authority, 'new-server');
  const overlap = switched.bundle.map((root) => root.toString());
  t.equal(overlap.length, 2);

  t.equal(verifyChain([oldLeaf.certPem], overlap).root.fingerprint256, ca.issuer.root.fingerprint256, 'the old leaf chains to the old root');
  t.equal(verifyChain([newLeaf.certPem], overlap).root.fingerprint256, switched.issuer.root.fingerprint256, 'the new leaf chains to the new root');

  const oldToNew = await mtls(t, { ...newServer, trust: overlap }, { ...oldLeaf, trust: overlap });
  t.match(oldToNew, { ok: true, serverSawClient: `URI:${oldLeaf.id}`, clientSawServer: `URI:${newServer.id}` }, 'old-root client → new-root server');
  const newToOld = await mtls(t, { ...oldServer, trust: overlap }, { ...newLeaf, trust: overlap });
  t.match(newToOld, { ok: true, serverSawClient: `URI:${newLeaf.id}`, clientSawServer: `URI:${oldServer.id}` }, 'new-root client → old-root server');

  // Retire (forced here: the leaves are minutes old, not a lifetime).
  const retired = applyRotation(switched, now, { ...OPTIONS, force: true });
  const newOnly = retired.bundle.map((root) => root.toString());
  t.strictSame(
    newOnly.map((pem) => new X509Certificate(pem).fingerprint256),
    [switched.issuer.root.fingerprint256],
    'the bundle holds only the new root',
  );

  const refused = await mtls(t, { ...newServer, trust: newOnly }, { ...oldLeaf, trust: newOnly });
  t.equal(refused.ok, false, 'the old leaf is refused by a server trusting only the new bundle');
  t.equal(refused.serverSawClient, undefined, 'the server never accepted the connection');
  t.throws(() => verifyChain([oldLeaf.certPem], newOnly), { name: 'ChainError', message: 'chain does not end at a root of the trust bundle' }, 'and why');

  const serverRefused = await mtls(t, { ...oldServer, trust: overlap }, { ...newLeaf, trust: newOnly });
  t.equal(serverRefused.ok, false, 'a client trusting only the new bundle refuses an old-root server');
  t.match(serverRefused.clientError, /issuer|certificate/i, `the client says why (${serverRefused.clientError ?? ''})`);

  const fresh = await mtls(t, { ...newServer, trust: newOnly }, { ...newLeaf, trust: newOnly });
  t.match(fresh, { ok: true, serverSawClient: `URI:${newLeaf.id}` }, 'new-root leaves work with the new bundle');
});
