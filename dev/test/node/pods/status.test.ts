/** A pod's status from its containers: phases, conditions with their transition times, kept foreign fields. */
import t from 'tap';
import { podView } from '../../../src/node/pods/spec.js';
import { podConditions, podPhase, podStatus, type Condition, type ContainerState, type ContainerStatus, type PodStatusInput } from '../../../src/node/pods/status.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:01:00Z';

function spec(restartPolicy = 'Always', extra: Record<string, unknown> = {}) {
  return podView({
    metadata: { name: 'p' },
    spec: {
      restartPolicy,
      initContainers: [
        { name: 'init', image: 'x' },
        { name: 'side', image: 'x', restartPolicy: 'Always' },
      ],
      containers: [
        { name: 'b', image: 'x' },
        { name: 'a', image: 'x' },
      ],
      ...extra,
    },
  }).spec;
}

const running: ContainerState = { running: { startedAt: T0 } };
const waiting = (reason: string): ContainerState => ({ waiting: { reason } });
const exited = (exitCode: number): ContainerState => ({ terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: T0, finishedAt: T0 } });

function c(name: string, state: ContainerState, more: Partial<ContainerStatus> = {}): ContainerStatus {
  return { name, image: 'x', imageID: '', state, lastState: {}, ready: false, restartCount: 0, started: 'running' in state, ...more };
}
const restarting = (name: string): ContainerStatus => c(name, waiting('CrashLoopBackOff'), { lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: T0, finishedAt: T0 } }, restartCount: 1 });

t.test('podPhase, table', (t) => {
  const cases: [string, string, ContainerStatus[], boolean, string, ('Succeeded' | 'Failed')?][] = [
    ['not initialized', 'Always', [c('a', waiting('PodInitializing'))], false, 'Pending'],
    ['waiting for a first start', 'Always', [c('a', running), c('b', waiting('ContainerCreating'))], true, 'Pending'],
    ['running', 'Always', [c('a', running), c('b', running)], true, 'Running'],
    ['one running, one restarting', 'Always', [c('a', running), restarting('b')], true, 'Running'],
    ['all restarting (Always)', 'Always', [restarting('a'), restarting('b')], true, 'Running'],
    ['all exited 0 (Never)', 'Never', [c('a', exited(0)), c('b', exited(0))], true, 'Succeeded'],
    ['one failed (Never)', 'Never', [c('a', exited(0)), c('b', exited(1))], true, 'Failed'],
    ['one failed (OnFailure): it restarts', 'OnFailure', [c('a', exited(0)), c('b', exited(1))], true, 'Running'],
    ['all exited 0 (OnFailure)', 'OnFailure', [c('a', exited(0))], true, 'Succeeded'],
    ['terminal wins', 'Always', [c('a', running)], true, 'Failed', 'Failed'],
  ];
  for (const [what, policy, containers, initialized, phase, terminal] of cases) {
    t.equal(podPhase({ spec: spec(policy), containers, initialized, ...(terminal === undefined ? {} : { terminal }) }), phase, what);
  }
  t.end();
});

function input(more: Partial<PodStatusInput>): PodStatusInput {
  return {
    spec: spec(),
    initContainers: [c('init', exited(0), { ready: true }), c('side', running, { ready: true })],
    containers: [c('b', running, { ready: true }), c('a', running, { ready: true })],
    initialized: true,
    hostIP: '10.0.0.1',
    podIP: '10.0.0.9',
    startTime: T0,
    scheduledAt: T0,
    current: {},
    now: T1,
    ...more,
  };
}

const summary = (conditions: readonly Condition[]) => conditions.map((x) => [x.type, x.status, x.reason ?? '', x.message ?? '']);

t.test('conditions: initialization, readiness (sidecars count), completion', (t) => {
  t.strictSame(summary(podConditions(input({}))), [
    ['Initialized', 'True', '', ''],
    ['Ready', 'True', '', ''],
    ['ContainersReady', 'True', '', ''],
    ['PodScheduled', 'True', '', ''],
  ]);
  t.strictSame(
    summary(podConditions(input({ initialized: false, initContainers: [c('init', running), c('side', waiting('PodInitializing'))], containers: [c('b', waiting('PodInitializing')), c('a', waiting('PodInitializing'))] }))),
    [
      ['Initialized', 'False', 'ContainersNotInitialized', 'containers with incomplete status: [init side]'],
      ['Ready', 'False', 'ContainersNotReady', 'containers with unready status: [side b a]'],
      ['ContainersReady', 'False', 'ContainersNotReady', 'containers with unready status: [side b a]'],
      ['PodScheduled', 'True', '', ''],
    ],
  );
  t.strictSame(
    summary(podConditions(input({ initContainers: [c('init', exited(0), { ready: true }), c('side', running, { ready: false })] }))).slice(1, 3),
    [
      ['Ready', 'False', 'ContainersNotReady', 'containers with unready status: [side]'],
      ['ContainersReady', 'False', 'ContainersNotReady', 'containers with unready status: [side]'],
    ],
    'an unready sidecar makes the pod unready',
  );
  t.strictSame(
    summary(podConditions(input({ terminal: 'Succeeded', containers: [c('b', exited(0)), c('a', exited(0))] }))).slice(1, 3),
    [
      ['Ready', 'False', 'PodCompleted', ''],
      ['ContainersReady', 'False', 'PodCompleted', ''],
    ],
  );
  t.end();
});

t.test('readiness gates: Ready waits for the conditions others set, which are kept', (t) => {
  const gated = spec('Always', { readinessGates: [{ conditionType: 'example.com/lb' }] });
  const missing = podConditions(input({ spec: gated }));
  t.match(missing[1], { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: 'corresponding condition of pod readiness gate "example.com/lb" does not exist.' });
  const lb = { type: 'example.com/lb', status: 'False', lastTransitionTime: T0 };
  const notYet = podConditions(input({ spec: gated, current: { conditions: [lb] } }));
  t.match(notYet[1], { status: 'False', message: 'the status of pod readiness gate "example.com/lb" is not "True", but False' });
  t.strictSame(notYet[4], lb, 'a condition someone else set is kept');
  const ok = podConditions(input({ spec: gated, current: { conditions: [{ ...lb, status: 'True' }] } }));
  t.match(ok[1], { type: 'Ready', status: 'True' });
  t.end();
});

t.test('lastTransitionTime changes only with the status', (t) => {
  const before = podConditions(input({ now: T0 }));
  const same = podConditions(input({ now: T1, current: { conditions: before } }));
  t.strictSame(
    same.map((x) => x.lastTransitionTime),
    [T0, T0, T0, T0],
    'unchanged: kept',
  );
  const flipped = podConditions(input({ now: T1, current: { conditions: before }, containers: [c('b', running), c('a', running, { ready: true })] }));
  t.strictSame(
    flipped.map((x) => [x.type, x.lastTransitionTime]),
    [
      ['Initialized', T0],
      ['Ready', T1],
      ['ContainersReady', T1],
      ['PodScheduled', T0],
    ],
  );
  t.end();
});

t.test('podStatus: addresses, sorted container statuses, foreign fields kept', (t) => {
  const status = podStatus(input({ current: { qosClass: 'BestEffort', podIP: 'stale', nominatedNodeName: 'x' } }));
  t.match(status, { phase: 'Running', hostIP: '10.0.0.1', hostIPs: [{ ip: '10.0.0.1' }], podIP: '10.0.0.9', podIPs: [{ ip: '10.0.0.9' }], startTime: T0, qosClass: 'BestEffort', nominatedNodeName: 'x' });
  t.strictSame(
    (status['containerStatuses'] as ContainerStatus[]).map((x) => x.name),
    ['a', 'b'],
    'app containers sorted by name',
  );
  t.strictSame(
    (status['initContainerStatuses'] as ContainerStatus[]).map((x) => x.name),
    ['init', 'side'],
    'init containers in spec order',
  );
  const withoutIP: Record<string, unknown> = { ...input({ current: { podIP: 'stale', podIPs: [] } }) };
  delete withoutIP['podIP'];
  const early = podStatus(withoutIP as unknown as PodStatusInput);
  t.notOk('podIP' in early || 'podIPs' in early, 'no address yet: none shown');
  const noInit = podStatus(input({ initContainers: [], current: { initContainerStatuses: [] } }));
  t.notOk('initContainerStatuses' in noInit);
  t.end();
});
