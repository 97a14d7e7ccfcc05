/**
 * The ReplicaSet controller: keeps `spec.replicas` active pods for each ReplicaSet, made from its template (named
 * `<rs>-<random>`, labelled as the template, owned by the ReplicaSet), deleting the surplus least useful first (not
 * running, not ready, ready the shortest time, restarted most, newest), and reports status: replicas,
 * fullyLabeledReplicas, readyReplicas, availableReplicas (ready for minReadySeconds), observedGeneration and a
 * ReplicaFailure condition while pods cannot be made. Pods are run by the pod runner; this only makes and deletes
 * them. Orphaned pods matching a selector are not adopted.
 */
import type { Logger } from '@loom/shared/runtime';
import type { Objects } from '../api/objects.js';
import type { KubeObject } from '../api/store.js';
import {
  byNamespace,
  controllerRef,
  controllerUid,
  count,
  creationOf,
  isPodActive,
  isPodReady,
  podAvailability,
  rec,
  records,
  rfc3339,
  sameJson,
  timeOf,
  typesOf,
  Writer,
  type Json,
  type Types,
} from './kube.js';
import { LoopController, Reconciler } from './loop.js';

/** At most this many pods are created or deleted for one ReplicaSet in one reconcile (Kubernetes' burst). */
export const BURST = 500;

/** How long after the `attempts`-th failed pod creation to try again: 0.5 s doubling, at most a minute. */
export const retryDelayMs = (attempts: number): number => Math.min(60_000, 500 * 2 ** Math.max(0, attempts - 1));

/**
 * How pods are created: synchronously through {@link Objects.create} by default, or through the API's admission
 * pipeline (mutating webhooks such as a sidecar injector), which is asynchronous.
 */
export type PodCreator = (namespace: string | undefined, body: Json) => KubeObject | Promise<KubeObject>;

export interface ReplicaSetControllerOptions {
  readonly log: Logger;
  readonly now?: () => number;
  readonly createPod?: PodCreator;
}

const PHASE_RANK: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

function readySince(pod: KubeObject): number | undefined {
  const c = records(rec(pod, 'status')['conditions']).find((x) => x['type'] === 'Ready');
  return timeOf(c?.['lastTransitionTime']);
}

const restarts = (pod: KubeObject): number => records(rec(pod, 'status')['containerStatuses']).reduce((n, s) => n + count(s['restartCount'], 0), 0);

/** Orders pods so that the ones to delete first come first (Kubernetes' controller.ActivePods ordering). */
export function deletionOrder(a: KubeObject, b: KubeObject): number {
  const nodeA = typeof rec(a, 'spec')['nodeName'] === 'string' ? 1 : 0;
  const nodeB = typeof rec(b, 'spec')['nodeName'] === 'string' ? 1 : 0;
  if (nodeA !== nodeB) return nodeA - nodeB;
  const phaseA = PHASE_RANK[String(rec(a, 'status')['phase'])] ?? 0;
  const phaseB = PHASE_RANK[String(rec(b, 'status')['phase'])] ?? 0;
  if (phaseA !== phaseB) return phaseA - phaseB;
  const readyA = isPodReady(a) ? 1 : 0;
  const readyB = isPodReady(b) ? 1 : 0;
  if (readyA !== readyB) return readyA - readyB;
  if (readyA === 1) {
    const sinceA = readySince(a) ?? 0;
    const sinceB = readySince(b) ?? 0;
    if (sinceA !== sinceB) return sinceB - sinceA; // ready more recently first
  }
  const restartsA = restarts(a);
  const restartsB = restarts(b);
  if (restartsA !== restartsB) return restartsB - restartsA;
  return creationOf(b) - creationOf(a); // newest first
}

export class ReplicaSetController extends LoopController {
  readonly #objects: Objects;
  readonly #types: Types;
  readonly #writer: Writer;
  readonly #now: () => number;
  protected readonly loop: Reconciler;
  readonly #log: Logger;
  readonly #createPod: PodCreator;
  /** Pod creations under way per ReplicaSet uid (asynchronous creators): counted as pods, so none is made twice. */
  readonly #inFlight = new Map<string, number>();
  /** Why the last pod creation of a ReplicaSet failed (until one succeeds), and when to try again. */
  readonly #failures = new Map<string, { message: string; attempts: number; retryAt: number }>();

  constructor(objects: Objects, options: ReplicaSetControllerOptions) {
    super();
    this.#objects = objects;
    this.#types = typesOf(objects);
    this.#writer = new Writer(objects, options.log, 'replicaset');
    this.#log = options.log;
    this.#createPod = options.createPod ?? ((namespace, body) => objects.create(this.#types.pods, namespace, body));
    this.#now = options.now ?? Date.now;
    this.loop = new Reconciler('replicaset', objects.store, [{ resource: 'apps/replicasets' }, { resource: '/pods' }], () => this.#reconcile(), options.log);
  }

  /** Whether a reconcile is scheduled or pod creations are under way. */
  override get pending(): boolean {
    return this.loop.pending || this.#inFlight.size > 0;
  }

  #reconcile(): number | undefined {
    const replicaSets = this.#objects.list(this.#types.replicaSets, undefined, {}).items;
    const pods = byNamespace(this.#objects.list(this.#types.pods, undefined, {}).items);
    let next: number | undefined;
    for (const rs of replicaSets) {
      const due = this.#sync(rs, pods.get(rs.metadata.namespace ?? '') ?? []);
      if (due !== undefined) next = next === undefined ? due : Math.min(next, due);
    }
    const live = new Set(replicaSets.map((rs) => rs.metadata.uid));
    for (const uid of this.#failures.keys()) if (!live.has(uid)) this.#failures.delete(uid);
    return next;
  }

  #owned(rs: KubeObject, pods: readonly KubeObject[]): KubeObject[] {
    return pods.filter((p) => rs.metadata.uid !== undefined && controllerUid(p) === rs.metadata.uid);
  }

  /** Makes or deletes pods for one ReplicaSet and writes its status; returns when to look again, if time matters. */
  #sync(rs: KubeObject, namespacePods: readonly KubeObject[]): number | undefined {
    const spec = rec(rs, 'spec');
    const desired = count(spec['replicas'], 1);
    const namespace = rs.metadata.namespace;
    let owned = this.#owned(rs, namespacePods);
    const active = owned.filter(isPodActive);
    const uid = rs.metadata.uid ?? '';
    const inFlight = this.#inFlight.get(uid) ?? 0;
    let changed = false;
    const failure = this.#failures.get(uid);
    const wait = failure === undefined ? 0 : failure.retryAt - Date.now();
    if (active.length + inFlight < desired && wait <= 0) {
      const template = rec(spec, 'template');
      const meta = rec(template, 'metadata');
      for (let i = 0; i < Math.min(desired - active.length - inFlight, BURST); i++) {
        const body: Json = {
          metadata: {
            generateName: `${rs.metadata.name}-`,
            namespace,
            ...(isRecordWithKeys(meta['labels']) ? { labels: meta['labels'] } : {}),
            ...(isRecordWithKeys(meta['annotations']) ? { annotations: meta['annotations'] } : {}),
            ownerReferences: [controllerRef(rs, 'apps/v1', 'ReplicaSet')],
          },
          spec: structuredClone(rec(template, 'spec')),
        };
        if (!this.#create(uid, namespace, body)) break;
        changed = true;
      }
    } else if (active.length > desired) {
      const doomed = [...active].sort(deletionOrder).slice(0, Math.min(active.length - desired, BURST));
      for (const pod of doomed) this.#writer.delete(this.#types.pods, namespace, pod.metadata.name);
      changed = doomed.length > 0;
    }
    if (changed) owned = this.#owned(rs, this.#objects.list(this.#types.pods, namespace, {}).items);
    const due = this.#writeStatus(rs, owned, this.#failures.get(uid)?.message);
    const retry = active.length + inFlight < desired ? this.#failures.get(uid)?.retryAt : undefined;
    if (retry === undefined) return due;
    const retryIn = Math.max(0, retry - Date.now());
    return due === undefined ? retryIn : Math.min(due, retryIn);
  }

  /** Starts one pod creation; false when it failed at once (no point trying more now). */
  #create(uid: string, namespace: string | undefined, body: Json): boolean {
    const failed = (err: unknown): void => {
      const message = err instanceof Error ? err.message : String(err);
      const attempts = (this.#failures.get(uid)?.attempts ?? 0) + 1;
      this.#failures.set(uid, { message, attempts, retryAt: Date.now() + retryDelayMs(attempts) });
      this.#log.warn({ component: 'controllers', controller: 'replicaset', err, namespace, generateName: rec(body, 'metadata')['generateName'] }, 'pod creation failed');
    };
    let made: KubeObject | Promise<KubeObject>;
    try {
      made = this.#createPod(namespace, body);
    } catch (err) {
      failed(err);
      return false;
    }
    if (!(made instanceof Promise)) {
      this.#failures.delete(uid);
      return true;
    }
    this.#inFlight.set(uid, (this.#inFlight.get(uid) ?? 0) + 1);
    made.then(
      () => this.#failures.delete(uid),
      (err: unknown) => failed(err),
    ).finally(() => {
      const left = (this.#inFlight.get(uid) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(uid, left);
      else this.#inFlight.delete(uid);
      this.loop.schedule();
    }).catch(() => undefined);
    return true;
  }

  #writeStatus(rs: KubeObject, owned: readonly KubeObject[], failure: string | undefined): number | undefined {
    const spec = rec(rs, 'spec');
    const minReadySeconds = count(spec['minReadySeconds'], 0);
    const templateLabels = rec(rec(rec(spec, 'template'), 'metadata'), 'labels');
    const now = this.#now();
    let ready = 0;
    let available = 0;
    let fullyLabeled = 0;
    let next: number | undefined;
    const active = owned.filter(isPodActive);
    for (const pod of active) {
      const labels = pod.metadata.labels ?? {};
      if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
      if (isPodReady(pod)) ready++;
      const a = podAvailability(pod, minReadySeconds, now);
      if (a.available) available++;
      else if (a.availableIn !== undefined) next = next === undefined ? a.availableIn : Math.min(next, a.availableIn);
    }
    const previous = rec(rs, 'status');
    const conditions = records(previous['conditions']).filter((c) => c['type'] !== 'ReplicaFailure');
    if (failure !== undefined) {
      const before = records(previous['conditions']).find((c) => c['type'] === 'ReplicaFailure');
      const message = failure;
      conditions.push(
        before !== undefined && before['message'] === message && before['status'] === 'True'
          ? before
          : { type: 'ReplicaFailure', status: 'True', lastTransitionTime: rfc3339(now), reason: 'FailedCreate', message },
      );
    }
    const status: Json = {
      replicas: active.length,
      ...(fullyLabeled > 0 ? { fullyLabeledReplicas: fullyLabeled } : {}),
      ...(ready > 0 ? { readyReplicas: ready } : {}),
      ...(available > 0 ? { availableReplicas: available } : {}),
      ...(typeof rs.metadata['generation'] === 'number' ? { observedGeneration: rs.metadata['generation'] } : {}),
      ...(conditions.length > 0 ? { conditions } : {}),
    };
    if (!sameJson(status, previous)) {
      const current = this.#objects.store.get('apps/replicasets', rs.metadata.namespace, rs.metadata.name);
      if (current !== undefined) this.#writer.updateStatus(this.#types.replicaSets, { ...current, status });
    }
    return next;
  }
}

function isRecordWithKeys(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0;
}
