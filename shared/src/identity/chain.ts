/**
 * How a certificate chain links up to trusted roots — the structural half of chain verification, shared by
 * the CA (`verifyChain`, for tools and tests) and the proxy (checking a Certify response). Validity periods
 * are the caller's business. Native: node:crypto X509Certificate.
 */
import type { X509Certificate } from 'node:crypto';

export type ChainLink = { readonly anchors: readonly X509Certificate[] } | { readonly problem: string };

/**
 * Walks `chain` (leaf first, then intermediates): each certificate above the leaf must be a CA that issued
 * and signed the one before it, and the last must be issued and signed by a root of `roots`. Returns every
 * root that anchors the chain, or the first problem, worded for users ("chain certificate 2 is not a CA").
 */
export function linkChain(chain: readonly X509Certificate[], roots: readonly X509Certificate[]): ChainLink {
  const [leaf] = chain;
  if (leaf === undefined) return { problem: 'the chain is empty' };
  let current = leaf;
  for (const [index, parent] of chain.slice(1).entries()) {
    if (!parent.ca) return { problem: `chain certificate ${index + 2} is not a CA` };
    if (!(current.checkIssued(parent) && current.verify(parent.publicKey))) return { problem: `chain certificate ${index + 2} did not sign the certificate before it` };
    current = parent;
  }
  const anchors = roots.filter((root) => current.checkIssued(root) && current.verify(root.publicKey));
  return anchors.length === 0 ? { problem: 'the chain does not end at a root of the trust bundle' } : { anchors };
}
