/**
 * Inbound authorization as the data path uses it: the pure decision (`snapshot.inbound.authorize`, in shared)
 * wrapped by what the proxy does around it: every denial and every audit pass logged once at info and counted,
 * nothing decided before the first policy arrived.
 */
import type { Logger } from '@loom/shared/runtime';
import type { Decision, HttpRequestView, NamespacedName } from '@loom/shared/policy';
import type { ProxyMetrics } from '../metrics/families.js';
import type { PolicySnapshot, PolicyView } from '../policy/snapshot.js';
import type { InboundConnection } from './connection.js';

function targetName(tt: NamespacedName | null): string {
  return tt === null ? '' : `${tt.namespace}/${tt.name}`;
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
    const decision = this.decide(snapshot, conn, http);
    if (!decision.allowed || decision.audit) this.#record(conn, decision, 'authz.denied', http);
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

  /** A connection that a policy change turned into a denied one (`authz.revoked`); counted as a denial. */
  revoked(conn: InboundConnection, decision: Decision, http?: HttpRequestView): void {
    this.#record(conn, decision, 'authz.revoked', http);
  }

  #record(conn: InboundConnection, decision: Decision, event: string, http: HttpRequestView | undefined): void {
    const trafficTarget = targetName(decision.trafficTarget);
    this.#metrics.denied({
      direction: 'inbound',
      peer_identity: conn.identity ?? '',
      traffic_target: trafficTarget,
      port: String(conn.port),
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
    if (decision.audit) this.#log.info(fields, 'request allowed by audit mode');
    else this.#log.info(fields, event === 'authz.revoked' ? 'connection closed: no longer authorized' : http === undefined ? 'connection denied' : 'request denied');
  }
}
