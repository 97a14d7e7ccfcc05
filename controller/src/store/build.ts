/**
 * Decoded objects → MeshSnapshot. Pure. Later duplicates of the same kind/namespace/name replace earlier ones
 * (with a DuplicateObject warning), as a later `kubectl apply` would.
 */
import { DiagnosticCode, type Diagnostic } from '@loom/shared/diagnostics';
import { DEFAULT_MESH_CONFIG, type K8sObject, type MeshConfig } from '@loom/shared/k8s';
import type { SmiObject, SmiResources } from '@loom/shared/smi';
import type { MeshSnapshot } from './snapshot.js';

export interface SourcedObject {
  readonly object: SmiObject | K8sObject;
  /** File (and document) it came from, for diagnostics. */
  readonly source?: string;
}

export interface BuildOptions {
  readonly trustBundle?: readonly string[];
  /** Mesh settings when no `loom-config` object is among the inputs. */
  readonly config?: MeshConfig;
}

export function buildSnapshot(objects: readonly SourcedObject[], options: BuildOptions = {}): { snapshot: MeshSnapshot; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const byKey = new Map<string, SourcedObject>();
  for (const o of objects) {
    const { kind, meta } = o.object;
    const k = `${kind}/${meta.namespace}/${meta.name}`;
    const previous = byKey.get(k);
    if (previous !== undefined) {
      diagnostics.push({
        code: DiagnosticCode.DuplicateObject,
        severity: 'warning',
        object: { kind, namespace: meta.namespace, name: meta.name },
        message: `defined more than once${previous.source === undefined ? '' : ` (also in ${previous.source})`}; the later definition is used`,
        ...(o.source === undefined ? {} : { source: o.source }),
      });
      byKey.delete(k); // keep insertion order of the winner
    }
    byKey.set(k, o);
  }

  let config = options.config ?? DEFAULT_MESH_CONFIG;
  const smi: { -readonly [K in keyof SmiResources]: SmiResources[K][number][] } = {
    trafficTargets: [],
    identityBindings: [],
    httpRouteGroups: [],
    tcpRoutes: [],
    udpRoutes: [],
    trafficSplits: [],
  };
  const snapshot = {
    namespaces: [] as MeshSnapshot['namespaces'][number][],
    serviceAccounts: [] as MeshSnapshot['serviceAccounts'][number][],
    services: [] as MeshSnapshot['services'][number][],
    endpointSlices: [] as MeshSnapshot['endpointSlices'][number][],
    pods: [] as MeshSnapshot['pods'][number][],
  };
  for (const { object } of byKey.values()) {
    switch (object.kind) {
      case 'TrafficTarget': smi.trafficTargets.push(object); break;
      case 'IdentityBinding': smi.identityBindings.push(object); break;
      case 'HTTPRouteGroup': smi.httpRouteGroups.push(object); break;
      case 'TCPRoute': smi.tcpRoutes.push(object); break;
      case 'UDPRoute': smi.udpRoutes.push(object); break;
      case 'TrafficSplit': smi.trafficSplits.push(object); break;
      case 'Namespace': snapshot.namespaces.push(object); break;
      case 'ServiceAccount': snapshot.serviceAccounts.push(object); break;
      case 'Service': snapshot.services.push(object); break;
      case 'EndpointSlice': snapshot.endpointSlices.push(object); break;
      case 'Pod': snapshot.pods.push(object); break;
      case 'LoomConfig': config = object.config; break;
    }
  }
  return {
    snapshot: { config, ...snapshot, smi, trustBundle: [...(options.trustBundle ?? [])] },
    diagnostics,
  };
}
