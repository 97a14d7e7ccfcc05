/**
 * The Deployment controller: one ReplicaSet per pod template (`<deployment>-<pod-template-hash>`, the hash label on
 * its selector, template and so on its pods), owned by the Deployment and numbered by the
 * `deployment.kubernetes.io/revision` annotation. A template change makes a new ReplicaSet and rolls over to it:
 * RollingUpdate scales the new one up within maxSurge and the old ones down within maxUnavailable, as Kubernetes'
 * rolling algorithm does; Recreate scales the old ones to 0 and waits for their pods to be gone first. Scale changes
 * propagate; old ReplicaSets beyond revisionHistoryLimit are deleted once a rollout is complete. Status carries
 * what `kubectl rollout status` reads (observedGeneration, replicas, updatedReplicas, readyReplicas,
 * availableReplicas, unavailableReplicas) and the Available and Progressing conditions with Kubernetes' reasons,
 * including ProgressDeadlineExceeded. Orphaned ReplicaSets are not adopted; `spec.paused` stops rollouts (scaling
 * of the current ReplicaSet continues).
 */
import type { Logger } from '@loom/shared/runtime';
import { DEPLOYMENT_DEFAULTS } from '../api/defaults.js';
import type { Objects } from '../api/objects.js';
import type { KubeObject } from '../api/store.js';
import { podTemplateHash, POD_TEMPLATE_HASH, sameTemplate } from './hash.js';
import { byNamespace, controllerRef, controllerUid, count, creationOf, isPodActive, rec, records, rfc3339, sameJson, timeOf, typesOf, Writer, type Json, type Types } from './kube.js';
import { LoopController, Reconciler } from './loop.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';

/** Deployment annotations not copied to its ReplicaSets (Kubernetes' skipCopyAnnotation). */
const NOT_COPIED = new Set(['kubectl.kubernetes.io/last-applied-configuration', REVISION, 'deployment.kubernetes.io/revision-history', DESIRED_REPLICAS, MAX_REPLICAS, 'deprecated.deployment.rollback.to']);

export interface DeploymentControllerOptions {
  readonly log: Logger;
  readonly now?: () => number;
}

/** maxSurge/maxUnavailable as a count of `desired`: percentages round up (surge) or down (unavailable). */
export function resolveIntOrPercent(value: unknown, desired: number, roundUp: boolean, fallback: string): number {
  const v = value === undefined || value === null ? fallback : value;
  if (typeof v === 'number') return Math.max(0, Math.floor(v));
  const m = typeof v === 'string' ? /^(\d+)%$/.exec(v) : null;
  if (m === null) return 0;
  const exact = (Number(m[1]) * desired) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** The surge and unavailability a Deployment allows (both 0 for Recreate; unavailability 1 when both would be 0). */
export function rollingLimits(spec: Json, desired: number): { maxSurge: number; maxUnavailable: number } {
  const strategy = rec(spec, 'strategy');
  if (strategy['type'] === 'Recreate') return { maxSurge: 0, maxUnavailable: 0 };
  const rolling = rec(strategy, 'rollingUpdate');
  const maxSurge = resolveIntOrPercent(rolling['maxSurge'], desired, true, DEPLOYMENT_DEFAULTS.maxSurge);
  let maxUnavailable = resolveIntOrPercent(rolling['maxUnavailable'], desired, false, DEPLOYMENT_DEFAULTS.maxUnavailable);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, desired) };
}

const revisionOf = (rs: KubeObject): number => {
  const n = Number(rs.metadata.annotations?.[REVISION]);
  return Number.isInteger(n) && n > 0 ? n : 0;
};
const replicasOf = (rs: KubeObject): number => count(rec(rs, 'spec')['replicas'], 1);
const statusCount = (rs: KubeObject, key: string): number => count(rec(rs, 'status')[key], 0);
const oldestFirst = (a: KubeObject, b: KubeObject): number => creationOf(a) - creationOf(b) || a.metadata.name.localeCompare(b.metadata.name);

interface Condition {
  type: string;
  status: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** Kubernetes' SetDeploymentCondition: same status and reason change nothing; same status keeps the transition time. */
function setCondition(conditions: Condition[], next: { type: string; status: string; reason: string; message: string }, now: string, forceUpdate = false): void {
  const at = conditions.findIndex((c) => c.type === next.type);
  const current = conditions[at];
  if (current !== undefined && current.status === next.status && current.reason === next.reason && !forceUpdate) return;
  const made: Condition = {
    ...next,
    lastUpdateTime: now,
    lastTransitionTime: current !== undefined && current.status === next.status ? current.lastTransitionTime : now,
  };
  if (at < 0) conditions.push(made);
  else conditions[at] = made;
}

export class DeploymentController extends LoopController {
  readonly #objects: Objects;
  readonly #types: Types;
  readonly #writer: Writer;
  readonly #now: () => number;
  readonly #log: Logger;
  protected readonly loop: Reconciler;

  constructor(objects: Objects, options: DeploymentControllerOptions) {
    super();
    this.#objects = objects;
    this.#types = typesOf(objects);
    this.#writer = new Writer(objects, options.log, 'deployment');
    this.#now = options.now ?? Date.now;
    this.#log = options.log;
    // Pods matter only to Recreate (it waits for the old pods to be gone).
    const recreatePods = (): boolean => this.#objects.store.list('apps/deployments').some((d) => rec(rec(d, 'spec'), 'strategy')['type'] === 'Recreate');
    this.loop = new Reconciler(
      'deployment',
      objects.store,
      [{ resource: 'apps/deployments' }, { resource: 'apps/replicasets' }, { resource: '/pods', relevant: (e) => e.type === 'DELETED' && recreatePods() }],
      () => this.#reconcile(),
      options.log,
    );
  }

  #reconcile(): number | undefined {
    const deployments = this.#objects.list(this.#types.deployments, undefined, {}).items;
    const replicaSets = byNamespace(this.#objects.list(this.#types.replicaSets, undefined, {}).items);
    let next: number | undefined;
    for (const d of deployments) {
      try {
        const due = this.#sync(d, replicaSets.get(d.metadata.namespace ?? '') ?? []);
        if (due !== undefined) next = next === undefined ? due : Math.min(next, due);
      } catch (err) {
        this.#log.error({ component: 'controllers', controller: 'deployment', err, namespace: d.metadata.namespace, name: d.metadata.name }, 'sync failed');
      }
    }
    return next;
  }

  #getReplicaSet(namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.#objects.store.get('apps/replicasets', namespace, name);
    return found === undefined ? undefined : { apiVersion: 'apps/v1', kind: 'ReplicaSet', ...found };
  }

  #sync(deployment: KubeObject, namespaceReplicaSets: readonly KubeObject[]): number | undefined {
    const d = deployment;
    const spec = rec(d, 'spec');
    const namespace = d.metadata.namespace;
    const desired = count(spec['replicas'], 1);
    const template = rec(spec, 'template');
    const paused = spec['paused'] === true;
    const owned = namespaceReplicaSets.filter((rs) => d.metadata.uid !== undefined && controllerUid(rs) === d.metadata.uid).sort(oldestFirst);
    const now = rfc3339(this.#now());
    const status = rec(d, 'status');
    const conditions = records(status['conditions']).map((c) => ({ ...c }) as unknown as Condition);
    let collisionCount = count(status['collisionCount'], 0);

    let newRs = owned.find((rs) => sameTemplate(rec(rec(rs, 'spec'), 'template'), template));
    const maxOldRevision = Math.max(0, ...owned.filter((rs) => rs !== newRs).map(revisionOf));
    const { maxSurge, maxUnavailable } = rollingLimits(spec, desired);
    const hasDeadline = spec['progressDeadlineSeconds'] !== null;

    if (newRs === undefined && !paused) {
      const made = this.#createReplicaSet(d, template, desired, owned, maxOldRevision + 1, maxSurge, collisionCount);
      collisionCount = made.collisionCount;
      newRs = made.replicaSet;
      if (newRs !== undefined && hasDeadline) setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${newRs.metadata.name}"` }, now, true);
    } else if (newRs !== undefined) {
      // The current template's ReplicaSet carries the highest revision (a rollback renumbers it).
      if (revisionOf(newRs) <= maxOldRevision || revisionOf(newRs) === 0) {
        newRs = this.#writer.update(this.#types.replicaSets, withAnnotations(newRs, { [REVISION]: String(maxOldRevision + 1) })) ?? newRs;
      }
      if (hasDeadline && !conditions.some((c) => c.type === 'Progressing')) {
        setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'FoundNewReplicaSet', message: `Found new replica set "${newRs.metadata.name}"` }, now);
      }
    }
    const olds = owned.filter((rs) => rs !== newRs && rs.metadata.uid !== newRs?.metadata.uid);

    // Revision on the Deployment, and anything it must copy from the ReplicaSet.
    if (newRs !== undefined) {
      const revision = newRs.metadata.annotations?.[REVISION];
      if (revision !== undefined && d.metadata.annotations?.[REVISION] !== revision) {
        const current = this.#objects.store.get('apps/deployments', namespace, d.metadata.name);
        if (current !== undefined) this.#writer.update(this.#types.deployments, withAnnotations({ apiVersion: 'apps/v1', kind: 'Deployment', ...current }, { [REVISION]: revision }));
      }
    }

    if (newRs !== undefined) this.#scale(d, spec, desired, newRs, olds, maxSurge, maxUnavailable, paused);

    // Status, from the ReplicaSets as they are now.
    const all = [newRs, ...olds].filter((rs): rs is KubeObject => rs !== undefined).map((rs) => this.#getReplicaSet(namespace, rs.metadata.name) ?? rs);
    const current = newRs === undefined ? undefined : all[0];
    const replicas = all.reduce((n, rs) => n + statusCount(rs, 'replicas'), 0);
    const updated = current === undefined ? 0 : statusCount(current, 'replicas');
    const ready = all.reduce((n, rs) => n + statusCount(rs, 'readyReplicas'), 0);
    const available = all.reduce((n, rs) => n + statusCount(rs, 'availableReplicas'), 0);
    const generation = typeof d.metadata['generation'] === 'number' ? d.metadata['generation'] : 1;
    const next: Json = {
      observedGeneration: generation,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, desired - available),
    };
    if (available >= desired - maxUnavailable) {
      setCondition(conditions, { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }, now);
    } else {
      setCondition(conditions, { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }, now);
    }
    const complete = updated === desired && replicas === desired && available === desired;
    let due: number | undefined;
    if (!hasDeadline) {
      const at = conditions.findIndex((c) => c.type === 'Progressing');
      if (at >= 0) conditions.splice(at, 1);
    } else if (paused) {
      setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }, now);
    } else if (current !== undefined) {
      const name = current.metadata.name;
      const progressing = conditions.find((c) => c.type === 'Progressing');
      const oldReplicasBefore = count(status['replicas'], 0) - count(status['updatedReplicas'], 0);
      const madeProgress =
        updated > count(status['updatedReplicas'], 0) || replicas - updated < oldReplicasBefore || ready > count(status['readyReplicas'], 0) || available > count(status['availableReplicas'], 0);
      const deadlineMs = count(spec['progressDeadlineSeconds'], DEPLOYMENT_DEFAULTS.progressDeadlineSeconds) * 1000;
      if (complete) {
        setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${name}" has successfully progressed.` }, now);
      } else if (madeProgress) {
        setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${name}" is progressing.` }, now, true);
      } else if (progressing !== undefined && progressing.reason !== 'NewReplicaSetAvailable' && progressing.reason !== 'ProgressDeadlineExceeded') {
        const since = timeOf(progressing.lastUpdateTime) ?? this.#now();
        const left = since + deadlineMs - this.#now();
        if (left < 0) setCondition(conditions, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${name}" has timed out progressing.` }, now);
        else due = left + 1000;
      }
      const after = conditions.find((c) => c.type === 'Progressing');
      if (after !== undefined && after.status === 'True' && after.reason !== 'NewReplicaSetAvailable' && due === undefined) due = deadlineMs + 1000;
    }
    conditions.sort((a, b) => (a.type === b.type ? 0 : a.type === 'Available' ? -1 : b.type === 'Available' ? 1 : a.type.localeCompare(b.type)));
    const written: Json = omitZeros(next);
    if (collisionCount > 0) written['collisionCount'] = collisionCount;
    if (conditions.length > 0) written['conditions'] = conditions;
    if (!sameJson(written, status)) {
      const stored = this.#objects.store.get('apps/deployments', namespace, d.metadata.name);
      if (stored !== undefined) this.#writer.updateStatus(this.#types.deployments, { ...stored, status: written });
    }

    if (complete && !paused) this.#cleanup(spec, olds);
    return due;
  }

  /** Makes the ReplicaSet of the current template (a new hash if the name is taken by another template). */
  #createReplicaSet(
    d: KubeObject,
    template: Json,
    desired: number,
    owned: readonly KubeObject[],
    revision: number,
    maxSurge: number,
    collisionCount: number,
  ): { replicaSet?: KubeObject; collisionCount: number } {
    const namespace = d.metadata.namespace;
    const selector = rec(rec(d, 'spec'), 'selector');
    const activeOld = owned.some((rs) => replicasOf(rs) > 0);
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (!NOT_COPIED.has(k)) annotations[k] = v;
    for (let attempt = 0; attempt < 10; attempt++, collisionCount++) {
      const hash = podTemplateHash(template, collisionCount);
      const name = `${d.metadata.name}-${hash}`;
      const existing = this.#getReplicaSet(namespace, name);
      if (existing !== undefined) {
        if (controllerUid(existing) === d.metadata.uid && sameTemplate(rec(rec(existing, 'spec'), 'template'), template)) return { replicaSet: existing, collisionCount };
        continue;
      }
      const templateMeta = rec(template, 'metadata');
      const body: Json = {
        metadata: {
          name,
          namespace,
          labels: { ...rec(templateMeta, 'labels'), [POD_TEMPLATE_HASH]: hash },
          annotations: { ...annotations, [DESIRED_REPLICAS]: String(desired), [MAX_REPLICAS]: String(desired + maxSurge), [REVISION]: String(revision) },
          ownerReferences: [controllerRef(d, 'apps/v1', 'Deployment')],
        },
        spec: {
          // A rollout starts the new ReplicaSet at 0 and scales it; a first one starts at the desired count.
          replicas: activeOld ? 0 : desired,
          ...(rec(d, 'spec')['minReadySeconds'] === undefined ? {} : { minReadySeconds: rec(d, 'spec')['minReadySeconds'] }),
          selector: { ...selector, matchLabels: { ...rec(selector, 'matchLabels'), [POD_TEMPLATE_HASH]: hash } },
          template: { ...structuredClone(template), metadata: { ...structuredClone(templateMeta), labels: { ...rec(templateMeta, 'labels'), [POD_TEMPLATE_HASH]: hash } } },
        },
      };
      const made = this.#writer.create(this.#types.replicaSets, namespace, body);
      return made === undefined ? { collisionCount } : { replicaSet: made, collisionCount };
    }
    return { collisionCount };
  }

  /** Sets a ReplicaSet's replicas (and the annotations Kubernetes keeps with them); returns it as stored after. */
  #setReplicas(rs: KubeObject, replicas: number, desired: number, maxSurge: number): KubeObject {
    const current = this.#getReplicaSet(rs.metadata.namespace, rs.metadata.name) ?? rs;
    const annotations = { [DESIRED_REPLICAS]: String(desired), [MAX_REPLICAS]: String(desired + maxSurge) };
    const sameAnnotations = Object.entries(annotations).every(([k, v]) => current.metadata.annotations?.[k] === v);
    if (replicasOf(current) === replicas && sameAnnotations) return current;
    const next = withAnnotations(current, annotations);
    next['spec'] = { ...rec(next, 'spec'), replicas };
    return this.#writer.update(this.#types.replicaSets, next) ?? current;
  }

  #scale(d: KubeObject, spec: Json, desired: number, newRs: KubeObject, olds: readonly KubeObject[], maxSurge: number, maxUnavailable: number, paused: boolean): void {
    let current = newRs;
    const activeOlds = olds.filter((rs) => replicasOf(rs) > 0);
    if (activeOlds.length === 0 || paused) {
      if (activeOlds.length === 0) this.#setReplicas(current, desired, desired, maxSurge);
      return;
    }
    if (rec(spec, 'strategy')['type'] === 'Recreate') {
      for (const rs of activeOlds) this.#setReplicas(rs, 0, desired, maxSurge);
      const oldUids = new Set(olds.map((rs) => rs.metadata.uid));
      const oldPods = this.#objects.list(this.#types.pods, d.metadata.namespace, {}).items.filter((p) => oldUids.has(controllerUid(p)) && isPodActive(p));
      if (oldPods.length === 0) this.#setReplicas(current, desired, desired, maxSurge);
      return;
    }
    // RollingUpdate: the new ReplicaSet up within maxSurge ...
    let all = [current, ...olds];
    const total = (): number => all.reduce((n, rs) => n + replicasOf(rs), 0);
    const newReplicas = replicasOf(current);
    if (newReplicas > desired) current = this.#setReplicas(current, desired, desired, maxSurge);
    else if (newReplicas < desired) {
      const room = desired + maxSurge - total();
      if (room > 0) current = this.#setReplicas(current, newReplicas + Math.min(room, desired - newReplicas), desired, maxSurge);
    }
    all = [current, ...olds];
    // ... then the old ones down as far as maxUnavailable allows: first their unavailable pods, then available ones.
    const minAvailable = desired - maxUnavailable;
    const newUnavailable = replicasOf(current) - statusCount(current, 'availableReplicas');
    let maxScaledDown = total() - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return;
    const oldStates = [...olds].sort(oldestFirst).map((rs) => ({ rs, replicas: replicasOf(rs) }));
    for (const o of oldStates) {
      if (maxScaledDown <= 0) break;
      const unhealthy = o.replicas - statusCount(o.rs, 'availableReplicas');
      if (o.replicas === 0 || unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown, unhealthy);
      o.replicas -= down;
      maxScaledDown -= down;
    }
    const availableNow = [current, ...olds].reduce((n, rs) => n + statusCount(rs, 'availableReplicas'), 0);
    let toScaleDown = availableNow - minAvailable;
    for (const o of oldStates) {
      if (toScaleDown <= 0) break;
      if (o.replicas === 0) continue;
      const down = Math.min(o.replicas, toScaleDown);
      o.replicas -= down;
      toScaleDown -= down;
    }
    for (const o of oldStates) if (o.replicas !== replicasOf(o.rs)) this.#setReplicas(o.rs, o.replicas, desired, maxSurge);
  }

  /** Deletes old, empty ReplicaSets beyond revisionHistoryLimit (lowest revisions first). */
  #cleanup(spec: Json, olds: readonly KubeObject[]): void {
    const limit = count(spec['revisionHistoryLimit'], DEPLOYMENT_DEFAULTS.revisionHistoryLimit);
    const stored = olds.map((rs) => this.#getReplicaSet(rs.metadata.namespace, rs.metadata.name)).filter((rs): rs is KubeObject => rs !== undefined);
    const empty = stored.filter((rs) => replicasOf(rs) === 0 && statusCount(rs, 'replicas') === 0).sort((a, b) => revisionOf(a) - revisionOf(b) || oldestFirst(a, b));
    const excess = stored.length - limit;
    for (const rs of empty.slice(0, Math.max(0, excess))) this.#writer.delete(this.#types.replicaSets, rs.metadata.namespace, rs.metadata.name);
  }
}

function withAnnotations(object: KubeObject, annotations: Record<string, string>): KubeObject {
  return { ...object, metadata: { ...object.metadata, annotations: { ...(object.metadata.annotations ?? {}), ...annotations } } };
}

function omitZeros(status: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(status)) if (v !== 0) out[k] = v;
  return out;
}
