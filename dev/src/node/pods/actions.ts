/**
 * What to do next with a pod's containers, as the kubelet decides it (computePodActions): init containers one
 * at a time in order, each to completion; a native sidecar (an init container with `restartPolicy: Always`)
 * starts in its place and lets the next one go once it has started; then the app containers all at once.
 * Exited containers restart as the pod's restartPolicy says (sidecars always), never before their back-off has
 * passed. When the app containers are done for good, or an init container failed under `Never`, the pod is
 * terminal and its sidecars stop. Pure: the caller passes the containers' states and the time.
 */
import type { BackoffSettings } from './types.js';
import type { RestartPolicy } from './spec.js';

export type SlotKind = 'init' | 'sidecar' | 'app';

/** One container as the decision sees it. */
export interface SlotView {
  readonly name: string;
  readonly kind: SlotKind;
  /** `idle`: not running and never ran to an exit (or could not be started). */
  readonly state: 'idle' | 'running' | 'exited';
  /** Of the last run, when `exited`. */
  readonly exitCode?: number;
  /** Whether it has ever counted as started (its startup probe passed, or it had none): what sidecars gate on. */
  readonly everStarted: boolean;
  /** No (re)start before this time (back-off, a retry after a configuration error; Infinity: never). */
  readonly notBefore?: number;
}

export interface Actions {
  /** Containers to start now. */
  readonly start: readonly string[];
  /** Sidecars to stop, in this order (the pod is done). */
  readonly stop: readonly string[];
  /** Exited containers that will restart once their back-off has passed (CrashLoopBackOff). */
  readonly backingOff: readonly string[];
  /** Whether every init container completed (and every sidecar started). */
  readonly initialized: boolean;
  /** Set when the pod is done for good. */
  readonly terminal?: 'Succeeded' | 'Failed';
  /** When to decide again (the earliest back-off end), if something waits for time. */
  readonly wakeAt?: number;
}

export function podActions(policy: RestartPolicy, slots: readonly SlotView[], now: number): Actions {
  const start: string[] = [];
  const backingOff: string[] = [];
  let wakeAt: number | undefined;
  const want = (s: SlotView): void => {
    if (s.notBefore !== undefined && s.notBefore > now) {
      if (s.state === 'exited') backingOff.push(s.name);
      if (Number.isFinite(s.notBefore)) wakeAt = Math.min(wakeAt ?? Infinity, s.notBefore);
    } else {
      start.push(s.name);
    }
  };

  let initialized = true;
  let initFailed = false;
  for (const s of slots) {
    if (s.kind === 'app') continue;
    if (s.kind === 'sidecar') {
      if (s.state !== 'running') want(s);
      if (!s.everStarted) {
        initialized = false;
        break;
      }
      continue;
    }
    if (s.state === 'exited' && s.exitCode === 0) continue;
    initialized = false;
    if (s.state === 'idle') want(s);
    else if (s.state === 'exited') {
      if (policy === 'Never') initFailed = true;
      else want(s);
    }
    break;
  }

  let terminal: 'Succeeded' | 'Failed' | undefined;
  if (initFailed) terminal = 'Failed';
  else if (initialized) {
    const apps = slots.filter((s) => s.kind === 'app');
    let done = 0;
    let failed = 0;
    for (const s of apps) {
      if (s.state === 'running') continue;
      if (s.state === 'idle') {
        want(s);
        continue;
      }
      const restarts = policy === 'Always' || (policy === 'OnFailure' && s.exitCode !== 0);
      if (restarts) want(s);
      else {
        done++;
        if (s.exitCode !== 0) failed++;
      }
    }
    if (apps.length > 0 && done === apps.length) terminal = failed === 0 ? 'Succeeded' : 'Failed';
  }

  if (terminal !== undefined) {
    const sidecars = slots.filter((s) => s.kind === 'sidecar');
    return {
      start: [],
      stop: sidecars
        .filter((s) => s.state === 'running')
        .map((s) => s.name)
        .reverse(),
      backingOff: [],
      initialized,
      terminal,
    };
  }
  return { start, stop: [], backingOff, initialized, ...(wakeAt === undefined ? {} : { wakeAt }) };
}

/**
 * The wait before restarting a container that exited `crashes` times before this exit counted: none for the
 * first restart, then `initialMs` doubling up to `maxMs` (the kubelet's back-off).
 */
export function restartDelayMs(crashes: number, settings: BackoffSettings): number {
  if (crashes <= 0) return 0;
  return Math.min(settings.maxMs, settings.initialMs * 2 ** Math.min(crashes - 1, 40));
}

/** A run longer than this resets the back-off (the kubelet forgets a container's crashes after twice the cap). */
export const backoffResetMs = (settings: BackoffSettings): number => 2 * settings.maxMs;

/** A duration as Go prints it (`10s`, `2m40s`, `5m0s`, `250ms`): the kubelet's back-off messages use it. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const totalSeconds = ms / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const s = `${Number.isInteger(seconds) ? seconds : Number(seconds.toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${s}`;
  if (minutes > 0) return `${minutes}m${s}`;
  return s;
}
