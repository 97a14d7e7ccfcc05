/**
 * The `kubernetes` Service in `default`, as the API server keeps it on a real cluster: ClusterIP the first usable
 * address of the service CIDR, port 443 `https` to the API server's port, and its Endpoints and EndpointSlice (both
 * named `kubernetes`) pointing at the address pods reach the API server at. Made again when deleted, put back when
 * changed. The Service has no selector, so the endpoint controllers leave these alone.
 */
import type { Logger } from '@loom/shared/runtime';
import { kubernetesServiceIp } from '../api/defaults.js';
import type { Objects } from '../api/objects.js';
import type { KubeObject } from '../api/store.js';
import { rec, sameJson, typesOf, Writer, type Json, type Types } from './kube.js';
import { LoopController, Reconciler } from './loop.js';

export const KUBERNETES_SERVICE = 'kubernetes';
export const KUBERNETES_NAMESPACE = 'default';

export interface KubernetesServiceOptions {
  readonly log: Logger;
  /** The cluster's service CIDR (IPv4). */
  readonly serviceCidr: string;
  /** Where pods reach the API server (host-side address and port). */
  readonly address: string;
  readonly port: number;
}

export class KubernetesServiceController extends LoopController {
  readonly #objects: Objects;
  readonly #types: Types;
  readonly #writer: Writer;
  readonly #options: KubernetesServiceOptions;
  readonly #clusterIp: string;
  protected readonly loop: Reconciler;

  constructor(objects: Objects, options: KubernetesServiceOptions) {
    super();
    this.#objects = objects;
    this.#types = typesOf(objects);
    this.#writer = new Writer(objects, options.log, 'kubernetes-service');
    this.#options = options;
    this.#clusterIp = kubernetesServiceIp(options.serviceCidr);
    const ours = { relevant: (e: { object: KubeObject }): boolean => e.object.metadata.namespace === KUBERNETES_NAMESPACE && e.object.metadata.name === KUBERNETES_SERVICE };
    this.loop = new Reconciler(
      'kubernetes-service',
      objects.store,
      [
        { resource: '/namespaces', relevant: (e) => e.object.metadata.name === KUBERNETES_NAMESPACE && e.type !== 'DELETED' },
        { resource: '/services', ...ours },
        { resource: '/endpoints', ...ours },
        { resource: 'discovery.k8s.io/endpointslices', ...ours },
      ],
      () => this.#reconcile(),
      options.log,
    );
  }

  #reconcile(): undefined {
    if (this.#objects.store.get('/namespaces', undefined, KUBERNETES_NAMESPACE) === undefined) return undefined;
    this.#syncService();
    this.#syncEndpoints();
    this.#syncSlice();
    return undefined;
  }

  #syncService(): void {
    const ip = this.#clusterIp;
    const ports = [{ name: 'https', port: 443, protocol: 'TCP', targetPort: this.#options.port }];
    const labels = { component: 'apiserver', provider: 'kubernetes' };
    const existing = this.#objects.store.get('/services', KUBERNETES_NAMESPACE, KUBERNETES_SERVICE);
    if (existing !== undefined && rec(existing, 'spec')['clusterIP'] !== ip) {
      // A clusterIP cannot change: the Service is made again.
      this.#writer.delete(this.#types.services, KUBERNETES_NAMESPACE, KUBERNETES_SERVICE);
    } else if (existing !== undefined) {
      const spec = rec(existing, 'spec');
      if (sameJson(spec['ports'], ports) && spec['type'] === 'ClusterIP' && spec['selector'] === undefined && sameJson(existing.metadata.labels ?? {}, labels)) return;
      const next: KubeObject = { apiVersion: 'v1', kind: 'Service', ...existing, metadata: { ...existing.metadata, labels } };
      const nextSpec: Json = { ...spec, type: 'ClusterIP', ports };
      delete nextSpec['selector'];
      next['spec'] = nextSpec;
      this.#writer.update(this.#types.services, next);
      return;
    }
    this.#writer.create(this.#types.services, KUBERNETES_NAMESPACE, {
      metadata: { name: KUBERNETES_SERVICE, namespace: KUBERNETES_NAMESPACE, labels },
      spec: {
        type: 'ClusterIP',
        clusterIP: ip,
        clusterIPs: [ip],
        ports,
        sessionAffinity: 'None',
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        internalTrafficPolicy: 'Cluster',
      },
    });
  }

  #syncEndpoints(): void {
    const labels = { 'endpointslice.kubernetes.io/skip-mirror': 'true' };
    const subsets = [{ addresses: [{ ip: this.#options.address }], ports: [{ name: 'https', port: this.#options.port, protocol: 'TCP' }] }];
    const existing = this.#objects.store.get('/endpoints', KUBERNETES_NAMESPACE, KUBERNETES_SERVICE);
    if (existing === undefined) {
      this.#writer.create(this.#types.endpoints, KUBERNETES_NAMESPACE, { metadata: { name: KUBERNETES_SERVICE, namespace: KUBERNETES_NAMESPACE, labels }, subsets });
    } else if (!sameJson(existing['subsets'], subsets) || !sameJson(existing.metadata.labels ?? {}, labels)) {
      this.#writer.update(this.#types.endpoints, { apiVersion: 'v1', kind: 'Endpoints', ...existing, metadata: { ...existing.metadata, labels }, subsets });
    }
  }

  #syncSlice(): void {
    const labels = { 'kubernetes.io/service-name': KUBERNETES_SERVICE };
    const addressType = this.#options.address.includes(':') ? 'IPv6' : 'IPv4';
    const endpoints = [{ addresses: [this.#options.address], conditions: { ready: true } }];
    const ports = [{ name: 'https', port: this.#options.port, protocol: 'TCP' }];
    const existing = this.#objects.store.get('discovery.k8s.io/endpointslices', KUBERNETES_NAMESPACE, KUBERNETES_SERVICE);
    const body = { addressType, endpoints, ports };
    if (existing === undefined) {
      this.#writer.create(this.#types.endpointSlices, KUBERNETES_NAMESPACE, { metadata: { name: KUBERNETES_SERVICE, namespace: KUBERNETES_NAMESPACE, labels }, ...body });
    } else if (!sameJson({ addressType: existing['addressType'], endpoints: existing['endpoints'], ports: existing['ports'] }, body) || !sameJson(existing.metadata.labels ?? {}, labels)) {
      this.#writer.update(this.#types.endpointSlices, { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', ...existing, metadata: { ...existing.metadata, labels }, ...body });
    }
  }
}
