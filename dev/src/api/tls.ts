/**
 * The local cluster's own CA and the API server's serving certificate, made with Loom's CA library: a root
 * (the kubeconfig's certificate-authority-data, and the caBundle pods trust) and a leaf for the addresses and
 * names clients use (`127.0.0.1`, the bridge address pods reach, `kubernetes.default.svc`...).
 */
import { CertificateAuthority, createRoot } from '@loom/ca';
import { generateKeySync } from '@loom/shared/identity';

export interface ServingMaterial {
  readonly rootPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** Names every in-cluster client of the API uses (as kube-apiserver's certificate carries them). */
export const KUBERNETES_DNS_NAMES = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost'] as const;

const SERVING_LIFETIME_MS = 30 * 24 * 3600_000;

/** A fresh root and a serving leaf for `ipAddresses` and {@link KUBERNETES_DNS_NAMES}. */
export function servingMaterial(ipAddresses: readonly string[], now: number = Date.now()): ServingMaterial {
  const issuer = createRoot({ trustDomain: 'cluster.local', keyType: 'ec-p256', now });
  const authority = new CertificateAuthority({ issuer, bundle: [issuer.root] }, { trustDomain: 'cluster.local', now: () => now });
  const key = generateKeySync('ec-p256');
  const issued = authority.issue(key.publicKey, { dnsNames: [...KUBERNETES_DNS_NAMES], ipAddresses }, SERVING_LIFETIME_MS);
  return {
    rootPem: issuer.pem,
    certPem: issued.chain.join(''),
    keyPem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
