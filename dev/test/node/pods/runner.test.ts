/**
 * The pod runner end to end, as root with a real test network: a pod whose container is a Node HTTP server
 * becomes Ready through its httpGet readiness probe and shows what its process sees (environment from the
 * downward API, ConfigMaps, Secrets and resources; `$(VAR)` expansion; hostname; working directory; volumes of
 * every kind, read-only where asked; the projected token the issuer gave), files that follow ConfigMap and label
 * changes, tokens issued again before they expire, `kubectl logs` answers, the event for an image without a
 * command, and `stop()` leaving nothing running.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { listNetns, netnsUnavailable, pidsInNetns } from '@loom/shared/netns';
import t from 'tap';
import { EVENT_SOURCE } from '../../../src/node/pods/events.js';
import { SERVICE_ACCOUNT_PATH } from '../../../src/node/pods/pod.js';
import { LogsError } from '../../../src/node/pods/runner.js';
import { alive, condition, containerStatus, harness, stateOf, statusOf, text, waitFor, type Harness } from './support.js';

const unavailable = netnsUnavailable();



const SERVER = `
const http = require('http'), fs = require('fs'), os = require('os');
const M = process.env.MNT;
const read = (p) => { try { return fs.readFileSync(M + '/' + p, 'utf8'); } catch (e) { return 'ERR ' + e.code; } };
const writable = (p) => { try { fs.writeFileSync(M + '/' + p, 'x'); return 'yes'; } catch (e) { return e.code; } };
let probe = {};
http.createServer((req, res) => {
  if (req.url === '/healthz') { probe = { agent: req.headers['user-agent'], custom: req.headers['x-probe'] }; return res.end('ok'); }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({
    env: process.env, argv: process.argv.slice(1), hostname: os.hostname(), cwd: process.cwd(), uid: process.getuid(), probe,
    files: {
      config: read('config/file.txt'), greeting: read('config/greeting'), single: read('greeting.txt'), secret: read('secret/password'),
      labels: read('info/labels'), name: read('info/name'), token: read('token/vault-token'), nested: read('token/nested/greeting'),
    },
    writable: { secret: writable('secret/new'), scratch: writable('scratch/new') },
  }));
}).listen(8080, '0.0.0.0', () => console.log('listening'));
`;

const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });

function webPod(mnt: string): Record<string, unknown> {
  return {
    metadata: { name: 'web', labels: { app: 'web', tier: 'front' }, annotations: { note: 'n1' } },
    spec: {
      serviceAccountName: 'builder',
      containers: [
        {
          name: 'server',
          image: 'node',
          command: [process.execPath, '-e', SERVER],
          args: ['$(POD_NAME)', '$$(POD_NAME)', '$(UNDEFINED_VAR)'],
          workingDir: mnt,
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/healthz', port: 'http', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] }, periodSeconds: 1 },
          resources: { limits: { cpu: '1500m', memory: '128Mi' }, requests: { memory: '64Mi' } },
          envFrom: [{ configMapRef: { name: 'web-config' }, prefix: 'CFG_' }],
          env: [
            { name: 'MNT', value: mnt },
            fieldEnv('POD_NAME', 'metadata.name'),
            fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
            fieldEnv('POD_UID', 'metadata.uid'),
            fieldEnv('POD_IP', 'status.podIP'),
            fieldEnv('HOST_IP', 'status.hostIP'),
            fieldEnv('NODE_NAME', 'spec.nodeName'),
            fieldEnv('SA', 'spec.serviceAccountName'),
            fieldEnv('APP', "metadata.labels['app']"),
            fieldEnv('NOTE', "metadata.annotations['note']"),
            { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'greeting' } } },
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'web-secret', key: 'password' } } },
            { name: 'MAYBE', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x', optional: true } } },
            { name: 'COMPOSED', value: '$(POD_NAME).$(POD_NAMESPACE) $$(POD_NAME) $(LATER)' },
            { name: 'LATER', value: 'later' },
            { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
            { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'requests.memory', divisor: '1Mi' } } },
          ],
          volumeMounts: [
            { name: 'config', mountPath: `${mnt}/config` },
            { name: 'config', mountPath: `${mnt}/greeting.txt`, subPath: 'greeting' },
            { name: 'secret', mountPath: `${mnt}/secret`, readOnly: true },
            { name: 'info', mountPath: `${mnt}/info` },
            { name: 'token', mountPath: `${mnt}/token` },
            { name: 'scratch', mountPath: `${mnt}/scratch` },
          ],
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: 'web-config' } },
        { name: 'secret', secret: { secretName: 'web-secret' } },
        { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
        {
          name: 'token',
          projected: {
            sources: [
              { serviceAccountToken: { audience: 'vault', expirationSeconds: 600, path: 'vault-token' } },
              { configMap: { name: 'web-config', items: [{ key: 'greeting', path: 'nested/greeting' }] } },
            ],
          },
        },
        { name: 'scratch', emptyDir: {} },
      ],
    },
  };
}

interface Seen {
  env: Record<string, string>;
  argv: string[];
  hostname: string;
  cwd: string;
  uid: number;
  probe: { agent?: string; custom?: string };
  files: Record<string, string>;
  writable: Record<string, string>;
}

if (unavailable !== null) {
  t.plan(0, unavailable);
} else {
  t.setTimeout(120_000);

  t.test('an HTTP server pod: Ready through its probe, with the environment and volumes Kubernetes gives', async (t) => {
    const h = await harness(t);
    const mnt = join(h.dir, 'mnt', 'web');
    await mkdir(mnt, { recursive: true });
    h.create('configmaps', { metadata: { name: 'web-config' }, data: { greeting: 'hello', 'file.txt': 'from configmap' } });
    h.create('secrets', { metadata: { name: 'web-secret' }, data: { password: Buffer.from('s3cret').toString('base64') } });
    const created = h.createPod(webPod(mnt));
    const uid = created.metadata.uid ?? '';

    const ready = await waitFor('the pod to be Ready', () => (condition(h.pod('web'), 'Ready')?.['status'] === 'True' ? h.pod('web') : undefined), 15_000);
    const status = statusOf(ready);
    const podIP = String(status['podIP']);
    t.equal((ready['spec'] as Record<string, unknown>)['nodeName'], 'test-node', 'bound to the node');
    t.equal(status['phase'], 'Running');
    t.equal(status['hostIP'], h.network.gateway, 'hostIP is the gateway pods see');
    t.strictSame(status['podIPs'], [{ ip: podIP }]);
    t.strictSame(status['hostIPs'], [{ ip: h.network.gateway }]);
    t.match(status['startTime'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    for (const type of ['Initialized', 'ContainersReady', 'PodScheduled']) t.equal(condition(ready, type)?.['status'], 'True', `${type} is True`);
    const server = containerStatus(ready, 'server');
    t.match(server, { name: 'server', ready: true, started: true, restartCount: 0, image: 'node', imageID: '' });
    t.match(server?.['containerID'], /^loom:\/\/\d+$/);
    t.equal(stateOf(server)?.[0], 'running');

    const seen = (await (await fetch(`http://${podIP}:8080/`)).json()) as Seen;
    t.match(
      seen.env,
      {
        POD_NAME: 'web',
        POD_NAMESPACE: 'default',
        POD_UID: uid,
        POD_IP: podIP,
        HOST_IP: h.network.gateway,
        NODE_NAME: 'test-node',
        SA: 'builder',
        APP: 'web',
        NOTE: 'n1',
        GREETING: 'hello',
        PASSWORD: 's3cret',
        COMPOSED: 'web.default $(POD_NAME) $(LATER)',
        LATER: 'later',
        CPU: '2',
        MEM_MI: '64',
        CFG_greeting: 'hello',
        'CFG_file.txt': 'from configmap',
        HOSTNAME: 'web',
      },
      'the environment: downward API, ConfigMap and Secret keys, resources, expansion in order',
    );
    t.notOk('MAYBE' in seen.env, 'a missing optional key leaves the variable out');
    t.strictSame(seen.argv, ['web', '$(POD_NAME)', '$(UNDEFINED_VAR)'], 'args expanded, $$ escaped, undefined references kept');
    t.equal(seen.hostname, 'web', 'the hostname is the pod name');
    t.equal(seen.cwd, mnt, 'workingDir');
    t.equal(seen.uid, 0);
    t.strictSame(seen.probe, { agent: 'kube-probe/1.32', custom: 'yes' }, 'the probe sends its User-Agent and the httpHeaders');
    const token = h.tokens.requests[0];
    t.match(token, { namespace: 'default', serviceAccount: 'builder', audiences: ['vault'], expirationSeconds: 600, pod: { name: 'web', uid } }, 'the token was asked for the audience');
    t.strictSame(
      seen.files,
      {
        config: 'from configmap',
        greeting: 'hello',
        single: 'hello',
        secret: 's3cret',
        labels: 'app="web"\ntier="front"',
        name: 'web',
        token: 'token-1-default-builder-vault',
        nested: 'hello',
      },
      'every volume kind at its mountPath (subPath, projected items)',
    );
    t.strictSame(seen.writable, { secret: 'EROFS', scratch: 'yes' }, 'readOnly mounts are read-only, emptyDir is writable');

    const events = h.events().filter((e) => (e['involvedObject'] as Record<string, unknown>)['uid'] === uid);
    t.ok(events.some((e) => e['reason'] === 'Scheduled' && e['message'] === 'Successfully assigned default/web to test-node'), 'a Scheduled event');
    const started = events.find((e) => e['reason'] === 'Started');
    t.match(started, { type: 'Normal', message: 'Started container server', source: { component: EVENT_SOURCE, host: 'test-node' }, involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{server}' }, count: 1 });

    const shown = h.runner.status().pods.find((p) => p.name === 'web');
    t.match(shown, { namespace: 'default', uid, phase: 'Running', ip: podIP, terminating: false });
    t.match(shown?.containers[0], { name: 'server', kind: 'app', state: 'running', restartCount: 0 });
    t.type(shown?.containers[0]?.pid, 'number');
    t.match(await text(await h.runner.logsOf('default', 'web', undefined)), /^listening\n$/, 'kubectl logs: the container output');

    // What the container sees follows ConfigMap and label changes.
    const configMaps = h.objects.registry.find('', 'v1', 'configmaps');
    const pods = h.objects.registry.find('', 'v1', 'pods');
    if (configMaps === undefined || pods === undefined) throw new Error('no types');
    h.objects.patch(configMaps, 'default', 'web-config', 'merge', { data: { greeting: 'hola' } }, undefined);
    h.objects.patch(pods, 'default', 'web', 'merge', { metadata: { labels: { tier: 'back' } } }, undefined);
    const after = await waitFor('the files to change', async () => {
      const s = (await (await fetch(`http://${podIP}:8080/`)).json()) as Seen;
      return s.files['greeting'] === 'hola' && s.files['labels']?.includes('back') === true ? s : undefined;
    });
    t.equal(after.files['nested'], 'hola', 'projected ConfigMap items follow too');
    t.equal(after.files['single'], 'hello', 'a subPath mount keeps what it had (as in Kubernetes)');
  });

  t.test('pods bound to another node are left alone; a pod bound to this one is run as it is', async (t) => {
    const h = await harness(t);
    h.createPod({ metadata: { name: 'elsewhere' }, spec: { nodeName: 'other-node', containers: [{ name: 'c', image: 'x', command: ['sleep', '1000'] }] } });
    h.createPod({ metadata: { name: 'here' }, spec: { nodeName: 'test-node', containers: [{ name: 'c', image: 'x', command: ['sleep', '1000'] }] } });
    await waitFor('here to run', () => statusOf(h.pod('here'))['phase'] === 'Running');
    t.strictSame(statusOf(h.pod('elsewhere')), { phase: 'Pending', qosClass: 'BestEffort' }, 'not touched');
    t.strictSame(
      h.runner.status().pods.map((p) => p.name),
      ['here'],
    );
    t.notOk(
      h.events().some((e) => e['reason'] === 'Scheduled'),
      'no Scheduled event for a pod that came bound',
    );
  });

  t.test('tokens are issued again at 80% of their life', async (t) => {
    const h = await harness(t);
    h.tokens.lifetimeSeconds = 2;
    const file = join(h.dir, 'mnt', 'tok');
    h.createPod({
      metadata: { name: 'tok' },
      spec: {
        containers: [{ name: 'c', image: 'x', command: ['sleep', '1000'], volumeMounts: [{ name: 't', mountPath: file }] }],
        volumes: [{ name: 't', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] } }],
      },
    });
    const stateDir = join(h.dir, 'state', 'pods');
    const first = await waitFor('the first token', () => (h.tokens.requests.length >= 1 ? h.tokens.requests.length : undefined));
    t.equal(first, 1);
    await waitFor('a second token', () => (h.tokens.requests.length >= 2 ? true : undefined), 5_000);
    const [podDir] = h.runner.status().pods.map((p) => `${p.namespace}_${p.name}_${p.uid}`);
    const content = await waitFor('the file to hold the second token', async () => {
      const c = await readFile(join(stateDir, podDir ?? '', 'volumes', 't', 'token'), 'utf8');
      return c.startsWith('token-2-') ? c : undefined;
    });
    t.equal(content, 'token-2-default-default-', 'the new token, for the default ServiceAccount and the API audience');
  });

  t.test('a container with an image and no command: it waits, and an event says why', async (t) => {
    const h = await harness(t);
    const pod = h.createPod({ metadata: { name: 'nginx' }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } });
    const event = await waitFor('the event', () => h.events().find((e) => e['reason'] === 'Failed'));
    t.equal(event['type'], 'Warning');
    t.match(event['message'], /container "web" has image "nginx:1\.27" and no command: the local cluster runs commands, not images/);
    t.match(event['involvedObject'], { uid: pod.metadata.uid, fieldPath: 'spec.containers{web}' });
    const waiting = await waitFor('the waiting state', () => {
      const s = stateOf(containerStatus(h.pod('nginx'), 'web'));
      return s?.[0] === 'waiting' && s[1]['reason'] === 'RunContainerError' ? s[1] : undefined;
    });
    t.match(waiting['message'], /runs commands, not images/);
    t.equal(statusOf(h.pod('nginx'))['phase'], 'Pending');
    await t.rejects(h.runner.logsOf('default', 'nginx', 'web'), { name: 'LogsError', status: 400, message: 'container "web" in pod "nginx" is waiting to start: RunContainerError' });
  });

  t.test('logs: tail, previous, follow, and the API errors for what is not there', async (t) => {
    const h = await harness(t);
    h.createPod({
      metadata: { name: 'talker' },
      spec: {
        restartPolicy: 'Always',
        initContainers: [{ name: 'setup', image: 'x', command: ['sh', '-c', 'echo init done'] }],
        containers: [
          { name: 'a', image: 'x', command: ['sh', '-c', 'for i in 1 2 3 4 5; do echo "line $i"; done; sleep 0.3; exit 1'] },
          { name: 'b', image: 'x', command: ['sleep', '1000'] },
        ],
      },
    });
    await waitFor('a restart of a', () => Number(containerStatus(h.pod('talker'), 'a')?.['restartCount'] ?? 0) >= 1);
    t.equal(await text(await h.runner.logsOf('default', 'talker', 'a', { previous: true })), 'line 1\nline 2\nline 3\nline 4\nline 5\n', '--previous: the run before');
    t.equal(await text(await h.runner.logsOf('default', 'talker', 'a', { previous: true, tailLines: 2 })), 'line 4\nline 5\n', '--tail');
    t.equal(await text(await h.runner.logsOf('default', 'talker', 'setup')), 'init done\n', 'an init container');
    const followed = await h.runner.logsOf('default', 'talker', 'a', { follow: true });
    const all = await text(followed);
    t.match(all, /line 5\n$/, '-f ends when the run ends');
    const cases: [string, () => Promise<unknown>, number, string][] = [
      ['no such pod', () => h.runner.logsOf('default', 'nope', 'a'), 404, 'pods "nope" not found'],
      ['no such container', () => h.runner.logsOf('default', 'talker', 'zz'), 400, 'container zz is not valid for pod talker'],
      ['no container named', () => h.runner.logsOf('default', 'talker', undefined), 400, 'a container name must be specified for pod talker, choose one of: [a b] or one of the init containers: [setup]'],
      ['no previous run', () => h.runner.logsOf('default', 'talker', 'b', { previous: true }), 400, 'previous terminated container "b" in pod "talker" not found'],
    ];
    for (const [what, call, status, message] of cases) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      t.ok(err instanceof LogsError, `${what}: a LogsError`);
      t.match(err, { status, message }, what);
    }
  });

  t.test('the ServiceAccount volume: added by the API, or by the runner when the API did not', async (t) => {
    // The mountPath is a directory on the host: remove what this test made of it.
    const parts = ['/var/run/secrets', '/var/run/secrets/kubernetes.io', SERVICE_ACCOUNT_PATH];
    const missing = parts.filter((p) => !existsSync(p)).reverse();
    t.teardown(async () => {
      for (const p of missing) await rmdir(p).catch(() => undefined);
    });
    const show = ['sh', '-c', `cd ${SERVICE_ACCOUNT_PATH} && cat token && echo && cat ca.crt && echo && cat namespace && echo && echo "$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"`];
    const manifest = { metadata: { name: 'sa' }, spec: { automountServiceAccountToken: true, restartPolicy: 'Never', containers: [{ name: 'c', image: 'x', command: show }] } };
    for (const admission of [true, false]) {
      await t.test(admission ? 'admitted by the API' : 'added by the runner', async (t) => {
        const h = await harness(t, { apiCaPem: 'RUNNER CA', apiUrlForPods: 'https://10.96.0.1:443' }, { admission });
        h.create('configmaps', { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'API CA' } });
        const pod = h.createPod(structuredClone(manifest));
        const volumes = ((pod['spec'] as Record<string, unknown>)['volumes'] ?? []) as Record<string, unknown>[];
        t.equal(volumes.length, admission ? 1 : 0, admission ? 'the API added the volume' : 'the pod has none');
        await waitFor('the pod to finish', () => statusOf(h.pod('sa'))['phase'] === 'Succeeded');
        const ca = admission ? 'API CA' : 'RUNNER CA';
        t.equal(await text(await h.runner.logsOf('default', 'sa', 'c')), `token-1-default-default-\n${ca}\ndefault\n10.96.0.1:443\n`);
        t.match(h.tokens.requests, [{ serviceAccount: 'default', audiences: [], expirationSeconds: 3607 }]);
      });
    }
  });

  t.test('stop() ends every process it started and removes every pod network', async (t) => {
    const h: Harness = await harness(t);
    const pod = h.createPod({ metadata: { name: 'sleeper' }, spec: { containers: [{ name: 'c', image: 'x', command: ['sh', '-c', 'sleep 1000 & sleep 1001 & wait'] }] } });
    const uid = pod.metadata.uid ?? '';
    const netns = await waitFor('the netns', () => h.network.netnsOf(uid));
    const pids = await waitFor('three processes', async () => {
      const found = await pidsInNetns(netns);
      return found.length >= 3 ? found : undefined;
    });
    await h.runner.stop();
    t.strictSame(
      pids.filter((p) => alive(p)),
      [],
      'no process is left',
    );
    t.ok(h.network.removed.includes(uid), 'the pod network was removed');
    t.notOk((await listNetns()).includes(netns), 'its namespace is gone');
    t.equal(h.runner.status().pods.length, 0);
  });
}
