/**
 * A pod's `status` as the kubelet writes it, from what the runner knows of its containers: the phase (the
 * kubelet's getPhase: a container waiting for its first start keeps the pod Pending, one waiting to restart
 * counts as stopped), the conditions (PodScheduled, Initialized, ContainersReady, Ready with readiness gates;
 * each keeps its lastTransitionTime while its status stays), addresses, startTime and the container statuses.
 * Fields the runner does not own (qosClass, conditions others set) are kept from the current status. Pure.
 */
import type { PodSpec } from './spec.js';

export type ContainerState =
  | { readonly waiting: { readonly reason: string; readonly message?: string } }
  | { readonly running: { readonly startedAt: string } }
  | { readonly terminated: TerminatedState };

export interface TerminatedState {
  readonly exitCode: number;
  readonly signal?: number;
  readonly reason: string;
  readonly message?: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly containerID?: string;
}

/** One container's status (`containerStatuses[]` / `initContainerStatuses[]`). */
export interface ContainerStatus {
  readonly name: string;
  readonly image: string;
  readonly imageID: string;
  readonly containerID?: string;
  readonly state: ContainerState;
  readonly lastState: { readonly terminated?: TerminatedState };
  readonly ready: boolean;
  readonly restartCount: number;
  readonly started: boolean;
}

export interface PodStatusInput {
  readonly spec: PodSpec;
  /** In spec order. */
  readonly initContainers: readonly ContainerStatus[];
  readonly containers: readonly ContainerStatus[];
  readonly initialized: boolean;
  /** Set once the pod is done for good (it never leaves that phase). */
  readonly terminal?: 'Succeeded' | 'Failed';
  readonly hostIP: string;
  readonly podIP?: string;
  readonly startTime: string;
  readonly scheduledAt: string;
  /** The status stored now: fields not computed here are kept, and so are unchanged transition times. */
  readonly current: Readonly<Record<string, unknown>>;
  readonly now: string;
}

export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False';
  readonly lastProbeTime: null;
  readonly lastTransitionTime: string;
  readonly reason?: string;
  readonly message?: string;
}

const OWNED = ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];

const isWaitingToRestart = (c: ContainerStatus): boolean => 'waiting' in c.state && c.lastState.terminated !== undefined;

/** The pod's phase (the kubelet's getPhase for the app containers once initialized). */
export function podPhase(input: Pick<PodStatusInput, 'spec' | 'containers' | 'initialized' | 'terminal'>): string {
  if (input.terminal !== undefined) return input.terminal;
  if (!input.initialized) return 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of input.containers) {
    if ('running' in c.state) running++;
    else if ('terminated' in c.state) {
      stopped++;
      if (c.state.terminated.exitCode === 0) succeeded++;
    } else if (isWaitingToRestart(c)) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    const policy = input.spec.restartPolicy;
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function currentConditions(current: Readonly<Record<string, unknown>>): Record<string, unknown>[] {
  return Array.isArray(current['conditions']) ? current['conditions'].filter(isRecord) : [];
}

/** The pod's conditions (ours first, in the kubelet's order, then those others set). */
export function podConditions(input: PodStatusInput): Condition[] {
  const previous = currentConditions(input.current);
  const make = (type: string, ok: boolean, reason?: string, message?: string, at?: string): Condition => {
    const before = previous.find((c) => c['type'] === type);
    const status = ok ? 'True' : 'False';
    const kept = before !== undefined && before['status'] === status && typeof before['lastTransitionTime'] === 'string' ? before['lastTransitionTime'] : undefined;
    return {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: kept ?? at ?? input.now,
      ...(reason === undefined ? {} : { reason }),
      ...(message === undefined ? {} : { message }),
    };
  };
  const sidecars = new Set(input.spec.initContainers.filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  const incomplete = input.initContainers
    .filter((c) => (sidecars.has(c.name) ? !c.started : !('terminated' in c.state && c.state.terminated.exitCode === 0)))
    .map((c) => c.name);
  const unready = [...input.initContainers.filter((c) => sidecars.has(c.name)), ...input.containers].filter((c) => !c.ready).map((c) => c.name);

  const initialized = input.initialized
    ? make('Initialized', true)
    : make('Initialized', false, 'ContainersNotInitialized', `containers with incomplete status: [${incomplete.join(' ')}]`);
  let containersReady: Condition;
  let ready: Condition;
  if (input.terminal !== undefined) {
    containersReady = make('ContainersReady', false, 'PodCompleted');
    ready = make('Ready', false, 'PodCompleted');
  } else if (unready.length > 0) {
    const message = `containers with unready status: [${unready.join(' ')}]`;
    containersReady = make('ContainersReady', false, 'ContainersNotReady', message);
    ready = make('Ready', false, 'ContainersNotReady', message);
  } else {
    containersReady = make('ContainersReady', true);
    const gate = gateProblem(input.spec.readinessGates, previous);
    ready = gate === undefined ? make('Ready', true) : make('Ready', false, 'ReadinessGatesNotReady', gate);
  }
  const others = previous.filter((c) => typeof c['type'] === 'string' && !OWNED.includes(c['type'])) as unknown as Condition[];
  return [initialized, ready, containersReady, make('PodScheduled', true, undefined, undefined, input.scheduledAt), ...others];
}

function gateProblem(gates: readonly string[], conditions: readonly Record<string, unknown>[]): string | undefined {
  const problems: string[] = [];
  for (const gate of gates) {
    const found = conditions.find((c) => c['type'] === gate);
    if (found === undefined) problems.push(`corresponding condition of pod readiness gate "${gate}" does not exist.`);
    else if (found['status'] !== 'True') problems.push(`the status of pod readiness gate "${gate}" is not "True", but ${String(found['status'])}`);
  }
  return problems.length === 0 ? undefined : problems.join(', ');
}

/** The whole status object to write. */
export function podStatus(input: PodStatusInput): Record<string, unknown> {
  const { current } = input;
  const status: Record<string, unknown> = {
    ...current,
    phase: podPhase(input),
    conditions: podConditions(input),
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    startTime: input.startTime,
    containerStatuses: [...input.containers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
  if (input.podIP === undefined) {
    delete status['podIP'];
    delete status['podIPs'];
  } else {
    status['podIP'] = input.podIP;
    status['podIPs'] = [{ ip: input.podIP }];
  }
  if (input.initContainers.length > 0) status['initContainerStatuses'] = input.initContainers;
  else delete status['initContainerStatuses'];
  return status;
}
