/**
 * The Endpoints controller: for every Service with a selector, an Endpoints object of the same name whose subsets
 * list the backing pods (ready ones as `addresses`, others as `notReadyAddresses` unless the Service publishes
 * not-ready addresses), grouped by their resolved ports; labels from the Service (plus
 * `service.kubernetes.io/headless` for headless ones). Written only when something changed. Services without a
 * selector are left alone (their Endpoints are the user's). As in Kubernetes, Endpoints carry no owner reference:
 * this controller deletes them when their Service is deleted.
 */
import type { Logger } from '@loom/shared/runtime';
import type { Objects } from '../api/objects.js';
import type { KubeObject } from '../api/store.js';
import { backendsOf, compareIps, endpointLabels, managedSelector, podRef, portsKey, type Backend } from './backends.js';
import { byNamespace, rec, sameJson, typesOf, Writer, type Json, type Types } from './kube.js';
import { LoopController, Reconciler } from './loop.js';

/** The `subsets` of an Endpoints object for these backends (Kubernetes' RepackSubsets shape, deterministic order). */
export function subsetsOf(service: KubeObject, backends: readonly Backend[]): Json[] {
  const publishNotReady = rec(service, 'spec')['publishNotReadyAddresses'] === true;
  const hasPorts = Array.isArray(rec(service, 'spec')['ports']) && (rec(service, 'spec')['ports'] as unknown[]).length > 0;
  const groups = new Map<string, { ports: Backend['ports']; ready: Backend[]; notReady: Backend[] }>();
  for (const b of backends) {
    if (b.ports.length === 0 && hasPorts) continue; // nothing resolves on this pod
    if (b.terminating && !publishNotReady) continue;
    const key = portsKey(b.ports);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { ports: b.ports, ready: [], notReady: [] }));
    (b.ready || publishNotReady ? group.ready : group.notReady).push(b);
  }
  const address = (b: Backend): Json => ({
    ip: b.ip,
    ...(b.hostname === undefined ? {} : { hostname: b.hostname }),
    ...(b.nodeName === undefined ? {} : { nodeName: b.nodeName }),
    targetRef: podRef(b.pod),
  });
  const byIp = (a: Backend, b: Backend): number => compareIps(a.ip, b.ip) || a.pod.metadata.name.localeCompare(b.pod.metadata.name);
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, g]) => ({
      ...(g.ready.length > 0 ? { addresses: g.ready.sort(byIp).map(address) } : {}),
      ...(g.notReady.length > 0 ? { notReadyAddresses: g.notReady.sort(byIp).map(address) } : {}),
      ...(g.ports.length > 0 ? { ports: [...g.ports].sort((a, b) => a.name.localeCompare(b.name) || a.port - b.port).map((p) => ({ ...(p.name === '' ? {} : { name: p.name }), port: p.port, protocol: p.protocol, ...(p.appProtocol === undefined ? {} : { appProtocol: p.appProtocol }) })) } : {}),
    }));
}

export interface EndpointsControllerOptions {
  readonly log: Logger;
}

export class EndpointsController extends LoopController {
  readonly #objects: Objects;
  readonly #types: Types;
  readonly #writer: Writer;
  protected readonly loop: Reconciler;
  /** Services deleted since the last reconcile (`namespace/name`): their Endpoints go. */
  readonly #deleted = new Set<string>();

  constructor(objects: Objects, options: EndpointsControllerOptions) {
    super();
    this.#objects = objects;
    this.#types = typesOf(objects);
    this.#writer = new Writer(objects, options.log, 'endpoints');
    this.loop = new Reconciler(
      'endpoints',
      objects.store,
      [
        {
          resource: '/services',
          relevant: (e) => {
            if (e.type === 'DELETED') this.#deleted.add(`${e.object.metadata.namespace ?? ''}/${e.object.metadata.name}`);
            return true;
          },
        },
        { resource: '/pods' },
        { resource: '/endpoints' },
      ],
      () => this.#reconcile(),
      options.log,
    );
  }

  #reconcile(): undefined {
    const services = this.#objects.list(this.#types.services, undefined, {}).items;
    const pods = byNamespace(this.#objects.list(this.#types.pods, undefined, {}).items);
    for (const key of this.#deleted) {
      const [namespace = '', name = ''] = key.split('/');
      if (services.some((s) => s.metadata.namespace === namespace && s.metadata.name === name)) continue;
      if (this.#objects.store.get('/endpoints', namespace, name) !== undefined) this.#writer.delete(this.#types.endpoints, namespace, name);
    }
    this.#deleted.clear();
    for (const service of services) {
      if (managedSelector(service) === undefined) continue;
      this.#sync(service, pods.get(service.metadata.namespace ?? '') ?? []);
    }
    return undefined;
  }

  #sync(service: KubeObject, pods: readonly KubeObject[]): void {
    const namespace = service.metadata.namespace;
    const name = service.metadata.name;
    const subsets = subsetsOf(service, backendsOf(service, pods));
    const labels = endpointLabels(service, {});
    const existing = this.#objects.store.get('/endpoints', namespace, name);
    if (existing === undefined) {
      this.#writer.create(this.#types.endpoints, namespace, {
        metadata: { name, namespace, ...(Object.keys(labels).length > 0 ? { labels } : {}) },
        ...(subsets.length > 0 ? { subsets } : {}),
      });
      return;
    }
    const currentSubsets = Array.isArray(existing['subsets']) ? existing['subsets'] : [];
    if (sameJson(currentSubsets, subsets) && sameJson(existing.metadata.labels ?? {}, labels)) return;
    const next: KubeObject = { apiVersion: 'v1', kind: 'Endpoints', ...existing, metadata: { ...existing.metadata } };
    if (Object.keys(labels).length > 0) next.metadata.labels = labels;
    else delete next.metadata.labels;
    if (subsets.length > 0) next['subsets'] = subsets;
    else delete next['subsets'];
    this.#writer.update(this.#types.endpoints, next);
  }
}
