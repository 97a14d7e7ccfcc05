/**
 * `kubectl get` against the local API prints what it prints against a real cluster: the server answers kubectl's
 * `as=Table` Accept header with the columns of Kubernetes' printers (pods' READY/STATUS/RESTARTS, services' TYPE,
 * CLUSTER-IP, PORT(S), deployments' READY, CRDs' printer columns...), `-o wide` shows the priority columns, `-A`
 * and `--show-labels` work from the rows' metadata, `--sort-by` from the full objects, and `get -w` prints the
 * header once.
 */
import { spawn } from 'node:child_process';
import t from 'tap';
import { KUBECTL, json, kubectlMissing, startKube } from './support/kube.js';

/** kubectl's table output as rows of cells (tabwriter pads columns with at least three spaces). */
const rows = (text: string): string[][] =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.trimEnd().split(/ {2,}/));

const AGE = /^\d+s$/;

/** Objects of every kind the tests print; the event and the crash happened `tenMinutesAgo`. */
const manifests = (tenMinutesAgo: string): string => `
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop, labels: {app: web}}
data: {greeting: hello, farewell: bye}
---
apiVersion: v1
kind: Secret
metadata: {name: token, namespace: shop}
data: {token: c2VjcmV0}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: "app:1", command: [/bin/sleep, infinity]}
      - {name: side, image: "side:1", command: [/bin/sleep, infinity]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop, labels: {app: web}}
spec:
  containers:
  - {name: app, image: "app:1", command: [/bin/sleep, infinity]}
  - {name: side, image: "side:1", command: [/bin/sleep, infinity]}
---
apiVersion: v1
kind: Event
metadata: {name: web-1.backoff, namespace: shop}
involvedObject: {kind: Pod, name: web-1, namespace: shop, fieldPath: "spec.containers{side}"}
type: Warning
reason: BackOff
message: Back-off restarting failed container side
source: {component: kubelet, host: node-1}
firstTimestamp: "${tenMinutesAgo}"
lastTimestamp: "${tenMinutesAgo}"
count: 4
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              color: {type: string}
              size: {type: integer}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
    additionalPrinterColumns:
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status', priority: 1}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
`;

const missing = await kubectlMissing();
if (missing !== null) {
  t.plan(0, missing);
} else {
  const { env, ok } = await startKube(t, { serviceCidr: '10.96.0.0/16' });
  const APPLY = ['apply', '-f', '-'];
  const tenMinutesAgo = new Date(Date.now() - 10 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');

  t.test('objects of every kind, a crash-looping pod, a CRD with printer columns', async (t) => {
    await ok(t, APPLY, manifests(tenMinutesAgo));
    // A crash-looping second container, as the kubelet would report it.
    await ok(t, [
      'patch',
      'pod',
      'web-1',
      '-n',
      'shop',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          phase: 'Running',
          podIP: '10.1.0.5',
          podIPs: [{ ip: '10.1.0.5' }],
          containerStatuses: [
            { name: 'app', image: 'app:1', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: tenMinutesAgo } } },
            { name: 'side', image: 'side:1', imageID: '', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: tenMinutesAgo } } },
          ],
        },
      }),
    ]);
    await ok(t, ['wait', '--for=condition=Established', 'crd/widgets.example.com']);
    await ok(t, APPLY, JSON.stringify({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'gear', namespace: 'shop' }, spec: { color: 'blue', size: 3 } }));
  });

  t.test('pods: READY, STATUS and RESTARTS as on a real cluster', async (t) => {
    const [header, row, ...rest] = rows(await ok(t, ['get', 'pods', '-n', 'shop']));
    t.same(header, ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    t.same(row?.slice(0, 4), ['web-1', '1/2', 'CrashLoopBackOff', '4 (10m ago)']);
    t.match(row?.[4], AGE);
    t.same(rest, []);
    const wide = rows(await ok(t, ['get', 'pod', 'web-1', '-n', 'shop', '-o', 'wide']));
    t.same(wide[0], ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'], 'one pod, -o wide');
    t.same(wide[1]?.slice(5), ['10.1.0.5', '<none>', '<none>', '<none>']);
    t.same(rows(await ok(t, ['get', 'pod', 'web-1', '-n', 'shop', '--no-headers']))[0]?.slice(0, 3), ['web-1', '1/2', 'CrashLoopBackOff'], '--no-headers');
  });

  t.test('services, deployments, namespaces, config maps, secrets, events', async (t) => {
    const svc = rows(await ok(t, ['get', 'svc', 'web', '-n', 'shop', '-o', 'wide']));
    t.same(svc[0], ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
    t.same([svc[1]?.[0], svc[1]?.[1], svc[1]?.[3], svc[1]?.[4], svc[1]?.[6]], ['web', 'ClusterIP', '<none>', '80/TCP', 'app=web']);
    t.match(svc[1]?.[2], /^10\.96\.\d+\.\d+$/);

    const deploy = rows(await ok(t, ['get', 'deploy', '-n', 'shop', '-o', 'wide']));
    t.same(deploy[0], ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    t.same([...(deploy[1]?.slice(0, 4) ?? []), ...(deploy[1]?.slice(5) ?? [])], ['web', '0/2', '0', '0', 'app,side', 'app:1,side:1', 'app=web']);

    t.match(await ok(t, ['get', 'ns', 'shop']), /^NAME\s+STATUS\s+AGE\nshop\s+Active\s+\d+s\n$/);
    t.same(rows(await ok(t, ['get', 'cm', 'settings', '-n', 'shop']))[1]?.slice(0, 2), ['settings', '2']);
    t.same(rows(await ok(t, ['get', 'secret', 'token', '-n', 'shop'])).map((r) => r.slice(0, 3)), [
      ['NAME', 'TYPE', 'DATA'],
      ['token', 'Opaque', '1'],
    ]);
    const events = rows(await ok(t, ['get', 'events', '-n', 'shop']));
    t.same(events, [
      ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
      ['10m', 'Warning', 'BackOff', 'pod/web-1', 'Back-off restarting failed container side'],
    ]);
  });

  t.test('custom resources show their printer columns; CRDs the default NAME and CREATED AT', async (t) => {
    const widgets = rows(await ok(t, ['get', 'widgets', '-n', 'shop']));
    t.same(widgets[0], ['NAME', 'COLOR', 'SIZE', 'AGE']);
    t.same(widgets[1]?.slice(0, 3), ['gear', 'blue', '3']);
    t.same(rows(await ok(t, ['get', 'widgets', '-n', 'shop', '-o', 'wide']))[0], ['NAME', 'COLOR', 'SIZE', 'READY', 'AGE'], 'the priority column with -o wide');
    const crds = rows(await ok(t, ['get', 'crd']));
    t.same(crds[0], ['NAME', 'CREATED AT']);
    t.equal(crds[1]?.[0], 'widgets.example.com');
    t.match(crds[1]?.[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  t.test('what kubectl takes from the rows: namespaces (-A), labels, sorting; -o json is untouched', async (t) => {
    const all = rows(await ok(t, ['get', 'cm', '-A', '--show-labels', '--sort-by=.metadata.name']));
    t.same(all[0], ['NAMESPACE', 'NAME', 'DATA', 'AGE', 'LABELS']);
    const settings = all.find((r) => r[1] === 'settings');
    t.same([settings?.[0], settings?.[2], settings?.[4]], ['shop', '2', 'app=web']);
    const list = json<{ kind: string; items: unknown[] }>(await ok(t, ['get', 'cm', '-n', 'shop', '-o', 'json']));
    t.equal(list.kind, 'List', 'kubectl -o json still reads plain objects');
    t.equal(list.items.length, 1);
  });

  t.test('get -w prints the header once', async (t) => {
    const watcher = spawn(KUBECTL, ['get', 'configmaps', '-n', 'shop', '-w'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    t.teardown(() => {
      watcher.kill();
    });
    let out = '';
    watcher.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const seen = async (pattern: RegExp): Promise<void> => {
      const until = Date.now() + 15_000;
      while (!pattern.test(out)) {
        if (Date.now() > until) throw new Error(`kubectl get -w did not print ${String(pattern)}; it printed ${JSON.stringify(out)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await seen(/\nsettings\s+2\s/);
    await ok(t, APPLY, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later', namespace: 'shop' }, data: { a: 'b' } }));
    await seen(/\nlater\s+1\s/);
    t.equal(out.match(/NAME/g)?.length, 1, 'the watch event tables carry no headers');
  });
}
