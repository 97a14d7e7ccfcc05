/**
 * Whether a policy received on the stream may be enforced (DESIGN §5): the decision only, no I/O. The
 * policy client applies what this accepts (trust bundle into the credential holder, snapshot into the
 * store) and Acks, or Nacks with the reason this gives and keeps the previous policy.
 *
 * Checks, in order, each failure naming the field:
 * 1. the wire message decodes (`decodePolicy`: every field of the contract, `policy: missing` included);
 * 2. a policy with the version already in force is accepted as `unchanged` (Ack, nothing re-applied);
 * 3. it is for this proxy: `proxy.namespace` and `proxy.pod` are ours, and `proxy.identity` is the SPIFFE
 *    ID of the certificate we hold (the controller derives it from that certificate);
 * 4. `trustBundle` holds CA certificates only, at least one (what the credential holder will accept);
 * 5. the policy can be prepared for enforcement (`prepareSnapshot`).
 */
import { decodePolicy, type ProxyPolicy, type WireProxyPolicy } from '@loom/shared/policy';
import { CredentialsError, parseTrustBundle } from '../identity/credentials.js';
import { prepareSnapshot, PolicyRejected, type PolicySnapshot } from './snapshot.js';

/** Who this proxy is, as the policy must say. */
export interface PolicyExpectation {
  readonly namespace: string;
  readonly pod: string;
  /** SPIFFE ID of the held certificate; not checked when undefined (no certificate yet). */
  readonly identity: string | undefined;
}

export type AcceptResult =
  /** A new policy, prepared: install its trust bundle, apply the snapshot, Ack. */
  | { readonly kind: 'apply'; readonly snapshot: PolicySnapshot }
  /** The version already in force: Ack, apply nothing. */
  | { readonly kind: 'unchanged'; readonly version: string }
  /** Nack with `version` (`''` when the message carried none) and `reason` (`<field>: <problem>`). */
  | { readonly kind: 'reject'; readonly version: string; readonly reason: string };

/**
 * Decides about one `ControllerMessage.policy`. `currentVersion` is the version in force (`null` before the
 * first policy).
 */
export function acceptPolicy(wire: WireProxyPolicy | null | undefined, expected: PolicyExpectation, currentVersion: string | null): AcceptResult {
  const decoded = decodePolicy(wire);
  if (!decoded.ok) return { kind: 'reject', version: wireVersion(wire), reason: decoded.reason };
  const policy = decoded.policy;
  if (policy.version === currentVersion) return { kind: 'unchanged', version: policy.version };
  const problems = proxyProblems(policy, expected);
  if (problems.length > 0) return { kind: 'reject', version: policy.version, reason: problems.join('; ') };
  try {
    return { kind: 'apply', snapshot: prepareSnapshot(policy) };
  } catch (error) {
    if (error instanceof PolicyRejected) return { kind: 'reject', version: policy.version, reason: error.message };
    throw error;
  }
}

/** The proxy's own checks on a decoded policy (3 and 4 above), every problem found. */
export function proxyProblems(policy: ProxyPolicy, expected: PolicyExpectation): string[] {
  const problems: string[] = [];
  const { proxy } = policy;
  if (proxy.namespace !== expected.namespace) problems.push(`proxy.namespace: ${JSON.stringify(proxy.namespace)} is not this pod's namespace ${JSON.stringify(expected.namespace)}`);
  if (proxy.pod !== expected.pod) problems.push(`proxy.pod: ${JSON.stringify(proxy.pod)} is not this pod ${JSON.stringify(expected.pod)}`);
  if (expected.identity !== undefined && proxy.identity !== expected.identity) {
    problems.push(`proxy.identity: ${proxy.identity} is not the identity of this proxy's certificate (${expected.identity})`);
  }
  try {
    parseTrustBundle(policy.trustBundle);
  } catch (error) {
    if (!(error instanceof CredentialsError)) throw error;
    problems.push(`trustBundle: ${error.message}`);
  }
  return problems;
}

/** The version a message that did not decode claims, for the Nack. */
function wireVersion(wire: WireProxyPolicy | null | undefined): string {
  const version: unknown = (wire as { readonly version?: unknown } | null | undefined)?.version;
  return typeof version === 'string' ? version : '';
}
