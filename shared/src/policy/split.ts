/**
 * TrafficSplit at the client's proxy (DESIGN §6): which backend a request (HTTP) or connection (TCP) to a root
 * service port goes to. The caller draws once per request for HTTP and once per connection for TCP.
 *
 * - No split, no backends or all weights zero: the root service's own endpoints.
 * - `matches` set: only HTTP requests matching one of its routes are split; other requests and non-HTTP
 *   connections use the root's endpoints.
 * - Otherwise one draw `random()` in [0, 1) picks by cumulative weight; zero weights are never chosen.
 *
 * `prepareOutbound` precomputes cumulative weights, compiled matches and the result objects, so `select`
 * allocates nothing (except normalizing a path with a query string or dot segments when `matches` is set).
 */
import type { Backend, Endpoint, NamespacedName, OutboundPort, OutboundService, ProxyPolicy, RouteRef, Split } from './model.js';
import { compileRoute, findRoute, type CompiledRoute, type HttpRequestView, type PathMatch } from './route-match.js';

export type BackendChoice =
  | { readonly kind: 'root'; readonly endpoints: readonly Endpoint[] }
  | { readonly kind: 'backend'; readonly backend: Backend };

export interface SplitRequest {
  /** Present for one HTTP request; absent for a TCP connection. */
  readonly http?: HttpRequestView | undefined;
}

export interface SplitWeight {
  /** `namespace/name` of the backend service. */
  readonly service: string;
  readonly weight: number;
}

export interface SplitExplanation {
  /** The TrafficSplit in effect on this port, or `null`. */
  readonly trafficSplit: NamespacedName | null;
  /** The request/connection is split (else it uses the root's endpoints). */
  readonly applies: boolean;
  /** The `matches` route that selected the request, when the split has matches and one matched. */
  readonly route: RouteRef | null;
  /** Backends and weights when a split is in effect (whether or not it applies to this request). */
  readonly weights: readonly SplitWeight[] | null;
  /** One sentence, e.g. `TrafficSplit shop/cart-rollout splits it: shop/cart-v1 90 (90%), shop/cart-v2 10 (10%)`. */
  readonly reason: string;
}

export interface PreparedOutboundPort {
  readonly service: NamespacedName;
  readonly port: OutboundPort;
  /** The split actually applied (`null` when absent, without backends or all weights zero). */
  readonly split: Split | null;
  /** For headless services: the endpoint this lookup entry stands for (the root choice uses only it). */
  readonly endpoint: Endpoint | null;
  readonly weights: readonly SplitWeight[] | null;
  select(req: SplitRequest | undefined, random: () => number): BackendChoice;
  explain(req: SplitRequest | undefined): SplitExplanation;
}

export interface OutboundLookup {
  /** The port a client dialled: a cluster IP and Service port, or for headless services an endpoint address and port. */
  lookup(address: string, port: number): PreparedOutboundPort | undefined;
  /** Every prepared entry (one per VIP port, plus one per headless endpoint). */
  readonly entries: readonly PreparedOutboundPort[];
}

function nameOf(n: NamespacedName): string {
  return `${n.namespace}/${n.name}`;
}

/** The backends a split really uses: positive, finite weights. */
function effectiveBackends(split: Split | null): readonly Backend[] {
  if (split === null) return [];
  return split.backends.filter((b) => Number.isFinite(b.weight) && b.weight > 0);
}

/** Backends and weights of the split in effect on `port`, or `null` when the port is not split. */
export function splitWeights(port: OutboundPort): SplitWeight[] | null {
  const backends = effectiveBackends(port.split);
  if (backends.length === 0) return null;
  return backends.map((b) => ({ service: nameOf(b.service), weight: b.weight }));
}

function describeWeights(weights: readonly SplitWeight[]): string {
  const total = weights.reduce((s, w) => s + w.weight, 0);
  return weights.map((w) => `${w.service} ${w.weight} (${Math.round((w.weight / total) * 1000) / 10}%)`).join(', ');
}

function preparePort(
  service: NamespacedName,
  port: OutboundPort,
  pathMatch: PathMatch,
  endpoint: Endpoint | null,
): PreparedOutboundPort {
  const backends = effectiveBackends(port.split);
  const split = backends.length === 0 ? null : port.split;
  const root: BackendChoice = Object.freeze({ kind: 'root', endpoints: endpoint === null ? port.endpoints : Object.freeze([endpoint]) });
  const choices: readonly BackendChoice[] = Object.freeze(backends.map((backend) => Object.freeze({ kind: 'backend' as const, backend })));
  const cumulative = new Float64Array(backends.length);
  let total = 0;
  backends.forEach((b, i) => {
    total += b.weight;
    cumulative[i] = total;
  });
  const matches: readonly CompiledRoute[] | null =
    split === null || split.matches === null ? null : Object.freeze(split.matches.map((m) => compileRoute(m, pathMatch)));
  const weights = split === null ? null : Object.freeze(backends.map((b) => Object.freeze({ service: nameOf(b.service), weight: b.weight })));
  const last = choices.length - 1;
  const where = `${nameOf(service)} port ${port.port}`;

  /** Index of the matching `matches` route, -1 when none matches, -2 when the split has no matches. */
  function matchIndex(req: SplitRequest | undefined): number {
    if (matches === null) return -2;
    const http = req?.http;
    return http === undefined ? -1 : findRoute(matches, http);
  }

  return Object.freeze({
    service,
    port,
    split,
    endpoint,
    weights,
    select(req: SplitRequest | undefined, random: () => number): BackendChoice {
      if (last < 0) return root;
      if (matches !== null && matchIndex(req) === -1) return root;
      const r = random() * total;
      for (let i = 0; i < last; i++) if (r < cumulative[i]!) return choices[i]!;
      return choices[last]!;
    },
    explain(req: SplitRequest | undefined): SplitExplanation {
      if (split === null || weights === null) {
        const why = port.split === null ? 'no TrafficSplit' : `TrafficSplit ${nameOf(port.split.trafficSplit)} has no backend with weight > 0`;
        return Object.freeze({ trafficSplit: null, applies: false, route: null, weights: null, reason: `${why} on ${where}: root endpoints` });
      }
      const ts = nameOf(split.trafficSplit);
      const i = matchIndex(req);
      const route = i >= 0 ? matches![i]!.route.route : null;
      if (i === -1) {
        const why = req?.http === undefined ? 'it is not an HTTP request' : 'the request matches none of its matches';
        return Object.freeze({ trafficSplit: split.trafficSplit, applies: false, route: null, weights, reason: `TrafficSplit ${ts} on ${where} does not apply (${why}): root endpoints` });
      }
      const via = route === null ? '' : ` (matches ${route.kind} ${route.namespace}/${route.name}${route.match === undefined ? '' : `#${route.match}`})`;
      return Object.freeze({ trafficSplit: split.trafficSplit, applies: true, route, weights, reason: `TrafficSplit ${ts} on ${where} splits it${via}: ${describeWeights(weights)}` });
    },
  });
}

/**
 * Prepares every outbound service port of `policy`. Lookup keys: each cluster IP with each Service port; for
 * headless services each endpoint address with the endpoint's (resolved target) port, whose root choice is that
 * endpoint alone. When two entries claim the same address and port, the first (policy order) wins.
 */
export function prepareOutbound(policy: ProxyPolicy): OutboundLookup {
  const byAddress = new Map<string, Map<number, PreparedOutboundPort>>();
  const entries: PreparedOutboundPort[] = [];
  const add = (address: string, portNumber: number, entry: PreparedOutboundPort): void => {
    let ports = byAddress.get(address);
    if (ports === undefined) byAddress.set(address, (ports = new Map<number, PreparedOutboundPort>()));
    if (!ports.has(portNumber)) ports.set(portNumber, entry);
  };
  const { pathMatch } = policy.mesh;
  for (const svc of policy.outbound) addService(svc, pathMatch, add, entries);
  return Object.freeze({
    lookup: (address: string, port: number) => byAddress.get(address)?.get(port),
    entries: Object.freeze(entries),
  });
}

function addService(
  svc: OutboundService,
  pathMatch: PathMatch,
  add: (address: string, port: number, entry: PreparedOutboundPort) => void,
  entries: PreparedOutboundPort[],
): void {
  for (const port of svc.ports) {
    if (svc.headless) {
      for (const ep of port.endpoints) {
        const entry = preparePort(svc.service, port, pathMatch, ep);
        entries.push(entry);
        add(ep.address, ep.port, entry);
      }
    } else {
      const entry = preparePort(svc.service, port, pathMatch, null);
      entries.push(entry);
      for (const vip of svc.vips) add(vip, port.port, entry);
    }
  }
}

const cache = { prefix: new WeakMap<OutboundPort, PreparedOutboundPort>(), full: new WeakMap<OutboundPort, PreparedOutboundPort>() };

/**
 * One-off selection on an unprepared port (prepared on first use and cached per port object). The proxy uses
 * `prepareOutbound(...).lookup(...).select(...)`; this is for callers holding only an `OutboundPort`.
 */
export function selectBackend(port: OutboundPort, req: SplitRequest | undefined, random: () => number, pathMatch: PathMatch): BackendChoice {
  const c = cache[pathMatch];
  let prepared = c.get(port);
  if (prepared === undefined) {
    prepared = preparePort({ namespace: '', name: '' }, port, pathMatch, null);
    c.set(port, prepared);
  }
  return prepared.select(req, random);
}
