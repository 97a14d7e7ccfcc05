/**
 * In-process issuance: CSR in, signed leaf (PEM) out, for a caller whose identity is already proved. Loom's
 * own path is {@link loomSigner}; the alternatives measured against it live in peculiar.ts and forge-rsa.ts.
 */
import type { TestCa } from '@loom/ca/testing';
import type { WorkloadCsr } from './workload.js';

export interface LeafSigner {
  /** Parses and verifies the CSR, checks it asks for exactly the caller's SPIFFE ID, signs a leaf. */
  sign(csr: WorkloadCsr): string | Promise<string>;
}

/** `CertificateAuthority.signWorkloadCsr` of @loom/ca: node-forge ASN.1 structures, node:crypto signatures. */
export function loomSigner(ca: TestCa): LeafSigner {
  return { sign: (csr) => ca.authority.signWorkloadCsr(csr.csrPem, csr.identity).certificatePem };
}
