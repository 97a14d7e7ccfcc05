/**
 * An end-to-end mesh on one machine: pods as network namespaces (netns.ts), `proxy-init` installing the real
 * iptables rules in each, the real `loom-proxy` process in each (as UID 2502, like the injected sidecar), real
 * applications (apps/echo-server.ts) and a control plane from real parts (control-plane.ts) on the bridge's address.
 * Tests drive traffic with apps/client.ts run inside a pod's namespace.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintCa, type TestCa } from '@loom/ca/testing';
import { PROXY_NODE_FLAGS } from '@loom/proxy';
import { proxyUserArgs } from '@loom/proxy/testing';
import { run, type Ran } from '@loom/shared/netns';
import { ControlPlane, CONTROLLER_SERVER_NAME, TRUST_DOMAIN } from './control-plane.js';
import { start, type Started } from './exec.js';
import { Topology, type PodNet } from './netns.js';
import type { Command, Result } from './apps/client.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const NODE = process.execPath;
const PROXY_MAIN = join(REPO_ROOT, 'proxy', 'dist', 'src', 'main.js');
const PROXY_INIT_MAIN = join(REPO_ROOT, 'proxy', 'dist', 'src', 'init', 'main.js');
const ECHO_SERVER = join(REPO_ROOT, 'e2e', 'dist', 'src', 'mesh', 'apps', 'echo-server.js');
const CLIENT = join(REPO_ROOT, 'e2e', 'dist', 'src', 'mesh', 'apps', 'client.js');
export const PROXY_UID = 2502;
export const ADMIN_PORT = 15020;

export interface PodSpec {
  /** Pod name (also its Kubernetes name). */
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Run the echo server application in it. */
  readonly echo?: boolean;
  /** Extra environment for the echo application (e.g. LOG_REQUESTS). */
  readonly appEnv?: Readonly<Record<string, string>>;
  /** Extra environment for the proxy (e.g. LOOM_LOG_LEVEL). */
  readonly proxyEnv?: Readonly<Record<string, string>>;
  /**
   * What `start()` waits for: `ready` (default: certificate and policy, `/ready` 200) or `certificate` (a pod whose
   * policy its proxy refuses — an impostor — never gets ready, but it does hold a certificate).
   */
  readonly awaits?: 'ready' | 'certificate';
}

export interface MeshPod extends PodNet {
  readonly spec: PodSpec;
  readonly logDir: string;
  proxy: Started | null;
  app: Started | null;
}

export interface MeshOptions {
  readonly pods: readonly PodSpec[];
  /** Kubernetes + SMI manifests for the pods (given their IPv4 addresses, and their IPv6 ones when dual-stack). */
  readonly manifests: (ips: ReadonlyMap<string, string>, ips6: ReadonlyMap<string, string>) => string;
  /** Keep logs here (default: a temp dir removed by stop()). */
  readonly logDir?: string;
}

export class Mesh {
  readonly topology = new Topology('lm');
  readonly pods = new Map<string, MeshPod>();
  ca!: TestCa;
  control!: ControlPlane;
  /** `setpriv` arguments for the proxies: UID 2502 when the checkout is readable for it (proxyUserArgs). */
  #proxyUser: readonly string[] = [`--reuid=${PROXY_UID}`, `--regid=${PROXY_UID}`, '--clear-groups'];
  #dir = '';
  #options: MeshOptions;

  constructor(options: MeshOptions) {
    this.#options = options;
  }

  get dir(): string {
    return this.#dir;
  }

  /** Builds the topology and starts everything; on failure cleans up and rethrows with the relevant logs. */
  async start(): Promise<void> {
    try {
      await this.#start();
    } catch (err) {
      const logs = await this.logs();
      await this.stop();
      throw new Error(`${(err as Error).message}\n${logs}`, { cause: err });
    }
  }

  async #start(): Promise<void> {
    this.#dir = this.#options.logDir ?? (await mkdtemp(join(tmpdir(), 'loom-e2e-mesh-')));
    await chmod(this.#dir, 0o755);
    await this.topology.create();
    const user = await proxyUserArgs(PROXY_UID);
    this.#proxyUser = user.args;
    if (user.note !== null) process.stderr.write(`e2e mesh: ${user.note}\n`);
    this.ca = mintCa({ trustDomain: TRUST_DOMAIN });
    const tokens = new Map<string, { namespace: string; serviceAccount: string }>();
    for (const spec of this.#options.pods) {
      const net = await this.topology.addPod(spec.name);
      const logDir = join(this.#dir, spec.name);
      await mkdir(logDir, { recursive: true });
      await chmod(logDir, 0o777);
      const token = `token-${spec.namespace}-${spec.name}`;
      tokens.set(token, { namespace: spec.namespace, serviceAccount: spec.serviceAccount });
      await writeFile(join(logDir, 'token'), token, { mode: 0o644 });
      this.pods.set(spec.name, { ...net, spec, logDir, proxy: null, app: null });
    }
    await writeFile(join(this.#dir, 'trust-anchors.pem'), this.ca.rootPem, { mode: 0o644 });
    this.control = new ControlPlane({ ca: this.ca, host: this.topology.hostIp, tokens });
    await this.control.start();
    this.publish();

    for (const pod of this.pods.values()) {
      await this.topology.exec(pod, [NODE, PROXY_INIT_MAIN], { timeoutMs: 30_000 });
      if (pod.spec.echo === true) {
        pod.app = start(this.topology.command(pod, [NODE, ECHO_SERVER]), join(pod.logDir, 'app.log'), { env: { ...process.env, ...pod.spec.appEnv, POD_NAME: pod.spec.name } });
      }
      this.startProxy(pod);
    }
    await Promise.all([...this.pods.values()].map((pod) => (pod.spec.awaits === 'certificate' ? this.waitCertified(pod) : this.waitReady(pod))));
  }

  /** Compiles the manifests for the current addresses and pushes changed policies. */
  publish(manifests?: string): void {
    this.control.publish(manifests ?? this.#options.manifests(this.ips(), this.ips6()));
  }

  ips(): Map<string, string> {
    return new Map([...this.pods.values()].map((p) => [p.name, p.ip]));
  }

  /** The pods' IPv6 addresses (empty when the topology is IPv4 only). */
  ips6(): Map<string, string> {
    return new Map([...this.pods.values()].flatMap((p) => (p.ip6 === null ? [] : [[p.name, p.ip6] as [string, string]])));
  }

  startProxy(pod: MeshPod): void {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      POD_NAME: pod.spec.name,
      POD_NAMESPACE: pod.spec.namespace,
      POD_SERVICE_ACCOUNT: pod.spec.serviceAccount,
      LOOM_CONTROLLER_ADDRESS: this.control.address,
      LOOM_CONTROLLER_SERVER_NAME: CONTROLLER_SERVER_NAME,
      LOOM_TRUST_DOMAIN: TRUST_DOMAIN,
      LOOM_TOKEN_PATH: join(pod.logDir, 'token'),
      LOOM_TRUST_ANCHORS_PATH: join(this.#dir, 'trust-anchors.pem'),
      LOOM_LOG_LEVEL: 'info',
      ...pod.spec.proxyEnv,
    };
    const command = this.topology.command(pod, ['setpriv', ...this.#proxyUser, '--', NODE, ...PROXY_NODE_FLAGS, PROXY_MAIN]);
    pod.proxy = start(command, join(pod.logDir, 'proxy.log'), { env });
  }

  /** GET on the pod's admin port from the host namespace. */
  admin(pod: MeshPod, path: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: pod.ip, port: ADMIN_PORT, path, method, timeout: 5_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Waits until the pod's proxy answers 200 on /ready (certificate held, first policy applied). */
  waitReady(pod: MeshPod, timeoutMs = 30_000): Promise<void> {
    return this.#waitAdmin(pod, timeoutMs, (r) => r.status === 200, 'not ready');
  }

  /** Waits until the pod's proxy holds a certificate (`/ready` no longer names the identity as missing). */
  waitCertified(pod: MeshPod, timeoutMs = 30_000): Promise<void> {
    return this.#waitAdmin(pod, timeoutMs, (r) => r.status === 200 || !r.body.includes('- identity:'), 'holds no certificate');
  }

  /** Polls the proxy's `/ready` every 100 ms until `done` holds; fails early when the proxy exits. */
  async #waitAdmin(pod: MeshPod, timeoutMs: number, done: (r: { status: number; body: string }) => boolean, failure: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (pod.proxy !== null && pod.proxy.child.exitCode !== null) throw new Error(`proxy of ${pod.name} exited with ${pod.proxy.child.exitCode}`);
      try {
        const r = await this.admin(pod, '/ready');
        if (done(r)) return;
        last = `${r.status} ${r.body.trim()}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`proxy of ${pod.name} ${failure} within ${timeoutMs} ms: ${last}`);
  }

  pod(name: string): MeshPod {
    const pod = this.pods.get(name);
    if (pod === undefined) throw new Error(`no pod ${name}`);
    return pod;
  }

  /** Runs one client command inside `podName`'s namespace (its traffic goes through that pod's proxy). */
  async client(podName: string, command: Command, timeoutMs = 120_000): Promise<Result> {
    const { stdout } = await this.topology.exec(this.pod(podName), [NODE, CLIENT, JSON.stringify(command)], { timeoutMs });
    return JSON.parse(stdout) as Result;
  }

  /** The tail of every pod's proxy and app log (for failure messages). */
  async logs(lines = 30): Promise<string> {
    const parts: string[] = [];
    for (const pod of this.pods.values()) {
      parts.push(`--- ${pod.name} proxy ---\n${await tail(join(pod.logDir, 'proxy.log'), lines)}`);
      if (pod.spec.echo === true) parts.push(`--- ${pod.name} app ---\n${await tail(join(pod.logDir, 'app.log'), lines)}`);
    }
    return parts.join('\n');
  }

  /** Stops every process, the control plane and the topology; removes the temp dir. Never throws. */
  async stop(): Promise<void> {
    for (const pod of this.pods.values()) {
      await pod.proxy?.stop(2_000);
      await pod.app?.stop(2_000);
    }
    if (this.control !== undefined) await this.control.kill().catch(() => undefined);
    await this.topology.destroy();
    if (this.#options.logDir === undefined && this.#dir !== '') await rm(this.#dir, { recursive: true, force: true });
  }
}

/** Runs a command to completion in a pod (e.g. iptables-save). */
export function inPod(mesh: Mesh, podName: string, command: readonly string[]): Promise<Ran> {
  return run(mesh.topology.command(mesh.pod(podName), command));
}

/** The last lines of a file, or '' when it does not exist (log excerpts for failure messages). */
async function tail(path: string, lines = 40): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
