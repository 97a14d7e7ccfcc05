/**
 * The local cluster's kubelet: follows Pods in the in-process API (list, then a watch from that
 * resourceVersion), runs each pod that is unbound or bound to this node in a {@link PodWorker}, and stops a
 * pod's processes when it is deleted. ConfigMap and Secret changes reach the pods of their namespace (volumes,
 * containers waiting for a key). Pods already Succeeded or Failed are not run again. `stop()` ends every
 * process it started and removes every pod network; `logsOf` serves `kubectl logs`, `status()` `loom dev status`.
 */
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ResourceType } from '../../api/registry.js';
import type { KubeObject, StoreEvent } from '../../api/store.js';
import { apiServiceEnv } from './env.js';
import { EventRecorder } from './events.js';
import type { NodeCapacity } from './fields.js';
import { resolveTools } from './launch.js';
import { readLog } from './logs.js';
import { PodWorker, type UserInfo, type WorkerContext } from './pod.js';
import { KUBELET_BACKOFF, type LogOptions, type PodRunnerOptions, type RunnerStatus } from './types.js';

/** The grace period bound when none is given. */
export const DEFAULT_MAX_GRACE_MS = 30_000;

/** A `kubectl logs` request that cannot be served: `status` is the HTTP status of the Kubernetes Status. */
export class LogsError extends Error {
  override readonly name = 'LogsError';
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class PodRunner {
  readonly #options: PodRunnerOptions;
  readonly #workers = new Map<string, PodWorker>();
  readonly #ending = new Set<Promise<void>>();
  #unwatch: (() => void)[] = [];
  #ctx: WorkerContext | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: PodRunnerOptions) {
    this.#options = options;
  }

  get #podsDir(): string {
    return join(this.#options.stateDir, 'pods');
  }

  /** Removes what an earlier run left in the state directory, then runs the pods and follows them. */
  async start(): Promise<void> {
    if (this.#ctx !== undefined) return;
    const o = this.#options;
    const objects = o.objects;
    const podType = this.#type('pods');
    const tools = resolveTools(process.env['PATH'] ?? '');
    await mkdir(this.#podsDir, { recursive: true, mode: 0o755 });
    // Pods of an earlier run: their processes are gone with their namespaces, so are their volumes' uses.
    for (const entry of await readdir(this.#podsDir)) await rm(join(this.#podsDir, entry), { recursive: true, force: true });
    const now = o.now ?? Date.now;
    const users = readPasswd();
    const store = objects.store;
    this.#ctx = {
      objects,
      podType,
      network: o.network,
      tokens: o.tokens,
      ...(o.hosts === undefined ? {} : { hosts: o.hosts }),
      events: new EventRecorder({ objects, log: o.log, nodeName: o.nodeName, now }),
      log: o.log,
      nodeName: o.nodeName,
      podsDir: this.#podsDir,
      tools,
      backoff: o.backoff ?? KUBELET_BACKOFF,
      maxGraceMs: o.maxGracePeriodMs ?? DEFAULT_MAX_GRACE_MS,
      defaultPath: o.defaultPath ?? process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      serviceEnv: apiServiceEnv(o.apiUrlForPods),
      ...(o.apiCaPem === undefined ? {} : { apiCaPem: o.apiCaPem }),
      node: nodeCapacity(o.stateDir),
      user: (uid) => users.get(uid),
      data: (namespace, kind, name) => objectData(store.get(kind === 'configMap' ? '/configmaps' : '/secrets', namespace, name), kind),
      automount: (namespace, name) => {
        const value = store.get('/serviceaccounts', namespace, name)?.['automountServiceAccountToken'];
        return typeof value === 'boolean' ? value : undefined;
      },
      now,
    };
    const from = store.resourceVersion;
    for (const pod of store.list('/pods')) this.#onPod('ADDED', pod);
    // Store listeners run inside the store's writes (ours included): handle each event after the write.
    const later =
      (handle: (event: StoreEvent) => void) =>
      (event: StoreEvent): void =>
        queueMicrotask(() => handle(event));
    this.#unwatch.push(store.watch('/pods', from, later((e) => this.#onPod(e.type, e.object))));
    for (const resource of ['/configmaps', '/secrets']) {
      this.#unwatch.push(store.watch(resource, from, later((e) => this.#onConfig(e.object))));
    }
    o.log.info({ event: 'pods.started', node: o.nodeName, pods: this.#workers.size }, 'pod runner started');
  }

  #type(plural: string): ResourceType {
    const type = this.#options.objects.registry.find('', 'v1', plural);
    if (type === undefined) throw new Error(`the API serves no ${plural}`);
    return type;
  }

  #onPod(type: StoreEvent['type'], object: KubeObject): void {
    const ctx = this.#ctx;
    const uid = object.metadata.uid;
    if (ctx === undefined || this.#stopping !== undefined || uid === undefined) return;
    const existing = this.#workers.get(uid);
    if (type === 'DELETED') {
      if (existing === undefined) return;
      this.#workers.delete(uid);
      this.#track(existing.terminate({ reason: 'deleted' }));
      return;
    }
    if (existing !== undefined) {
      existing.update(object);
      return;
    }
    const spec = isRecord(object['spec']) ? object['spec'] : {};
    const nodeName = typeof spec['nodeName'] === 'string' ? spec['nodeName'] : '';
    if (nodeName !== '' && nodeName !== ctx.nodeName) return;
    const phase = isRecord(object['status']) ? object['status']['phase'] : undefined;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const worker = new PodWorker(ctx, object);
    this.#workers.set(uid, worker);
    worker.begin(object);
  }

  #onConfig(object: KubeObject): void {
    for (const worker of this.#workers.values()) if (worker.namespace === object.metadata.namespace) worker.configChanged();
  }

  #track(ending: Promise<void>): void {
    const tracked = ending.catch((err: unknown) => this.#options.log.error({ event: 'pod.terminate.failed', err }, 'pod termination failed'));
    this.#ending.add(tracked);
    void tracked.finally(() => this.#ending.delete(tracked));
  }

  /** Stops following pods, ends every process started and removes every pod network. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    for (const unwatch of this.#unwatch) unwatch();
    this.#unwatch = [];
    const maxGraceMs = this.#options.maxGracePeriodMs ?? DEFAULT_MAX_GRACE_MS;
    for (const worker of this.#workers.values()) this.#track(worker.terminate({ reason: 'stopped', maxGraceMs }));
    this.#workers.clear();
    while (this.#ending.size > 0) await Promise.all([...this.#ending]);
  }

  #worker(namespace: string, pod: string): PodWorker | undefined {
    return [...this.#workers.values()].find((w) => w.namespace === namespace && w.name === pod && !w.terminating);
  }

  /** The log file of a container's current (or previous) run; throws a LogsError as the API would answer. */
  logPath(namespace: string, pod: string, container: string | undefined, previous = false): string {
    return this.#logTarget(namespace, pod, container, previous).path;
  }

  #logTarget(namespace: string, pod: string, container: string | undefined, previous: boolean): { worker: PodWorker; name: string; path: string } {
    const worker = this.#worker(namespace, pod);
    if (worker === undefined) throw new LogsError(404, `pods "${pod}" not found`);
    let name = container;
    if (name === undefined || name === '') {
      const apps = worker.containerNames('app');
      const inits = worker.containerNames('init');
      if (apps.length !== 1 || apps[0] === undefined) {
        const initPart = inits.length > 0 ? ` or one of the init containers: [${inits.join(' ')}]` : '';
        throw new LogsError(400, `a container name must be specified for pod ${pod}, choose one of: [${apps.join(' ')}]${initPart}`);
      }
      name = apps[0];
    }
    if (worker.containerKind(name) === undefined) throw new LogsError(400, `container ${name} is not valid for pod ${pod}`);
    const path = worker.logPath(name, previous);
    if (!existsSync(path)) {
      if (previous) throw new LogsError(400, `previous terminated container "${name}" in pod "${pod}" not found`);
      throw new LogsError(400, `container "${name}" in pod "${pod}" is waiting to start: ${worker.waitingReason(name)}`);
    }
    return { worker, name, path };
  }

  /** A container's log as `kubectl logs` shows it (`container` may be omitted when the pod has one). */
  async logsOf(namespace: string, pod: string, container: string | undefined, options: LogOptions = {}): Promise<Readable> {
    const previous = options.previous === true;
    const { worker, name, path } = this.#logTarget(namespace, pod, container, previous);
    const run = worker.runNumber(name);
    const following = options.follow === true && !previous ? () => worker.running(name) && worker.runNumber(name) === run : undefined;
    return readLog(path, { ...(options.tailLines === undefined ? {} : { tailLines: options.tailLines }), ...(following === undefined ? {} : { following }) });
  }

  /** The pods this runner runs, their processes and log files. */
  status(): RunnerStatus {
    const pods = [...this.#workers.values()].map((w) => w.runtimeStatus());
    return { nodeName: this.#options.nodeName, pods: pods.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`)) };
  }
}

/** A ConfigMap's data and binaryData, or a Secret's data (base64) and stringData, as bytes. */
export function objectData(object: KubeObject | undefined, kind: 'configMap' | 'secret'): Record<string, Buffer> | undefined {
  if (object === undefined) return undefined;
  const out: Record<string, Buffer> = {};
  const add = (field: string, encoding: BufferEncoding): void => {
    const map = object[field];
    if (!isRecord(map)) return;
    for (const [key, value] of Object.entries(map)) if (typeof value === 'string') out[key] = Buffer.from(value, encoding);
  };
  if (kind === 'configMap') {
    add('data', 'utf8');
    add('binaryData', 'base64');
  } else {
    add('data', 'base64');
    add('stringData', 'utf8');
  }
  return out;
}

/** uid → primary gid and home directory, from /etc/passwd (empty when unreadable). */
function readPasswd(): Map<number, UserInfo> {
  const users = new Map<number, UserInfo>();
  let text: string;
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return users;
  }
  for (const line of text.split('\n')) {
    const [, , uid, gid, , home] = line.split(':');
    const u = Number(uid);
    const g = Number(gid);
    if (uid !== undefined && uid !== '' && Number.isInteger(u) && Number.isInteger(g) && !users.has(u)) users.set(u, { gid: g, home: home ?? '/' });
  }
  return users;
}

function nodeCapacity(dir: string): NodeCapacity {
  let ephemeralStorage = 0;
  try {
    const fs = statfsSync(dir);
    ephemeralStorage = fs.blocks * fs.bsize;
  } catch {
    // unknown: 0
  }
  return { cpu: availableParallelism(), memory: totalmem(), ephemeralStorage };
}
