/**
 * metrics.smi-spec.io/v1alpha1 (SPEC traffic-metrics v1alpha1 with the later `edge.side` and `backend`;
 * smi-reference §4). Not a CRD: an aggregated API that Loom's controller serves. Values are Kubernetes
 * Quantity strings (`"48"`, `"21500m"`).
 */
export const API_VERSION = 'metrics.smi-spec.io/v1alpha1';
export const GROUP = 'metrics.smi-spec.io';
export const VERSION = 'v1alpha1';

/** Resource names served under `/apis/metrics.smi-spec.io/v1alpha1` (Loom's set, DESIGN §6). */
export const TRAFFIC_METRICS_RESOURCES = [
  'pods',
  'deployments',
  'statefulsets',
  'daemonsets',
  'namespaces',
  'services',
  'trafficsplits',
] as const;
export type TrafficMetricsResource = (typeof TRAFFIC_METRICS_RESOURCES)[number];

export const TRAFFIC_METRIC_NAMES = [
  'p99_response_latency',
  'p90_response_latency',
  'p50_response_latency',
  'success_count',
  'failure_count',
] as const;
export type TrafficMetricName = (typeof TRAFFIC_METRIC_NAMES)[number];

/** A Kubernetes ObjectReference subset. Empty (`{}`) on an edge means every peer. */
export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  apiVersion?: string;
}

export interface Edge {
  /** `from`: traffic `resource` received from `edge.resource`; `to`: traffic it sent to `edge.resource`. */
  direction: 'from' | 'to';
  /** Where it was measured. */
  side?: 'client' | 'server';
  /** `null` (MET) or `{}` (spec) = every peer. */
  resource: ObjectReference | null;
}

/** trafficsplits only: which backend of which apex the item covers. */
export interface Backend {
  apex: string;
  name: string;
  weight: number;
}

export interface TrafficMetric {
  name: TrafficMetricName;
  /** Latencies only: `ms`. */
  unit?: string;
  /** Kubernetes Quantity. */
  value: string;
}

export interface TrafficMetricsMeta {
  name: string;
  namespace?: string;
  selfLink?: string;
  creationTimestamp?: string;
}

export interface TrafficMetrics {
  kind: 'TrafficMetrics';
  apiVersion: typeof API_VERSION;
  metadata: TrafficMetricsMeta;
  /** RFC 3339 evaluation time. */
  timestamp: string;
  /** Duration string, e.g. `30s`. */
  window: string;
  resource: ObjectReference;
  edge: Edge;
  backend?: Backend;
  metrics: TrafficMetric[];
}

export interface TrafficMetricsList {
  kind: 'TrafficMetricsList';
  apiVersion: typeof API_VERSION;
  metadata: { selfLink?: string };
  /** For kind lists only kind, namespace and apiVersion. */
  resource: ObjectReference;
  selector?: string;
  items: TrafficMetrics[];
}
