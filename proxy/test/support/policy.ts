/**
 * Builders for test policies: `testPolicy({...})` gives a complete, valid `ProxyPolicy` (version from
 * `withVersion`, so equal content means equal version) for the pod `shop/web-0` running as
 * `spiffe://cluster.local/ns/shop/sa/web` unless told otherwise. The small helpers below build its parts
 * with the defaults a test rarely cares about.
 *
 * The policy stream client refuses a policy without a trust bundle: pass `trustBundle: [ca.rootPem]` when
 * the policy goes over the stream. Prepared snapshots (`prepareSnapshot`) do not look at it.
 */
import { parseSpiffeId } from '@loom/shared/identity';
import { withVersion, type AppProtocol, type Authorization, type Backend, type Endpoint, type HttpRoute, type MeshSettings, type NamespacedName, type OutboundPort, type OutboundService, type ProxyPolicy, type RouteRef, type Split } from '@loom/shared/policy';

export const TEST_IDENTITY = 'spiffe://cluster.local/ns/shop/sa/web';
export const TEST_POD = 'web-0';

export const DEFAULT_TEST_MESH: MeshSettings = Object.freeze({ mode: 'strict', allowUnmeshed: false, pathMatch: 'prefix', outboundUnknown: 'passthrough' });

export interface TestPolicyOptions {
  /** This proxy's SPIFFE ID; its namespace and ServiceAccount follow from it. {@link TEST_IDENTITY} by default. */
  readonly identity?: string;
  /** The pod name; {@link TEST_POD} by default. */
  readonly pod?: string;
  /** The workload label; the ServiceAccount name by default. */
  readonly workload?: string;
  readonly mesh?: Partial<MeshSettings>;
  /** PEM roots; `[]` by default (enough for `prepareSnapshot`, not for the stream: see above). */
  readonly trustBundle?: readonly string[];
  /** Declared inbound ports: `{ 8080: 'http1' }`. */
  readonly inboundPorts?: Readonly<Record<number, AppProtocol>>;
  readonly authorizations?: readonly Authorization[];
  readonly outbound?: readonly OutboundService[];
}

/** A valid ProxyPolicy with its content-hash version. */
export function testPolicy(options: TestPolicyOptions = {}): ProxyPolicy {
  const identity = options.identity ?? TEST_IDENTITY;
  const parsed = parseSpiffeId(identity);
  if (parsed === null) throw new Error(`testPolicy: ${identity} is not a workload SPIFFE ID`);
  const ports = Object.entries(options.inboundPorts ?? {})
    .map(([port, protocol]) => ({ port: Number(port), protocol }))
    .sort((a, b) => a.port - b.port);
  return withVersion({
    proxy: {
      namespace: parsed.namespace,
      pod: options.pod ?? TEST_POD,
      serviceAccount: parsed.serviceAccount,
      identity,
      workload: options.workload ?? parsed.serviceAccount,
    },
    mesh: { ...DEFAULT_TEST_MESH, ...options.mesh },
    trustBundle: [...(options.trustBundle ?? [])],
    inbound: { ports, authorizations: [...(options.authorizations ?? [])] },
    outbound: [...(options.outbound ?? [])].sort((a, b) => a.service.namespace.localeCompare(b.service.namespace) || a.service.name.localeCompare(b.service.name)),
  });
}

// ---- inbound --------------------------------------------------------------------------------------------

export interface AllowOptions {
  /** SPIFFE IDs admitted. */
  readonly sources: readonly string[];
  /** The TrafficTarget; `shop/allow` by default. */
  readonly target?: NamespacedName;
  /** TCP ports covered; every port (`null`) by default. */
  readonly ports?: readonly number[] | null;
  readonly udpPorts?: readonly number[] | null;
  /** HTTP matches; no HTTP restriction (`null`) by default. */
  readonly http?: readonly HttpRoute[] | null;
  readonly audit?: boolean;
  readonly l4Routes?: readonly RouteRef[];
}

/** One Authorization (a compiled TrafficTarget). */
export function allow(options: AllowOptions): Authorization {
  return {
    trafficTarget: options.target ?? { namespace: 'shop', name: 'allow' },
    audit: options.audit ?? false,
    sources: [...options.sources].sort(),
    ports: options.ports === undefined || options.ports === null ? null : [...options.ports],
    udpPorts: options.udpPorts === undefined ? [] : options.udpPorts === null ? null : [...options.udpPorts],
    http: options.http === undefined || options.http === null ? null : [...options.http],
    l4Routes: [...(options.l4Routes ?? [])],
  };
}

export interface HttpRouteOptions {
  /** HTTPRouteGroup `namespace/name`; `shop/routes` by default. */
  readonly group?: NamespacedName;
  readonly match?: string;
  /** `null` (the default) = any path. */
  readonly pathRegex?: string | null;
  /** `null` (the default) = any method. */
  readonly methods?: readonly string[] | null;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One HTTPRouteGroup match. */
export function httpRoute(options: HttpRouteOptions = {}): HttpRoute {
  const group = options.group ?? { namespace: 'shop', name: 'routes' };
  return {
    route: { kind: 'HTTPRouteGroup', namespace: group.namespace, name: group.name, ...(options.match === undefined ? {} : { match: options.match }) },
    pathRegex: options.pathRegex ?? null,
    methods: options.methods === undefined || options.methods === null ? null : [...options.methods].sort(),
    headers: Object.entries(options.headers ?? {})
      .map(([name, value]) => ({ name: name.toLowerCase(), value }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

// ---- outbound -------------------------------------------------------------------------------------------

export interface EndpointOptions {
  readonly address: string;
  readonly port: number;
  /** SPIFFE ID the endpoint must prove; `null` = unmeshed (plaintext). */
  readonly identity: string | null;
  readonly pod?: NamespacedName | null;
  readonly ready?: boolean;
}

export function endpoint(options: EndpointOptions): Endpoint {
  return { address: options.address, port: options.port, identity: options.identity, pod: options.pod ?? null, ready: options.ready ?? true };
}

export interface ServicePortOptions {
  readonly port: number;
  readonly name?: string;
  /** `http1` by default. */
  readonly protocol?: AppProtocol;
  readonly endpoints?: readonly Endpoint[];
  readonly split?: Split | null;
}

export function servicePort(options: ServicePortOptions): OutboundPort {
  return {
    port: options.port,
    ...(options.name === undefined ? {} : { name: options.name }),
    protocol: options.protocol ?? 'http1',
    endpoints: [...(options.endpoints ?? [])],
    split: options.split ?? null,
  };
}

export interface ServiceOptions {
  readonly name: string;
  /** `shop` by default. */
  readonly namespace?: string;
  /** Cluster IPs; none = headless. */
  readonly vips?: readonly string[];
  readonly ports: readonly OutboundPort[];
}

export function service(options: ServiceOptions): OutboundService {
  const vips = [...(options.vips ?? [])];
  return {
    service: { namespace: options.namespace ?? 'shop', name: options.name },
    vips,
    headless: vips.length === 0,
    ports: [...options.ports].sort((a, b) => a.port - b.port),
  };
}

export interface SplitOptions {
  /** TrafficSplit `namespace/name`; `shop/split` by default. */
  readonly trafficSplit?: NamespacedName;
  readonly backends: readonly Backend[];
  /** `null` (the default) = every request is split. */
  readonly matches?: readonly HttpRoute[] | null;
}

export function split(options: SplitOptions): Split {
  return {
    trafficSplit: options.trafficSplit ?? { namespace: 'shop', name: 'split' },
    matches: options.matches === undefined || options.matches === null ? null : [...options.matches],
    backends: [...options.backends],
  };
}

export function backend(name: string, weight: number, endpoints: readonly Endpoint[], namespace = 'shop'): Backend {
  return { service: { namespace, name }, weight, endpoints: [...endpoints] };
}
