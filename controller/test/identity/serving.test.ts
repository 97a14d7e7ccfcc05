import { createPrivateKey, X509Certificate } from 'node:crypto';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { verifyChain } from '@loom/ca';
import { caFrom, mintCa, mintIntermediate } from '@loom/ca/testing';
import t from 'tap';
import { issueServingCertificate, servingDnsNames } from '../../src/identity/serving.js';

const CONTROLLER_ID = 'spiffe://cluster.local/ns/loom-system/sa/loom-controller';
const IN_CLUSTER = ['loom-controller', 'loom-controller.loom-system', 'loom-controller.loom-system.svc', 'loom-controller.loom-system.svc.cluster.local'];

/** What node:tls checks a server name against, for a certificate. */
const asPeer = (cert: X509Certificate): PeerCertificate => ({ subject: {}, subjectaltname: cert.subjectAltName ?? '' }) as PeerCertificate;

t.test('the controller certificate: its SPIFFE ID and the Service names, from a key made in-process', async (t) => {
  const ca = mintCa();
  const serving = await issueServingCertificate(ca.authority, { trustDomain: 'cluster.local' });
  const leaf = new X509Certificate(serving.chain[0] ?? '');
  t.equal(leaf.subjectAltName, [...IN_CLUSTER.map((name) => `DNS:${name}`), `URI:${CONTROLLER_ID}`].join(', '), 'exactly these names');
  t.equal(serving.spiffeId, CONTROLLER_ID);
  t.same(serving.dnsNames, IN_CLUSTER);
  t.equal(verifyChain(serving.chain, serving.trustBundle).spiffeId, CONTROLLER_ID, 'chains to the CA root');
  t.ok(leaf.checkPrivateKey(createPrivateKey(serving.keyPem)), 'the key is the certificate\'s');
  t.equal(serving.certChainPem, serving.chain.join(''));
  t.equal(serving.notAfter.getTime(), Date.parse(leaf.validTo));
  t.ok(serving.renewAfter < serving.notAfter);
  for (const name of IN_CLUSTER) t.equal(checkServerIdentity(name, asPeer(leaf)), undefined, `valid for ${name}`);
  t.type(checkServerIdentity('localhost', asPeer(leaf)), Error, 'not for localhost unless asked');
});

t.test('localhost only when asked; IP addresses and bad names are refused', async (t) => {
  const ca = mintCa();
  const serving = await issueServingCertificate(ca.authority, { dnsNames: ['localhost', 'loom-controller'] });
  t.same(serving.dnsNames, [...IN_CLUSTER, 'localhost'], 'added once');
  t.equal(checkServerIdentity('localhost', asPeer(new X509Certificate(serving.chain[0] ?? ''))), undefined);
  await t.rejects(issueServingCertificate(ca.authority, { dnsNames: ['127.0.0.1'] }), {
    name: 'RangeError',
    message: 'serving certificate: "127.0.0.1" is an IP address; the CA issues DNS names only (connect by name, or override the TLS target name)',
  });
  await t.rejects(issueServingCertificate(ca.authority, { dnsNames: ['Bad_Name'] }), { message: 'serving certificate: "Bad_Name" is not a valid DNS name' });
  await t.rejects(issueServingCertificate(ca.authority, { trustDomain: 'other.example' }), {
    name: 'RangeError',
    message: 'serving certificate: trust domain "other.example" differs from the CA\'s "cluster.local"',
  });
});

t.test('namespace, ServiceAccount, Service and cluster domain are configurable', async (t) => {
  t.same(servingDnsNames({ namespace: 'mesh', service: 'ctl', clusterDomain: 'corp.internal' }), ['ctl', 'ctl.mesh', 'ctl.mesh.svc', 'ctl.mesh.svc.corp.internal']);
  const ca = mintCa({ trustDomain: 'corp.example' });
  const serving = await issueServingCertificate(ca.authority, { namespace: 'mesh', serviceAccount: 'loom', service: 'ctl' });
  t.equal(serving.spiffeId, 'spiffe://corp.example/ns/mesh/sa/loom');
});

t.test('under an intermediate issuer the chain carries the intermediate', async (t) => {
  const root = mintCa();
  const intermediate = mintIntermediate(root.issuer);
  const ca = caFrom({ issuer: intermediate, bundle: [root.issuer.root] });
  const serving = await issueServingCertificate(ca.authority);
  t.equal(serving.chain.length, 2);
  t.equal(verifyChain(serving.chain, [root.rootPem]).spiffeId, CONTROLLER_ID);
});
