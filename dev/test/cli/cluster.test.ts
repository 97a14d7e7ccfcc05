/**
 * `loom dev` end to end, as a user runs it: `up` (the daemon in the background), kubectl applies a Deployment, a
 * Service and a client Pod, pods become Ready through their probes, the client reaches the Service by name through
 * its ClusterIP, the host reaches it too, `kubectl logs` and `loom dev status` show the pods, Prometheus discovers
 * and scrapes a pod through kubernetes_sd against the cluster's API, and `down` leaves nothing behind.
 * Needs root, iproute2, iptables and kubectl; skipped with the reason otherwise. Prometheus is optional (skipped
 * with a reason when Debian's package is not installed).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { netnsUnavailable } from '@loom/shared/netns';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const KUBECTL = process.env['KUBECTL'] ?? 'kubectl';
const NAME = `t${process.pid % 100000}`;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(argv: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    const [cmd = '', ...args] = argv;
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

/** Polls `check` every 250 ms until it returns a value, or fails the test after `timeoutMs`. */
async function until<T>(t: Test, what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      t.fail(`${what} within ${timeoutMs / 1000} s`);
      return undefined;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 3_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** An HTTP server in one line of node: answers its hostname, and Prometheus text on /metrics. */
const SERVER = [
  "const http=require('node:http');let n=0;",
  "http.createServer((q,s)=>{n++;if(q.url==='/metrics'){s.setHeader('content-type','text/plain');s.end('echo_requests_total '+n+'\\n');return;}",
  "s.end('hello from '+process.env.HOSTNAME+' ('+process.env.POD_IP+')\\n');}).listen(8080,()=>console.log('listening on 8080'));",
].join('');

/** A client that asks the Service by its short name every 300 ms, on a new connection each time, and prints what it got. */
const CLIENT = [
  "const http=require('node:http');",
  "setInterval(()=>{http.get('http://echo/',{agent:false},(r)=>{let b='';r.on('data',c=>b+=c);r.on('end',()=>console.log('got: '+b.trim()));})",
  ".on('error',e=>console.log('error: '+e.message));},300);",
].join('');

function manifests(node: string): string {
  const cmd = (script: string): string => JSON.stringify([node, '-e', script]);
  return `
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: demo}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata:
      labels: {app: echo}
      annotations: {prometheus.io/scrape: "true", prometheus.io/port: "8080"}
    spec:
      containers:
      - name: echo
        image: local/echo
        command: ${cmd(SERVER)}
        env:
        - name: POD_IP
          valueFrom: {fieldRef: {fieldPath: status.podIP}}
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /ready, port: http}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: demo}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: demo}
spec:
  containers:
  - name: client
    image: local/client
    command: ${cmd(CLIENT)}
---
apiVersion: v1
kind: Pod
metadata: {name: image-only, namespace: demo}
spec:
  containers:
  - name: web
    image: nginx:1.27
`;
}

const reason = netnsUnavailable();
if (reason !== null) {
  t.plan(0, reason);
} else {
  t.setTimeout(240_000);
  t.test('loom dev: up, pods, services, logs, Prometheus discovery, down', async (t) => {
    const home = await mkdtemp(join(tmpdir(), 'loom-dev-test-'));
    const env: NodeJS.ProcessEnv = { ...process.env, LOOM_STATE_DIR: home, HOME: home };
    const loom = (...args: string[]): Promise<Run> => run([process.execPath, MAIN, ...args, '--name', NAME], env);
    t.teardown(async () => {
      await loom('down');
      await rm(home, { recursive: true, force: true });
    });

    const up = await loom('up');
    t.equal(up.code, 0, `loom dev up succeeds: ${up.stderr}`);
    const exportLine = up.stdout.split('\n').find((l) => l.startsWith('export KUBECONFIG='));
    t.ok(exportLine, 'up prints export KUBECONFIG=... on a line of its own');
    const kubeconfig = (exportLine ?? '').slice('export KUBECONFIG='.length);
    t.ok(existsSync(kubeconfig), 'the kubeconfig exists');
    const again = await loom('up');
    t.equal(again.code, 0, 'a second up succeeds');
    t.match(again.stderr, /already up/, 'and says the cluster is already up');
    t.equal(again.stdout.trim(), exportLine, 'and prints the same export line');

    const kenv = { ...env, KUBECONFIG: kubeconfig };
    const kubectl = (...args: string[]): Promise<Run> => run([KUBECTL, ...args], kenv, 30_000);
    const file = join(home, 'demo.yaml');
    await writeFile(file, manifests(process.execPath));
    const applied = await loom('apply', '-f', file);
    t.equal(applied.code, 0, `loom dev apply -f succeeds: ${applied.stderr}`);

    // The Deployment becomes available through its pods' readiness probes.
    const rollout = await kubectl('rollout', 'status', 'deployment/echo', '-n', 'demo', '--timeout=60s');
    t.equal(rollout.code, 0, `kubectl rollout status finishes: ${rollout.stdout}${rollout.stderr}`);
    const pods = JSON.parse((await kubectl('get', 'pods', '-n', 'demo', '-l', 'app=echo', '-o', 'json')).stdout) as { items: { status: { podIP?: string; phase?: string } }[] };
    t.equal(pods.items.length, 2, 'two echo pods');
    t.ok(pods.items.every((p) => p.status.phase === 'Running' && typeof p.status.podIP === 'string'), 'both run with pod IPs');

    // The client pod reaches the Service by its short name (its /etc/hosts) through the ClusterIP (iptables).
    const reached = await until(t, 'the client pod reaches both echo pods through the Service', 60_000, async () => {
      const logs = await kubectl('logs', 'client', '-n', 'demo');
      const ips = new Set([...logs.stdout.matchAll(/got: hello from echo-[a-z0-9-]+ \(([0-9.]+)\)/g)].map((m) => m[1]));
      return ips.size === 2 ? ips : undefined;
    });
    t.same(reached, new Set(pods.items.map((p) => p.status.podIP)), 'the client saw both pods (the Service spreads requests)');

    // The host reaches the Service at its ClusterIP too, like kube-proxy makes it.
    const clusterIp = (await kubectl('get', 'service', 'echo', '-n', 'demo', '-o', 'jsonpath={.spec.clusterIP}')).stdout;
    const fromHost = await httpGet(`http://${clusterIp}:80/`);
    t.match(fromHost.body, /^hello from echo-/, 'the host reaches the ClusterIP');

    // A pod with an image and no command gets a clear event.
    const events = await until(t, 'an event about the image-only pod', 30_000, async () => {
      const out = (await kubectl('get', 'events', '-n', 'demo', '--field-selector', 'involvedObject.name=image-only', '-o', 'json')).stdout;
      const items = (JSON.parse(out) as { items: { message?: string }[] }).items;
      return items.some((e) => /commands, not images/.test(e.message ?? '')) ? items : undefined;
    });
    t.ok(events, 'the event says the local cluster runs commands, not images');

    const status = await loom('status');
    t.equal(status.code, 0, 'loom dev status succeeds');
    t.match(status.stdout, /client\s+1\/1\s+Running/, 'status lists the client pod');
    t.match(status.stdout, new RegExp(`export KUBECONFIG=${kubeconfig.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'status repeats the kubeconfig line');

    await prometheusDiscovers(t, kubeconfig, home);

    const down = await loom('down');
    t.equal(down.code, 0, `loom dev down succeeds: ${down.stderr}`);
    const netns = await run(['ip', 'netns', 'list'], env);
    t.notMatch(netns.stdout, new RegExp(`ld-${NAME}\\.`), 'no pod network namespace is left');
    const links = await run(['ip', '-o', 'link', 'show'], env);
    t.notMatch(links.stdout, new RegExp(`ld-${NAME}\\b`), 'the bridge is gone');
    const rules = await run(['iptables-save'], env);
    t.notMatch(rules.stdout, new RegExp(`LD-${NAME}-`), 'no iptables chain of the cluster is left');
    const downAgain = await loom('down');
    t.equal(downAgain.code, 0, 'a second down succeeds (idempotent)');
    t.match(downAgain.stderr, /not up/, 'and says there is nothing to remove');
  });
}

/** Prometheus (Debian's) discovers the annotated echo pods through kubernetes_sd against the cluster and scrapes them. */
async function prometheusDiscovers(t: Test, kubeconfig: string, home: string): Promise<void> {
  const prometheus = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((p) => existsSync(p));
  if (prometheus === undefined) {
    t.comment('skipped: Prometheus discovery needs prometheus (Debian package prometheus), which is not installed');
    t.pass('Prometheus discovery skipped: prometheus is not installed');
    return;
  }
  const text = await readFile(kubeconfig, 'utf8');
  const server = /server: (\S+)/.exec(text)?.[1] ?? '';
  const token = /token: (\S+)/.exec(text)?.[1] ?? '';
  const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(text)?.[1] ?? '', 'base64').toString('utf8');
  await writeFile(join(home, 'ca.pem'), ca);
  await writeFile(join(home, 'token'), token, { mode: 0o600 });
  const config = `
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
- job_name: pods
  kubernetes_sd_configs:
  - role: pod
    api_server: ${server}
    tls_config: {ca_file: ${join(home, 'ca.pem')}}
    authorization: {credentials_file: ${join(home, 'token')}}
    namespaces: {names: [demo]}
  relabel_configs:
  - {source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape], action: keep, regex: "true"}
  - {source_labels: [__meta_kubernetes_pod_ip, __meta_kubernetes_pod_annotation_prometheus_io_port], separator: ":", target_label: __address__}
  - {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
`;
  await writeFile(join(home, 'prometheus.yml'), config);
  const port = await freePort();
  const child = spawn(prometheus, [`--config.file=${join(home, 'prometheus.yml')}`, `--storage.tsdb.path=${join(home, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    // Debian builds Prometheus without the Kubernetes discovery (client-go is not packaged there): say so, plainly.
    await new Promise((r) => setTimeout(r, 1_500));
    if (child.exitCode !== null && /field kubernetes_sd_configs not found/.test(stderr)) {
      t.comment(`skipped: ${prometheus} was built without kubernetes_sd_configs (Debian's package is); use an upstream Prometheus build to run this check`);
      t.pass('Prometheus discovery skipped: this Prometheus has no Kubernetes service discovery');
      return;
    }
    const up = await until(t, 'Prometheus scrapes both echo pods', 60_000, async () => {
      const res = await httpGet(`http://127.0.0.1:${port}/api/v1/targets?state=active`);
      const targets = (JSON.parse(res.body) as { data: { activeTargets: { health: string; labels: { pod?: string } }[] } }).data.activeTargets;
      const healthy = targets.filter((x) => x.health === 'up' && /^echo-/.test(x.labels.pod ?? ''));
      return healthy.length === 2 ? healthy : undefined;
    });
    if (up === undefined) t.comment(`prometheus stderr: ${stderr}`);
    t.ok(up, 'both annotated pods are discovered through the API and scraped');
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}
