/**
 * ProxyPolicy: everything one proxy needs, compiled by the controller (`controller/src/compile`) and sent
 * on the `loom.policy.v1` stream. Plain data: sorted, JSON-friendly, no Kubernetes or SMI types.
 * Hand-written code uses this model; only `codec.ts` knows the generated protobuf types.
 *
 * Ports: inbound ports are the destination pod's ports (what the server-side proxy sees as the original
 * destination after Service DNAT). Outbound ports are Service ports; endpoints carry the resolved target port.
 */

export interface NamespacedName {
  readonly namespace: string;
  readonly name: string;
}

/** Application protocol of a port, from declarations; `detect` = sniff with a short deadline. */
export type AppProtocol = 'http1' | 'http2' | 'grpc' | 'opaque' | 'detect';

export interface ProxyPolicy {
  /** Content hash of everything below (see `hash.ts`); equal policies have equal versions. */
  readonly version: string;
  readonly proxy: ProxyIdentity;
  readonly mesh: MeshSettings;
  /** PEM certificates of the roots this proxy trusts (old + new during rotation). */
  readonly trustBundle: readonly string[];
  readonly inbound: InboundPolicy;
  /** Sorted by namespace, name. */
  readonly outbound: readonly OutboundService[];
}

export interface ProxyIdentity {
  readonly namespace: string;
  readonly pod: string;
  readonly serviceAccount: string;
  /** `spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>` */
  readonly identity: string;
  /** Owning workload (e.g. Deployment name) for metrics labels; the pod name when it has no owner. */
  readonly workload: string;
}

export interface MeshSettings {
  /** Effective mode for this pod (mesh default, namespace annotation, pod annotation). */
  readonly mode: 'strict' | 'permissive';
  /** Plaintext (unmeshed) clients may call this pod (`loom.dev/allow-unmeshed: "true"`). */
  readonly allowUnmeshed: boolean;
  readonly pathMatch: 'prefix' | 'full';
  readonly outboundUnknown: 'passthrough' | 'deny';
}

// ---------------------------------------------------------------------------------------------
// Inbound

export interface InboundPolicy {
  /** Declared protocol per pod port that has a declaration; other ports: `detect`. Sorted by port. */
  readonly ports: readonly InboundPort[];
  /**
   * One entry per TrafficTarget whose destination is this pod's identity, sorted by target namespace/name.
   * A request is allowed iff one authorization admits it on its own (sources AND ports AND http).
   * A port is *governed* when some authorization's `ports` (TCP) or `udpPorts` (UDP) covers it; in permissive mode an ungoverned port
   * admits everything. A port governed only by audit authorizations logs would-be denials and allows.
   */
  readonly authorizations: readonly Authorization[];
}

export interface InboundPort {
  readonly port: number;
  readonly protocol: AppProtocol;
}

export interface Authorization {
  readonly trafficTarget: NamespacedName;
  /** `loom.dev/audit: "true"` on the TrafficTarget. */
  readonly audit: boolean;
  /** SPIFFE IDs admitted, sorted, deduplicated. */
  readonly sources: readonly string[];
  /** TCP ports this authorization covers; `null` = every port. */
  readonly ports: readonly number[] | null;
  /** UDP ports (UDPRoute rules); `null` = every UDP port; empty when the target has no UDPRoute rule. */
  readonly udpPorts: readonly number[] | null;
  /**
   * HTTP restriction from HTTPRouteGroup rules on TCP traffic (UDP ignores it): the request must match one of these.
   * `null` = no HTTP restriction (any protocol, e.g. a TCPRoute-only target).
   * An empty array admits no request (every referenced match was missing or invalid).
   */
  readonly http: readonly HttpRoute[] | null;
  /** The L4 routes that set `ports`/`udpPorts`, for explanations. Sorted. */
  readonly l4Routes: readonly RouteRef[];
}

export interface RouteRef {
  readonly kind: 'HTTPRouteGroup' | 'TCPRoute' | 'UDPRoute';
  readonly namespace: string;
  readonly name: string;
  /** HTTPRouteGroup match name. */
  readonly match?: string;
}

/** One HTTPRouteGroup match, ready to evaluate. */
export interface HttpRoute {
  readonly route: RouteRef;
  /** Regex source as written (anchoring is applied by the evaluator per `pathMatch`). `null` = any path. */
  readonly pathRegex: string | null;
  /** Upper-case methods; `null` = any method (also when `*` was listed). Sorted. */
  readonly methods: readonly string[] | null;
  /** All must match; lowercased names, value regexes matched against the whole value. Sorted by name. */
  readonly headers: readonly { readonly name: string; readonly value: string }[];
}

// ---------------------------------------------------------------------------------------------
// Outbound

export interface OutboundService {
  readonly service: NamespacedName;
  /** Cluster IPs; empty for headless services (clients then dial endpoint addresses directly). */
  readonly vips: readonly string[];
  readonly headless: boolean;
  /** Sorted by port. */
  readonly ports: readonly OutboundPort[];
}

export interface OutboundPort {
  /** The Service port clients dial. */
  readonly port: number;
  readonly name?: string;
  readonly protocol: AppProtocol;
  /** The root service's own endpoints: used when there is no split, or for requests the split's matches do not select. */
  readonly endpoints: readonly Endpoint[];
  /** TrafficSplit in effect for this port, if any. */
  readonly split: Split | null;
}

export interface Split {
  readonly trafficSplit: NamespacedName;
  /**
   * v1alpha3+ `matches`: only requests matching one of these routes are split; the rest use the root's
   * endpoints. `null` = all traffic is split.
   */
  readonly matches: readonly HttpRoute[] | null;
  /** Backends with weight > 0 and at least one endpoint on this port, in the split's order. */
  readonly backends: readonly Backend[];
}

export interface Backend {
  readonly service: NamespacedName;
  readonly weight: number;
  readonly endpoints: readonly Endpoint[];
}

export interface Endpoint {
  readonly address: string;
  /** Resolved target port on the pod. */
  readonly port: number;
  /** SPIFFE ID the peer must present; `null` = the pod is not meshed (plaintext). */
  readonly identity: string | null;
  readonly pod: NamespacedName | null;
  readonly ready: boolean;
}
