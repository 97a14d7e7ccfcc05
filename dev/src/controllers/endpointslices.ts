/**
 * The EndpointSlice controller: for every Service with a selector, EndpointSlices (`<service>-<random>`, address
 * type IPv4) listing the backing pods with their conditions (ready — always true when the Service publishes
 * not-ready addresses —, serving, terminating), targetRef, nodeName; one slice per distinct set of resolved ports,
 * at most 100 endpoints each; with no pods, one empty placeholder slice. Labels `kubernetes.io/service-name` and
 * `endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io` (plus the Service's own); owned by the
 * Service, so deleting it deletes them. Slices are updated in place, and only when something changed. Services
 * without a selector are left alone (their slices are the user's; no mirroring of their Endpoints).
 */
import type { Logger } from '@loom/shared/runtime';
import { canonical } from '../api/defaults.js';
import type { Objects } from '../api/objects.js';
import type { KubeObject } from '../api/store.js';
import { backendsOf, compareIps, endpointLabels, managedSelector, podRef, portsKey, type Backend, type BackendPort } from './backends.js';
import { byNamespace, controllerRef, controllerUid, rec, sameJson, typesOf, Writer, type Json, type Types } from './kube.js';
import { LoopController, Reconciler } from './loop.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const MAX_ENDPOINTS_PER_SLICE = 100;

/** What one slice should hold: its ports (undefined for the placeholder) and endpoints. */
export interface DesiredSlice {
  readonly ports: readonly BackendPort[] | undefined;
  readonly endpoints: readonly Json[];
}

function endpointOf(b: Backend, publishNotReady: boolean): Json {
  return {
    addresses: [b.ip],
    conditions: { ready: publishNotReady || (b.ready && !b.terminating), serving: b.ready, terminating: b.terminating },
    ...(b.hostname === undefined ? {} : { hostname: b.hostname }),
    targetRef: podRef(b.pod),
    ...(b.nodeName === undefined ? {} : { nodeName: b.nodeName }),
  };
}

/** The slices a Service should have for these backends, in a deterministic order. */
export function desiredSlices(service: KubeObject, backends: readonly Backend[]): DesiredSlice[] {
  const publishNotReady = rec(service, 'spec')['publishNotReadyAddresses'] === true;
  const groups = new Map<string, { ports: readonly BackendPort[]; backends: Backend[] }>();
  for (const b of backends.filter((x) => x.ip.includes('.'))) {
    const key = portsKey(b.ports);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { ports: b.ports, backends: [] }));
    group.backends.push(b);
  }
  const out: DesiredSlice[] = [];
  for (const [, g] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...g.backends].sort((a, b) => compareIps(a.ip, b.ip) || a.pod.metadata.name.localeCompare(b.pod.metadata.name));
    for (let i = 0; i < sorted.length; i += MAX_ENDPOINTS_PER_SLICE) {
      out.push({ ports: g.ports, endpoints: sorted.slice(i, i + MAX_ENDPOINTS_PER_SLICE).map((b) => endpointOf(b, publishNotReady)) });
    }
  }
  if (out.length === 0) out.push({ ports: undefined, endpoints: [] });
  return out;
}

function slicePorts(ports: readonly BackendPort[] | undefined): Json[] | undefined {
  if (ports === undefined) return undefined;
  return [...ports]
    .sort((a, b) => a.name.localeCompare(b.name) || a.port - b.port)
    .map((p) => ({ name: p.name, port: p.port, protocol: p.protocol, ...(p.appProtocol === undefined ? {} : { appProtocol: p.appProtocol }) }));
}

export interface EndpointSliceControllerOptions {
  readonly log: Logger;
}

export class EndpointSliceController extends LoopController {
  readonly #objects: Objects;
  readonly #types: Types;
  readonly #writer: Writer;
  protected readonly loop: Reconciler;

  constructor(objects: Objects, options: EndpointSliceControllerOptions) {
    super();
    this.#objects = objects;
    this.#types = typesOf(objects);
    this.#writer = new Writer(objects, options.log, 'endpointslice');
    this.loop = new Reconciler(
      'endpointslice',
      objects.store,
      [{ resource: '/services' }, { resource: '/pods' }, { resource: 'discovery.k8s.io/endpointslices', relevant: (e) => e.object.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY }],
      () => this.#reconcile(),
      options.log,
    );
  }

  #reconcile(): undefined {
    const services = this.#objects.list(this.#types.services, undefined, {}).items;
    const pods = byNamespace(this.#objects.list(this.#types.pods, undefined, {}).items);
    const slices = byNamespace(this.#objects.list(this.#types.endpointSlices, undefined, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` }).items);
    for (const service of services) {
      if (managedSelector(service) === undefined) continue;
      const ns = service.metadata.namespace ?? '';
      const mine = (slices.get(ns) ?? []).filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === service.metadata.name);
      this.#sync(service, pods.get(ns) ?? [], mine);
    }
    return undefined;
  }

  #sync(service: KubeObject, pods: readonly KubeObject[], existing: readonly KubeObject[]): void {
    const namespace = service.metadata.namespace;
    const labels = endpointLabels(service, { [SERVICE_NAME_LABEL]: service.metadata.name, [MANAGED_BY_LABEL]: MANAGED_BY });
    const owner = controllerRef(service, 'v1', 'Service');
    // Slices of an earlier Service of the same name are stale.
    const current = existing.filter((s) => {
      if (controllerUid(s) === service.metadata.uid) return true;
      this.#writer.delete(this.#types.endpointSlices, namespace, s.metadata.name);
      return false;
    });
    const unused = [...current].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const keyOf = (ports: unknown): string => JSON.stringify(canonical(ports ?? null));
    const leftover: DesiredSlice[] = [];
    const updates: [KubeObject, DesiredSlice][] = [];
    // First the slices that already hold exactly these ports (and, best, these endpoints).
    for (const want of desiredSlices(service, backendsOf(service, pods))) {
      const ports = slicePorts(want.ports);
      const candidates = unused.filter((s) => keyOf(s['ports']) === keyOf(ports));
      const pick = candidates.find((s) => sameJson(s['endpoints'] ?? [], want.endpoints)) ?? candidates[0];
      if (pick === undefined) leftover.push(want);
      else {
        unused.splice(unused.indexOf(pick), 1);
        updates.push([pick, want]);
      }
    }
    // Then any other of them, rewritten; then new ones.
    for (const want of leftover) {
      const reuse = unused.shift();
      if (reuse !== undefined) updates.push([reuse, want]);
      else {
        const ports = slicePorts(want.ports);
        this.#writer.create(this.#types.endpointSlices, namespace, {
          metadata: { generateName: `${service.metadata.name}-`, namespace, labels, ownerReferences: [owner] },
          addressType: 'IPv4',
          endpoints: want.endpoints,
          ...(ports === undefined ? {} : { ports }),
        });
      }
    }
    for (const [slice, want] of updates) {
      const ports = slicePorts(want.ports);
      const same =
        sameJson(slice['endpoints'] ?? [], want.endpoints) &&
        keyOf(slice['ports']) === keyOf(ports) &&
        sameJson(slice.metadata.labels ?? {}, labels) &&
        slice['addressType'] === 'IPv4' &&
        sameJson(slice.metadata.ownerReferences ?? [], [owner]);
      if (same) continue;
      const next: KubeObject = { ...slice, metadata: { ...slice.metadata, labels, ownerReferences: [owner] }, addressType: 'IPv4', endpoints: want.endpoints };
      if (ports === undefined) delete next['ports'];
      else next['ports'] = ports;
      this.#writer.update(this.#types.endpointSlices, next);
    }
    for (const slice of unused) this.#writer.delete(this.#types.endpointSlices, namespace, slice.metadata.name);
  }
}
