// Original file: proto/loom/policy/v1/policy.proto

/**
 * What the outbound side does with a destination that is no known service.
 */
export const OutboundUnknown = {
  /**
   * Invalid; a receiver rejects it.
   */
  OUTBOUND_UNKNOWN_UNSPECIFIED: 'OUTBOUND_UNKNOWN_UNSPECIFIED',
  /**
   * Forward it unchanged to the original destination.
   */
  OUTBOUND_UNKNOWN_PASSTHROUGH: 'OUTBOUND_UNKNOWN_PASSTHROUGH',
  /**
   * Refuse it (reset).
   */
  OUTBOUND_UNKNOWN_DENY: 'OUTBOUND_UNKNOWN_DENY',
} as const;

/**
 * What the outbound side does with a destination that is no known service.
 */
export type OutboundUnknown =
  /**
   * Invalid; a receiver rejects it.
   */
  | 'OUTBOUND_UNKNOWN_UNSPECIFIED'
  | 0
  /**
   * Forward it unchanged to the original destination.
   */
  | 'OUTBOUND_UNKNOWN_PASSTHROUGH'
  | 1
  /**
   * Refuse it (reset).
   */
  | 'OUTBOUND_UNKNOWN_DENY'
  | 2

/**
 * What the outbound side does with a destination that is no known service.
 */
export type OutboundUnknown__Output = typeof OutboundUnknown[keyof typeof OutboundUnknown]
