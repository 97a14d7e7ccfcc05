/**
 * The controller's own serving certificate (gRPC, webhooks, TrafficMetrics API — DESIGN §4), from the same CA
 * as the workloads: a key generated in-process, a leaf carrying the controller's SPIFFE ID and the DNS names
 * its Service answers to. Renew it like any leaf, at `renewAfter`, and hand the new pair to
 * {@link IdentityServer.replaceCertificate}.
 */
import type { CertificateAuthority } from '@loom/ca';
import { generateKey, spiffeId } from '@loom/shared/identity';
import { isIP } from 'node:net';

export const CONTROLLER_NAMESPACE = 'loom-system';
export const CONTROLLER_SERVICE_ACCOUNT = 'loom-controller';
export const CONTROLLER_SERVICE = 'loom-controller';
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

export interface ServingCertificateOptions {
  /** Default: the authority's; must match it. */
  readonly trustDomain?: string;
  readonly namespace?: string;
  readonly serviceAccount?: string;
  /** The Service in front of the controller. */
  readonly service?: string;
  readonly clusterDomain?: string;
  /** Extra DNS names, e.g. `localhost` for a controller run outside the cluster. IP addresses are refused. */
  readonly dnsNames?: readonly string[];
  /** Default: the authority's leaf lifetime. */
  readonly lifetimeMs?: number;
}

export interface ServingCertificate {
  /** PKCS#8 PEM. */
  readonly keyPem: string;
  /** Leaf then intermediates, one PEM each. */
  readonly chain: readonly string[];
  /** The chain as one PEM string (what TLS servers take as `cert`). */
  readonly certChainPem: string;
  readonly trustBundle: readonly string[];
  readonly spiffeId: string;
  readonly dnsNames: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly renewAfter: Date;
}

/** `<svc>`, `<svc>.<ns>`, `<svc>.<ns>.svc`, `<svc>.<ns>.svc.<cluster-domain>`, then the extra names (deduplicated). */
export function servingDnsNames(options: Pick<ServingCertificateOptions, 'namespace' | 'service' | 'clusterDomain' | 'dnsNames'> = {}): string[] {
  const service = options.service ?? CONTROLLER_SERVICE;
  const namespace = options.namespace ?? CONTROLLER_NAMESPACE;
  const clusterDomain = options.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
  const names = [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.${clusterDomain}`, ...(options.dnsNames ?? [])];
  for (const name of names) {
    if (isIP(name) !== 0) throw new RangeError(`serving certificate: "${name}" is an IP address; the CA issues DNS names only (connect by name, or override the TLS target name)`);
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name)) throw new RangeError(`serving certificate: "${name}" is not a valid DNS name`);
  }
  return [...new Set(names)];
}

export async function issueServingCertificate(authority: CertificateAuthority, options: ServingCertificateOptions = {}): Promise<ServingCertificate> {
  const trustDomain = options.trustDomain ?? authority.trustDomain;
  if (trustDomain !== authority.trustDomain) throw new RangeError(`serving certificate: trust domain "${trustDomain}" differs from the CA's "${authority.trustDomain}"`);
  const id = spiffeId(trustDomain, options.namespace ?? CONTROLLER_NAMESPACE, options.serviceAccount ?? CONTROLLER_SERVICE_ACCOUNT);
  const dnsNames = servingDnsNames(options);
  const { privateKey, publicKey } = await generateKey('ec-p256');
  const issued = authority.issue(publicKey, { uris: [id], dnsNames }, options.lifetimeMs);
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    chain: issued.chain,
    certChainPem: issued.chain.join(''),
    trustBundle: issued.trustBundle,
    spiffeId: id,
    dnsNames,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
    renewAfter: issued.renewAfter,
  };
}
