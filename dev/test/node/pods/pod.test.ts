/**
 * A pod's life as the runner drives it, as root with a real test network: init containers in order and their
 * failures (retried with back-off, or failing the pod under `Never`), native sidecars that start first (after their
 * startup probe) and stop last, liveness failures that restart a container, readiness that keeps a pod unready,
 * restart policies and the phases they lead to, the user a container runs as, containers waiting for a missing
 * ConfigMap key or volume until it appears, and deletion killing the whole process tree and the namespace.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listNetns, netnsUnavailable, pidsInNetns } from '@loom/shared/netns';
import t from 'tap';
import type { KubeObject } from '../../../src/api/store.js';
import { alive, condition, containerStatus, harness, stateOf, statusOf, text, waitFor } from './support.js';

const unavailable = netnsUnavailable();



const lines = async (path: string): Promise<string[]> => (await readFile(path, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
const sh = (script: string): string[] => ['sh', '-c', script];
const eventsOf = (events: KubeObject[], reason: string): KubeObject[] => events.filter((e) => e['reason'] === reason);

if (unavailable !== null) {
  t.plan(0, unavailable);
} else {
  t.setTimeout(120_000);

  t.test('init containers run one after another to completion, then the app containers', async (t) => {
    const h = await harness(t);
    const file = join(h.dir, 'order');
    h.createPod({
      metadata: { name: 'inits' },
      spec: {
        initContainers: [
          { name: 'one', image: 'x', command: sh(`sleep 0.2; echo one >> ${file}`) },
          { name: 'two', image: 'x', command: sh(`echo two >> ${file}`) },
        ],
        containers: [{ name: 'app', image: 'x', command: sh(`echo app >> ${file}; exec sleep 1000`) }],
      },
    });
    const pod = await waitFor('Running', () => (statusOf(h.pod('inits'))['phase'] === 'Running' ? h.pod('inits') : undefined));
    t.strictSame(await waitFor('the app to write', async () => ((await lines(file)).length >= 3 ? lines(file) : undefined)), ['one', 'two', 'app']);
    t.equal(condition(pod, 'Initialized')?.['status'], 'True');
    for (const name of ['one', 'two']) {
      const s = containerStatus(pod, name, true);
      t.match(s, { ready: true, started: false, restartCount: 0 }, `${name}: completed counts as ready`);
      t.match(stateOf(s), ['terminated', { exitCode: 0, reason: 'Completed' }]);
    }
  });

  t.test('a failing init container: retried with back-off, or the pod fails under Never', async (t) => {
    const h = await harness(t);
    const tries = join(h.dir, 'tries');
    const init = { name: 'fails', image: 'x', command: sh(`echo try >> ${tries}; exit 3`) };
    const app = { name: 'app', image: 'x', command: ['sleep', '1000'] };
    h.createPod({ metadata: { name: 'retry' }, spec: { initContainers: [init], containers: [app] } });
    const looping = await waitFor('CrashLoopBackOff', () => {
      const pod = h.pod('retry');
      const s = containerStatus(pod, 'fails', true);
      return stateOf(s)?.[1]['reason'] === 'CrashLoopBackOff' && Number(s?.['restartCount']) >= 1 ? pod : undefined;
    });
    const s = containerStatus(looping, 'fails', true);
    t.match(s?.['lastState'], { terminated: { exitCode: 3, reason: 'Error' } });
    t.match(stateOf(s)?.[1]['message'], /^back-off \d+ms restarting failed container=fails pod=retry_default\(/);
    t.equal(statusOf(looping)['phase'], 'Pending');
    t.match(condition(looping, 'Initialized'), { status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [fails]' });
    t.match(stateOf(containerStatus(looping, 'app')), ['waiting', { reason: 'PodInitializing' }]);
    t.ok((await lines(tries)).length >= 2, 'it ran again');
    t.ok(eventsOf(h.events(), 'BackOff').some((e) => e['type'] === 'Warning'), 'a BackOff warning');

    h.createPod({ metadata: { name: 'never' }, spec: { restartPolicy: 'Never', initContainers: [{ ...init, command: ['sh', '-c', 'exit 3'] }], containers: [app] } });
    const failed = await waitFor('Failed', () => (statusOf(h.pod('never'))['phase'] === 'Failed' ? h.pod('never') : undefined));
    t.match(stateOf(containerStatus(failed, 'fails', true)), ['terminated', { exitCode: 3, reason: 'Error' }]);
    t.equal(containerStatus(failed, 'fails', true)?.['restartCount'], 0, 'not retried');
    t.match(stateOf(containerStatus(failed, 'app')), ['waiting', { reason: 'PodInitializing' }], 'the app never started');
  });

  t.test('a native sidecar starts first (once its startup probe passes), stays running, and stops last', async (t) => {
    const h = await harness(t);
    const file = join(h.dir, 'sidecar');
    const forever = (name: string, stopDelay: string) =>
      sh(`echo ${name}-start >> ${file}; trap 'sleep ${stopDelay}; echo ${name}-stop >> ${file}; exit 0' TERM; while :; do sleep 0.05; done`);
    const pod = h.createPod({
      metadata: { name: 'meshed' },
      spec: {
        terminationGracePeriodSeconds: 5,
        initContainers: [
          {
            name: 'proxy',
            image: 'x',
            restartPolicy: 'Always',
            command: forever('proxy', '0'),
            startupProbe: { exec: { command: ['grep', '-q', 'proxy-start', file] }, periodSeconds: 1 },
          },
          { name: 'init', image: 'x', command: sh(`echo init >> ${file}`) },
        ],
        containers: [{ name: 'app', image: 'x', command: forever('app', '0.3') }],
      },
    });
    const running = await waitFor('Running and Ready', () => (condition(h.pod('meshed'), 'Ready')?.['status'] === 'True' ? h.pod('meshed') : undefined));
    // Running means the app's process started (as for the kubelet), not that its first line is written yet.
    await waitFor('the app wrote its first line', async () => ((await lines(file)).includes('app-start') ? true : undefined));
    t.strictSame(await lines(file), ['proxy-start', 'init', 'app-start'], 'the sidecar, then the init container, then the app');
    t.match(containerStatus(running, 'proxy', true), { ready: true, started: true, restartCount: 0 });
    t.equal(stateOf(containerStatus(running, 'proxy', true))?.[0], 'running', 'the sidecar runs on');

    h.deletePod('meshed');
    await waitFor('the pod network to go', () => h.network.removed.includes(pod.metadata.uid ?? ''));
    t.strictSame(await lines(file), ['proxy-start', 'init', 'app-start', 'app-stop', 'proxy-stop'], 'the app stopped (slowly) before the sidecar was told to');
    const killing = eventsOf(h.events(), 'Killing').map((e) => e['message']);
    t.strictSame(killing, ['Stopping container app', 'Stopping container proxy']);
  });

  t.test('a failing liveness probe restarts the container', async (t) => {
    const h = await harness(t);
    h.createPod({
      metadata: { name: 'sick' },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'x',
            command: sh('echo run; exec sleep 1000'),
            livenessProbe: { tcpSocket: { port: 9 }, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 1 },
          },
        ],
      },
    });
    const pod = await waitFor('a restart', () => (Number(containerStatus(h.pod('sick'), 'c')?.['restartCount']) >= 1 ? h.pod('sick') : undefined));
    t.match(containerStatus(pod, 'c')?.['lastState'], { terminated: { exitCode: 143, reason: 'Error' } }, 'stopped with SIGTERM');
    const events = h.events();
    t.match(eventsOf(events, 'Unhealthy')[0], { type: 'Warning', message: /^Liveness probe failed: dial tcp 10\.244\.\d+\.\d+:9: connect: connection refused$/ });
    t.match(eventsOf(events, 'Killing')[0], { message: 'Container c failed liveness probe, will be restarted' });
    t.equal(await text(await h.runner.logsOf('default', 'sick', 'c', { previous: true })), 'run\n', 'the log of the run before');
  });

  t.test('a failing readiness probe keeps the pod unready, and says why', async (t) => {
    const h = await harness(t);
    h.createPod({
      metadata: { name: 'unready' },
      spec: { containers: [{ name: 'c', image: 'x', command: ['sleep', '1000'], readinessProbe: { exec: { command: ['sh', '-c', 'echo not yet; exit 1'] }, periodSeconds: 1 } }] },
    });
    const event = await waitFor('an Unhealthy event', () => eventsOf(h.events(), 'Unhealthy')[0]);
    t.equal(event['message'], 'Readiness probe failed: not yet');
    const pod = h.pod('unready');
    t.equal(statusOf(pod)['phase'], 'Running');
    t.match(condition(pod, 'ContainersReady'), { status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [c]' });
    t.match(condition(pod, 'Ready'), { status: 'False', reason: 'ContainersNotReady' });
    t.match(containerStatus(pod, 'c'), { ready: false, started: true });
  });

  t.test('restart policies and the phases they lead to', async (t) => {
    const h = await harness(t);
    const cases: [string, string, number, string][] = [
      ['never-ok', 'Never', 0, 'Succeeded'],
      ['never-fails', 'Never', 1, 'Failed'],
      ['onfailure-ok', 'OnFailure', 0, 'Succeeded'],
    ];
    for (const [name, restartPolicy, code] of cases) {
      h.createPod({ metadata: { name }, spec: { restartPolicy, containers: [{ name: 'c', image: 'x', command: sh(`exit ${code}`) }] } });
    }
    for (const [name, , code, phase] of cases) {
      const pod = await waitFor(`${name} to be ${phase}`, () => (statusOf(h.pod(name))['phase'] === phase ? h.pod(name) : undefined));
      t.match(stateOf(containerStatus(pod, 'c')), ['terminated', { exitCode: code, reason: code === 0 ? 'Completed' : 'Error' }], name);
      t.match(condition(pod, 'Ready'), { status: 'False', reason: 'PodCompleted' }, `${name}: Ready False, PodCompleted`);
    }
    // Always and OnFailure-with-a-failure restart, with back-off; the pod stays Running.
    h.createPod({ metadata: { name: 'always' }, spec: { containers: [{ name: 'c', image: 'x', command: sh('exit 0') }] } });
    h.createPod({ metadata: { name: 'onfailure' }, spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'x', command: sh('exit 2') }] } });
    for (const name of ['always', 'onfailure']) {
      const pod = await waitFor(`${name} to back off`, () => {
        const p = h.pod(name);
        return stateOf(containerStatus(p, 'c'))?.[1]['reason'] === 'CrashLoopBackOff' ? p : undefined;
      });
      t.equal(statusOf(pod)['phase'], 'Running', `${name}: Running while it restarts`);
      t.ok(Number(containerStatus(pod, 'c')?.['restartCount']) >= 1, `${name}: restarted`);
    }
    h.createPod({ metadata: { name: 'missing' }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x', command: ['no-such-program-here'] }] } });
    const missing = await waitFor('the start error', () => (statusOf(h.pod('missing'))['phase'] === 'Failed' ? h.pod('missing') : undefined));
    t.match(stateOf(containerStatus(missing, 'c')), ['terminated', { exitCode: 128, reason: 'StartError', message: 'exec: "no-such-program-here": executable file not found in $PATH' }]);
  });

  t.test('containers run as their securityContext says (the pod-level one is the default)', async (t) => {
    const h = await harness(t);
    const ids = sh('echo "$(id -u) $(id -g) $(id -G)"; echo "$HOME"');
    h.createPod({
      metadata: { name: 'users' },
      spec: {
        restartPolicy: 'Never',
        securityContext: { runAsUser: 1234, runAsGroup: 2345, supplementalGroups: [3456] },
        containers: [
          { name: 'pod-level', image: 'x', command: ids },
          { name: 'own', image: 'x', command: ids, securityContext: { runAsUser: 0 } },
          { name: 'refused', image: 'x', command: ids, securityContext: { runAsNonRoot: true, runAsUser: 0 } },
        ],
      },
    });
    await waitFor('the two to finish', () => ['pod-level', 'own'].every((c) => stateOf(containerStatus(h.pod('users'), c))?.[0] === 'terminated'));
    t.equal(await text(await h.runner.logsOf('default', 'users', 'pod-level')), '1234 2345 2345 3456\n/\n', 'uid, gid and groups from the pod');
    t.equal(await text(await h.runner.logsOf('default', 'users', 'own')), '0 2345 2345 3456\n/root\n', 'the container overrides the user');
    t.match(stateOf(containerStatus(h.pod('users'), 'refused')), ['waiting', { reason: 'CreateContainerConfigError', message: 'container has runAsNonRoot and image will run as root' }]);
  });

  t.test('containers wait for a missing ConfigMap key or volume, and start once it is there', async (t) => {
    const h = await harness(t);
    const mnt = join(h.dir, 'mnt', 'later');
    h.createPod({
      metadata: { name: 'env-later' },
      spec: { containers: [{ name: 'c', image: 'x', command: sh('echo "$V"; exec sleep 1000'), env: [{ name: 'V', valueFrom: { configMapKeyRef: { name: 'late', key: 'v' } } }] }] },
    });
    h.createPod({
      metadata: { name: 'volume-later' },
      spec: {
        containers: [{ name: 'c', image: 'x', command: sh(`cat ${mnt}/file; exec sleep 1000`), volumeMounts: [{ name: 'v', mountPath: mnt }] }],
        volumes: [{ name: 'v', secret: { secretName: 'late-secret' } }],
      },
    });
    const waiting = await waitFor('the config error', () => {
      const s = stateOf(containerStatus(h.pod('env-later'), 'c'));
      return s?.[0] === 'waiting' && s[1]['reason'] === 'CreateContainerConfigError' ? s[1] : undefined;
    });
    t.equal(waiting['message'], 'configmap "late" not found');
    const mount = await waitFor('FailedMount', () => eventsOf(h.events(), 'FailedMount')[0]);
    t.equal(mount['message'], 'MountVolume.SetUp failed for volume "v" : secret "late-secret" not found');
    t.match(stateOf(containerStatus(h.pod('volume-later'), 'c')), ['waiting', { reason: 'ContainerCreating' }]);

    h.create('configmaps', { metadata: { name: 'late' }, data: { v: 'arrived' } });
    h.create('secrets', { metadata: { name: 'late-secret' }, data: { file: Buffer.from('secret arrived').toString('base64') } });
    for (const [name, expected] of [
      ['env-later', 'arrived\n'],
      ['volume-later', 'secret arrived'],
    ] as const) {
      await waitFor(`${name} to run`, () => stateOf(containerStatus(h.pod(name), 'c'))?.[0] === 'running');
      const log = await waitFor(`${name}'s output`, async () => {
        const out = await text(await h.runner.logsOf('default', name, 'c'));
        return out === '' ? undefined : out;
      });
      t.equal(log, expected, name);
    }
  });

  t.test('deleting a pod kills its whole process tree and removes its namespace', async (t) => {
    const h = await harness(t);
    const pod = h.createPod({
      metadata: { name: 'tree' },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'x', command: sh("trap '' TERM; setsid sleep 1001 & sleep 1002 & wait") }] },
    });
    const uid = pod.metadata.uid ?? '';
    const netns = await waitFor('the netns', () => h.network.netnsOf(uid));
    const pids = await waitFor('three processes', async () => {
      const found = await pidsInNetns(netns);
      return found.length >= 3 ? found : undefined;
    });
    const started = Date.now();
    h.deletePod('tree');
    await waitFor('the pod network to go', () => h.network.removed.includes(uid));
    t.ok(Date.now() - started >= 900, 'a process ignoring SIGTERM had its grace period');
    t.strictSame(
      pids.filter((p) => alive(p)),
      [],
      'no process is left, not even the one in its own session',
    );
    t.notOk((await listNetns()).includes(netns), 'the namespace is gone');
    t.equal(h.runner.status().pods.length, 0);
  });
}
