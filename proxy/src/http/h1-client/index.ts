/**
 * Loom's HTTP/1.1 client: keep-alive connection pools to applications (inbound) and unmeshed endpoints
 * (outbound), one request at a time per connection, bounded in connections and waiting requests: an
 * incremental response parser (`parse.ts`), one socket per connection
 * (`connection.ts`), the pool (`pool.ts`), typed failures (`errors.ts`), and the dispatch-handler interface the
 * callers implement (`request.ts`).
 */
export { H1Pool, DEFAULT_KEEP_ALIVE_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_QUEUED, type H1PoolOptions, type H1PoolStats } from './pool.js';
export type { H1Controller, H1DispatchOptions, H1Handler } from './request.js';
export {
  H1ClientError,
  H1_ABORTED,
  H1_CLOSED,
  H1_CONNECT_FAILED,
  H1_CONNECT_TIMEOUT,
  H1_INVALID_REQUEST,
  H1_PARSE,
  H1_QUEUE_FULL,
  H1_SOCKET,
  isConnectFailure,
  type H1ErrorCode,
} from './errors.js';
