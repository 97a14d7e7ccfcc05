/**
 * Inbound authorization as the data path uses it: the pure decision (`snapshot.inbound.authorize`, in shared)
 * wrapped by what the proxy does around it: every denial and every audit pass logged once at info and counted,
 * nothing decided before the first policy arrived, and HTTP connections judged again when the policy changes.
 */
import type { Logger } from '@loom/shared/runtime';
import type { Decision, HttpRequestView, NamespacedName } from '@loom/shared/policy';
import { portLabel, type ProxyMetrics } from '../metrics/families.js';
import type { PolicySnapshot, PolicyView } from '../policy/snapshot.js';
import type { InboundConnection } from './connection.js';

function targetName(tt: NamespacedName | null): string {
  return tt === null ? '' : `${tt.namespace}/${tt.name}`;
}

/**
 * Whether a connection-level decision (no HTTP view) denies the peer everything on the port, whatever it would
 * request. Pure. Only `not-http` (some authorization admits the peer's identity on the port but only for
 * matching HTTP requests) and `route-not-matched` leave room for a request to be admitted; every other denial
 * (`source-not-allowed`, `port-not-allowed`, `unmeshed-refused`, `no-authorization`) depends on the peer and
 * the port alone. Allowed decisions, audit passes included, deny nothing.
 */
export function deniedOutright(decision: Decision): boolean {
  return !decision.allowed && decision.code !== 'not-http' && decision.code !== 'route-not-matched';
}

export class InboundAuthz {
  readonly #policy: PolicyView;
  readonly #metrics: ProxyMetrics;
  readonly #log: Logger;

  constructor(policy: PolicyView, metrics: ProxyMetrics, log: Logger) {
    this.#policy = policy;
    this.#metrics = metrics;
    this.#log = log;
  }

  /**
   * The decision for the connection (`http` undefined: opaque) or one request on it; `null` while no policy has
   * been applied (the caller refuses). Denials and audit passes are logged and counted here.
   */
  check(conn: InboundConnection, http?: HttpRequestView): Decision | null {
    const snapshot = this.#policy.current();
    if (snapshot === null) return null;
    conn.judgedUnder(snapshot);
    const decision = this.decide(snapshot, conn, http);
    if (!decision.allowed || decision.audit) this.#record(snapshot, conn, decision, 'authz.denied', http === undefined ? 'connection denied' : 'request denied', http);
    return decision;
  }

  /** The decision under `snapshot`, without logging (re-authorization after a policy change logs its own event). */
  decide(snapshot: PolicySnapshot, conn: InboundConnection, http?: HttpRequestView): Decision {
    const request = conn.request;
    request.http = http;
    try {
      return snapshot.inbound.authorize(request);
    } finally {
      request.http = undefined;
    }
  }

  /** A connection or request that a policy change turned into a denied one (`authz.revoked`); counted as a denial. */
  revoked(snapshot: PolicySnapshot, conn: InboundConnection, decision: Decision, http: HttpRequestView | undefined, what: 'connection' | 'request' = 'connection'): void {
    this.#record(snapshot, conn, decision, 'authz.revoked', what === 'request' ? 'request reset: no longer authorized' : 'connection closed: no longer authorized', http);
  }

  /**
   * Judges an HTTP connection again under `snapshot` (a policy change): each request in flight on it is
   * re-authorized with the view it was admitted with, and those now denied are reset (each logged once,
   * `authz.revoked`); the others are untouched. Then, unless the connection is already closing, the peer
   * itself: true when it is now denied on the port whatever it would request (`deniedOutright`; logged once
   * for the connection), and the caller closes the connection once the requests still allowed finish.
   */
  reauthorize(snapshot: PolicySnapshot, conn: InboundConnection): boolean {
    conn.judgedUnder(snapshot);
    if (conn.exchanges.size > 0) {
      for (const exchange of [...conn.exchanges]) {
        const decision = this.decide(snapshot, conn, exchange.view);
        if (decision.allowed) continue;
        conn.exchanges.delete(exchange);
        this.revoked(snapshot, conn, decision, exchange.view, 'request');
        exchange.revoke();
      }
    }
    if (conn.closing) return false;
    const decision = this.decide(snapshot, conn, undefined);
    if (!deniedOutright(decision)) return false;
    this.revoked(snapshot, conn, decision, undefined);
    return true;
  }

  #record(snapshot: PolicySnapshot, conn: InboundConnection, decision: Decision, event: string, message: string, http: HttpRequestView | undefined): void {
    const trafficTarget = targetName(decision.trafficTarget);
    this.#metrics.denied({
      direction: 'inbound',
      peer_identity: conn.identity ?? '',
      traffic_target: trafficTarget,
      port: portLabel(snapshot, conn.port),
      code: decision.code,
      audit: decision.audit ? 'true' : 'false',
    });
    const fields = {
      event: decision.audit ? 'authz.audit' : event,
      identity: conn.identity ?? '',
      peer: conn.peer,
      port: conn.port,
      reason: decision.reason,
      trafficTarget,
      ...(http === undefined ? {} : { method: http.method }),
    };
    this.#log.info(fields, decision.audit ? 'request allowed by audit mode' : message);
  }
}
