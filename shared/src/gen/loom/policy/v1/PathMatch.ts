// Original file: proto/loom/policy/v1/policy.proto

/**
 * How HTTPRouteGroup `pathRegex` is anchored.
 */
export const PathMatch = {
  /**
   * Invalid; a receiver rejects it.
   */
  PATH_MATCH_UNSPECIFIED: 'PATH_MATCH_UNSPECIFIED',
  /**
   * `^(?:re)`: matched from the start of the path (the SMI default).
   */
  PATH_MATCH_PREFIX: 'PATH_MATCH_PREFIX',
  /**
   * `^(?:re)$`: the whole path must match (`loom-config` `pathMatch: full`).
   */
  PATH_MATCH_FULL: 'PATH_MATCH_FULL',
} as const;

/**
 * How HTTPRouteGroup `pathRegex` is anchored.
 */
export type PathMatch =
  /**
   * Invalid; a receiver rejects it.
   */
  | 'PATH_MATCH_UNSPECIFIED'
  | 0
  /**
   * `^(?:re)`: matched from the start of the path (the SMI default).
   */
  | 'PATH_MATCH_PREFIX'
  | 1
  /**
   * `^(?:re)$`: the whole path must match (`loom-config` `pathMatch: full`).
   */
  | 'PATH_MATCH_FULL'
  | 2

/**
 * How HTTPRouteGroup `pathRegex` is anchored.
 */
export type PathMatch__Output = typeof PathMatch[keyof typeof PathMatch]
