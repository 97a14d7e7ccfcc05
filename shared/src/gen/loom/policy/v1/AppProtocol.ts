// Original file: proto/loom/policy/v1/policy.proto

/**
 * Application protocol of a port, from SMI route kinds, Service `appProtocol` and port names.
 */
export const AppProtocol = {
  /**
   * Invalid; a receiver rejects it.
   */
  APP_PROTOCOL_UNSPECIFIED: 'APP_PROTOCOL_UNSPECIFIED',
  /**
   * HTTP/1.x.
   */
  APP_PROTOCOL_HTTP1: 'APP_PROTOCOL_HTTP1',
  /**
   * HTTP/2 (prior knowledge).
   */
  APP_PROTOCOL_HTTP2: 'APP_PROTOCOL_HTTP2',
  /**
   * gRPC (HTTP/2).
   */
  APP_PROTOCOL_GRPC: 'APP_PROTOCOL_GRPC',
  /**
   * Opaque TCP: never sniffed (`loom.dev/opaque-ports`).
   */
  APP_PROTOCOL_OPAQUE: 'APP_PROTOCOL_OPAQUE',
  /**
   * Undeclared: sniff HTTP/1 or the HTTP/2 preface with a short deadline.
   */
  APP_PROTOCOL_DETECT: 'APP_PROTOCOL_DETECT',
} as const;

/**
 * Application protocol of a port, from SMI route kinds, Service `appProtocol` and port names.
 */
export type AppProtocol =
  /**
   * Invalid; a receiver rejects it.
   */
  | 'APP_PROTOCOL_UNSPECIFIED'
  | 0
  /**
   * HTTP/1.x.
   */
  | 'APP_PROTOCOL_HTTP1'
  | 1
  /**
   * HTTP/2 (prior knowledge).
   */
  | 'APP_PROTOCOL_HTTP2'
  | 2
  /**
   * gRPC (HTTP/2).
   */
  | 'APP_PROTOCOL_GRPC'
  | 3
  /**
   * Opaque TCP: never sniffed (`loom.dev/opaque-ports`).
   */
  | 'APP_PROTOCOL_OPAQUE'
  | 4
  /**
   * Undeclared: sniff HTTP/1 or the HTTP/2 preface with a short deadline.
   */
  | 'APP_PROTOCOL_DETECT'
  | 5

/**
 * Application protocol of a port, from SMI route kinds, Service `appProtocol` and port names.
 */
export type AppProtocol__Output = typeof AppProtocol[keyof typeof AppProtocol]
