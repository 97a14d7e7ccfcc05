/**
 * The inputs every issuance scenario signs: pools of workload CSRs (key generated off the clock, in the
 * libuv pool), one SPIFFE ID each, and the check that a leaf from any implementation is what Loom issues.
 */
import { X509Certificate } from 'node:crypto';
import { createCsr, generateKey, spiffeId, type KeyType, type WorkloadIdentity } from '@loom/shared/identity';

export interface WorkloadCsr {
  readonly csrPem: string;
  /** The identity the caller's token proved (the CSR asks for exactly this one). */
  readonly identity: WorkloadIdentity;
  readonly spiffeId: string;
}

/** `count` CSRs for distinct identities `ns-<i>/sa-<i>`, each with its own key of `keyType`. */
export async function csrPool(keyType: KeyType, count: number, trustDomain: string): Promise<WorkloadCsr[]> {
  const indexes = Array.from({ length: count }, (_, i) => i);
  return Promise.all(
    indexes.map(async (i) => {
      const key = await generateKey(keyType);
      const identity: WorkloadIdentity = { trustDomain, namespace: `ns-${i}`, serviceAccount: `sa-${i}` };
      const id = spiffeId(trustDomain, identity.namespace, identity.serviceAccount);
      return { csrPem: createCsr({ ...key, uris: [id] }), identity, spiffeId: id };
    }),
  );
}

/**
 * Throws unless `pem` is a leaf signed by `issuer` for exactly `id`, usable for client and server auth:
 * the benchmark compares implementations doing the same work, so each one's output is checked (untimed).
 */
export function checkLeaf(pem: string, issuer: X509Certificate, id: string, what: string): void {
  const leaf = new X509Certificate(pem);
  const problems: string[] = [];
  if (!leaf.checkIssued(issuer) || !leaf.verify(issuer.publicKey)) problems.push('not signed by the issuer');
  if (leaf.ca) problems.push('is a CA');
  if (leaf.subjectAltName !== `URI:${id}`) problems.push(`SAN is ${leaf.subjectAltName ?? 'missing'}, not URI:${id}`);
  const usages = leaf.keyUsage ?? [];
  for (const oid of ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']) if (!usages.includes(oid)) problems.push(`extended key usage lacks ${oid}`);
  if (problems.length > 0) throw new Error(`${what}: the leaf ${problems.join('; ')}`);
}
