import t from 'tap';
import { podRow } from '../../../src/api/table/pods.js';
import type { KubeObject } from '../../../src/api/store.js';

const NOW = new Date('2024-05-01T12:00:00Z');
const ago = (seconds: number): string => new Date(NOW.getTime() - seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

interface PodParts {
  readonly spec?: Record<string, unknown>;
  readonly status?: Record<string, unknown>;
  readonly metadata?: Record<string, unknown>;
}

const pod = (parts: PodParts): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'shop', creationTimestamp: ago(300), ...parts.metadata },
  spec: { containers: [{ name: 'app', image: 'app:1' }], ...parts.spec },
  status: parts.status ?? {},
});

const running = { running: { startedAt: ago(200) } };
const ready = (name: string, restartCount = 0): Record<string, unknown> => ({ name, ready: true, restartCount, state: running });
const waiting = (reason: string): Record<string, unknown> => ({ waiting: { reason } });
const terminated = (exitCode: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ terminated: { exitCode, finishedAt: ago(60), ...extra } });
const TWO = { containers: [{ name: 'app' }, { name: 'side' }] };

/** [case, pod, READY, STATUS, RESTARTS] */
const cases: [string, KubeObject, string, string, string][] = [
  ['pending without statuses', pod({ status: { phase: 'Pending' } }), '0/1', 'Pending', '0'],
  ['no status at all', pod({}), '0/1', '', '0'],
  ['running and ready', pod({ status: { phase: 'Running', containerStatuses: [ready('app')] } }), '1/1', 'Running', '0'],
  [
    'one ready container, one crash-looping',
    pod({
      spec: TWO,
      status: {
        phase: 'Running',
        containerStatuses: [ready('app'), { name: 'side', ready: false, restartCount: 4, state: waiting('CrashLoopBackOff'), lastState: terminated(1, { finishedAt: ago(30), reason: 'Error' }) }],
      },
    }),
    '1/2',
    'CrashLoopBackOff',
    '4 (30s ago)',
  ],
  ['restarts without a last termination', pod({ status: { phase: 'Running', containerStatuses: [ready('app', 3)] } }), '1/1', 'Running', '3'],
  [
    'the first container decides the reason',
    pod({ spec: TWO, status: { phase: 'Running', containerStatuses: [{ name: 'app', state: waiting('ImagePullBackOff') }, { name: 'side', state: waiting('ErrImagePull') }] } }),
    '0/2',
    'ImagePullBackOff',
    '0',
  ],
  ['ContainerCreating', pod({ status: { phase: 'Pending', containerStatuses: [{ name: 'app', ready: false, state: waiting('ContainerCreating') }] } }), '0/1', 'ContainerCreating', '0'],
  ['an empty waiting reason keeps the phase', pod({ status: { phase: 'Pending', containerStatuses: [{ name: 'app', state: { waiting: {} } }] } }), '0/1', 'Pending', '0'],
  ['running but not ready', pod({ status: { phase: 'Running', containerStatuses: [{ name: 'app', ready: false, state: running }] } }), '0/1', 'Running', '0'],
  ['terminated with a reason', pod({ status: { phase: 'Running', containerStatuses: [{ name: 'app', state: terminated(137, { reason: 'OOMKilled' }) }] } }), '0/1', 'OOMKilled', '0'],
  ['terminated by a signal', pod({ status: { phase: 'Running', containerStatuses: [{ name: 'app', state: terminated(137, { signal: 9 }) }] } }), '0/1', 'Signal:9', '0'],
  ['terminated with an exit code', pod({ status: { phase: 'Failed', containerStatuses: [{ name: 'app', state: terminated(2) }] } }), '0/1', 'ExitCode:2', '0'],
  ['completed', pod({ status: { phase: 'Succeeded', containerStatuses: [{ name: 'app', state: terminated(0, { reason: 'Completed' }) }] } }), '0/1', 'Completed', '0'],
  [
    'one completed, one still running and the pod ready',
    pod({ spec: TWO, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'app', state: terminated(0, { reason: 'Completed' }) }, ready('side')] } }),
    '1/2',
    'Running',
    '0',
  ],
  [
    'one completed, one still running, the pod not ready',
    pod({ spec: TWO, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ name: 'app', state: terminated(0, { reason: 'Completed' }) }, ready('side')] } }),
    '1/2',
    'NotReady',
    '0',
  ],
  ['the pod reason wins over the phase', pod({ status: { phase: 'Failed', reason: 'Evicted' } }), '0/1', 'Evicted', '0'],
  ['scheduling gated', pod({ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] } }), '0/1', 'SchedulingGated', '0'],
  [
    'init containers: the second of three runs',
    pod({
      spec: { initContainers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }], containers: [{ name: 'app' }] },
      status: { phase: 'Pending', initContainerStatuses: [{ name: 'a', state: terminated(0, { reason: 'Completed' }) }, { name: 'b', state: running }, { name: 'c', state: waiting('PodInitializing') }], containerStatuses: [{ name: 'app', state: waiting('PodInitializing') }] },
    }),
    '0/1',
    'Init:1/3',
    '0',
  ],
  [
    'init container waiting for the pod to initialize',
    pod({ spec: { initContainers: [{ name: 'a' }] }, status: { phase: 'Pending', initContainerStatuses: [{ name: 'a', state: waiting('PodInitializing') }] } }),
    '0/1',
    'Init:0/1',
    '0',
  ],
  [
    'init container crash-looping',
    pod({ spec: { initContainers: [{ name: 'a' }] }, status: { phase: 'Pending', initContainerStatuses: [{ name: 'a', restartCount: 2, state: waiting('CrashLoopBackOff'), lastState: terminated(1, { finishedAt: ago(10) }) }] } }),
    '0/1',
    'Init:CrashLoopBackOff',
    '2 (10s ago)',
  ],
  ['init container failed with a reason', pod({ spec: { initContainers: [{ name: 'a' }] }, status: { phase: 'Pending', initContainerStatuses: [{ name: 'a', state: terminated(1, { reason: 'Error' }) }] } }), '0/1', 'Init:Error', '0'],
  ['init container failed with an exit code', pod({ spec: { initContainers: [{ name: 'a' }] }, status: { phase: 'Pending', initContainerStatuses: [{ name: 'a', state: terminated(3) }] } }), '0/1', 'Init:ExitCode:3', '0'],
  ['init container killed by a signal', pod({ spec: { initContainers: [{ name: 'a' }] }, status: { phase: 'Pending', initContainerStatuses: [{ name: 'a', state: terminated(137, { signal: 9 }) }] } }), '0/1', 'Init:Signal:9', '0'],
  [
    'a native sidecar counts as a container, and its restarts too',
    pod({
      spec: { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }], containers: [{ name: 'app' }] },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [{ name: 'proxy', started: true, ready: true, restartCount: 1, state: running, lastState: terminated(1, { finishedAt: ago(150) }) }],
        containerStatuses: [ready('app')],
      },
    }),
    '2/2',
    'Running',
    '1 (2m30s ago)',
  ],
  [
    'a sidecar that has not started holds initialization',
    pod({
      spec: { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }], containers: [{ name: 'app' }] },
      status: { phase: 'Pending', initContainerStatuses: [{ name: 'proxy', started: false, state: running }], containerStatuses: [{ name: 'app', state: waiting('PodInitializing') }] },
    }),
    '0/2',
    'Init:0/1',
    '0',
  ],
  [
    'initialized: the main containers decide even when an init container reports a failure',
    pod({
      spec: { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }], containers: [{ name: 'app' }] },
      status: { phase: 'Running', conditions: [{ type: 'Initialized', status: 'True' }], initContainerStatuses: [{ name: 'proxy', started: false, restartCount: 5, state: waiting('CrashLoopBackOff') }], containerStatuses: [{ name: 'app', state: waiting('CrashLoopBackOff'), restartCount: 1 }] },
    }),
    '0/2',
    'CrashLoopBackOff',
    '6',
  ],
  ['being deleted', pod({ metadata: { deletionTimestamp: ago(5) }, status: { phase: 'Running', containerStatuses: [ready('app')] } }), '1/1', 'Terminating', '0'],
  ['deleted after it succeeded', pod({ metadata: { deletionTimestamp: ago(5) }, status: { phase: 'Succeeded', containerStatuses: [{ name: 'app', state: terminated(0, { reason: 'Completed' }) }] } }), '0/1', 'Completed', '0'],
  ['deleted on a lost node', pod({ metadata: { deletionTimestamp: ago(5) }, status: { phase: 'Running', reason: 'NodeLost' } }), '0/1', 'Unknown', '0'],
];

t.test('READY, STATUS and RESTARTS as kubectl get pods shows them', (t) => {
  for (const [name, object, readyText, status, restarts] of cases) {
    const { cells } = podRow(object, NOW);
    t.same(cells.slice(0, 5), ['web-1', readyText, status, restarts, '5m'], name);
  }
  t.end();
});

t.test('wide columns: IP, NODE, NOMINATED NODE, READINESS GATES', (t) => {
  const wide = (object: KubeObject): unknown[] => [...podRow(object, NOW).cells.slice(5)];
  t.same(wide(pod({})), ['<none>', '<none>', '<none>', '<none>'], 'nothing known yet');
  t.same(
    wide(
      pod({
        spec: { nodeName: 'node-1', readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }] },
        status: { podIPs: [{ ip: '10.1.0.5' }, { ip: 'fd00::5' }], nominatedNodeName: 'node-2', conditions: [{ type: 'example.com/lb', status: 'True' }, { type: 'example.com/dns', status: 'False' }] },
      }),
    ),
    ['10.1.0.5', 'node-1', 'node-2', '1/2'],
  );
  t.same(wide(pod({ status: { podIP: '10.1.0.7', podIPs: [{ ip: '10.1.0.5' }] } }))[0], '10.1.0.7', 'podIP wins over a different podIPs[0]');
  t.end();
});

t.test('completed and failed pods carry a row condition', (t) => {
  t.same(podRow(pod({ status: { phase: 'Succeeded' } }), NOW).conditions, [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
  t.same(podRow(pod({ status: { phase: 'Failed' } }), NOW).conditions, [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }]);
  t.equal(podRow(pod({ status: { phase: 'Running' } }), NOW).conditions, undefined);
  t.end();
});
