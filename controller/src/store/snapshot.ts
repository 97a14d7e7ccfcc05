/**
 * MeshSnapshot: an immutable view of everything the compiler reads. Built by the store from source events
 * (Kubernetes informers, a manifests directory); the compiler never sees raw API objects.
 */
import type { EndpointSlice, MeshConfig, Namespace, Pod, Service, ServiceAccount } from '@loom/shared/k8s';
import type { SmiResources } from '@loom/shared/smi';

export interface MeshSnapshot {
  readonly config: MeshConfig;
  readonly namespaces: readonly Namespace[];
  readonly serviceAccounts: readonly ServiceAccount[];
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly pods: readonly Pod[];
  readonly smi: SmiResources;
  /** PEM roots proxies must trust. */
  readonly trustBundle: readonly string[];
}

/** Which proxy to compile for: the pod it runs in. */
export interface ProxyRef {
  readonly namespace: string;
  readonly pod: string;
}
