/**
 * Staged root rotation (DESIGN §4), as pure functions of the material and an injected time. Three phases,
 * one step out of each (see {@link RotationRecord}):
 *
 * | phase | state | step | what the step does |
 * |---|---|---|---|
 * | `steady` | one issuer, no rotation | stage | a new root (or an operator-supplied issuer) joins the bundle; leaves still come from the old issuer |
 * | `staged` | bundle = old + new | switch | leaves come from the new issuer; the old root stays trusted until `retireAfter` |
 * | `switched` | bundle = old + new | retire | once `retireAfter` has passed, the old root leaves the bundle |
 *
 * `retireAfter` = switch time + leaf lifetime + clock skew: no leaf the old issuer signed (all of them before
 * the switch) can still be valid, even to a peer whose clock is behind, after that. Retiring earlier is
 * refused unless forced, and the plan then says what breaks.
 */
import type { KeyType } from '@loom/shared/identity';
import { createRoot, type Issuer } from './issuer.js';
import type { CaMaterial, RotationRecord } from './material.js';

export type RotationPhase = 'steady' | 'staged' | 'switched';
export type RotationStep = 'stage' | 'switch' | 'retire';

export interface RotationOptions {
  /** The longest lifetime of the leaves the CA issues (the controller's setting; 24 h by default). */
  readonly leafLifetimeMs: number;
  /** The clock skew allowance leaves are backdated by. */
  readonly clockSkewMs: number;
  /** Retire the old root before `retireAfter`. */
  readonly force?: boolean;
  /** Stage this operator-supplied issuer instead of creating a root (phase `steady` only). */
  readonly newIssuer?: Issuer;
}

export interface ApplyRotationOptions extends RotationOptions {
  /** For a new root's SPIFFE URI SAN and name. */
  readonly trustDomain: string;
  /** Key type of a created root (default ECDSA P-256). */
  readonly keyType?: KeyType;
  readonly rootLifetimeMs?: number;
}

export interface RotationPlan {
  readonly phase: RotationPhase;
  readonly step: RotationStep;
  /** What the next step does, in a sentence. */
  readonly description: string;
  /** The step may be taken now (with `force`, a premature retirement is allowed). */
  readonly allowed: boolean;
  /** Why it is allowed or refused; for a forced retirement, what breaks. */
  readonly reason: string;
  /** When the old root may be retired: the recorded time in phase `switched`, the time it would be if switched now in `staged`. */
  readonly retireAfter?: Date;
}

/** A rotation step that may not be taken; `message` says why and what to do. */
export class RotationRefused extends Error {
  override readonly name = 'RotationRefused';
}

export function rotationPhase(material: CaMaterial): RotationPhase {
  return material.rotation?.phase ?? 'steady';
}

const isCurrentIssuer = (material: CaMaterial, issuer: Issuer): boolean => issuer.certificate.fingerprint256 === material.issuer.certificate.fingerprint256;

const subjectOf = (issuer: Issuer): string => `"${issuer.certificate.subject.replace(/\n/g, ', ')}"`;
const iso = (ms: number): string => new Date(ms).toISOString();

/** "24h", "5m", "1h30m", "90s". */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(ms / 1000));
  for (const [unit, seconds] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    const count = Math.floor(rest / seconds);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * seconds;
  }
  return parts.length === 0 ? '0s' : parts.join('');
}

/** Why a plan's step may not be taken, in a sentence: "cannot retire yet: ..." (only retirement waits for time). */
export function refusal(plan: RotationPlan): string {
  return `cannot ${plan.step}${plan.step === 'retire' ? ' yet' : ''}: ${plan.reason}`;
}

/** What the next rotation step would do at `now`, and whether it may be taken. */
export function planRotation(material: CaMaterial, now: number, options: RotationOptions): RotationPlan {
  const rotation = material.rotation;
  const newIssuer = options.newIssuer;
  if (rotation === undefined) {
    const step = { phase: 'steady', step: 'stage' } as const;
    if (newIssuer === undefined) {
      return {
        ...step,
        description: 'stage a new root: add it to the trust bundle next to the current root; leaves keep coming from the current issuer until the switch',
        allowed: true,
        reason: 'no rotation is under way',
      };
    }
    const description = `stage the issuer ${subjectOf(newIssuer)}: add its root to the trust bundle; leaves keep coming from the current issuer until the switch`;
    if (isCurrentIssuer(material, newIssuer)) return { ...step, description, allowed: false, reason: `the new issuer ${subjectOf(newIssuer)} is the current issuer` };
    return { ...step, description, allowed: true, reason: 'no rotation is under way' };
  }
  if (rotation.phase === 'staged') {
    const next = material.next;
    const retireAfter = now + options.leafLifetimeMs + options.clockSkewMs;
    return {
      phase: 'staged',
      step: 'switch',
      description:
        `switch issuance to the staged issuer ${next === undefined ? '(missing)' : subjectOf(next)}; ` +
        `the old root stays in the trust bundle until every leaf it anchors has expired (${iso(retireAfter)} if switched now)`,
      allowed: next !== undefined,
      reason: next === undefined ? 'the staged issuer is missing' : `the new root has been in the trust bundle since ${rotation.stagedAt}`,
      retireAfter: new Date(retireAfter),
    };
  }
  const retireAfter = Date.parse(rotation.retireAfter ?? '');
  const retiring = material.bundle.find((root) => root.fingerprint256 === rotation.retiringRoot);
  const description = `retire the old root ${retiring === undefined ? rotation.retiringRoot ?? '' : `"${retiring.subject.replace(/\n/g, ', ')}"`}: remove it from the trust bundle`;
  const base = { phase: 'switched', step: 'retire', description, retireAfter: new Date(retireAfter) } as const;
  if (now >= retireAfter) {
    return { ...base, allowed: true, reason: `every leaf the old root anchors expired by ${iso(retireAfter)} (switched at ${rotation.switchedAt ?? '?'})` };
  }
  const switchedAt = Date.parse(rotation.switchedAt ?? '');
  const live =
    `leaves signed by the old issuer before the switch at ${rotation.switchedAt ?? '?'} may be valid until ${iso(retireAfter)} ` +
    `(the switch + ${formatDuration(retireAfter - switchedAt)} of leaf lifetime and clock skew)`;
  if (options.force === true) {
    return {
      ...base,
      allowed: true,
      reason: `forced ${formatDuration(retireAfter - now)} early: ${live}; once the old root is gone, peers refuse those leaves, so the workloads holding them fail mTLS until they renew from the new issuer`,
    };
  }
  return { ...base, allowed: false, reason: `${live}; retiring is allowed from ${iso(retireAfter)} (force overrides, and breaks those workloads' mTLS until they renew)` };
}

/** Takes the next rotation step at `now`; throws {@link RotationRefused} when the plan does not allow it. */
export function applyRotation(material: CaMaterial, now: number, options: ApplyRotationOptions): CaMaterial {
  const phase = rotationPhase(material);
  if (options.newIssuer !== undefined && phase !== 'steady') {
    throw new RotationRefused(`a new issuer can only be given when staging a rotation; the rotation is already in phase "${phase}"`);
  }
  const plan = planRotation(material, now, options);
  if (!plan.allowed) throw new RotationRefused(refusal(plan));
  switch (phase) {
    case 'steady':
      return stage(material, now, options);
    case 'staged':
      return switchIssuer(material, now, options);
    case 'switched':
      return retire(material);
  }
}

/**
 * A new root whose name differs from every root in the bundle (chain building matches names before key
 * identifiers). Root names carry their creation time; should one still collide, a later time is used.
 */
function newRoot(material: CaMaterial, now: number, options: ApplyRotationOptions): Issuer {
  const taken = new Set(material.bundle.map((root) => root.subject));
  for (let offset = 0; ; offset += 1000) {
    const root = createRoot({
      trustDomain: options.trustDomain,
      now: now + offset,
      ...(options.keyType === undefined ? {} : { keyType: options.keyType }),
      ...(options.rootLifetimeMs === undefined ? {} : { lifetimeMs: options.rootLifetimeMs }),
    });
    if (!taken.has(root.certificate.subject) || offset >= 10_000) return root;
  }
}

function stage(material: CaMaterial, now: number, options: ApplyRotationOptions): CaMaterial {
  const next = options.newIssuer ?? newRoot(material, now, options);
  if (isCurrentIssuer(material, next)) throw new RotationRefused(`the new issuer ${subjectOf(next)} is the current issuer`);
  const bundle = material.bundle.some((root) => root.fingerprint256 === next.root.fingerprint256) ? material.bundle : [...material.bundle, next.root];
  const rotation: RotationRecord = { phase: 'staged', stagedAt: iso(now) };
  return { issuer: material.issuer, next, bundle, rotation };
}

function switchIssuer(material: CaMaterial, now: number, options: RotationOptions): CaMaterial {
  const next = material.next;
  const stagedAt = material.rotation?.stagedAt ?? iso(now);
  if (next === undefined) throw new RotationRefused('cannot switch: the staged issuer is missing');
  const oldRoot = material.issuer.root;
  // A new issuer under the same root (an operator's new intermediate) changes no trust: nothing to retire.
  if (next.root.fingerprint256 === oldRoot.fingerprint256) return { issuer: next, bundle: material.bundle };
  const rotation: RotationRecord = {
    phase: 'switched',
    stagedAt,
    switchedAt: iso(now),
    retiringRoot: oldRoot.fingerprint256,
    retireAfter: iso(now + options.leafLifetimeMs + options.clockSkewMs),
  };
  return { issuer: next, bundle: material.bundle, rotation };
}

function retire(material: CaMaterial): CaMaterial {
  const retiring = material.rotation?.retiringRoot;
  // Never drop the root the active issuer chains to, whatever the record says.
  const bundle = retiring === undefined || retiring === material.issuer.root.fingerprint256 ? material.bundle : material.bundle.filter((root) => root.fingerprint256 !== retiring);
  return { issuer: material.issuer, bundle };
}
