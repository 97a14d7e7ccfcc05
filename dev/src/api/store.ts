/**
 * The API server's state: every object in memory, one resourceVersion counter for all of them (as etcd's revision),
 * and a bounded log of changes that watches replay from a resourceVersion. Objects are copied in and out, so no
 * caller can change what is stored. No validation here (objects.ts does that).
 */

/**
 * Makes `target` hold exactly `source`'s fields: for steps that compute a new object but must change the one the
 * request pipeline passes along (strategies, schema pruning).
 */
export function replaceContents(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const key of Object.keys(target)) if (!(key in source)) delete target[key];
  Object.assign(target, source);
}

/** A stored object: plain JSON with `metadata`. */
export type KubeObject = Record<string, unknown> & { metadata: Metadata };

export interface Metadata extends Record<string, unknown> {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change, as the log keeps it and watches receive it. */
export interface StoreEvent {
  readonly type: EventType;
  /** The resourceVersion of this change. */
  readonly rv: number;
  /** `<group>/<plural>` (registry.storageKey). */
  readonly resource: string;
  /** The object after the change (for DELETED: as it was, with the deletion's resourceVersion). */
  readonly object: KubeObject;
  /** The object before the change (MODIFIED only): watches with selectors need it. */
  readonly previous?: KubeObject;
}

export type WatchListener = (event: StoreEvent) => void;

/** Thrown by {@link Store.watch} when the log no longer holds the changes after the asked resourceVersion. */
export class ExpiredError extends Error {
  override readonly name = 'ExpiredError';
  constructor(
    readonly asked: number,
    readonly oldest: number,
  ) {
    super(`too old resource version: ${asked} (${oldest})`);
  }
}

/** How many changes the log keeps for watches to resume from (a watch older than that gets 410 Gone). */
export const DEFAULT_LOG_SIZE = 10_000;

const keyOf = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;
const copy = <T>(value: T): T => structuredClone(value);

export interface StoreSnapshot {
  readonly resourceVersion: number;
  readonly resources: Record<string, KubeObject[]>;
}

export class Store {
  readonly #resources = new Map<string, Map<string, KubeObject>>();
  readonly #log: StoreEvent[] = [];
  readonly #logSize: number;
  readonly #watchers = new Map<string, Set<WatchListener>>();
  #rv: number;

  constructor(options: { logSize?: number; snapshot?: StoreSnapshot } = {}) {
    this.#logSize = options.logSize ?? DEFAULT_LOG_SIZE;
    this.#rv = options.snapshot?.resourceVersion ?? 1;
    for (const [resource, items] of Object.entries(options.snapshot?.resources ?? {})) {
      const objects = this.#objects(resource);
      for (const item of items) objects.set(keyOf(item.metadata.namespace, item.metadata.name), copy(item));
    }
  }

  /** The resourceVersion of the latest change (what a list returns). */
  get resourceVersion(): number {
    return this.#rv;
  }

  /** The oldest resourceVersion a watch can start from without missing changes. */
  get oldestWatchable(): number {
    const first = this.#log[0];
    return first === undefined ? this.#rv : first.rv - 1;
  }

  #objects(resource: string): Map<string, KubeObject> {
    let objects = this.#resources.get(resource);
    if (objects === undefined) this.#resources.set(resource, (objects = new Map<string, KubeObject>()));
    return objects;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.#resources.get(resource)?.get(keyOf(namespace, name));
    return found === undefined ? undefined : copy(found);
  }

  /** Every object of `resource` (in `namespace` when given), sorted by namespace and name, as copies. */
  list(resource: string, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const obj of this.#resources.get(resource)?.values() ?? []) {
      if (namespace === undefined || obj.metadata.namespace === namespace) out.push(copy(obj));
    }
    return out.sort((a, b) => keyOf(a.metadata.namespace, a.metadata.name).localeCompare(keyOf(b.metadata.namespace, b.metadata.name)));
  }

  /** How many objects of `resource` exist in `namespace` (all when undefined). */
  count(resource: string, namespace?: string): number {
    let n = 0;
    for (const obj of this.#resources.get(resource)?.values() ?? []) if (namespace === undefined || obj.metadata.namespace === namespace) n++;
    return n;
  }

  /** Stores a new object (the caller checked it does not exist); returns it with its resourceVersion. */
  create(resource: string, object: KubeObject): KubeObject {
    return this.#write(resource, 'ADDED', object, undefined);
  }

  /** Replaces an existing object; returns it with its new resourceVersion. */
  update(resource: string, object: KubeObject): KubeObject {
    const previous = this.#resources.get(resource)?.get(keyOf(object.metadata.namespace, object.metadata.name));
    if (previous === undefined) throw new Error(`update of a missing object ${resource} ${keyOf(object.metadata.namespace, object.metadata.name)}`);
    return this.#write(resource, 'MODIFIED', object, previous);
  }

  /** Removes an object; returns it as it was, with the deletion's resourceVersion. Undefined when absent. */
  delete(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const objects = this.#resources.get(resource);
    const found = objects?.get(keyOf(namespace, name));
    if (objects === undefined || found === undefined) return undefined;
    objects.delete(keyOf(namespace, name));
    const rv = ++this.#rv;
    const gone = copy(found);
    gone.metadata.resourceVersion = String(rv);
    this.#emit({ type: 'DELETED', rv, resource, object: gone });
    return copy(gone);
  }

  #write(resource: string, type: 'ADDED' | 'MODIFIED', object: KubeObject, previous: KubeObject | undefined): KubeObject {
    const rv = ++this.#rv;
    const stored = copy(object);
    stored.metadata.resourceVersion = String(rv);
    this.#objects(resource).set(keyOf(stored.metadata.namespace, stored.metadata.name), stored);
    this.#emit({ type, rv, resource, object: stored, ...(previous === undefined ? {} : { previous }) });
    return copy(stored);
  }

  #emit(event: StoreEvent): void {
    this.#log.push(event);
    if (this.#log.length > this.#logSize) this.#log.splice(0, this.#log.length - this.#logSize);
    for (const listener of this.#watchers.get(event.resource) ?? []) listener(event);
  }

  /**
   * Calls `listener` for every change of `resource` after resourceVersion `from` (replayed from the log first,
   * synchronously), then for each new one as it happens. Events carry the stored objects: listeners must not
   * change them. Throws {@link ExpiredError} when the log no longer reaches back to `from`. Returns the stop
   * function.
   */
  watch(resource: string, from: number, listener: WatchListener): () => void {
    if (from < this.oldestWatchable) throw new ExpiredError(from, this.oldestWatchable);
    for (const event of this.#log) if (event.rv > from && event.resource === resource) listener(event);
    let set = this.#watchers.get(resource);
    if (set === undefined) this.#watchers.set(resource, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Every object and the resourceVersion, for a snapshot file. */
  snapshot(): StoreSnapshot {
    const resources: Record<string, KubeObject[]> = {};
    for (const [resource, objects] of this.#resources) if (objects.size > 0) resources[resource] = [...objects.values()].map(copy);
    return { resourceVersion: this.#rv, resources };
  }
}
