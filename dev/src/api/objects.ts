/**
 * What the API does to objects, apart from HTTP: create (names, generateName, UIDs, timestamps, the namespace must
 * exist), update (resourceVersion preconditions, immutable fields, the status subresource, generation), patch (the
 * three patch formats), delete (cascading to owned objects, whole namespaces) and list with selectors. Every
 * refusal is an {@link ApiError} the server turns into a Kubernetes Status.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { nameProblems, generatedName } from './names.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, patchSchemaFor, PatchError, type PatchSchema } from './patch/index.js';
import { apiVersionOf, BUILT_IN, Registry, storageKey, type ResourceType } from './registry.js';
import { checkFieldSelector, fieldsOf, matchesFieldQuery, matchesLabelQuery, parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js';
import { alreadyExists, ApiError, badRequest, conflict, invalid, notFound } from './status.js';
import type { KubeObject, Metadata, Store } from './store.js';

export const NAMESPACE = { group: '', plural: 'namespaces' } as const;

export interface Selection {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** A prepared selection: whether an object of the resource is selected. */
export type Selector = (object: KubeObject) => boolean;

export type PatchType = 'json' | 'merge' | 'strategic';

export const PATCH_CONTENT_TYPES: Readonly<Record<string, PatchType>> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
};

/**
 * `patch` applied to `current` as `patchType` says, with Kubernetes' answers for bad patches (400, 413, 422) and
 * 415 for a strategic merge patch of a kind without a strategic merge schema.
 */
export function applyPatch(current: unknown, patchType: PatchType, patch: unknown, schema: PatchSchema | undefined): unknown {
  try {
    if (patchType === 'json') return applyJsonPatch(current, patch);
    if (patchType === 'merge') return applyMergePatch(current, patch);
    if (schema === undefined) {
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
    }
    return applyStrategicMergePatch(current, patch, schema);
  } catch (err) {
    if (err instanceof PatchError) {
      if (err.status === 400) throw badRequest(err.message);
      if (err.status === 413) throw new ApiError(413, 'RequestEntityTooLarge', err.message);
      throw new ApiError(422, 'Invalid', err.message);
    }
    throw err;
  }
}

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

/**
 * What the API server does per kind besides storage (Kubernetes' REST strategies): `prepare` fills in defaults on
 * create and update (before admission webhooks see the object), `validate` refuses what may not be stored (after
 * them). Both throw {@link ApiError}; `previous` is the stored object on update.
 */
export interface Strategy {
  prepare?(type: ResourceType, object: KubeObject, previous: KubeObject | undefined): void;
  validate?(type: ResourceType, object: KubeObject, previous: KubeObject | undefined): void;
}

export interface ObjectsOptions {
  readonly strategy?: Strategy;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly uid?: () => string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const timestamp = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export class Objects {
  readonly store: Store;
  readonly registry: Registry;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #uid: () => string;
  readonly #strategy: Strategy;

  constructor(store: Store, registry: Registry, options: ObjectsOptions = {}) {
    this.store = store;
    this.registry = registry;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#uid = options.uid ?? randomUUID;
    this.#strategy = options.strategy ?? {};
  }

  /** The selector of a list, watch or deletecollection; 400 for a malformed or unsupported one. */
  selector(type: ResourceType, selection: Selection): Selector {
    try {
      const labels = parseLabelSelector(selection.labelSelector ?? '');
      const fields = parseFieldSelector(selection.fieldSelector ?? '');
      const resource = type.group === '' ? type.plural : `${type.plural}.${type.group}`;
      const unsupported = checkFieldSelector(resource, fields, { custom: !BUILT_IN.includes(type), clusterScoped: !type.namespaced });
      if (unsupported !== null) throw badRequest(unsupported);
      return (object) => matchesLabelQuery(labels, object.metadata.labels) && matchesFieldQuery(fields, fieldsOf(resource, object));
    } catch (err) {
      if (err instanceof SelectorError) throw badRequest(err.message);
      throw err;
    }
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const found = this.store.get(storageKey(type), type.namespaced ? namespace : undefined, name);
    if (found === undefined) throw notFound(type, name);
    return this.#served(type, found);
  }

  list(type: ResourceType, namespace: string | undefined, selection: Selection): { items: KubeObject[]; resourceVersion: string } {
    const select = this.selector(type, selection);
    const items = this.store
      .list(storageKey(type), type.namespaced ? namespace : undefined)
      .filter(select)
      .map((o) => this.#served(type, o));
    return { items, resourceVersion: String(this.store.resourceVersion) };
  }

  /** An object as served in `type`'s version (apiVersion and kind set). */
  #served(type: ResourceType, object: KubeObject): KubeObject {
    // Webhook-converted custom resources keep their stored version; api.ts converts them.
    if (type.webhookConversion !== true || typeof object['apiVersion'] !== 'string') object['apiVersion'] = apiVersionOf(type.group, type.version);
    object['kind'] = type.kind;
    return object;
  }

  /** Checks a request body is an object of `type`; returns it with apiVersion/kind set and metadata present. */
  #body(type: ResourceType, body: unknown): KubeObject {
    if (!isRecord(body)) throw badRequest(`the body of the request is not a ${type.kind} object`);
    const expected = apiVersionOf(type.group, type.version);
    const apiVersion = body['apiVersion'];
    const kind = body['kind'];
    if (apiVersion !== undefined && apiVersion !== expected) {
      throw badRequest(`the API version in the data (${shown(apiVersion)}) does not match the expected API version (${expected})`);
    }
    if (kind !== undefined && kind !== type.kind) throw badRequest(`the kind in the data (${shown(kind)}) does not match the expected kind (${type.kind})`);
    const metadata = body['metadata'] ?? {};
    if (!isRecord(metadata)) throw badRequest('metadata must be an object');
    // A deep copy: defaults and admission change the object, never the caller's.
    return structuredClone({ ...body, apiVersion: expected, kind: type.kind, metadata: metadata as Metadata });
  }

  #checkNamespace(type: ResourceType, object: KubeObject, namespace: string | undefined): void {
    if (!type.namespaced) {
      delete object.metadata.namespace;
      return;
    }
    if (namespace === undefined) throw badRequest(`a ${type.kind} must be created in a namespace`);
    if (object.metadata.namespace !== undefined && object.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    object.metadata.namespace = namespace;
    const ns = this.store.get(storageKey(NAMESPACE), undefined, namespace);
    if (ns === undefined) throw notFound(NAMESPACE, namespace);
    const phase = isRecord(ns['status']) ? ns['status']['phase'] : undefined;
    if (phase === 'Terminating') {
      throw new ApiError(403, 'Forbidden', `${type.plural} "${object.metadata.name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  /** Creates an object (POST). `dryRun`: everything but storing it. */
  create(type: ResourceType, namespace: string | undefined, body: unknown, dryRun = false): KubeObject {
    const object = this.prepareCreate(type, namespace, body);
    return this.commitCreate(type, object, dryRun);
  }

  /**
   * A new object as it would be stored: names (generateName), namespace, UID, timestamps, generation, defaults.
   * Nothing is stored; admission may change it before {@link commitCreate}.
   */
  prepareCreate(type: ResourceType, namespace: string | undefined, body: unknown): KubeObject {
    if (type.createOnly === true) throw badRequest(`${type.kind} is not stored`);
    const object = this.#body(type, body);
    const meta = object.metadata;
    if (typeof meta.name !== 'string' || meta.name === '') {
      const prefix = meta['generateName'];
      if (typeof prefix !== 'string' || prefix === '') throw invalid(type.kind, type, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
      meta.name = generatedName(prefix, this.#random);
    }
    const problems = nameProblems(type.kind, meta.name);
    if (problems.length > 0) throw invalid(type.kind, type, meta.name, problems.map((p) => ({ field: 'metadata.name', message: `Invalid value: "${meta.name}": ${p}` })));
    this.#checkNamespace(type, object, namespace);
    if (this.store.get(storageKey(type), meta.namespace, meta.name) !== undefined) throw alreadyExists(type, meta.name);
    meta.uid = this.#uid();
    meta['creationTimestamp'] = timestamp(this.#now());
    delete meta.resourceVersion;
    delete meta['deletionTimestamp'];
    if ('spec' in object || type.group === 'apps') meta['generation'] = 1;
    else delete meta['generation'];
    if (type.status) delete object['status'];
    defaultOnCreate(type, object);
    this.#strategy.prepare?.(type, object, undefined);
    return object;
  }

  /** Stores a prepared object (after admission): validation, then the store. `dryRun`: validation only. */
  commitCreate(type: ResourceType, object: KubeObject, dryRun = false): KubeObject {
    const meta = object.metadata;
    const problems = nameProblems(type.kind, meta.name);
    if (problems.length > 0) throw invalid(type.kind, type, meta.name, problems.map((p) => ({ field: 'metadata.name', message: `Invalid value: "${meta.name}": ${p}` })));
    this.#strategy.validate?.(type, object, undefined);
    if (this.store.get(storageKey(type), meta.namespace, meta.name) !== undefined) throw alreadyExists(type, meta.name);
    if (dryRun) return object;
    return this.#served(type, this.store.create(storageKey(type), object));
  }

  /** Replaces an object (PUT), or its status (`subresource` 'status'). */
  update(type: ResourceType, namespace: string | undefined, name: string, body: unknown, subresource: string | undefined, dryRun = false): KubeObject {
    const current = this.get(type, namespace, name);
    const next = this.prepareUpdate(type, current, body, subresource);
    return this.commitUpdate(type, current, next, dryRun);
  }

  /** The object a PUT of `body` onto `current` would store; admission may change it before {@link commitUpdate}. */
  prepareUpdate(type: ResourceType, current: KubeObject, body: unknown, subresource: string | undefined): KubeObject {
    return this.#replace(type, current, this.#body(type, body), subresource);
  }

  #replace(type: ResourceType, current: KubeObject, next: KubeObject, subresource: string | undefined): KubeObject {
    if (subresource !== undefined && !(subresource === 'status' && type.status)) throw notFound(type, `${current.metadata.name}/${subresource}`);
    const meta = next.metadata;
    const name = current.metadata.name;
    if (meta.name !== undefined && meta.name !== name) throw badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
    if (type.namespaced && meta.namespace !== undefined && meta.namespace !== current.metadata.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '' && meta.resourceVersion !== current.metadata.resourceVersion) throw conflict(type, name);
    if (meta.uid !== undefined && meta.uid !== '' && meta.uid !== current.metadata.uid) {
      throw invalid(type.kind, type, name, [{ field: 'metadata.uid', message: `Invalid value: "${String(meta.uid)}": field is immutable` }]);
    }
    let result: KubeObject;
    if (subresource === 'status') {
      // Only the status changes through /status.
      result = { ...structuredClone(current), status: next['status'] };
    } else {
      result = { ...next, metadata: { ...meta } };
      if (type.status) {
        if (current['status'] === undefined) delete result['status'];
        else result['status'] = current['status'];
      }
    }
    const m = result.metadata;
    m.name = name;
    if (type.namespaced && current.metadata.namespace !== undefined) m.namespace = current.metadata.namespace;
    else delete m.namespace;
    m.uid = current.metadata.uid ?? this.#uid();
    m['creationTimestamp'] = current.metadata['creationTimestamp'];
    delete m.resourceVersion;
    if (current.metadata['deletionTimestamp'] !== undefined) m['deletionTimestamp'] = current.metadata['deletionTimestamp'];
    this.#strategy.prepare?.(type, result, current);
    return result;
  }

  /**
   * Stores `next` in place of `current` (after admission): generation, validation, then the store. Refuses with 409
   * when the stored object changed since `current` was read. An update that changes nothing returns `current` and
   * makes no new resourceVersion and no event. `dryRun`: everything but storing.
   */
  commitUpdate(type: ResourceType, current: KubeObject, next: KubeObject, dryRun = false): KubeObject {
    const name = current.metadata.name;
    const stored = this.store.get(storageKey(type), type.namespaced ? current.metadata.namespace : undefined, name);
    if (stored === undefined) throw notFound(type, name);
    if (stored.metadata.resourceVersion !== current.metadata.resourceVersion) throw conflict(type, name);
    const result: KubeObject = { ...next, metadata: { ...next.metadata } };
    const m = result.metadata;
    m.name = name;
    if (current.metadata.uid !== undefined) m.uid = current.metadata.uid;
    delete m.resourceVersion;
    // Validation may still default the spec (what webhooks added), so it comes before generation and the no-op check.
    this.#strategy.validate?.(type, result, current);
    const generation = current.metadata['generation'];
    if (typeof generation === 'number') m['generation'] = isDeepStrictEqual(result['spec'], current['spec']) ? generation : generation + 1;
    if (isDeepStrictEqual({ ...result, metadata: { ...m, resourceVersion: current.metadata.resourceVersion } }, current)) return current; // no-op: no new resourceVersion, no event
    if (dryRun) return result;
    return this.#served(type, this.store.update(storageKey(type), result));
  }

  /** Applies a patch (PATCH) to the object or its status. */
  patch(type: ResourceType, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, subresource: string | undefined, dryRun = false): KubeObject {
    const current = this.get(type, namespace, name);
    const next = this.preparePatch(type, current, patchType, patch, subresource);
    return this.commitUpdate(type, current, next, dryRun);
  }

  /** The object a patch of `current` would store; admission may change it before {@link commitUpdate}. */
  preparePatch(type: ResourceType, current: KubeObject, patchType: PatchType, patch: unknown, subresource: string | undefined): KubeObject {
    // Custom resources have no strategic merge schema (Kubernetes answers 415 for them too).
    const patched = applyPatch(current, patchType, patch, BUILT_IN.includes(type) ? patchSchemaFor(type.kind) : undefined);
    const next = this.#body(type, patched);
    // A patch that names no resourceVersion applies to the current object whatever its version.
    const requested = isRecord(patch) && isRecord(patch['metadata']) ? patch['metadata']['resourceVersion'] : undefined;
    if (typeof requested !== 'string') {
      if (current.metadata.resourceVersion === undefined) delete next.metadata.resourceVersion;
      else next.metadata.resourceVersion = current.metadata.resourceVersion;
    }
    return this.#replace(type, current, next, subresource);
  }

  /**
   * Deletes an object. Objects it owns (ownerReferences by uid) are deleted after it (Background and Foreground
   * alike: there is no garbage collector to wait for) or freed of the reference (Orphan); deleting a Namespace
   * deletes everything in it. Returns the object as it was.
   */
  delete(type: ResourceType, namespace: string | undefined, name: string, options: { propagation?: PropagationPolicy; uid?: string; resourceVersion?: string; dryRun?: boolean } = {}): KubeObject {
    const current = this.get(type, namespace, name);
    if (options.uid !== undefined && options.uid !== current.metadata.uid) {
      throw conflict(type, name);
    }
    if (options.resourceVersion !== undefined && options.resourceVersion !== current.metadata.resourceVersion) throw conflict(type, name);
    if (options.dryRun === true) return current;
    const gone = this.store.delete(storageKey(type), type.namespaced ? namespace : undefined, name) ?? current;
    if (type.kind === 'Namespace') this.#emptyNamespace(name);
    this.#cascade(current.metadata.uid, options.propagation ?? 'Background');
    return this.#served(type, gone);
  }

  #emptyNamespace(namespace: string): void {
    for (const type of this.#storedTypes()) {
      if (!type.namespaced) continue;
      for (const object of this.store.list(storageKey(type), namespace)) this.store.delete(storageKey(type), namespace, object.metadata.name);
    }
  }

  #cascade(uid: string | undefined, propagation: PropagationPolicy): void {
    if (uid === undefined) return;
    for (const type of this.#storedTypes()) {
      for (const object of this.store.list(storageKey(type))) {
        const refs = object.metadata.ownerReferences ?? [];
        if (!refs.some((r) => r.uid === uid)) continue;
        if (propagation === 'Orphan') {
          const rest = refs.filter((r) => r.uid !== uid);
          object.metadata.ownerReferences = rest;
          if (rest.length === 0) delete object.metadata.ownerReferences;
          this.store.update(storageKey(type), object);
        } else if (refs.length === 1) {
          this.delete(type, object.metadata.namespace, object.metadata.name, { propagation });
        } else {
          object.metadata.ownerReferences = refs.filter((r) => r.uid !== uid);
          this.store.update(storageKey(type), object);
        }
      }
    }
  }

  /** One served type per stored resource (its first version). */
  #storedTypes(): ResourceType[] {
    const seen = new Set<string>();
    const out: ResourceType[] = [];
    for (const type of this.registry.all) {
      const key = storageKey(type);
      if (type.createOnly === true || seen.has(key)) continue;
      seen.add(key);
      out.push(type);
    }
    return out;
  }

  /** Deletes every selected object of `type` in `namespace` (deletecollection); returns them. */
  deleteCollection(type: ResourceType, namespace: string | undefined, selection: Selection, propagation?: PropagationPolicy): KubeObject[] {
    const { items } = this.list(type, namespace, selection);
    return items.map((o) => this.delete(type, o.metadata.namespace, o.metadata.name, propagation === undefined ? {} : { propagation }));
  }
}

/** Fields Kubernetes fills in on create for the kinds whose defaults kubectl output shows. */
function defaultOnCreate(type: ResourceType, object: KubeObject): void {
  if (type.group !== '') return;
  if (type.kind === 'Namespace') {
    object.metadata.labels = { ...(object.metadata.labels ?? {}), 'kubernetes.io/metadata.name': object.metadata.name };
    object['spec'] = { finalizers: ['kubernetes'], ...(isRecord(object['spec']) ? object['spec'] : {}) };
    object['status'] = { phase: 'Active' };
  } else if (type.kind === 'Pod') {
    object['status'] = { phase: 'Pending', qosClass: 'BestEffort' };
  }
}
