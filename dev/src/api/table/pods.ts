/**
 * Kubernetes' Pod printer (pkg/printers/internalversion printPod): NAME, READY, STATUS, RESTARTS, AGE, and with
 * `-o wide` IP, NODE, NOMINATED NODE, READINESS GATES. STATUS is the phase, or the reason a container or init
 * container gives (`Init:1/2`, `Init:CrashLoopBackOff`, `CrashLoopBackOff`, `Completed`, `ExitCode:1`,
 * `Signal:9`...), `Terminating` while being deleted; RESTARTS adds when the last restart was (`4 (30s ago)`). Pure.
 */
import type { KubeObject } from '../store.js';
import { column, AGE_COLUMN, NAME_COLUMN, type Convertor, type Row, type RowCondition } from './convertor.js';
import { DOC } from './descriptions.js';
import { since, sinceMs } from './duration.js';
import { ZERO_TIME, timeOf } from './time.js';
import { at, int, isRecord, list, record, str } from './value.js';

export const POD_COLUMNS = Object.freeze([
  NAME_COLUMN,
  column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
  column('Status', 'string', 'The aggregate status of the containers in this pod.'),
  column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
  AGE_COLUMN,
  column('IP', 'string', DOC.podStatusPodIP, { priority: 1 }),
  column('Node', 'string', DOC.podSpecNodeName, { priority: 1 }),
  column('Nominated Node', 'string', DOC.podStatusNominatedNodeName, { priority: 1 }),
  column('Readiness Gates', 'string', DOC.podSpecReadinessGates, { priority: 1 }),
]);

const SUCCEEDED: readonly RowCondition[] = Object.freeze([{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
const FAILED: readonly RowCondition[] = Object.freeze([{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }]);

/** The reason a pod whose node went away carries (node.NodeUnreachablePodReason). */
const NODE_LOST = 'NodeLost';

const hasCondition = (conditions: readonly unknown[], type: string): boolean => conditions.some((c) => isRecord(c) && c['type'] === type && c['status'] === 'True');

/** Whether the first condition of `type` is True (isPodInitializedConditionTrue). */
function firstConditionTrue(conditions: readonly unknown[], type: string): boolean {
  const found = conditions.find((c) => isRecord(c) && c['type'] === type);
  return isRecord(found) && found['status'] === 'True';
}

/** podutil.IsRestartableInitContainer: an init container with `restartPolicy: Always` (a native sidecar). */
const restartable = (container: unknown): boolean => isRecord(container) && container['restartPolicy'] === 'Always';

/** When a container status last terminated (Go's zero time when it has not). */
function lastTermination(status: Readonly<Record<string, unknown>>): number {
  const terminated = at(status, 'lastState', 'terminated');
  return isRecord(terminated) ? timeOf(terminated['finishedAt']) : ZERO_TIME;
}

/** The `Signal:N` / `ExitCode:N` text of a termination without a reason. */
const exitText = (terminated: Readonly<Record<string, unknown>>): string => (int(terminated['signal']) !== 0 ? `Signal:${int(terminated['signal'])}` : `ExitCode:${int(terminated['exitCode'])}`);

/** The effective pod IP: `podIP` wins over `podIPs` as the v1 → internal conversion decides. */
function podIp(status: Readonly<Record<string, unknown>>): string {
  const ip = str(status['podIP']);
  if (ip !== '') return ip;
  const first = list(status['podIPs'])[0];
  return str(isRecord(first) ? first['ip'] : undefined);
}

export function podRow(pod: KubeObject, now: Date): Row {
  const spec = record(pod['spec']);
  const status = record(pod['status']);
  const conditions = list(status['conditions']);
  const initContainers = list(spec['initContainers']);
  const phase = str(status['phase']);
  let reason = str(status['reason']) !== '' ? str(status['reason']) : phase;
  for (const c of conditions) if (isRecord(c) && c['type'] === 'PodScheduled' && c['reason'] === 'SchedulingGated') reason = 'SchedulingGated';

  let restarts = 0;
  let restartableRestarts = 0;
  let totalContainers = list(spec['containers']).length;
  let readyContainers = 0;
  let lastRestart = ZERO_TIME;
  let lastRestartableRestart = ZERO_TIME;

  const initByName = new Map<string, unknown>();
  for (const c of initContainers) {
    if (isRecord(c)) initByName.set(str(c['name']), c);
    if (restartable(c)) totalContainers++;
  }

  let initializing = false;
  const initStatuses = list(status['initContainerStatuses']);
  for (let i = 0; i < initStatuses.length; i++) {
    const container = record(initStatuses[i]);
    const isRestartable = restartable(initByName.get(str(container['name'])));
    const count = int(container['restartCount']);
    restarts += count;
    const terminatedAt = lastTermination(container);
    if (isRecord(at(container, 'lastState', 'terminated')) && lastRestart < terminatedAt) lastRestart = terminatedAt;
    if (isRestartable) {
      restartableRestarts += count;
      if (isRecord(at(container, 'lastState', 'terminated')) && lastRestartableRestart < terminatedAt) lastRestartableRestart = terminatedAt;
    }
    const terminated = at(container, 'state', 'terminated');
    const waitingReason = str(at(container, 'state', 'waiting', 'reason'));
    if (isRecord(terminated) && int(terminated['exitCode']) === 0) continue;
    if (isRestartable && container['started'] === true) {
      if (container['ready'] === true) readyContainers++;
      continue;
    }
    if (isRecord(terminated)) {
      reason = str(terminated['reason']) === '' ? `Init:${exitText(terminated)}` : `Init:${str(terminated['reason'])}`;
    } else if (isRecord(at(container, 'state', 'waiting')) && waitingReason !== '' && waitingReason !== 'PodInitializing') {
      reason = `Init:${waitingReason}`;
    } else {
      reason = `Init:${i}/${initContainers.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || firstConditionTrue(conditions, 'Initialized')) {
    restarts = restartableRestarts;
    lastRestart = lastRestartableRestart;
    let hasRunning = false;
    const statuses = list(status['containerStatuses']);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = record(statuses[i]);
      restarts += int(container['restartCount']);
      const terminatedAt = lastTermination(container);
      if (isRecord(at(container, 'lastState', 'terminated')) && lastRestart < terminatedAt) lastRestart = terminatedAt;
      const waitingReason = str(at(container, 'state', 'waiting', 'reason'));
      const terminated = at(container, 'state', 'terminated');
      if (isRecord(at(container, 'state', 'waiting')) && waitingReason !== '') reason = waitingReason;
      else if (isRecord(terminated) && str(terminated['reason']) !== '') reason = str(terminated['reason']);
      else if (isRecord(terminated)) reason = exitText(terminated);
      else if (container['ready'] === true && isRecord(at(container, 'state', 'running'))) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = hasCondition(conditions, 'Ready') ? 'Running' : 'NotReady';
  }

  const deleting = at(pod, 'metadata', 'deletionTimestamp');
  if (deleting !== undefined && deleting !== null && str(status['reason']) === NODE_LOST) reason = 'Unknown';
  else if (deleting !== undefined && deleting !== null && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartsText = restarts !== 0 && lastRestart !== ZERO_TIME ? `${restarts} (${sinceMs(lastRestart, now)} ago)` : String(restarts);

  const gates = list(spec['readinessGates']);
  let readinessGates = '<none>';
  if (gates.length > 0) {
    let trueConditions = 0;
    for (const gate of gates) {
      const type = str(isRecord(gate) ? gate['conditionType'] : undefined);
      const found = conditions.find((c) => isRecord(c) && c['type'] === type);
      if (isRecord(found) && found['status'] === 'True') trueConditions++;
    }
    readinessGates = `${trueConditions}/${gates.length}`;
  }
  const orNone = (s: string): string => (s === '' ? '<none>' : s);

  return {
    cells: [
      pod.metadata.name,
      `${readyContainers}/${totalContainers}`,
      reason,
      restartsText,
      since(pod.metadata['creationTimestamp'], now),
      orNone(podIp(status)),
      orNone(str(spec['nodeName'])),
      orNone(str(status['nominatedNodeName'])),
      readinessGates,
    ],
    ...(phase === 'Succeeded' ? { conditions: SUCCEEDED } : phase === 'Failed' ? { conditions: FAILED } : {}),
  };
}

export const PODS: Convertor = Object.freeze({ columns: POD_COLUMNS, row: podRow });
