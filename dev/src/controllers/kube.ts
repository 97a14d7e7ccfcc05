/**
 * What the built-in controllers share: the resource types they act on, plain-JSON access, owner references, pod
 * readiness and availability as Kubernetes' controllers judge them, condition timestamps, and writes that log
 * instead of throwing. Pure apart from the writes.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '@loom/shared/runtime';
import { canonical } from '../api/defaults.js';
import type { Objects } from '../api/objects.js';
import type { ResourceType } from '../api/registry.js';
import type { KubeObject, OwnerReference } from '../api/store.js';

export type Json = Record<string, unknown>;

export const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `obj[key]` as an object (empty when absent). */
export const rec = (obj: Json, key: string): Json => {
  const v = obj[key];
  return isRecord(v) ? v : {};
};

/** The objects of a list field. */
export const records = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isRecord) : []);

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A non-negative integer field, `fallback` when absent or malformed. */
export const count = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : fallback);

/** Structural equality of JSON values, whatever the order of object keys. */
export const sameJson = (a: unknown, b: unknown): boolean => isDeepStrictEqual(canonical(a), canonical(b));

/** The resource types the controllers use, looked up once in the registry. */
export interface Types {
  readonly namespaces: ResourceType;
  readonly pods: ResourceType;
  readonly services: ResourceType;
  readonly endpoints: ResourceType;
  readonly endpointSlices: ResourceType;
  readonly serviceAccounts: ResourceType;
  readonly configMaps: ResourceType;
  readonly deployments: ResourceType;
  readonly replicaSets: ResourceType;
}

export function typesOf(objects: Objects): Types {
  const find = (group: string, version: string, plural: string): ResourceType => {
    const type = objects.registry.find(group, version, plural);
    if (type === undefined) throw new Error(`the registry serves no ${plural}${group === '' ? '' : `.${group}`}/${version}`);
    return type;
  };
  return {
    namespaces: find('', 'v1', 'namespaces'),
    pods: find('', 'v1', 'pods'),
    services: find('', 'v1', 'services'),
    endpoints: find('', 'v1', 'endpoints'),
    endpointSlices: find('discovery.k8s.io', 'v1', 'endpointslices'),
    serviceAccounts: find('', 'v1', 'serviceaccounts'),
    configMaps: find('', 'v1', 'configmaps'),
    deployments: find('apps', 'v1', 'deployments'),
    replicaSets: find('apps', 'v1', 'replicasets'),
  };
}

/** The owner reference a controller puts on what it makes. */
export function controllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name, uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** The uid of an object's controller (the owner reference with `controller: true`), if any. */
export function controllerUid(object: KubeObject): string | undefined {
  return object.metadata.ownerReferences?.find((r) => r.controller === true)?.uid;
}

/** Groups objects by namespace. */
export function byNamespace(objects: readonly KubeObject[]): Map<string, KubeObject[]> {
  const out = new Map<string, KubeObject[]>();
  for (const o of objects) {
    const ns = o.metadata.namespace ?? '';
    const list = out.get(ns);
    if (list === undefined) out.set(ns, [o]);
    else list.push(o);
  }
  return out;
}

/** Milliseconds of an RFC 3339 time; undefined when absent or malformed. */
export function timeOf(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

/** An RFC 3339 time at second precision, as Kubernetes writes metav1.Time. */
export const rfc3339 = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export const creationOf = (o: KubeObject): number => timeOf(o.metadata['creationTimestamp']) ?? 0;

// --- pods -----------------------------------------------------------------------------------------------------------

function readyCondition(pod: KubeObject): Json | undefined {
  return records(rec(pod, 'status')['conditions']).find((c) => c['type'] === 'Ready');
}

/** Ready as Kubernetes judges it: the Ready condition is True. */
export const isPodReady = (pod: KubeObject): boolean => readyCondition(pod)?.['status'] === 'True';

/** Not finished (Succeeded/Failed) and not being deleted: what a ReplicaSet counts. */
export function isPodActive(pod: KubeObject): boolean {
  const phase = rec(pod, 'status')['phase'];
  return phase !== 'Succeeded' && phase !== 'Failed' && pod.metadata['deletionTimestamp'] === undefined;
}

/**
 * Whether a pod is available: ready for at least `minReadySeconds` at `now`. When it is ready but not yet
 * available, `availableIn` says in how many milliseconds it will be.
 */
export function podAvailability(pod: KubeObject, minReadySeconds: number, now: number): { available: boolean; availableIn?: number } {
  if (!isPodReady(pod)) return { available: false };
  if (minReadySeconds <= 0) return { available: true };
  const since = timeOf(readyCondition(pod)?.['lastTransitionTime']);
  if (since === undefined) return { available: true };
  const at = since + minReadySeconds * 1000;
  return at <= now ? { available: true } : { available: false, availableIn: at - now };
}

// --- writes -----------------------------------------------------------------------------------------------------

/** Creates/updates/deletes through the API semantics, logging failures (a controller carries on with the rest). */
export class Writer {
  readonly #objects: Objects;
  readonly #log: Logger;
  readonly #controller: string;

  constructor(objects: Objects, log: Logger, controller: string) {
    this.#objects = objects;
    this.#log = log;
    this.#controller = controller;
  }

  #failed(verb: string, type: ResourceType, namespace: string | undefined, name: string, err: unknown): undefined {
    this.#log.warn({ component: 'controllers', controller: this.#controller, err, resource: type.plural, namespace, name }, `${verb} failed`);
    return undefined;
  }

  create(type: ResourceType, namespace: string | undefined, body: Json): KubeObject | undefined {
    try {
      return this.#objects.create(type, namespace, body);
    } catch (err) {
      const meta = rec(body, 'metadata');
      return this.#failed('create', type, namespace, str(meta['name']) ?? str(meta['generateName']) ?? '', err);
    }
  }

  update(type: ResourceType, object: KubeObject): KubeObject | undefined {
    try {
      return this.#objects.update(type, object.metadata.namespace, object.metadata.name, object, undefined);
    } catch (err) {
      return this.#failed('update', type, object.metadata.namespace, object.metadata.name, err);
    }
  }

  updateStatus(type: ResourceType, object: KubeObject): KubeObject | undefined {
    try {
      return this.#objects.update(type, object.metadata.namespace, object.metadata.name, object, 'status');
    } catch (err) {
      return this.#failed('status update', type, object.metadata.namespace, object.metadata.name, err);
    }
  }

  delete(type: ResourceType, namespace: string | undefined, name: string): void {
    try {
      this.#objects.delete(type, namespace, name);
    } catch (err) {
      this.#failed('delete', type, namespace, name, err);
    }
  }
}
