/**
 * Logical → concrete: for one request (HTTP) or connection (TCP) to a logical service, the TrafficSplit choice
 * (root endpoints or a backend's) and the labels of its metrics. The split decision itself is the policy's
 * (`PreparedOutboundPort.select`); this stage maps its result to an {@link EndpointSet} and label values, all
 * cached per policy object so a request allocates nothing here.
 *
 * Each connection remembers what its destination resolved to under the snapshot it last saw
 * ({@link Destination}); a request re-resolves only when the policy changed since, so new requests follow the
 * policy in force while requests and connections in flight are never disturbed by a change.
 */
import { compileRoute, findRoute, type BackendChoice, type CompiledRoute, type HttpRequestView, type PathMatch, type PreparedOutboundPort } from '@loom/shared/policy';
import type { PolicySnapshot, PolicyView } from '../policy/snapshot.js';
import type { SocketAddress } from '../transport/orig-dst.js';
import { resolve, type Resolved } from './discover.js';
import type { EndpointSet, Endpoints } from './endpoints.js';
import { routeName, serviceName } from './names.js';

/** Where one request or connection goes. */
export interface Plan {
  readonly endpoints: EndpointSet;
  /** `dst_service`: the split backend when split, else the root service (`namespace/name`); `""` passthrough. */
  readonly service: string;
  /** `route`: the split `matches` route that selected the request, `""` none. */
  readonly route: string;
}

/** A connection's destination as last resolved. */
export interface Destination {
  readonly dst: SocketAddress;
  snapshot: PolicySnapshot | null;
  discovery: Resolved;
}

export class Router {
  readonly #policy: PolicyView;
  readonly #endpoints: Endpoints;
  readonly #random: () => number;
  readonly #plans = new WeakMap<BackendChoice, Plan>();
  readonly #routedPlans = new WeakMap<BackendChoice, Map<string, Plan>>();
  /** Keyed by the (bounded, evicted) passthrough sets of `Endpoints`: entries go with their set. */
  readonly #passthrough = new WeakMap<EndpointSet, Plan>();
  readonly #matches = new WeakMap<PreparedOutboundPort, readonly CompiledRoute[]>();

  constructor(policy: PolicyView, endpoints: Endpoints, random: () => number) {
    this.#policy = policy;
    this.#endpoints = endpoints;
    this.#random = random;
  }

  /** `dest` resolved under the policy in force now (re-resolved only when it changed). */
  current(dest: Destination): Resolved {
    const snapshot = this.#policy.current();
    if (snapshot !== dest.snapshot) {
      dest.snapshot = snapshot;
      dest.discovery = snapshot === null ? { kind: 'passthrough', dst: dest.dst, why: 'no-policy' } : resolve(dest.dst, snapshot);
    }
    return dest.discovery;
  }

  /** Whether choosing for `entry` looks at the request (its split has `matches`). */
  needsRequest(entry: PreparedOutboundPort): boolean {
    return entry.split !== null && entry.split.matches !== null;
  }

  /** The plan for one request (`http`) or connection (`undefined`) to `entry`. */
  plan(entry: PreparedOutboundPort, http: HttpRequestView | undefined, pathMatch: PathMatch): Plan {
    const choice = entry.select(http === undefined ? undefined : { http }, this.#random);
    if (choice.kind === 'backend' && http !== undefined && entry.split?.matches != null) {
      const matches = this.#compiled(entry, pathMatch);
      const i = findRoute(matches, http);
      if (i >= 0) return this.#routedPlan(entry, choice, routeName(matches[i]!.route.route));
    }
    let plan = this.#plans.get(choice);
    if (plan === undefined) {
      plan = this.#build(entry, choice, '');
      this.#plans.set(choice, plan);
    }
    return plan;
  }

  /** The plan for a destination outside the policy: straight to it, plaintext. */
  passthrough(dst: SocketAddress): Plan {
    const endpoints = this.#endpoints.passthrough(dst.address, dst.port);
    let plan = this.#passthrough.get(endpoints);
    if (plan === undefined) {
      plan = Object.freeze({ endpoints, service: '', route: '' });
      this.#passthrough.set(endpoints, plan);
    }
    return plan;
  }

  #routedPlan(entry: PreparedOutboundPort, choice: BackendChoice, route: string): Plan {
    let byRoute = this.#routedPlans.get(choice);
    if (byRoute === undefined) this.#routedPlans.set(choice, (byRoute = new Map<string, Plan>()));
    let plan = byRoute.get(route);
    if (plan === undefined) {
      plan = this.#build(entry, choice, route);
      byRoute.set(route, plan);
    }
    return plan;
  }

  #build(entry: PreparedOutboundPort, choice: BackendChoice, route: string): Plan {
    const list = choice.kind === 'root' ? choice.endpoints : choice.backend.endpoints;
    const service = serviceName(choice.kind === 'root' ? entry.service : choice.backend.service);
    return Object.freeze({ endpoints: this.#endpoints.set(list), service, route });
  }

  #compiled(entry: PreparedOutboundPort, pathMatch: PathMatch): readonly CompiledRoute[] {
    let compiled = this.#matches.get(entry);
    if (compiled === undefined) {
      compiled = (entry.split?.matches ?? []).map((m) => compileRoute(m, pathMatch));
      this.#matches.set(entry, compiled);
    }
    return compiled;
  }
}
