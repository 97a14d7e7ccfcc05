/**
 * Inbound authorization: what the destination pod's proxy does with a connection or request (DESIGN §6).
 * The proxy calls `authorize` on every connection/request and `loom why` calls `explain`; both run the same
 * per-authorization check (`check`).
 *
 * A request is allowed iff ONE authorization (one TrafficTarget) admits it on its own:
 *   peer identity ∈ sources
 *   AND (tcp: ports null or port ∈ ports; udp: udpPorts null or port ∈ udpPorts)
 *   AND (http null, or the request is HTTP and matches one of its HttpRoutes).
 * A port is governed when some authorization covers it (the second line; `null` port lists cover every port). Ungoverned ports admit everything
 * in permissive mode and nothing in strict mode. Denials on a port governed only by audit authorizations are
 * allowed and flagged `audit`.
 *
 * `prepareInbound` does all the work that does not depend on the request: regexes, source sets, per-port
 * lists of governing authorizations, and the (frozen, shared) Decision objects returned for allowed
 * requests, so an allowed request allocates at most a normalized path.
 */
import type { Authorization, NamespacedName, ProxyPolicy, RouteRef } from './model.js';
import { compileRoute, describeRoute, findRoute, type CompiledRoute, type HttpRequestView } from './route-match.js';

export type DecisionCode =
  | 'allowed'
  | 'ungoverned'
  | 'unmeshed-allowed'
  | 'no-authorization'
  | 'unmeshed-refused'
  | 'source-not-allowed'
  | 'port-not-allowed'
  | 'route-not-matched'
  | 'not-http';

export interface Decision {
  readonly allowed: boolean;
  /** Allowed only because every authorization governing the port is in audit mode; `code` is the denial's. */
  readonly audit: boolean;
  /** One sentence for logs, 403 bodies and `loom why`. */
  readonly reason: string;
  readonly code: DecisionCode;
  /** Allowed: the admitting TrafficTarget. Denied: the most specific TrafficTarget named in `reason`, if any. */
  readonly trafficTarget: NamespacedName | null;
  /** Allowed: the matching HTTPRouteGroup match, or for targets without HTTP rules their first L4 route. */
  readonly route: RouteRef | null;
}

export interface InboundRequest {
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
  /** `identity`: SPIFFE ID from a verified client certificate; `null` = plaintext (unmeshed) client. */
  readonly peer: { readonly identity: string | null };
  /** Present when the connection carries HTTP and this is one request on it. */
  readonly http?: HttpRequestView | undefined;
}

/** How one authorization judged a request. */
export type AuthorizationResult = 'admits' | 'source-not-allowed' | 'port-not-allowed' | 'route-not-matched' | 'not-http';

export interface AuthorizationVerdict {
  readonly trafficTarget: NamespacedName;
  readonly audit: boolean;
  /** The authorization covers the request's port (and protocol). */
  readonly governs: boolean;
  readonly result: AuthorizationResult;
  /** The admitting route (see `Decision.route`). */
  readonly route: RouteRef | null;
  /** What the authorization allows, e.g. `sources spiffe://…/sa/web; TCP ports 8080; GET /orders`. */
  readonly allows: string;
}

export interface Explanation {
  readonly decision: Decision;
  /** Some authorization covers the port. */
  readonly governed: boolean;
  readonly mode: ProxyPolicy['mesh']['mode'];
  /** One entry per authorization, in policy order (also those that do not cover the port). */
  readonly verdicts: readonly AuthorizationVerdict[];
}

export interface InboundAuthorizer {
  authorize(req: InboundRequest): Decision;
  /** Same decision as `authorize`, plus every authorization's verdict (for `loom why`; not for the hot path). */
  explain(req: InboundRequest): Explanation;
  /** The ports and authorizations after preparation, for tests and introspection. */
  readonly authorizations: readonly PreparedAuthorization[];
}

export interface PreparedAuthorization {
  readonly authorization: Authorization;
  readonly sources: ReadonlySet<string>;
  readonly tcpPorts: ReadonlySet<number> | null;
  /** `null` = every UDP port. */
  readonly udpPorts: ReadonlySet<number> | null;
  /** `null` = no HTTP restriction. */
  readonly routes: readonly CompiledRoute[] | null;
  /** Decision returned when this authorization admits a request through `routes[i]`. */
  readonly routeDecisions: readonly Decision[];
  /** Decision returned when this authorization (without HTTP rules) admits a request. */
  readonly l4Decision: Decision;
  readonly name: string;
  readonly describeSources: string;
  readonly describePorts: string;
  readonly describeRoutes: string;
}

/** Authorizations covering one (protocol, port). */
interface PortEntry {
  readonly governing: readonly PreparedAuthorization[];
  /** Governed, and every governing authorization is in audit mode. */
  readonly allAudit: boolean;
  /** `ns/name, ns/name` of the governing authorizations. */
  readonly names: string;
}

const MAX_LISTED = 3;

function list(items: readonly string[]): string {
  if (items.length <= MAX_LISTED) return items.join(', ');
  return `${items.slice(0, MAX_LISTED).join(', ')} and ${items.length - MAX_LISTED} more`;
}

function nameOf(n: NamespacedName): string {
  return `${n.namespace}/${n.name}`;
}

function routeName(r: RouteRef): string {
  return `${r.kind} ${r.namespace}/${r.name}${r.match === undefined ? '' : `#${r.match}`}`;
}

function decision(
  allowed: boolean,
  code: DecisionCode,
  reason: string,
  trafficTarget: NamespacedName | null = null,
  route: RouteRef | null = null,
  audit = false,
): Decision {
  return Object.freeze({ allowed, audit, reason, code, trafficTarget, route });
}

function describePorts(protocol: 'TCP' | 'UDP', ports: readonly number[] | null): string {
  if (ports === null) return `every ${protocol} port`;
  if (ports.length === 0) return '';
  return `${protocol} port${ports.length === 1 ? '' : 's'} ${ports.join(', ')}`;
}

function prepareAuthorization(a: Authorization, pathMatch: ProxyPolicy['mesh']['pathMatch']): PreparedAuthorization {
  const name = nameOf(a.trafficTarget);
  const routes = a.http === null ? null : Object.freeze(a.http.map((r) => compileRoute(r, pathMatch)));
  const routeDecisions = (a.http ?? []).map((r) =>
    decision(true, 'allowed', `allowed: TrafficTarget ${name} admits it via ${routeName(r.route)}`, a.trafficTarget, r.route),
  );
  const l4Route = a.l4Routes[0] ?? null;
  const l4Decision = decision(
    true,
    'allowed',
    `allowed: TrafficTarget ${name} admits it${l4Route === null ? '' : ` via ${routeName(l4Route)}`}`,
    a.trafficTarget,
    l4Route,
  );
  const ports = [describePorts('TCP', a.ports), describePorts('UDP', a.udpPorts)].filter((d) => d !== '');
  let describeRoutes = '';
  if (a.http !== null) {
    describeRoutes = a.http.length === 0 ? 'no HTTP request (no valid match)' : `HTTP ${a.http.map((r) => describeRoute(r)).join(' or ')}`;
  }
  return Object.freeze({
    authorization: a,
    sources: new Set(a.sources),
    tcpPorts: a.ports === null ? null : new Set(a.ports),
    udpPorts: a.udpPorts === null ? null : new Set(a.udpPorts),
    routes,
    routeDecisions: Object.freeze(routeDecisions),
    l4Decision,
    name,
    describeSources: a.sources.length === 0 ? 'no source' : list(a.sources),
    describePorts: ports.length === 0 ? 'no port' : ports.join(' and '),
    describeRoutes,
  });
}

function covers(p: PreparedAuthorization, protocol: 'tcp' | 'udp', port: number): boolean {
  if (protocol === 'udp') return p.udpPorts === null || p.udpPorts.has(port);
  return p.tcpPorts === null || p.tcpPorts.has(port);
}

function portEntry(governing: readonly PreparedAuthorization[]): PortEntry {
  return Object.freeze({
    governing: Object.freeze(governing),
    allAudit: governing.length > 0 && governing.every((g) => g.authorization.audit),
    names: governing.map((g) => g.name).join(', '),
  });
}

// Outcome of `check` for one authorization: a route index (>= 0, admitted through `routes[i]`) or one of these.
const ADMITS_L4 = -1;
const SOURCE_NOT_ALLOWED = -2;
const PORT_NOT_ALLOWED = -3;
const ROUTE_NOT_MATCHED = -4;
const NOT_HTTP = -5;

/** The per-authorization check, shared by `authorize` and `explain`. Allocation-free except path normalization. */
function check(p: PreparedAuthorization, req: InboundRequest, identity: string): number {
  if (!p.sources.has(identity)) return SOURCE_NOT_ALLOWED;
  if (!covers(p, req.protocol, req.port)) return PORT_NOT_ALLOWED;
  // HTTP routes restrict TCP traffic only: a UDPRoute rule admits its UDP ports whatever HTTP rules sit beside it.
  if (p.routes === null || req.protocol === 'udp') return ADMITS_L4;
  if (req.http === undefined) return NOT_HTTP;
  const i = findRoute(p.routes, req.http);
  return i === -1 ? ROUTE_NOT_MATCHED : i;
}

function resultOf(outcome: number): AuthorizationResult {
  switch (outcome) {
    case SOURCE_NOT_ALLOWED:
      return 'source-not-allowed';
    case PORT_NOT_ALLOWED:
      return 'port-not-allowed';
    case ROUTE_NOT_MATCHED:
      return 'route-not-matched';
    case NOT_HTTP:
      return 'not-http';
    default:
      return 'admits';
  }
}

function admitted(p: PreparedAuthorization, outcome: number): Decision {
  return outcome === ADMITS_L4 ? p.l4Decision : p.routeDecisions[outcome]!;
}

const PRINTABLE = /[^\x20-\x7e]/g;

/** `GET /path` (no query; printable ASCII; bounded) for reasons. */
function describeRequest(req: InboundRequest): string {
  if (req.http === undefined) return '';
  let path = req.http.path;
  const q = path.indexOf('?');
  if (q !== -1) path = path.slice(0, q);
  if (path.length > 120) path = `${path.slice(0, 120)}...`;
  return ` (${req.http.method.toUpperCase().replace(PRINTABLE, '?')} ${path.replace(PRINTABLE, '?')})`;
}

function target(req: InboundRequest): string {
  return `${req.protocol === 'udp' ? 'UDP ' : ''}port ${req.port}`;
}

export function prepareInbound(policy: ProxyPolicy): InboundAuthorizer {
  const { mode, allowUnmeshed, pathMatch } = policy.mesh;
  const prepared = Object.freeze(policy.inbound.authorizations.map((a) => prepareAuthorization(a, pathMatch)));

  // Per-port lookups, per protocol: ports listed by some authorization get their own entry; every other
  // port is governed exactly by the authorizations covering every port (`null`).
  const tcpDefault = portEntry(prepared.filter((p) => p.tcpPorts === null));
  const udpDefault = portEntry(prepared.filter((p) => p.udpPorts === null));
  const tcp = new Map<number, PortEntry>();
  const udp = new Map<number, PortEntry>();
  for (const p of prepared) {
    for (const port of p.tcpPorts ?? []) if (!tcp.has(port)) tcp.set(port, portEntry(prepared.filter((q) => covers(q, 'tcp', port))));
    for (const port of p.udpPorts ?? []) if (!udp.has(port)) udp.set(port, portEntry(prepared.filter((q) => covers(q, 'udp', port))));
  }
  const entryFor = (req: InboundRequest): PortEntry =>
    req.protocol === 'udp' ? (udp.get(req.port) ?? udpDefault) : (tcp.get(req.port) ?? tcpDefault);

  const unmeshedAllowed = decision(true, 'unmeshed-allowed', 'allowed: plaintext clients are allowed on this pod (loom.dev/allow-unmeshed)');
  const ungoverned = decision(true, 'ungoverned', 'allowed: permissive mode and no TrafficTarget governs this port');

  /** The decision when no authorization admits the request; `outcomes` = `check` per authorization (meshed peers). */
  function refuse(req: InboundRequest, entry: PortEntry, outcomes: readonly number[]): Decision {
    const identity = req.peer.identity;
    // Audit applies to denials caused by TrafficTargets: never to strict mode's refusal of ungoverned ports or
    // of plaintext clients (those do not depend on any TrafficTarget).
    const refusal = (code: DecisionCode, body: string, tt: NamespacedName | null): Decision =>
      entry.allAudit
        ? decision(true, code, `audit: would deny: ${body}`, tt, null, true)
        : decision(false, code, `denied: ${body}`, tt);

    if (identity === null) {
      if (mode === 'strict') {
        return decision(
          false,
          'unmeshed-refused',
          `denied: plaintext client refused on ${target(req)}: strict mode requires mTLS (the pod is not annotated loom.dev/allow-unmeshed)`,
        );
      }
      return refusal(
        'unmeshed-refused',
        `plaintext client refused on ${target(req)}: the port is governed by TrafficTarget ${entry.names}`,
        entry.governing[0]!.authorization.trafficTarget,
      );
    }

    // Most specific explanation first: sources and port matched but L7 did not (route-not-matched /
    // not-http); then sources matched on other ports (port-not-allowed); then the governing sources.
    const l7: string[] = [];
    const ports: string[] = [];
    let l7Code: DecisionCode = 'route-not-matched';
    let l7First: NamespacedName | null = null;
    let portFirst: NamespacedName | null = null;
    for (let i = 0; i < prepared.length; i++) {
      const p = prepared[i]!;
      const outcome = outcomes[i]!;
      if (outcome === ROUTE_NOT_MATCHED || outcome === NOT_HTTP) {
        if (l7First === null) {
          l7First = p.authorization.trafficTarget;
          l7Code = outcome === NOT_HTTP ? 'not-http' : 'route-not-matched';
        }
        l7.push(`${p.name} allows ${p.describeRoutes} only: ${resultOf(outcome)}`);
      } else if (outcome === PORT_NOT_ALLOWED) {
        portFirst ??= p.authorization.trafficTarget;
        ports.push(`${p.name} admits it on ${p.describePorts} only: port-not-allowed`);
      }
    }
    const who = `${identity}${describeRequest(req)}`;
    if (entry.governing.length === 0) {
      // Strict mode (permissive mode allows ungoverned ports before getting here).
      const hint = ports.length === 0 ? '' : ` (${ports.join('; ')})`;
      return decision(false, 'no-authorization', `denied: no TrafficTarget governs ${target(req)} (strict mode), so ${who} is refused${hint}`, portFirst);
    }
    if (l7.length > 0) return refusal(l7Code, `no TrafficTarget admits ${who} to ${target(req)} (${l7.join('; ')})`, l7First);
    const sources = entry.governing.map((g) => `${g.name} allows ${g.describeSources} only`).join('; ');
    if (ports.length > 0) {
      return refusal(
        'port-not-allowed',
        `no TrafficTarget admits ${who} to ${target(req)} (${ports.join('; ')}; on this port ${sources})`,
        portFirst,
      );
    }
    return refusal(
      'source-not-allowed',
      `no TrafficTarget admits ${who} to ${target(req)} (${sources}: source-not-allowed)`,
      entry.governing[0]!.authorization.trafficTarget,
    );
  }

  /** Decision from every authorization's outcome (meshed peer). */
  function decide(req: InboundRequest, entry: PortEntry, outcomes: readonly number[]): Decision {
    for (let i = 0; i < prepared.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome >= ADMITS_L4) return admitted(prepared[i]!, outcome);
    }
    if (entry.governing.length === 0 && mode === 'permissive') return ungoverned;
    return refuse(req, entry, outcomes);
  }

  function unmeshed(req: InboundRequest, entry: PortEntry): Decision {
    if (allowUnmeshed) return unmeshedAllowed;
    if (mode === 'permissive' && entry.governing.length === 0) return ungoverned;
    return refuse(req, entry, []);
  }

  function authorize(req: InboundRequest): Decision {
    const entry = entryFor(req);
    const identity = req.peer.identity;
    if (identity === null) return unmeshed(req, entry);
    // Only authorizations covering the port can admit; the first that does decides (policy order).
    for (const p of entry.governing) {
      const outcome = check(p, req, identity);
      if (outcome >= ADMITS_L4) return admitted(p, outcome);
    }
    if (entry.governing.length === 0 && mode === 'permissive') return ungoverned;
    // Slow path (a denial): judge every authorization to explain it.
    return refuse(req, entry, prepared.map((p) => check(p, req, identity)));
  }

  function explain(req: InboundRequest): Explanation {
    const entry = entryFor(req);
    const identity = req.peer.identity;
    const outcomes = prepared.map((p) => (identity === null ? SOURCE_NOT_ALLOWED : check(p, req, identity)));
    const d = identity === null ? unmeshed(req, entry) : decide(req, entry, outcomes);
    return Object.freeze({
      decision: d,
      governed: entry.governing.length > 0,
      mode,
      verdicts: Object.freeze(
        prepared.map((p, i): AuthorizationVerdict => {
          const outcome = outcomes[i]!;
          const http = p.describeRoutes === '' ? '' : `; ${p.describeRoutes}`;
          return Object.freeze({
            trafficTarget: p.authorization.trafficTarget,
            audit: p.authorization.audit,
            governs: covers(p, req.protocol, req.port),
            result: resultOf(outcome),
            route: outcome >= ADMITS_L4 ? admitted(p, outcome).route : null,
            allows: `sources ${p.describeSources}; ${p.describePorts}${http}`,
          });
        }),
      ),
    });
  }

  return Object.freeze({ authorizations: prepared, authorize, explain });
}
