/**
 * Alternative A: @peculiar/x509 on WebCrypto (Node's `globalThis.crypto`), EC P-256. Same work as Loom's
 * path: parse and verify the CSR, check its one SPIFFE URI SAN, build a leaf with the same extensions
 * (basicConstraints and keyUsage critical, EKU server+client, critical SAN, SKI, AKI), sign, PEM.
 */
import './reflect-metadata.js'; // before @peculiar/x509: tsyringe checks for Reflect.getMetadata at load
import { randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { TestCa } from '@loom/ca/testing';
import type { LeafSigner } from './signers.js';

const LEAF_LIFETIME_MS = 24 * 3_600_000;
const CLOCK_SKEW_MS = 5 * 60_000;
const OID_SUBJECT_ALT_NAME = '2.5.29.17';

export async function peculiarSigner(ca: TestCa): Promise<LeafSigner> {
  x509.cryptoProvider.set(globalThis.crypto);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  const pkcs8 = ca.issuer.privateKey.export({ type: 'pkcs8', format: 'der' });
  const signingKey = await globalThis.crypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
  const issuerName = new x509.X509Certificate(ca.issuer.certificate.raw).subjectName;
  const authorityKeyId = new x509.AuthorityKeyIdentifierExtension(ca.issuer.keyIdentifier.toString('hex'));
  const extendedUsage = new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);

  return {
    async sign(request) {
      const csr = new x509.Pkcs10CertificateRequest(request.csrPem);
      if (!(await csr.verify())) throw new Error('CSR signature does not verify');
      const extensions = csr.extensions;
      const san = csr.getExtension(OID_SUBJECT_ALT_NAME);
      const names = san instanceof x509.SubjectAlternativeNameExtension ? san.names.toJSON() : [];
      const uri = names[0]?.type === 'url' ? names[0].value : undefined;
      if (extensions.length !== 1 || names.length !== 1 || uri !== request.spiffeId) throw new Error(`CSR must ask for exactly ${request.spiffeId}`);
      const now = Date.now();
      const serial = randomBytes(16);
      serial[0] = (serial[0] ?? 0) & 0x7f || 0x01;
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: serial.toString('hex'),
        issuer: issuerName,
        subject: '',
        notBefore: new Date(now - CLOCK_SKEW_MS),
        notAfter: new Date(now + LEAF_LIFETIME_MS),
        publicKey: csr.publicKey,
        signingKey,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          extendedUsage,
          new x509.SubjectAlternativeNameExtension([{ type: 'url', value: uri }], true),
          await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
          authorityKeyId,
        ],
      });
      return leaf.toString('pem');
    },
  };
}
