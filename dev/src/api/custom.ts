/**
 * Custom resources at run time: every stored CustomResourceDefinition becomes served resource types (one per served
 * version) the moment it is stored, its status says so (NamesAccepted, Established, storedVersions), deleting it
 * deletes its objects. Objects are pruned, defaulted and validated against their version's schema, and converted
 * between versions by the CRD's strategy: `None` changes only apiVersion; `Webhook` calls the conversion webhook
 * (webhooks/conversion.ts), objects then being stored in the storage version.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '@loom/shared/runtime';
import type { CustomResourcesPort, FieldValidation } from './api.js';
import { crdStatus, resourceTypesOf } from './crd/types.js';
import { applyDefaults, prune, validateObject, validateStatus } from './crd/schema.js';
import type { Objects } from './objects.js';
import { apiVersionOf, storageKey, type ResourceType } from './registry.js';
import { ApiError, badRequest, invalid } from './status.js';
import { replaceContents, type KubeObject, type StoreEvent } from './store.js';
import type { ResolveService } from './aggregator.js';
import { convertObjects } from './webhooks/conversion.js';

export const CRD_RESOURCE = 'apiextensions.k8s.io/customresourcedefinitions';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The `openAPIV3Schema` of one version of a CRD, if it has one. */
function schemaOf(crd: KubeObject, version: string): Record<string, unknown> | undefined {
  const spec = isRecord(crd['spec']) ? crd['spec'] : {};
  const versions = Array.isArray(spec['versions']) ? spec['versions'].filter(isRecord) : [];
  const entry = versions.find((v) => v['name'] === version);
  const schema = entry !== undefined && isRecord(entry['schema']) ? entry['schema']['openAPIV3Schema'] : undefined;
  return isRecord(schema) ? schema : undefined;
}

function strategyOf(crd: KubeObject): 'None' | 'Webhook' {
  const spec = isRecord(crd['spec']) ? crd['spec'] : {};
  const conversion = isRecord(spec['conversion']) ? spec['conversion'] : {};
  return conversion['strategy'] === 'Webhook' ? 'Webhook' : 'None';
}

export interface CustomResourcesOptions {
  readonly resolveService: ResolveService;
  readonly log: Logger;
}

export class CustomResources implements CustomResourcesPort {
  readonly #objects: Objects;
  readonly #options: CustomResourcesOptions;
  /** CRD by the storage key of its resource (`<group>/<plural>`). */
  readonly #byResource = new Map<string, KubeObject>();
  #stop: (() => void) | undefined;

  constructor(objects: Objects, options: CustomResourcesOptions) {
    this.#objects = objects;
    this.#options = options;
  }

  /** Serves the CRDs already stored (a snapshot), then follows changes. */
  start(): void {
    const store = this.#objects.store;
    for (const crd of store.list(CRD_RESOURCE)) this.#register(crd);
    this.#stop = store.watch(CRD_RESOURCE, store.resourceVersion, (event) => this.#changed(event));
  }

  stop(): void {
    this.#stop?.();
    this.#stop = undefined;
  }

  #changed(event: StoreEvent): void {
    if (event.type === 'DELETED') {
      this.#unregister(event.object);
      return;
    }
    // A changed spec may rename or drop versions: start from scratch for this CRD.
    if (event.previous !== undefined) this.#forget(event.previous);
    this.#register(event.object);
  }

  #register(crd: KubeObject): void {
    const others = this.#objects.store.list(CRD_RESOURCE).filter((c) => c.metadata.name !== crd.metadata.name);
    const status = crdStatus(crd, others);
    const established = Array.isArray(status['conditions']) && status['conditions'].some((c) => isRecord(c) && c['type'] === 'Established' && c['status'] === 'True');
    const webhook = strategyOf(crd) === 'Webhook';
    if (established) {
      const types = resourceTypesOf(crd, status).map((t) => (webhook ? { ...t, webhookConversion: true } : t));
      this.#objects.registry.setCustom(crd.metadata.name, types);
      const first = types[0];
      if (first !== undefined) this.#byResource.set(storageKey(first), crd);
    }
    if (!statusEqual(crd['status'], status)) {
      // Not inside the store's notification: write the status once this change has reached every watcher.
      queueMicrotask(() => this.#writeStatus(crd.metadata.name, status));
    }
  }

  #writeStatus(name: string, status: Record<string, unknown>): void {
    const type = this.#objects.registry.find('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
    if (type === undefined) return;
    try {
      const current = this.#objects.get(type, undefined, name);
      this.#objects.update(type, undefined, name, { ...current, status }, 'status');
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      this.#options.log.error({ event: 'crd.status_failed', crd: name, reason: (err as Error).message}, 'could not write a CRD status');
    }
  }

  #forget(crd: KubeObject): void {
    this.#objects.registry.setCustom(crd.metadata.name, []);
    for (const [key, c] of this.#byResource) if (c.metadata.name === crd.metadata.name) this.#byResource.delete(key);
  }

  /** A deleted CRD: its types stop being served and its objects are deleted, as the apiextensions server does. */
  #unregister(crd: KubeObject): void {
    const types = this.#objects.registry.all.filter((t) => this.#byResource.get(storageKey(t))?.metadata.name === crd.metadata.name);
    const first = types[0];
    this.#forget(crd);
    if (first === undefined) return;
    const store = this.#objects.store;
    for (const object of store.list(storageKey(first))) store.delete(storageKey(first), object.metadata.namespace, object.metadata.name);
    this.#options.log.info({ event: 'crd.removed', crd: crd.metadata.name }, 'custom resource definition deleted with its objects');
  }

  #crdOf(type: ResourceType): KubeObject | undefined {
    return this.#byResource.get(storageKey(type));
  }

  storageType(type: ResourceType): ResourceType | undefined {
    if (type.webhookConversion !== true) return undefined;
    const crd = this.#crdOf(type);
    if (crd === undefined) return undefined;
    const spec = isRecord(crd['spec']) ? crd['spec'] : {};
    const versions = Array.isArray(spec['versions']) ? spec['versions'].filter(isRecord) : [];
    const storage = versions.find((v) => v['storage'] === true);
    const name = typeof storage?.['name'] === 'string' ? storage['name'] : undefined;
    return name === undefined ? undefined : this.#objects.registry.find(type.group, name, type.plural);
  }

  async convert(type: ResourceType, objects: KubeObject[]): Promise<KubeObject[]> {
    const desired = apiVersionOf(type.group, type.version);
    const crd = this.#crdOf(type);
    if (crd === undefined || strategyOf(crd) === 'None') return objects.map((o) => ({ ...o, apiVersion: desired }));
    return convertObjects(crd, objects, desired, { resolveService: this.#options.resolveService, log: this.#options.log });
  }

  admit(type: ResourceType, object: KubeObject, fieldValidation: FieldValidation, subresource?: string): string[] {
    const crd = this.#crdOf(type);
    if (crd === undefined) return [];
    const schema = schemaOf(crd, type.version);
    if (schema === undefined) return [];
    if (subresource === 'status') {
      const problems = validateStatus(schema, object);
      if (problems.length > 0) throw invalid(type.kind, type, object.metadata.name, problems);
      return [];
    }
    const pruned = prune(schema, object);
    const warnings: string[] = [];
    if (pruned.unknown.length > 0) {
      if (fieldValidation === 'Strict') throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${pruned.unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
      if (fieldValidation === 'Warn') warnings.push(...pruned.unknown.map((f) => `unknown field "${f}"`));
    }
    replaceContents(object, pruned.object);
    applyDefaults(schema, object);
    const problems = validateObject(schema, object);
    if (problems.length > 0) throw invalid(type.kind, type, object.metadata.name, problems);
    return warnings;
  }
}


/** Whether a stored status says the same as a computed one, transition times aside (they differ on every computation). */
function statusEqual(stored: unknown, computed: unknown): boolean {
  const strip = (v: unknown): unknown => JSON.parse(JSON.stringify(v ?? null, (key, value: unknown) => (key === 'lastTransitionTime' ? undefined : value)));
  return isDeepStrictEqual(strip(stored), strip(computed));
}
