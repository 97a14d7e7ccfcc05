/**
 * What the HTTP/1 and HTTP/2 servers share: the per-connection context, and admission and routing of each
 * request (saturation or too many in flight → 503; the policy in force now → a plan; unknown destinations →
 * passthrough or 403).
 */
import type { ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { HttpRequestView } from '@loom/shared/policy';
import type { Logger } from '@loom/shared/runtime';
import type { DataPathConfig } from '../config.js';
import { respondH1, respondH2, type ProxyResponse } from '../http/respond.js';
import type { EdgeMetrics } from '../metrics/families.js';
import type { Runtime } from '../runtime.js';
import { formatAddress } from '../transport/address.js';
import { UNKNOWN_DESTINATION, type Discovery } from './discover.js';
import type { Exchange, ExchangeDeps } from './exchange.js';
import type { Destination, Plan, Router } from './logical.js';

/** An application connection served as HTTP. */
export interface AppConnection {
  readonly dest: Destination;
  /** Its connection metrics (the logical service, no peer). */
  readonly edge: EdgeMetrics;
  /** HTTP/1: requests admitted on it and not finished yet (more than one when the application pipelines). */
  pending: number;
}

/**
 * HTTP/1 requests one application connection may have in flight (pipelined) before further ones get 503 at
 * once. Node's HTTP server parses every request of a read (up to 64 KiB: hundreds of small requests) before it
 * can pause a pipelining client, and each admitted one holds an exchange until its turn to answer comes: under
 * overload that grew a proxy to ~490 MiB. Refused ones cost a small response each, in order.
 */
export const MAX_PIPELINED = 32;

const PIPELINED: ProxyResponse = Object.freeze({
  status: 503,
  message: `the application has more than ${MAX_PIPELINED} requests in flight on one connection (pipelined)`,
  retryAfterSeconds: 1,
});

/** Refuses an HTTP/1 request beyond {@link MAX_PIPELINED} on its connection (counted as shed). True when refused. */
export function shedPipelined(ctx: HttpContext, conn: AppConnection, res: ServerResponse): boolean {
  if (conn.pending < MAX_PIPELINED) return false;
  ctx.rt.metrics.shed('outbound', 'request');
  conn.edge.request(503, true, 0);
  respondH1(res, 'outbound', PIPELINED);
  return true;
}

export interface HttpContext {
  readonly cfg: DataPathConfig;
  readonly rt: Runtime;
  readonly log: Logger;
  readonly router: Router;
  readonly exchange: ExchangeDeps;
  /** Requests in flight (all connections); the exchange's `finished` decrements it. */
  readonly inflight: { count: number };
}

export type Denial = Extract<Discovery, { kind: 'deny' }>;

/**
 * Counts and logs (once, at info) a connection (`request` null) or a request (`METHOD target`) refused because
 * its destination is unknown and denied.
 */
export function denied(rt: Runtime, log: Logger, found: Denial, request: string | null): void {
  rt.metrics.denied({ direction: 'outbound', peer_identity: '', traffic_target: '', port: found.port, code: UNKNOWN_DESTINATION, audit: 'false' });
  if (request === null) log.info({ event: 'outbound.denied', dst: formatAddress(found.dst), reason: found.reason }, 'connection denied');
  else log.info({ event: 'outbound.denied', request, dst: formatAddress(found.dst), reason: found.reason }, 'request denied');
}

const OVERLOADED: ProxyResponse = Object.freeze({ status: 503, message: 'the outbound proxy is overloaded', retryAfterSeconds: 1 });

/**
 * Refuses a new request at once when the proxy is saturated (`overload.ts`): before any exchange, routing or
 * upstream work, so a refusal costs far less than a served request and an overloaded proxy can keep up with
 * what arrives. Counted as shed and as a failed request (503) on the connection's edge. True when refused.
 */
export function shedH1(ctx: HttpContext, conn: AppConnection, res: ServerResponse): boolean {
  if (!ctx.rt.overload.shed()) return false;
  ctx.rt.metrics.shed('outbound', 'request');
  conn.edge.request(503, true, 0);
  respondH1(res, 'outbound', ctx.exchange.closing() ? { ...OVERLOADED, close: true } : OVERLOADED);
  return true;
}

/** {@link shedH1} for an HTTP/2 stream. */
export function shedH2(ctx: HttpContext, conn: AppConnection, stream: ServerHttp2Stream): boolean {
  if (!ctx.rt.overload.shed()) return false;
  ctx.rt.metrics.shed('outbound', 'request');
  conn.edge.request(503, true, 0);
  respondH2(stream, 'outbound', OVERLOADED);
  return true;
}

/** Starts an exchange counted in flight (call before anything can fail). */
export function admit(ctx: HttpContext): void {
  ctx.inflight.count++;
}

/** Something that can show its request to split `matches` (asked only when the split has matches). */
export interface RequestSource {
  requestView(): HttpRequestView;
}

/** Where a request goes under the policy in force now: a plan, or the denial of an unknown destination. */
export function planRequest(ctx: HttpContext, conn: AppConnection, request: RequestSource): Plan | Denial {
  const found = ctx.router.current(conn.dest);
  switch (found.kind) {
    case 'logical': {
      const http = ctx.router.needsRequest(found.entry) ? request.requestView() : undefined;
      return ctx.router.plan(found.entry, http, conn.dest.snapshot?.policy.mesh.pathMatch ?? 'prefix');
    }
    case 'passthrough':
      return ctx.router.passthrough(found.dst);
    case 'deny':
      return found;
  }
}

/** Routes and sends `ex` (already admitted) under the policy in force now; sheds it when overloaded. */
export function dispatch(ctx: HttpContext, conn: AppConnection, ex: Exchange): void {
  if (ctx.inflight.count > ctx.cfg.maxConcurrentRequests) {
    ctx.rt.metrics.shed('outbound', 'request');
    ex.fail({ status: 503, message: 'the outbound proxy has too many requests in flight', retryAfterSeconds: 1 });
    return;
  }
  const plan = planRequest(ctx, conn, ex);
  if ('kind' in plan) {
    denied(ctx.rt, ctx.log, plan, ex.describe());
    ex.fail({ status: 403, message: plan.reason, deniedReason: plan.reason });
    return;
  }
  ex.forward(plan);
}
