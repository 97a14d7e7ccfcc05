/** SPIFFE IDs of workloads: `spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>`. Pure. */

export interface WorkloadIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

const PREFIX = 'spiffe://';

export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `${PREFIX}${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** Parses a workload SPIFFE ID; `null` when it is not of the `/ns/<ns>/sa/<sa>` form. */
export function parseSpiffeId(id: string): WorkloadIdentity | null {
  if (!id.startsWith(PREFIX)) return null;
  const parts = id.slice(PREFIX.length).split('/');
  if (parts.length !== 5 || parts[1] !== 'ns' || parts[3] !== 'sa') return null;
  const [trustDomain, , namespace, , serviceAccount] = parts as [string, string, string, string, string];
  if (trustDomain === '' || namespace === '' || serviceAccount === '') return null;
  return { trustDomain, namespace, serviceAccount };
}

/** IdentityBinding `spiffeIdentities` may omit the scheme (the SMI sample does): add it. */
export function withSpiffeScheme(id: string): string {
  return id.startsWith(PREFIX) ? id : PREFIX + id;
}
