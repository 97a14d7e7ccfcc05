// Original file: proto/loom/policy/v1/policy.proto

/**
 * Kind of SMI route object a RouteRef names.
 */
export const RouteKind = {
  /**
   * Invalid; a receiver rejects it.
   */
  ROUTE_KIND_UNSPECIFIED: 'ROUTE_KIND_UNSPECIFIED',
  ROUTE_KIND_HTTP_ROUTE_GROUP: 'ROUTE_KIND_HTTP_ROUTE_GROUP',
  ROUTE_KIND_TCP_ROUTE: 'ROUTE_KIND_TCP_ROUTE',
  ROUTE_KIND_UDP_ROUTE: 'ROUTE_KIND_UDP_ROUTE',
} as const;

/**
 * Kind of SMI route object a RouteRef names.
 */
export type RouteKind =
  /**
   * Invalid; a receiver rejects it.
   */
  | 'ROUTE_KIND_UNSPECIFIED'
  | 0
  | 'ROUTE_KIND_HTTP_ROUTE_GROUP'
  | 1
  | 'ROUTE_KIND_TCP_ROUTE'
  | 2
  | 'ROUTE_KIND_UDP_ROUTE'
  | 3

/**
 * Kind of SMI route object a RouteRef names.
 */
export type RouteKind__Output = typeof RouteKind[keyof typeof RouteKind]
