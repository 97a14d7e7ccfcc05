/**
 * Where the API server reaches a Service for webhooks and aggregated APIs: a ready endpoint of it, read from its
 * EndpointSlices (kube-apiserver's endpoint routing), so it works whether or not the host routes ClusterIPs.
 * Pure over the store.
 */
import type { ServiceAddress } from './aggregator.js';
import type { Store, KubeObject } from './store.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const records = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isRecord) : []);

/** The service port named by number, and the name EndpointSlices use for it. */
function servicePort(service: KubeObject, port: number): { name: string; targetPort: unknown } | undefined {
  const spec = isRecord(service['spec']) ? service['spec'] : {};
  const found = records(spec['ports']).find((p) => p['port'] === port);
  if (found === undefined) return undefined;
  return { name: typeof found['name'] === 'string' ? found['name'] : '', targetPort: found['targetPort'] ?? port };
}

/**
 * A ready endpoint address and port for `namespace/name:port`, or undefined (no such Service or port, or no ready
 * endpoint). Endpoints are rotated by `pick` (default: the first), so callers may spread load.
 */
export function resolveServiceEndpoint(store: Store, namespace: string, name: string, port: number, pick: (n: number) => number = () => 0): ServiceAddress | undefined {
  const service = store.get('/services', namespace, name);
  if (service === undefined) return undefined;
  const sp = servicePort(service, port);
  if (sp === undefined) return undefined;
  const candidates: ServiceAddress[] = [];
  for (const slice of store.list('discovery.k8s.io/endpointslices', namespace)) {
    if (slice.metadata.labels?.['kubernetes.io/service-name'] !== name) continue;
    const slicePort = records(slice['ports']).find((p) => (typeof p['name'] === 'string' ? p['name'] : '') === sp.name);
    const target = typeof slicePort?.['port'] === 'number' ? slicePort['port'] : typeof sp.targetPort === 'number' ? sp.targetPort : undefined;
    if (target === undefined) continue;
    for (const endpoint of records(slice['endpoints'])) {
      const conditions = isRecord(endpoint['conditions']) ? endpoint['conditions'] : {};
      if (conditions['ready'] === false) continue;
      const address = Array.isArray(endpoint['addresses']) ? endpoint['addresses'].find((a): a is string => typeof a === 'string') : undefined;
      if (address !== undefined) candidates.push({ host: address, port: target });
    }
  }
  if (candidates.length === 0) return undefined;
  return candidates[Math.abs(pick(candidates.length)) % candidates.length];
}
