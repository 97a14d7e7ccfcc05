/**
 * How a connection is served (DESIGN §6), on both sides: by the port's declared protocol first, else by what the
 * first bytes look like. Pure.
 */
import type { AppProtocol } from '@loom/shared/policy';
import type { Detection } from './detect.js';

/** `http1`: an HTTP/1 server; `http2`: an HTTP/2 server (h2c prior knowledge, gRPC); `opaque`: a TCP relay. */
export type ServeAs = 'http1' | 'http2' | 'opaque';

/** The declared protocol of a Service port, or `detect` when the first bytes must decide. */
export function declaredProtocol(protocol: AppProtocol): ServeAs | 'detect' {
  switch (protocol) {
    case 'http1':
      return 'http1';
    case 'http2':
    case 'grpc':
      return 'http2';
    case 'opaque':
      return 'opaque';
    case 'detect':
      return 'detect';
  }
}

/**
 * What detection found, as a way to serve: HTTP as HTTP; the application's own TLS, unknown bytes and silence
 * (server-speaks-first protocols) as opaque TCP; `closed` when the client went away first.
 */
export function detectedProtocol(detection: Detection): ServeAs | 'closed' {
  switch (detection.kind) {
    case 'http1':
      return 'http1';
    case 'http2':
      return 'http2';
    case 'tls':
    case 'opaque':
    case 'timeout':
      return 'opaque';
    case 'closed':
      return 'closed';
  }
}
