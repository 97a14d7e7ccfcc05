/**
 * The hub: one internal model for every published SMI version.
 *
 * Every served version (access v1alpha1..v1alpha4, specs v1alpha1..v1alpha4, split v1alpha1..v1alpha4)
 * normalises into these types (`normalize.ts`) after validation (`validate.ts`), and the hub converts back
 * to each version where that is possible (`denormalize.ts`, used by the CRD conversion webhook).
 * The compiler reads only these types.
 *
 * The hub stays faithful to what the user wrote (e.g. an empty namespace stays empty) so round trips are
 * exact; defaults such as "empty namespace = the TrafficTarget's own" are applied by the compiler.
 */

/**
 * Metadata the compiler and diagnostics need. The rest of `metadata` is not kept: the conversion webhook passes the
 * raw metadata to `denormalize` alongside the hub.
 */
export interface Meta {
  readonly namespace: string;
  readonly name: string;
  /** RFC 3339, when known. Orders conflicting TrafficSplits (oldest wins). */
  readonly creationTimestamp?: string;
  readonly uid?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** Where an object came from: its served `group/version`, and optionally a file. */
export interface Origin {
  readonly apiVersion: string;
  readonly source?: string;
}

// ---------------------------------------------------------------------------------------------
// access.smi-spec.io

/** Identity kinds a TrafficTarget may name. `IdentityBinding` exists only in access v1alpha4. */
export type IdentityKind = 'ServiceAccount' | 'IdentityBinding';

export interface IdentityRef {
  readonly kind: IdentityKind;
  readonly name: string;
  /** As written; `undefined` or `''` means the TrafficTarget's own namespace (resolved by the compiler). */
  readonly namespace?: string;
  /** access v1alpha4 `group` (e.g. `access.smi-spec.io` for IdentityBinding). */
  readonly group?: string;
}

export interface TrafficTargetDestination extends IdentityRef {
  /** access v1alpha1/v1alpha2 only: restricts the target to one destination port. */
  readonly port?: number;
}

export type RouteKind = 'HTTPRouteGroup' | 'TCPRoute' | 'UDPRoute';

export interface TrafficTargetRule {
  readonly kind: RouteKind;
  /** Route objects are resolved in the TrafficTarget's namespace. */
  readonly name: string;
  /** HTTPRouteGroup match names; `undefined` = all matches of the group. */
  readonly matches?: readonly string[];
}

export interface TrafficTarget {
  readonly kind: 'TrafficTarget';
  readonly meta: Meta;
  readonly origin: Origin;
  readonly destination: TrafficTargetDestination;
  readonly rules: readonly TrafficTargetRule[];
  readonly sources: readonly IdentityRef[];
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

/** access v1alpha4. Schemes are OR'ed; `podLabelSelector` and `serviceAccount` are mutually exclusive. */
export interface IdentityBinding {
  readonly kind: 'IdentityBinding';
  readonly meta: Meta;
  readonly origin: Origin;
  readonly schemes: {
    readonly podLabelSelector?: LabelSelector;
    /** As written, with or without the `spiffe://` prefix. */
    readonly spiffeIdentities?: readonly string[];
    /** A ServiceAccount name in the binding's namespace. */
    readonly serviceAccount?: string;
  };
}

// ---------------------------------------------------------------------------------------------
// specs.smi-spec.io

/** One header condition: the header (lowercased name) must exist and its value match `value` (a regex). */
export interface HeaderMatch {
  readonly name: string;
  readonly value: string;
}

export interface HTTPMatch {
  readonly name: string;
  /** Regex over the path (no query string); `undefined` = any path. */
  readonly pathRegex?: string;
  /** Upper-case methods as written (may include `*`); `undefined` = any method. */
  readonly methods?: readonly string[];
  /** All must hold. specs v1alpha2+. Written back in the SDK list-of-maps form. */
  readonly headers?: readonly HeaderMatch[];
}

export interface HTTPRouteGroup {
  readonly kind: 'HTTPRouteGroup';
  readonly meta: Meta;
  readonly origin: Origin;
  readonly matches: readonly HTTPMatch[];
}

/** TCPRoute and UDPRoute. `ports` empty = every port (v1alpha1..v1alpha3 TCPRoutes have no ports at all). */
export interface L4Route {
  readonly kind: 'TCPRoute' | 'UDPRoute';
  readonly meta: Meta;
  readonly origin: Origin;
  readonly ports: readonly number[];
}

// ---------------------------------------------------------------------------------------------
// split.smi-spec.io

export interface TrafficSplitBackend {
  readonly service: string;
  /**
   * Non-negative integer. For split v1alpha2+ it is the weight as written. For v1alpha1 quantities it is
   * the whole value when every backend's quantity is whole, otherwise every backend's milli-value
   * (`1` and `500m` become 1000 and 500), so ratios are exact.
   */
  readonly weight: number;
  /**
   * split v1alpha1 only: the quantity exactly as written (`"500m"`, `"1"`, or a JSON number such as `1`),
   * kept for round trips (also restored from the `loom.dev/split-v1alpha1-weights` annotation).
   */
  readonly quantity?: string | number;
}

export interface TrafficSplitMatch {
  readonly kind: 'HTTPRouteGroup';
  readonly name: string;
  readonly apiGroup?: string;
}

export interface TrafficSplit {
  readonly kind: 'TrafficSplit';
  readonly meta: Meta;
  readonly origin: Origin;
  /** The root ("apex") Service name, in the split's namespace. */
  readonly service: string;
  readonly backends: readonly TrafficSplitBackend[];
  /** split v1alpha3+; `undefined` = all traffic to the root is split. */
  readonly matches?: readonly TrafficSplitMatch[];
}

// ---------------------------------------------------------------------------------------------

export type SmiObject = TrafficTarget | IdentityBinding | HTTPRouteGroup | L4Route | TrafficSplit;
export type SmiKind = SmiObject['kind'];

/** All SMI objects of a mesh, by kind. */
export interface SmiResources {
  readonly trafficTargets: readonly TrafficTarget[];
  readonly identityBindings: readonly IdentityBinding[];
  readonly httpRouteGroups: readonly HTTPRouteGroup[];
  readonly tcpRoutes: readonly L4Route[];
  readonly udpRoutes: readonly L4Route[];
  readonly trafficSplits: readonly TrafficSplit[];
}

/** Annotation that puts a TrafficTarget in audit mode (log and count would-be denials). */
export const AUDIT_ANNOTATION = 'loom.dev/audit';
