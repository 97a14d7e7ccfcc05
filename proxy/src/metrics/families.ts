/**
 * Every metric family of the data path and policy client, in one place (DESIGN §6). Registered in the registry
 * passed in (one per proxy process, never prom-client's global one). Label values come from bounded sets: SMI
 * and Kubernetes object names from the policy, identities, status codes, and the enums below. There are no
 * per-path or per-client-address labels.
 *
 * The local pod's `namespace`, `pod` and `workload` are the registry's default labels (set by the app), so every
 * series carries them without the data path paying for it.
 *
 * Edge labels (requests and TCP families):
 *
 * | label | inbound (this pod is the destination) | outbound (this pod is the client) |
 * |---|---|---|
 * | `direction` | `inbound` | `outbound` |
 * | `peer_namespace` | client's namespace (from its SPIFFE ID), `""` for plaintext | destination pod's namespace, `""` unknown |
 * | `peer_workload` | `""` (a SPIFFE ID names a ServiceAccount, not a workload) | `""` until the policy names endpoint workloads |
 * | `peer_identity` | client's SPIFFE ID, `""` for plaintext | the SPIFFE ID the destination proved, `""` plaintext |
 * | `dst_service` | `""` (the pod port is the destination) | `namespace/name` of the Service (the TrafficSplit backend when split), `""` passthrough |
 * | `route` | admitting HTTPRouteGroup match `namespace/name/match`, `""` none | split `matches` route that selected the request, `""` none |
 * | `tls` | `true` when the peer connection is mutual TLS | same |
 *
 * Requests add `status_code` (HTTP status; `0` when no response) and `outcome` (`success`, `failure`: 5xx,
 * gRPC status other than OK, reset, timeout); the histogram adds `outcome` only.
 *
 * `loom_authz_denied_total` labels: `direction`, `peer_identity`, `traffic_target` (`namespace/name`, `""`
 * none), `port`, `code` (the decision code) and `audit`. `port` is the destination port only when the policy
 * in force names it (a declared inbound port, a port of some authorization's TCP or UDP rules, an outbound
 * Service port: `portLabel`); every other port is `other`. Every TCP port of the pod is redirected to the
 * inbound proxy, so a port scan would otherwise create a series per port.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { SeriesCounter, SeriesGauge, SeriesHistogram, type ObserveHandle, type SeriesHandle } from './series.js';

export type Direction = 'inbound' | 'outbound';
export type Outcome = 'success' | 'failure';

export interface EdgeLabels {
  readonly direction: Direction;
  readonly peer_namespace: string;
  /** The peer's owning workload when known, else `""` (the policy does not name endpoint workloads yet). */
  readonly peer_workload: string;
  readonly peer_identity: string;
  readonly dst_service: string;
  readonly route: string;
  readonly tls: 'true' | 'false';
}

const EDGE = ['direction', 'peer_namespace', 'peer_workload', 'peer_identity', 'dst_service', 'route', 'tls'] as const;
type EdgeName = (typeof EDGE)[number];

/** Request latency buckets in seconds (12, the DESIGN §6 limit). */
export const DURATION_BUCKETS = Object.freeze([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]);

export type DetectResult = 'http1' | 'http2' | 'tls' | 'opaque' | 'timeout' | 'closed';
export type DeniedCode = string;

/** Handles for one edge; obtained once per connection/target, so recording a request does no label hashing and allocates nothing. */
export interface EdgeMetrics {
  readonly labels: EdgeLabels;
  /** A finished request/response exchange. `status` 0 = no response; `failure` per the classification above. */
  request(status: number, failure: boolean, seconds: number): void;
  connectionOpened(): void;
  /** A closed connection: its outcome and bytes read from / written to the peer side. */
  connectionClosed(failure: boolean, bytesReceived: number, bytesSent: number): void;
}

/** The `port` label of ports the policy does not name. */
export const OTHER_PORT = 'other';

/**
 * The `port` label of a denial: the port itself when the policy names it (`PolicySnapshot.knownPorts`, which
 * holds the label strings, so nothing is allocated), else {@link OTHER_PORT}. `policy` null (none yet): `other`.
 */
export function portLabel(policy: { readonly knownPorts: ReadonlyMap<number, string> } | null, port: number): string {
  return policy?.knownPorts.get(port) ?? OTHER_PORT;
}

export interface DenialLabels {
  readonly direction: Direction;
  readonly peer_identity: string;
  /** `namespace/name` of the TrafficTarget named by the decision, `""` none. */
  readonly traffic_target: string;
  /** From {@link portLabel}: a port the policy names, or `other`. */
  readonly port: string;
  /** `DecisionCode` of the denial (`source-not-allowed`, `unmeshed-refused`, ...). */
  readonly code: DeniedCode;
  /** `true`: audit mode let it through. */
  readonly audit: 'true' | 'false';
}

export interface ProxyMetrics {
  readonly registry: Registry;
  edge(labels: EdgeLabels): EdgeMetrics;
  denied(labels: DenialLabels): void;
  detected(direction: Direction, result: DetectResult): void;
  /** A request refused because a limit was reached (503 + retry-after) or a connection refused for the same. */
  shed(direction: Direction, what: 'request' | 'connection'): void;
  /** The policy now in force (`loom_policy_version{version} 1`, the previous version's series removed). */
  policyApplied(version: string): void;
  policyUpdate(result: 'ack' | 'nack'): void;
}

export const METRIC = Object.freeze({
  requests: 'loom_requests_total',
  duration: 'loom_request_duration_seconds',
  tcpOpen: 'loom_tcp_connections_open',
  tcpTotal: 'loom_tcp_connections_total',
  tcpBytes: 'loom_tcp_bytes_total',
  denied: 'loom_authz_denied_total',
  policyVersion: 'loom_policy_version',
  policyUpdates: 'loom_policy_updates_total',
  detect: 'loom_protocol_detect_total',
  shed: 'loom_load_shed_total',
});

function edgeKey(l: EdgeLabels): string {
  return `${l.direction}\u0000${l.peer_namespace}\u0000${l.peer_workload}\u0000${l.peer_identity}\u0000${l.dst_service}\u0000${l.route}\u0000${l.tls}`;
}

export function proxyMetrics(registry: Registry): ProxyMetrics {
  const registers = [registry];
  const requests = new SeriesCounter<EdgeName | 'status_code' | 'outcome'>({
    name: METRIC.requests,
    help: 'HTTP requests (gRPC calls included) handled, by edge, status code and outcome.',
    labelNames: [...EDGE, 'status_code', 'outcome'],
    registers,
  });
  const duration = new SeriesHistogram<EdgeName | 'outcome'>({
    name: METRIC.duration,
    help: 'Time from the request reaching the proxy to the end of the response, in seconds.',
    labelNames: [...EDGE, 'outcome'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const tcpOpen = new SeriesGauge<EdgeName>({ name: METRIC.tcpOpen, help: 'Connections currently open, by edge.', labelNames: [...EDGE], registers });
  const tcpTotal = new SeriesCounter<EdgeName | 'outcome'>({
    name: METRIC.tcpTotal,
    help: 'Connections closed, by edge and outcome (failure: reset, refused, timed out).',
    labelNames: [...EDGE, 'outcome'],
    registers,
  });
  const tcpBytes = new SeriesCounter<EdgeName | 'flow'>({
    name: METRIC.tcpBytes,
    help: 'Bytes carried on closed connections, by edge; flow `received` came from the peer, `sent` went to it.',
    labelNames: [...EDGE, 'flow'],
    registers,
  });
  const denied = new Counter<keyof DenialLabels>({
    name: METRIC.denied,
    help: 'Connections and requests denied by policy (audit="true": would-be denials let through by audit mode).',
    labelNames: ['direction', 'peer_identity', 'traffic_target', 'port', 'code', 'audit'],
    registers,
  });
  const version = new Gauge<'version'>({ name: METRIC.policyVersion, help: 'The policy version in force (value 1).', labelNames: ['version'], registers });
  const updates = new Counter<'result'>({ name: METRIC.policyUpdates, help: 'Policies received, by result (ack: applied, nack: rejected).', labelNames: ['result'], registers });
  updates.inc({ result: 'ack' }, 0);
  updates.inc({ result: 'nack' }, 0);
  const detect = new Counter<'direction' | 'result'>({
    name: METRIC.detect,
    help: 'Protocol detection from the first bytes of a connection, by direction and result: inbound on every connection (mesh mTLS is result tls; on a port with a declared protocol a plaintext client is counted as that protocol), outbound on ports without a declared protocol (timeout: nothing arrived within the deadline, treated as opaque).',
    labelNames: ['direction', 'result'],
    registers,
  });
  const shed = new Counter<'direction' | 'what'>({ name: METRIC.shed, help: 'Requests and connections refused because a limit was reached.', labelNames: ['direction', 'what'], registers });

  const edges = new Map<string, EdgeMetrics>();
  let currentVersion: string | null = null;

  const makeEdge = (labels: EdgeLabels): EdgeMetrics => {
    const l = { ...labels };
    // Series appear on first use (an edge that only ever carries requests exports no connection series).
    let open: SeriesHandle | null = null;
    let closedOk: SeriesHandle | null = null;
    let closedFailed: SeriesHandle | null = null;
    let received: SeriesHandle | null = null;
    let sent: SeriesHandle | null = null;
    let okDuration: ObserveHandle | null = null;
    let failedDuration: ObserveHandle | null = null;
    // Counter series per status code and outcome, created on first use (status codes are a bounded set).
    const byStatus = new Map<number, SeriesHandle>();
    return {
      labels: Object.freeze(l),
      request(status, failure, seconds) {
        const key = failure ? -1 - status : status;
        let series = byStatus.get(key);
        if (series === undefined) {
          series = requests.handle({ ...l, status_code: String(status), outcome: failure ? 'failure' : 'success' });
          byStatus.set(key, series);
        }
        series.inc();
        if (failure) (failedDuration ??= duration.handle({ ...l, outcome: 'failure' })).observe(seconds);
        else (okDuration ??= duration.handle({ ...l, outcome: 'success' })).observe(seconds);
      },
      connectionOpened() {
        (open ??= tcpOpen.handle(l)).inc();
      },
      connectionClosed(failure, bytesReceived, bytesSent) {
        (open ??= tcpOpen.handle(l)).dec();
        if (failure) (closedFailed ??= tcpTotal.handle({ ...l, outcome: 'failure' })).inc();
        else (closedOk ??= tcpTotal.handle({ ...l, outcome: 'success' })).inc();
        if (bytesReceived > 0) (received ??= tcpBytes.handle({ ...l, flow: 'received' })).inc(bytesReceived);
        if (bytesSent > 0) (sent ??= tcpBytes.handle({ ...l, flow: 'sent' })).inc(bytesSent);
      },
    };
  };

  return {
    registry,
    edge(labels) {
      const key = edgeKey(labels);
      let edge = edges.get(key);
      if (edge === undefined) {
        edge = makeEdge(labels);
        edges.set(key, edge);
      }
      return edge;
    },
    denied(labels) {
      denied.inc({ ...labels });
    },
    detected(direction, result) {
      detect.inc({ direction, result });
    },
    shed(direction, what) {
      shed.inc({ direction, what });
    },
    policyApplied(next) {
      if (currentVersion !== null && currentVersion !== next) version.remove({ version: currentVersion });
      currentVersion = next;
      version.set({ version: next }, 1);
    },
    policyUpdate(result) {
      updates.inc({ result });
    },
  };
}
