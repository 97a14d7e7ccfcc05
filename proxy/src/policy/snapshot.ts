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
  /**
   * The ports this policy names, each with its metric label (`"8080"`): declared inbound ports, the TCP and UDP
   * ports of every authorization, and the outbound Service ports. Metric labels use it to stay a bounded set
   * (`portLabel` in metrics/families.ts: any other port is `other`).
   */
  readonly knownPorts: ReadonlyMap<number, string>;
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
    knownPorts: knownPorts(policy),
  });
}

/** Every port `policy` names, with its label (see `PolicySnapshot.knownPorts`). */
function knownPorts(policy: ProxyPolicy): ReadonlyMap<number, string> {
  const known = new Map<number, string>();
  const add = (port: number): void => {
    if (!known.has(port)) known.set(port, String(port));
  };
  for (const p of policy.inbound.ports) add(p.port);
  for (const a of policy.inbound.authorizations) {
    for (const port of a.ports ?? []) add(port);
    for (const port of a.udpPorts ?? []) add(port);
  }
  for (const service of policy.outbound) for (const p of service.ports) add(p.port);
  return known;
}

export type PolicyListener = (next: PolicySnapshot, previous: PolicySnapshot | null) => void;

/** The policy in force. Readers call `current()` per connection/request; it is a plain field read. */
export interface PolicyView {
  /** `null` until the first good policy has been applied (the proxy is not ready meanwhile). */
  current(): PolicySnapshot | null;
  /** Called synchronously after each change, in registration order; returns an unsubscribe function. */
  onChange(listener: PolicyListener): () => void;
}

export interface PolicyStoreOptions {
  /**
   * Told about a listener that threw (the other listeners still run). Without it, `apply` throws once every
   * listener has run: the error itself, or an AggregateError when several threw (the new policy is in force).
   */
  readonly onListenerError?: (err: unknown, version: string) => void;
}

/** Holds the current snapshot and tells listeners when it changes. */
export class PolicyStore implements PolicyView {
  #current: PolicySnapshot | null = null;
  readonly #listeners = new Set<PolicyListener>();
  readonly #onListenerError: ((err: unknown, version: string) => void) | undefined;

  constructor(options: PolicyStoreOptions = {}) {
    this.#onListenerError = options.onListenerError;
  }

  current(): PolicySnapshot | null {
    return this.#current;
  }

  /**
   * Installs `next` (already prepared); listeners run after the swap, each one whatever the others do: a
   * listener that throws is reported (see {@link PolicyStoreOptions.onListenerError}), never skips the rest.
   */
  apply(next: PolicySnapshot): void {
    const previous = this.#current;
    this.#current = next;
    let errors: unknown[] | null = null;
    for (const listener of [...this.#listeners]) {
      try {
        listener(next, previous);
      } catch (err) {
        if (this.#onListenerError !== undefined) this.#onListenerError(err, next.version);
        else (errors ??= []).push(err);
      }
    }
    if (errors === null) return;
    if (errors.length === 1) throw errors[0];
    throw new AggregateError(errors, `${errors.length} policy listeners failed on version ${next.version}`);
  }

  onChange(listener: PolicyListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
