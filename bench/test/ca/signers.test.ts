import t from 'tap';
import { mintCa } from '@loom/ca/testing';
import { forgeRsaSigner } from '../../src/ca/forge-rsa.js';
import { peculiarSigner } from '../../src/ca/peculiar.js';
import { loomSigner, type LeafSigner } from '../../src/ca/signers.js';
import { checkLeaf, csrPool } from '../../src/ca/workload.js';

const trustDomain = 'bench.test';
const ec = mintCa({ trustDomain });
const rsa = mintCa({ trustDomain, keyType: 'rsa-2048' });

const cases: [string, typeof ec, 'ec-p256' | 'rsa-2048', () => LeafSigner | Promise<LeafSigner>][] = [
  ['loom, P-256', ec, 'ec-p256', () => loomSigner(ec)],
  ['loom, RSA-2048', rsa, 'rsa-2048', () => loomSigner(rsa)],
  ['@peculiar/x509, P-256', ec, 'ec-p256', () => peculiarSigner(ec)],
  ['node-forge, RSA-2048', rsa, 'rsa-2048', () => forgeRsaSigner(rsa)],
];

for (const [name, ca, keyType, make] of cases) {
  t.test(`${name}: every signer issues the leaf Loom issues, for exactly the CSR's identity`, async (t) => {
    const [csr, other] = await csrPool(keyType, 2, trustDomain);
    if (csr === undefined || other === undefined) throw new Error('no CSRs');
    t.equal(csr.spiffeId, `spiffe://${trustDomain}/ns/ns-0/sa/sa-0`);
    const signer = await make();
    const pem = await signer.sign(csr);
    t.doesNotThrow(() => checkLeaf(pem, ca.issuer.certificate, csr.spiffeId, name));
    t.throws(() => checkLeaf(pem, ca.issuer.certificate, other.spiffeId, name), /SAN is URI:spiffe:\/\/bench\.test\/ns\/ns-0\/sa\/sa-0/);
    const stranger = mintCa({ trustDomain, keyType });
    t.throws(() => checkLeaf(pem, stranger.issuer.certificate, csr.spiffeId, name), /not signed by the issuer/);
    await t.rejects(async () => signer.sign({ ...csr, spiffeId: other.spiffeId, identity: other.identity }), 'a CSR for another identity is refused');
  });
}

t.test('the node-forge signer needs an RSA-2048 issuer', (t) => {
  t.throws(() => forgeRsaSigner(ec), /needs an RSA-2048 issuer, not ec-p256/);
  t.end();
});
