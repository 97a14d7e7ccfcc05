/**
 * Minimal typed views of the Kubernetes objects the compiler needs. Decoders (`decode.ts`) build them
 * from raw API objects, checking exactly the fields read here; everything else is ignored.
 */
import type { LabelSelector, Meta } from '../smi/model.js';

export interface OwnerRef {
  readonly kind: string;
  readonly name: string;
  readonly controller?: boolean;
}

export interface ObjectMeta extends Meta {
  readonly ownerReferences?: readonly OwnerRef[];
}

export interface Namespace {
  readonly kind: 'Namespace';
  readonly meta: ObjectMeta; // namespace is ''
}

export interface ServiceAccount {
  readonly kind: 'ServiceAccount';
  readonly meta: ObjectMeta;
}

export type L4Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  /** Number or container port name; `undefined` = same as `port`. */
  readonly targetPort?: number | string;
  readonly protocol: L4Protocol;
  readonly appProtocol?: string;
}

export interface Service {
  readonly kind: 'Service';
  readonly meta: ObjectMeta;
  /** `ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName`. */
  readonly type: string;
  /** Primary cluster IP; `'None'` for headless services; `undefined` when not yet allocated. */
  readonly clusterIP?: string;
  /** All cluster IPs (dual stack); includes `clusterIP`. */
  readonly clusterIPs: readonly string[];
  readonly selector?: Readonly<Record<string, string>>;
  readonly ports: readonly ServicePort[];
}

export interface EndpointPort {
  readonly name?: string;
  readonly port?: number;
  readonly protocol: L4Protocol;
  readonly appProtocol?: string;
}

export interface Endpoint {
  readonly addresses: readonly string[];
  readonly conditions: { readonly ready?: boolean; readonly serving?: boolean; readonly terminating?: boolean };
  readonly targetRef?: { readonly kind: string; readonly namespace?: string; readonly name: string; readonly uid?: string };
  readonly hostname?: string;
  readonly nodeName?: string;
}

export interface EndpointSlice {
  readonly kind: 'EndpointSlice';
  readonly meta: ObjectMeta;
  /** From label `kubernetes.io/service-name`. */
  readonly serviceName?: string;
  readonly addressType: 'IPv4' | 'IPv6' | 'FQDN';
  readonly ports: readonly EndpointPort[];
  readonly endpoints: readonly Endpoint[];
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: L4Protocol;
}

export interface Container {
  readonly name: string;
  readonly ports: readonly ContainerPort[];
  /** Init containers only: `Always` marks a native sidecar. */
  readonly restartPolicy?: string;
}

export interface Pod {
  readonly kind: 'Pod';
  readonly meta: ObjectMeta;
  /** `default` when unset, as Kubernetes does. */
  readonly serviceAccountName: string;
  readonly containers: readonly Container[];
  readonly initContainers: readonly Container[];
  readonly hostNetwork: boolean;
  /** `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`. */
  readonly phase?: string;
  readonly podIPs: readonly string[];
}

/** The name of the sidecar container; a pod carrying it is meshed. */
export const PROXY_CONTAINER_NAME = 'loom-proxy';

export type { LabelSelector };

/** The mesh-wide settings from ConfigMap `loom-system/loom-config`. */
export interface MeshConfig {
  /** Default enforcement; namespaces and pods override with `loom.dev/mode`. */
  readonly mode: 'strict' | 'permissive';
  /** `prefix`: pathRegex matches from the start of the path (SMI); `full`: the whole path must match. */
  readonly pathMatch: 'prefix' | 'full';
  readonly trustDomain: string;
  /** What the outbound proxy does with destinations not in its policy. */
  readonly outboundUnknown: 'passthrough' | 'deny';
}

export const DEFAULT_MESH_CONFIG: MeshConfig = Object.freeze({
  mode: 'strict',
  pathMatch: 'prefix',
  trustDomain: 'cluster.local',
  outboundUnknown: 'passthrough',
});

export const CONTROL_PLANE_NAMESPACE = 'loom-system';
export const MESH_CONFIG_NAME = 'loom-config';

/** Annotations and labels of DESIGN §3. */
export const Annotations = {
  inject: 'loom.dev/inject',
  mode: 'loom.dev/mode',
  allowUnmeshed: 'loom.dev/allow-unmeshed',
  audit: 'loom.dev/audit',
  skipInboundPorts: 'loom.dev/skip-inbound-ports',
  skipOutboundPorts: 'loom.dev/skip-outbound-ports',
  skipOutboundCidrs: 'loom.dev/skip-outbound-cidrs',
  opaquePorts: 'loom.dev/opaque-ports',
  proxyLogLevel: 'loom.dev/proxy-log-level',
  proxyCpu: 'loom.dev/proxy-cpu',
  proxyMemory: 'loom.dev/proxy-memory',
} as const;

/** The decoded `loom-system/loom-config` ConfigMap. */
export interface LoomConfig {
  readonly kind: 'LoomConfig';
  readonly meta: ObjectMeta;
  readonly config: MeshConfig;
}

/** Every Kubernetes view the compiler reads. */
export type K8sObject = Namespace | ServiceAccount | Service | EndpointSlice | Pod | LoomConfig;
