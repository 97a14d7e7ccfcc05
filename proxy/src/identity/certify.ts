/**
 * One `loom.identity.v1.Identity/Certify` call over TLS: a fresh channel per call, closed when the call
 * ends. Renewals happen hours apart, so a lingering channel would buy nothing; a fresh one never inherits
 * grpc-js's own reconnect backoff, and it verifies the controller against the roots trusted at that moment
 * (which change with root rotation).
 */
import { credentials, status, type ChannelOptions, type ClientUnaryCall, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadIdentityService, type CertifyRequest, type CertifyResponse__Output } from '@loom/shared/proto';

export interface CertifyTarget {
  /** `host:port` of the controller's identity service. */
  readonly address: string;
  /** The DNS name the controller's serving certificate carries, when it differs from the address host. */
  readonly serverName?: string;
  /** PEM roots for the controller's serving certificate. */
  readonly trustPem: string;
}

/** Trailing metadata key by which the server says how long to wait before retrying (gRPC retry pushback). */
export const RETRY_PUSHBACK_KEY = 'grpc-retry-pushback-ms';

/**
 * The server's retry pushback in milliseconds: the first `grpc-retry-pushback-ms` value when it is a
 * non-negative decimal integer, otherwise undefined (absent or malformed values are ignored: the proxy
 * retries with its own backoff whatever the server says).
 */
export function retryPushbackMs(metadata: Metadata | undefined): number | undefined {
  const [value] = metadata?.get(RETRY_PUSHBACK_KEY) ?? [];
  if (typeof value !== 'string' || !/^\d{1,10}$/.test(value)) return undefined;
  return Number(value);
}

/** A Certify call that ended without a response: its gRPC status. */
export class CertifyCallError extends Error {
  override readonly name = 'CertifyCallError';
  constructor(
    /** The gRPC status code (`status.UNAVAILABLE`...). */
    readonly code: status,
    readonly details: string,
    /** The server's `grpc-retry-pushback-ms` trailer, when it sent a valid one. */
    readonly retryPushbackMs?: number,
  ) {
    super(`${status[code] ?? `status ${code}`}: ${details}`);
  }
}

export interface PendingCertify {
  /** The response, or a {@link CertifyCallError}. */
  readonly response: Promise<CertifyResponse__Output>;
  /** Cancels the call (the promise rejects with CANCELLED). */
  cancel(): void;
}

/** Starts a Certify call with a deadline `timeoutMs` from now (real time: a transport timeout). */
export function certify(target: CertifyTarget, request: CertifyRequest, timeoutMs: number): PendingCertify {
  const Identity = loadIdentityService();
  const options: ChannelOptions = {
    // Nothing shared with other channels of the process: this channel lives for one call.
    'grpc.use_local_subchannel_pool': 1,
    ...(target.serverName === undefined ? {} : { 'grpc.ssl_target_name_override': target.serverName, 'grpc.default_authority': target.serverName }),
  };
  const client = new Identity(target.address, credentials.createSsl(Buffer.from(target.trustPem)), options);
  let call: ClientUnaryCall | undefined;
  const response = new Promise<CertifyResponse__Output>((resolve, reject) => {
    call = client.Certify(request, { deadline: Date.now() + timeoutMs }, (error: ServiceError | null, value?: CertifyResponse__Output) => {
      client.close();
      if (error !== null) reject(new CertifyCallError(error.code, error.details, retryPushbackMs(error.metadata)));
      else if (value === undefined) reject(new CertifyCallError(status.INTERNAL, 'empty response'));
      else resolve(value);
    });
  });
  return {
    response,
    cancel: () => call?.cancel(),
  };
}
