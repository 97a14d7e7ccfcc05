/**
 * Success/failure of one request for metrics and load balancing (DESIGN §6): 5xx, no response (status 0: reset,
 * refused, timed out) and gRPC statuses other than OK are failures. gRPC status comes from the trailers, or from the
 * headers for trailers-only responses.
 */

/** `grpcStatus`: the `grpc-status` value seen (headers or trailers), `undefined` when the response carried none. */
export function isFailure(status: number, grpcStatus: string | undefined): boolean {
  if (status === 0 || status >= 500) return true;
  return grpcStatus !== undefined && grpcStatus !== '0';
}

/** `content-type` names a gRPC response (`application/grpc`, `application/grpc+proto`, ...). */
export function isGrpcContentType(contentType: string | string[] | undefined): boolean {
  return typeof contentType === 'string' && contentType.startsWith('application/grpc');
}
