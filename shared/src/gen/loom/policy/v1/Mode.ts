// Original file: proto/loom/policy/v1/policy.proto

/**
 * Access mode (DESIGN §6).
 */
export const Mode = {
  /**
   * Invalid; a receiver rejects it.
   */
  MODE_UNSPECIFIED: 'MODE_UNSPECIFIED',
  /**
   * Deny what no TrafficTarget admits (the SMI default).
   */
  MODE_STRICT: 'MODE_STRICT',
  /**
   * Allow what no TrafficTarget governs.
   */
  MODE_PERMISSIVE: 'MODE_PERMISSIVE',
} as const;

/**
 * Access mode (DESIGN §6).
 */
export type Mode =
  /**
   * Invalid; a receiver rejects it.
   */
  | 'MODE_UNSPECIFIED'
  | 0
  /**
   * Deny what no TrafficTarget admits (the SMI default).
   */
  | 'MODE_STRICT'
  | 1
  /**
   * Allow what no TrafficTarget governs.
   */
  | 'MODE_PERMISSIVE'
  | 2

/**
 * Access mode (DESIGN §6).
 */
export type Mode__Output = typeof Mode[keyof typeof Mode]
