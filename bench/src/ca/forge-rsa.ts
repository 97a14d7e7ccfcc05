/**
 * Alternative B: node-forge alone, RSA-2048 (forge cannot do EC keys): `forge.pki` parses and verifies the
 * CSR, builds the leaf with the same extensions as Loom's, and signs with forge's pure-JS RSA (bignum
 * arithmetic in JavaScript, SHA-256 from forge). The issuer must be an RSA CA.
 */
import { randomBytes } from 'node:crypto';
import forge from 'node-forge';
import type { TestCa } from '@loom/ca/testing';
import type { LeafSigner } from './signers.js';

const LEAF_LIFETIME_MS = 24 * 3_600_000;
const CLOCK_SKEW_MS = 5 * 60_000;

interface SanExtension {
  readonly name: string;
  readonly altNames?: readonly { readonly type: number; readonly value: string }[];
}

export function forgeRsaSigner(ca: TestCa): LeafSigner {
  if (ca.issuer.keyType !== 'rsa-2048') throw new Error(`the node-forge signer needs an RSA-2048 issuer, not ${ca.issuer.keyType}`);
  const issuerCert = forge.pki.certificateFromPem(ca.issuer.pem);
  const issuerKey = forge.pki.privateKeyFromPem(ca.issuer.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const authorityKeyId = ca.issuer.keyIdentifier.toString('latin1');

  return {
    sign(request) {
      const csr = forge.pki.certificationRequestFromPem(request.csrPem);
      if (!csr.verify()) throw new Error('CSR signature does not verify');
      const attributes = csr.getAttribute({ name: 'extensionRequest' }) as { extensions?: SanExtension[] } | null;
      const extensions = attributes?.extensions ?? [];
      const names = extensions[0]?.name === 'subjectAltName' ? (extensions[0].altNames ?? []) : [];
      if (extensions.length !== 1 || names.length !== 1 || names[0]?.type !== 6 || names[0].value !== request.spiffeId) {
        throw new Error(`CSR must ask for exactly ${request.spiffeId}`);
      }
      const now = Date.now();
      const serial = randomBytes(16);
      serial[0] = (serial[0] ?? 0) & 0x7f || 0x01;
      const leaf = forge.pki.createCertificate();
      if (csr.publicKey === null) throw new Error('CSR has no public key');
      leaf.publicKey = csr.publicKey;
      leaf.serialNumber = serial.toString('hex');
      leaf.validity.notBefore = new Date(Math.floor((now - CLOCK_SKEW_MS) / 1000) * 1000);
      leaf.validity.notAfter = new Date(Math.floor((now + LEAF_LIFETIME_MS) / 1000) * 1000);
      leaf.setSubject([]);
      leaf.setIssuer(issuerCert.subject.attributes);
      leaf.setExtensions([
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 6, value: request.spiffeId }], critical: true },
        { name: 'subjectKeyIdentifier' },
        { name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId },
      ]);
      leaf.sign(issuerKey, forge.md.sha256.create());
      return forge.pki.certificateToPem(leaf);
    },
  };
}
