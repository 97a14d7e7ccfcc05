/**
 * A policy ready to enforce: the decoded `ProxyPolicy` plus everything precomputed from it (compiled regexes,
 * per-port authorizations, outbound lookup tables). Building one either succeeds completely or throws
 * `PolicyRejected`, so a policy is applied atomically or not at all (the stream then Nacks and keeps the old one).
 */
import { prepareInbound, prepareOutbound, type AppProtocol, type InboundAuthorizer, type OutboundLookup, type ProxyPolicy } from '@loom/shared/policy';

export interface PolicySnapshot {
  readonly version: string;
  readonly policy: ProxyPolicy;
  readonly inbound: InboundAuthorizer;
  readonly outbound: OutboundLookup;
  /** Declared protocol of an inbound (pod) port; `detect` when undeclared. */
  inboundProtocol(port: number): AppProtocol;
}

export class PolicyRejected extends Error {
  override readonly name = 'PolicyRejected';
}

export function prepareSnapshot(policy: ProxyPolicy): PolicySnapshot {
  let inbound: InboundAuthorizer;
  let outbound: OutboundLookup;
  try {
    inbound = prepareInbound(policy);
    outbound = prepareOutbound(policy);
  } catch (err) {
    throw new PolicyRejected(`policy ${policy.version} cannot be prepared: ${(err as Error).message}`, { cause: err });
  }
  const ports = new Map<number, AppProtocol>(policy.inbound.ports.map((p) => [p.port, p.protocol]));
  return Object.freeze({
    version: policy.version,
    policy,
    inbound,
    outbound,
    inboundProtocol: (port: number): AppProtocol => ports.get(port) ?? 'detect',
  });
}

export type PolicyListener = (next: PolicySnapshot, previous: PolicySnapshot | null) => void;

/** The policy in force. Readers call `current()` per connection/request; it is a plain field read. */
export interface PolicyView {
  /** `null` until the first good policy has been applied (the proxy is not ready meanwhile). */
  current(): PolicySnapshot | null;
  /** Called synchronously after each change, in registration order; returns an unsubscribe function. */
  onChange(listener: PolicyListener): () => void;
}

/** Holds the current snapshot and tells listeners when it changes. */
export class PolicyStore implements PolicyView {
  #current: PolicySnapshot | null = null;
  readonly #listeners = new Set<PolicyListener>();

  current(): PolicySnapshot | null {
    return this.#current;
  }

  /** Installs `next` (already prepared); listeners run after the swap. */
  apply(next: PolicySnapshot): void {
    const previous = this.#current;
    this.#current = next;
    for (const listener of [...this.#listeners]) listener(next, previous);
  }

  onChange(listener: PolicyListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
