/**
 * One pod on this node, from its binding to its removal: the network namespace and address (PodNetwork), the
 * hosts file, the volumes, then its containers as processes, started and restarted as {@link podActions}
 * decides, probed, and reported in the pod's status (written through the status subresource, only when it
 * changed) and in Events. `terminate()` stops everything: app containers first, then sidecars in reverse order,
 * within the grace period, then SIGKILL to whatever is left, in the process groups and in the namespace.
 */
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { pidsInNetns } from '@loom/shared/netns';
import type { Logger } from '@loom/shared/runtime';
import type { Objects } from '../../api/objects.js';
import { storageKey, type ResourceType } from '../../api/registry.js';
import type { KubeObject } from '../../api/store.js';
import { backoffResetMs, goDuration, podActions, restartDelayMs, type Actions, type SlotKind, type SlotView } from './actions.js';
import { ConfigError, containerArgv, containerEnv } from './env.js';
import type { EventInput, EventRecorder } from './events.js';
import type { NodeCapacity } from './fields.js';
import { containerMounts, containerUser, findCommand, LaunchError, launchCommand, type LaunchPlan, type Mount, type Tools } from './launch.js';
import { LogFiles } from './logs.js';
import { exitCodeOf, launch, runCaptured, signalGroup, type Exit } from './processes.js';
import { probeOnce, Prober, type ProbeKind, type ProbeResult } from './probes.js';
import { isSidecar, podView, type Container, type PodSpec, type PodView, type Probe, type Volume } from './spec.js';
import { podStatus, type ContainerState, type ContainerStatus, type TerminatedState } from './status.js';
import type { BackoffSettings, ContainerRuntimeStatus, HostsWriter, PodNetwork, PodRuntimeStatus, TokenIssuer } from './types.js';
import { MountError } from './volume-files.js';
import { PodVolumes } from './volumes.js';

/** Where Kubernetes mounts a pod's ServiceAccount credentials. */
export const SERVICE_ACCOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const SERVICE_ACCOUNT_VOLUME = 'kube-api-access-loom';
/** The kubelet's lifetime of the ServiceAccount token it mounts by default. */
const SERVICE_ACCOUNT_TOKEN_SECONDS = 3607;
/** How long to wait for a process after SIGKILL before giving up on it. */
const KILL_WAIT_MS = 5_000;

export interface UserInfo {
  readonly gid: number;
  readonly home: string;
}

/** What every pod worker shares: the runner's collaborators and settings. */
export interface WorkerContext {
  readonly objects: Objects;
  readonly podType: ResourceType;
  readonly network: PodNetwork;
  readonly tokens: TokenIssuer;
  readonly hosts?: HostsWriter;
  readonly events: EventRecorder;
  readonly log: Logger;
  readonly nodeName: string;
  /** `<stateDir>/pods`. */
  readonly podsDir: string;
  readonly tools: Tools;
  readonly backoff: BackoffSettings;
  readonly maxGraceMs: number;
  readonly defaultPath: string;
  readonly serviceEnv: ReadonlyMap<string, string>;
  readonly apiCaPem?: string;
  readonly node: NodeCapacity;
  readonly user: (uid: number) => UserInfo | undefined;
  /** A ConfigMap's or Secret's contents in a namespace (undefined: no such object). */
  readonly data: (namespace: string, kind: 'configMap' | 'secret', name: string) => Readonly<Record<string, Buffer>> | undefined;
  /** A ServiceAccount's `automountServiceAccountToken`, when it sets one. */
  readonly automount: (namespace: string, serviceAccount: string) => boolean | undefined;
  readonly now: () => number;
}

interface Run {
  readonly pid: number | undefined;
  readonly startedAt: number;
  readonly plan?: LaunchPlan;
  readonly env?: Readonly<Record<string, string>>;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
  message?: string;
  /** The back-off before the restart after this run. */
  backoffMs?: number;
  backoffReported?: boolean;
  /** The startup probe passed (or there is none). */
  started: boolean;
  ready: boolean;
  probers: Prober[];
  readiness?: Prober;
  /** Resolves once the exit has been handled. */
  done: Promise<void>;
}

interface Slot {
  readonly container: Container;
  readonly kind: SlotKind;
  readonly fieldPath: string;
  run?: Run | undefined;
  previous?: Run | undefined;
  starts: number;
  crashes: number;
  notBefore?: number | undefined;
  /** Why it cannot start now (a configuration error, an image without a command). */
  blocked?: { reason: string; message: string } | undefined;
  everStarted: boolean;
  starting: boolean;
}

type Lifecycle = 'new' | 'setup' | 'running' | 'terminating' | 'done';

const timestamp = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface TerminateOptions {
  /** Why: a deleted pod records Killing events and loses its logs; a stopped runner keeps them. */
  readonly reason: 'deleted' | 'stopped';
  /** A tighter bound on the grace period than the pod's own. */
  readonly maxGraceMs?: number;
}

export class PodWorker {
  readonly uid: string;
  readonly #ctx: WorkerContext;
  /** The pod as last seen (labels and annotations change; the containers do not). */
  #pod: PodView;
  readonly #spec: PodSpec;
  readonly #slots: Slot[];
  readonly #dir: string;
  readonly #logs: LogFiles;
  readonly #volumes: PodVolumes;
  #state: Lifecycle = 'new';
  #sandbox: { netns: string; ip: string } | undefined;
  #scheduledAt: number;
  #startTime: number;
  #initialized = false;
  #terminal: 'Succeeded' | 'Failed' | undefined;
  /** The phase last computed for the status. */
  #phase = 'Pending';
  #backingOff = new Set<string>();
  #setup: Promise<void> = Promise.resolve();
  #wakeSetup: (() => void) | undefined;
  #syncQueued = false;
  #syncChain: Promise<void> = Promise.resolve();
  #wakeTimer: NodeJS.Timeout | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  #volumesDirty = false;
  #stoppingSidecars = false;
  #terminating: Promise<void> | undefined;

  constructor(ctx: WorkerContext, object: KubeObject) {
    this.#ctx = ctx;
    const view = podView(object);
    this.uid = view.uid;
    this.#spec = withServiceAccountVolume(view, ctx);
    this.#pod = { ...view, spec: this.#spec };
    const slot = (container: Container, kind: SlotKind, list: string): Slot => ({
      container,
      kind,
      fieldPath: `spec.${list}{${container.name}}`,
      starts: 0,
      crashes: 0,
      everStarted: false,
      starting: false,
    });
    this.#slots = [
      ...this.#spec.initContainers.map((c) => slot(c, isSidecar(c) ? 'sidecar' : 'init', 'initContainers')),
      ...this.#spec.containers.map((c) => slot(c, 'app', 'containers')),
    ];
    this.#dir = join(ctx.podsDir, `${view.namespace}_${view.name}_${view.uid}`);
    this.#logs = new LogFiles(join(this.#dir, 'logs'));
    this.#volumes = new PodVolumes({
      dir: join(this.#dir, 'volumes'),
      volumes: this.#spec.volumes,
      ...(this.#spec.securityContext.fsGroup === undefined ? {} : { fsGroup: this.#spec.securityContext.fsGroup }),
      tokens: ctx.tokens,
      pod: { namespace: view.namespace, name: view.name, uid: view.uid, serviceAccount: this.#spec.serviceAccountName },
      now: ctx.now,
    });
    const status = isRecord(object['status']) ? object['status'] : {};
    const started = typeof status['startTime'] === 'string' ? Date.parse(status['startTime']) : NaN;
    this.#startTime = Number.isFinite(started) ? started : ctx.now();
    this.#scheduledAt = ctx.now();
  }

  get namespace(): string {
    return this.#pod.namespace;
  }

  get name(): string {
    return this.#pod.name;
  }

  get terminating(): boolean {
    return this.#state === 'terminating' || this.#state === 'done';
  }

  /** Binds the pod to this node if needed, then sets it up and starts its containers. */
  begin(object: KubeObject): void {
    if (this.#state !== 'new') return;
    this.#state = 'setup';
    this.#setup = this.#begin(object).catch((err: unknown) => {
      this.#ctx.log.error({ event: 'pod.setup.failed', pod: this.#key(), err }, 'pod setup failed');
    });
  }

  async #begin(object: KubeObject): Promise<void> {
    if (!this.#bind(object)) return;
    this.#writeStatus();
    const baseMs = Math.min(1_000, this.#ctx.backoff.initialMs);
    for (let attempt = 0; this.#state === 'setup'; attempt++) {
      try {
        await this.#prepare();
        break;
      } catch (err) {
        if (this.#state !== 'setup') break;
        this.#failedSetup(err);
        this.#writeStatus();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(baseMs * 2 ** Math.min(attempt, 10), 30_000));
          timer.unref();
          this.#wakeSetup = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wakeSetup = undefined;
      }
    }
    if (this.#state !== 'setup') return;
    this.#state = 'running';
    this.requestSync();
  }

  /**
   * Sets spec.nodeName (and records Scheduled) unless bound already; false when the pod is gone. This is what
   * Kubernetes' binding subresource does: a write of the stored pod, not a pod update (whose validation keeps
   * spec.nodeName as it was).
   */
  #bind(object: KubeObject): boolean {
    const scheduled = conditionTime(object, 'PodScheduled');
    if (this.#spec.nodeName === this.#ctx.nodeName) {
      if (scheduled !== undefined) this.#scheduledAt = scheduled;
      return true;
    }
    const store = this.#ctx.objects.store;
    const current = store.get(storageKey(this.#ctx.podType), this.namespace, this.name);
    if (current === undefined || current.metadata.uid !== this.uid) return false;
    const spec = isRecord(current['spec']) ? current['spec'] : {};
    if (typeof spec['nodeName'] === 'string' && spec['nodeName'] !== '' && spec['nodeName'] !== this.#ctx.nodeName) return false;
    store.update(storageKey(this.#ctx.podType), { ...current, spec: { ...spec, nodeName: this.#ctx.nodeName } });
    this.#pod = { ...this.#pod, spec: { ...this.#pod.spec, nodeName: this.#ctx.nodeName } };
    this.#event(undefined, { type: 'Normal', reason: 'Scheduled', message: `Successfully assigned ${this.namespace}/${this.name} to ${this.#ctx.nodeName}` });
    return true;
  }

  /** The network, the hosts file and the volumes. */
  async #prepare(): Promise<void> {
    if (this.#sandbox === undefined) {
      const sandbox = await this.#ctx.network.addPod({ namespace: this.namespace, name: this.name, uid: this.uid });
      this.#sandbox = sandbox;
      if (this.#state !== 'setup') return;
      this.#writeStatus();
    }
    if (this.#ctx.hosts !== undefined) await this.#ctx.hosts(this.#object(), this.#sandbox.netns, this.#sandbox.ip);
    await this.#syncVolumes();
  }

  #failedSetup(err: unknown): void {
    const message = (err as Error).message;
    if (err instanceof MountError) this.#event(undefined, { type: 'Warning', reason: 'FailedMount', message });
    else if (this.#sandbox === undefined) this.#event(undefined, { type: 'Warning', reason: 'FailedCreatePodSandBox', message: `Failed to create pod sandbox: ${message}` });
    else this.#event(undefined, { type: 'Warning', reason: 'FailedSetup', message });
  }

  async #syncVolumes(): Promise<void> {
    const ctx = this.#ctx;
    const users = new Set(this.#slots.map((s) => s.container.securityContext.runAsUser ?? this.#spec.securityContext.runAsUser ?? 0));
    const [commonUser] = users.size === 1 ? [...users] : [];
    try {
      await this.#volumes.sync({
        pod: this.#pod,
        addresses: this.#addresses(),
        node: ctx.node,
        data: (kind, name) => ctx.data(this.namespace, kind, name),
        ...(commonUser === undefined ? {} : { commonUser }),
      });
    } finally {
      this.#scheduleRefresh();
    }
  }

  #scheduleRefresh(): void {
    if (this.#refreshTimer !== undefined) clearTimeout(this.#refreshTimer);
    const next = this.#volumes.nextRefresh();
    if (next === undefined || this.terminating) return;
    this.#refreshTimer = setTimeout(() => this.#refreshVolumes(), Math.max(0, next - this.#ctx.now()));
    this.#refreshTimer.unref();
  }

  /** Writes the volumes again (labels, ConfigMaps or Secrets changed, or a token is due). */
  #refreshVolumes(): void {
    if (this.#state === 'setup') {
      this.#wakeSetup?.();
      return;
    }
    if (this.#state !== 'running') return;
    this.#volumesDirty = true;
    this.requestSync();
  }

  /** The pod changed (labels, annotations: downward API files follow). */
  update(object: KubeObject): void {
    const view = podView(object);
    if (isDeepStrictEqual(view.labels, this.#pod.labels) && isDeepStrictEqual(view.annotations, this.#pod.annotations)) return;
    this.#pod = { ...this.#pod, labels: view.labels, annotations: view.annotations };
    this.#refreshVolumes();
  }

  /** A ConfigMap or Secret of the pod's namespace changed: volumes and waiting containers may follow. */
  configChanged(): void {
    for (const slot of this.#slots) {
      if (slot.blocked?.reason === 'CreateContainerConfigError') slot.notBefore = this.#ctx.now();
    }
    this.#refreshVolumes();
  }

  requestSync(): void {
    if (this.#syncQueued || this.terminating) return;
    this.#syncQueued = true;
    setImmediate(() => {
      this.#syncQueued = false;
      this.#syncChain = this.#syncChain
        .then(() => this.#sync())
        .catch((err: unknown) => this.#ctx.log.error({ event: 'pod.sync.failed', pod: this.#key(), err }, 'pod sync failed'));
    });
  }

  async #sync(): Promise<void> {
    if (this.#state !== 'running') return;
    if (this.#volumesDirty) {
      this.#volumesDirty = false;
      try {
        await this.#syncVolumes();
      } catch (err) {
        this.#event(undefined, { type: 'Warning', reason: 'FailedMount', message: (err as Error).message });
      }
      if (this.#state !== 'running') return;
    }
    const now = this.#ctx.now();
    const actions = podActions(this.#spec.restartPolicy, this.#slots.map((s) => this.#view(s)), now);
    this.#apply(actions);
    for (const name of actions.start) {
      const slot = this.#slot(name);
      if (slot !== undefined) await this.#start(slot);
      if (this.#state !== 'running') return;
    }
    if (actions.stop.length > 0 && !this.#stoppingSidecars) {
      this.#stoppingSidecars = true;
      void this.#stopSidecars(actions.stop);
    }
    this.#writeStatus();
    // What started may let more start (a sidecar that counts as started at once lets the next init container go).
    if (actions.start.length > 0) this.requestSync();
  }

  #apply(actions: Actions): void {
    this.#initialized ||= actions.initialized;
    this.#terminal ??= actions.terminal;
    this.#backingOff = new Set(actions.backingOff);
    for (const name of actions.backingOff) {
      const slot = this.#slot(name);
      const run = slot?.run;
      if (slot === undefined || run === undefined || run.backoffReported === true) continue;
      run.backoffReported = true;
      this.#event(slot, { type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${slot.container.name} in pod ${this.#formatPod()}` });
    }
    if (this.#wakeTimer !== undefined) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    if (actions.wakeAt !== undefined) {
      this.#wakeTimer = setTimeout(() => this.requestSync(), Math.max(0, actions.wakeAt - this.#ctx.now()) + 1);
      this.#wakeTimer.unref();
    }
  }

  async #stopSidecars(names: readonly string[]): Promise<void> {
    const deadline = this.#ctx.now() + this.#graceMs();
    for (const name of names) {
      const run = this.#slot(name)?.run;
      if (run !== undefined) await this.#stopRun(run, Math.max(0, deadline - this.#ctx.now()));
    }
  }

  #view(slot: Slot): SlotView {
    const run = slot.run;
    const state = slot.starting ? 'running' : run === undefined ? 'idle' : run.finishedAt === undefined ? 'running' : 'exited';
    return {
      name: slot.container.name,
      kind: slot.kind,
      state,
      ...(run?.exitCode === undefined ? {} : { exitCode: run.exitCode }),
      everStarted: slot.everStarted,
      ...(slot.notBefore === undefined ? {} : { notBefore: slot.notBefore }),
    };
  }

  #slot(name: string): Slot | undefined {
    return this.#slots.find((s) => s.container.name === name);
  }

  // ---- starting a container ----------------------------------------------------------------------------

  async #start(slot: Slot): Promise<void> {
    slot.starting = true;
    try {
      await this.#startContainer(slot);
    } catch (err) {
      // Anything else that kept it from starting (the file system refused): wait, then try again.
      this.#block(slot, 'RunContainerError', (err as Error).message, true);
    } finally {
      slot.starting = false;
    }
  }

  #block(slot: Slot, reason: string, message: string, retry: boolean): void {
    slot.blocked = { reason, message };
    slot.notBefore = retry ? this.#ctx.now() + Math.min(this.#ctx.backoff.initialMs, 10_000) : Infinity;
    this.#event(slot, { type: 'Warning', reason: 'Failed', message: `Error: ${message}` });
  }

  async #startContainer(slot: Slot): Promise<void> {
    const ctx = this.#ctx;
    const c = slot.container;
    const sandbox = this.#sandbox;
    if (sandbox === undefined) return;
    if (c.command === undefined) {
      const what = c.image === '' ? 'no command' : `image "${c.image}" and no command`;
      this.#block(
        slot,
        'RunContainerError',
        `container "${c.name}" has ${what}: the local cluster runs commands, not images; give the container a command (the image's entrypoint, as it is on this machine)`,
        false,
      );
      return;
    }
    let env: Map<string, string>;
    let plan: LaunchPlan;
    try {
      env = containerEnv(c, {
        pod: this.#pod,
        addresses: this.#addresses(),
        node: ctx.node,
        data: (kind, name) => decoded(ctx.data(this.namespace, kind, name)),
        serviceEnv: ctx.serviceEnv,
      });
      const user = containerUser(this.#spec, c, (uid) => ctx.user(uid)?.gid);
      const mounts = containerMounts(c, (volume) => this.#volumes.dirOf(volume), env);
      await prepareMountPoints(mounts);
      plan = {
        netns: sandbox.netns,
        hostname: this.#spec.hostname,
        mounts,
        workingDir: c.workingDir ?? '/',
        user,
        noNewPrivs: (c.securityContext.allowPrivilegeEscalation ?? this.#spec.securityContext.allowPrivilegeEscalation) === false,
      };
      const base = new Map([
        ['PATH', ctx.defaultPath],
        ['HOSTNAME', this.#spec.hostname],
        ['HOME', ctx.user(user.uid)?.home ?? '/'],
      ]);
      env = new Map([...base, ...env]);
    } catch (err) {
      if (err instanceof ConfigError || err instanceof LaunchError || err instanceof MountError) {
        this.#block(slot, 'CreateContainerConfigError', err.message, true);
        return;
      }
      throw err;
    }
    if (this.#state !== 'running') return;
    const argv = containerArgv(c, env);
    const variables = Object.fromEntries(env);
    const restart = slot.starts > 0;
    const missing = findCommand(argv[0] ?? '', env.get('PATH') ?? '', plan.mounts);
    const handle = missing === null ? await this.#logs.startRun(c.name, restart) : undefined;
    if (this.#state !== 'running') {
      await handle?.close();
      return;
    }
    slot.blocked = undefined;
    slot.notBefore = undefined;
    slot.previous = slot.run;
    slot.starts++;
    const now = ctx.now();
    if (handle === undefined) {
      // The runtime could not exec the command: a run that ended at once (the runtime's StartError, exit 128).
      const run = this.#newRun(undefined, now, plan, variables, Promise.resolve());
      slot.run = run;
      this.#event(slot, { type: 'Warning', reason: 'Failed', message: `Error: failed to start container "${c.name}": ${missing ?? ''}` });
      this.#exited(slot, run, { code: null, signal: null, failure: missing ?? 'cannot start' });
      return;
    }
    let launched;
    try {
      const command = launchCommand(plan, argv, variables, ctx.tools);
      launched = launch(command.argv, command.env, handle.fd);
    } finally {
      await handle.close();
    }
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const run = this.#newRun(launched.pid, now, plan, variables, done);
    slot.run = run;
    this.#event(slot, { type: 'Normal', reason: 'Created', message: `Created container: ${c.name}` });
    this.#event(slot, { type: 'Normal', reason: 'Started', message: `Started container ${c.name}` });
    void launched.exited.then((exit) => {
      this.#exited(slot, run, exit);
      resolveDone();
    });
    if (run.started) slot.everStarted = true;
    this.#startProbes(slot, run);
  }

  #newRun(pid: number | undefined, startedAt: number, plan: LaunchPlan, env: Readonly<Record<string, string>>, done: Promise<void>): Run {
    return { pid, startedAt, plan, env, started: false, ready: false, probers: [], done };
  }

  #exited(slot: Slot, run: Run, exit: Exit): void {
    for (const p of run.probers) p.stop();
    if (run.pid !== undefined) signalGroup(run.pid, 'SIGKILL');
    const now = this.#ctx.now();
    run.finishedAt = now;
    run.ready = false;
    if (exit.failure !== undefined && exit.code === null && exit.signal === null) {
      run.exitCode = 128;
      run.reason = 'StartError';
      run.message = exit.failure;
    } else {
      run.exitCode = exitCodeOf(exit);
      run.reason = run.exitCode === 0 ? 'Completed' : 'Error';
    }
    if (this.terminating) return;
    const settings = this.#ctx.backoff;
    if (now - run.startedAt > backoffResetMs(settings)) slot.crashes = 0;
    run.backoffMs = restartDelayMs(slot.crashes, settings);
    slot.crashes++;
    slot.notBefore = now + run.backoffMs;
    this.requestSync();
  }

  // ---- probes ------------------------------------------------------------------------------------------

  #startProbes(slot: Slot, run: Run): void {
    const c = slot.container;
    const afterStart = (): void => {
      if (c.readinessProbe !== undefined) {
        run.readiness = this.#prober(slot, run, 'Readiness', c.readinessProbe, (ok) => {
          run.ready = ok;
          this.requestSync();
        });
      } else run.ready = true;
      if (c.livenessProbe !== undefined) {
        const probe = c.livenessProbe;
        this.#prober(slot, run, 'Liveness', probe, (ok) => {
          if (!ok) this.#restartUnhealthy(slot, run, 'liveness', probe);
        });
      }
    };
    if (c.startupProbe === undefined) {
      run.started = true;
      slot.everStarted = true;
      afterStart();
      return;
    }
    const probe = c.startupProbe;
    this.#prober(slot, run, 'Startup', probe, (ok) => {
      if (!ok) return this.#restartUnhealthy(slot, run, 'startup', probe);
      run.started = true;
      slot.everStarted = true;
      afterStart();
      this.requestSync();
    });
  }

  #prober(slot: Slot, run: Run, kind: ProbeKind, probe: Probe, onResult: (ok: boolean) => void): Prober {
    const prober = new Prober({
      kind,
      probe,
      attempt: () => this.#attempt(slot, run, probe),
      onResult: (ok) => {
        if (run.finishedAt === undefined && !this.terminating) onResult(ok);
      },
      onFailure: (message) => this.#event(slot, { type: 'Warning', reason: 'Unhealthy', message: `${kind} probe failed: ${message}` }),
    });
    run.probers.push(prober);
    if (run.finishedAt === undefined) prober.start();
    return prober;
  }

  #attempt(slot: Slot, run: Run, probe: Probe): Promise<ProbeResult> {
    const podIP = this.#sandbox?.ip ?? '';
    return probeOnce(
      probe.handler,
      {
        podIP,
        ports: slot.container.ports,
        exec: async (command, timeoutMs) => {
          if (run.plan === undefined || run.env === undefined) return { ok: false, message: 'the container is not running' };
          const launched = launchCommand(run.plan, command, run.env, this.#ctx.tools);
          const result = await runCaptured(launched.argv, launched.env, timeoutMs);
          if (result.timedOut) return { ok: false, message: `command ${JSON.stringify(command.join(' '))} timed out` };
          if (result.exit.code === 0) return { ok: true, message: '' };
          return { ok: false, message: result.output.trim() || `command ${JSON.stringify(command.join(' '))} exited with ${exitCodeOf(result.exit)}` };
        },
      },
      probe.timeoutSeconds * 1000,
    );
  }

  #restartUnhealthy(slot: Slot, run: Run, which: 'liveness' | 'startup', probe: Probe): void {
    if (run.finishedAt !== undefined || this.terminating) return;
    for (const p of run.probers) p.stop();
    run.ready = false;
    this.#event(slot, { type: 'Normal', reason: 'Killing', message: `Container ${slot.container.name} failed ${which} probe, will be restarted` });
    const grace = probe.terminationGracePeriodSeconds === undefined ? this.#graceMs() : Math.min(probe.terminationGracePeriodSeconds * 1000, this.#ctx.maxGraceMs);
    void this.#stopRun(run, grace);
    this.requestSync();
  }

  /** SIGTERM to the run's process group, SIGKILL after `graceMs`; resolves once it exited (or gave up). */
  async #stopRun(run: Run, graceMs: number): Promise<void> {
    if (run.finishedAt !== undefined || run.pid === undefined) return;
    for (const p of run.probers) p.stop();
    signalGroup(run.pid, 'SIGTERM');
    if (await settlesWithin(run.done, graceMs)) return;
    signalGroup(run.pid, 'SIGKILL');
    await settlesWithin(run.done, KILL_WAIT_MS);
  }

  #graceMs(): number {
    return Math.min(this.#spec.terminationGracePeriodSeconds * 1000, this.#ctx.maxGraceMs);
  }

  // ---- termination -------------------------------------------------------------------------------------

  /** Stops every process of the pod and removes its network and volumes (and, when deleted, its logs). */
  terminate(options: TerminateOptions): Promise<void> {
    this.#terminating ??= this.#terminate(options);
    return this.#terminating;
  }

  async #terminate(options: TerminateOptions): Promise<void> {
    const ctx = this.#ctx;
    this.#state = 'terminating';
    this.#wakeSetup?.();
    for (const timer of [this.#wakeTimer, this.#refreshTimer]) if (timer !== undefined) clearTimeout(timer);
    for (const slot of this.#slots) for (const p of slot.run?.probers ?? []) p.stop();
    await this.#setup;
    await this.#syncChain;
    const graceMs = Math.min(this.#graceMs(), options.maxGraceMs ?? Infinity);
    const deadline = ctx.now() + graceMs;
    const remaining = (): number => Math.max(0, deadline - ctx.now());
    const running = (slot: Slot): Run | undefined => (slot.run !== undefined && slot.run.finishedAt === undefined ? slot.run : undefined);
    const killing = (slot: Slot): void => {
      if (options.reason === 'deleted') this.#event(slot, { type: 'Normal', reason: 'Killing', message: `Stopping container ${slot.container.name}` });
    };
    // App containers (and an init container still running) together, then the sidecars one by one, last first.
    const first = this.#slots.filter((s) => s.kind !== 'sidecar' && running(s) !== undefined);
    first.forEach(killing);
    await Promise.all(first.map((s) => this.#stopRun(running(s) as Run, remaining())));
    for (const slot of this.#slots.filter((s) => s.kind === 'sidecar').reverse()) {
      const run = running(slot);
      if (run === undefined) continue;
      killing(slot);
      await this.#stopRun(run, remaining());
    }
    if (this.#sandbox !== undefined) {
      // Whatever left its process group (a daemon) still lives in the pod's network namespace.
      for (const pid of await pidsInNetns(this.#sandbox.netns)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
    try {
      await ctx.network.removePod(this.uid);
    } catch (err) {
      ctx.log.warn({ event: 'pod.network.remove.failed', pod: this.#key(), err }, 'could not remove the pod network');
    }
    await (options.reason === 'deleted' ? rm(this.#dir, { recursive: true, force: true }) : this.#volumes.remove());
    this.#state = 'done';
  }

  // ---- status ------------------------------------------------------------------------------------------

  #addresses(): { hostIP: string; podIP?: string } {
    return { hostIP: this.#ctx.network.gateway, ...(this.#sandbox === undefined ? {} : { podIP: this.#sandbox.ip }) };
  }

  #containerStatus(slot: Slot): ContainerStatus {
    const c = slot.container;
    const run = slot.run;
    const terminated = (r: Run | undefined): TerminatedState | undefined =>
      r === undefined || r.finishedAt === undefined
        ? undefined
        : {
            exitCode: r.exitCode ?? 128,
            reason: r.reason ?? 'Error',
            ...(r.message === undefined ? {} : { message: r.message }),
            startedAt: timestamp(r.startedAt),
            finishedAt: timestamp(r.finishedAt),
            ...(r.pid === undefined ? {} : { containerID: `loom://${r.pid}` }),
          };
    let state: ContainerState;
    let last: TerminatedState | undefined;
    let id: number | undefined;
    const now = terminated(run);
    if (run !== undefined && now === undefined) {
      state = { running: { startedAt: timestamp(run.startedAt) } };
      last = terminated(slot.previous);
      id = run.pid;
    } else if (slot.blocked !== undefined) {
      state = { waiting: slot.blocked };
      last = now;
    } else if (now !== undefined && this.#backingOff.has(c.name)) {
      state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(run?.backoffMs ?? 0)} restarting failed container=${c.name} pod=${this.#formatPod()}` } };
      last = now;
    } else if (now !== undefined) {
      state = { terminated: now };
      last = terminated(slot.previous);
      id = run?.pid;
    } else {
      const initializing = slot.kind !== 'app' || (this.#spec.initContainers.length > 0 && !this.#initialized);
      state = { waiting: { reason: initializing ? 'PodInitializing' : 'ContainerCreating' } };
    }
    const live = run !== undefined && run.finishedAt === undefined;
    // An init container that completed counts as ready (the kubelet's prober manager says so).
    const completed = slot.kind === 'init' && 'terminated' in state && state.terminated.exitCode === 0;
    return {
      name: c.name,
      image: c.image,
      imageID: '',
      ...(id === undefined ? {} : { containerID: `loom://${id}` }),
      state,
      lastState: last === undefined ? {} : { terminated: last },
      ready: completed || (live && run.started && run.ready),
      restartCount: Math.max(0, slot.starts - 1),
      started: live && run.started,
    };
  }

  /** Writes the pod's status when it differs from the stored one. */
  #writeStatus(): void {
    const ctx = this.#ctx;
    if (this.terminating) return;
    let current: KubeObject;
    try {
      current = ctx.objects.get(ctx.podType, this.namespace, this.name);
    } catch {
      return;
    }
    if (current.metadata.uid !== this.uid) return;
    const previous = isRecord(current['status']) ? current['status'] : {};
    const status = podStatus({
      spec: this.#spec,
      initContainers: this.#slots.filter((s) => s.kind !== 'app').map((s) => this.#containerStatus(s)),
      containers: this.#slots.filter((s) => s.kind === 'app').map((s) => this.#containerStatus(s)),
      initialized: this.#initialized,
      ...(this.#terminal === undefined ? {} : { terminal: this.#terminal }),
      hostIP: ctx.network.gateway,
      ...(this.#sandbox === undefined ? {} : { podIP: this.#sandbox.ip }),
      startTime: timestamp(this.#startTime),
      scheduledAt: timestamp(this.#scheduledAt),
      current: previous,
      now: timestamp(ctx.now()),
    });
    this.#phase = String(status['phase']);
    if (isDeepStrictEqual(status, previous)) return;
    try {
      // prepareUpdate gets its own copy: it may change the metadata of the object it is given.
      const next = ctx.objects.prepareUpdate(ctx.podType, structuredClone(current), { ...current, status }, 'status');
      ctx.objects.commitUpdate(ctx.podType, current, next);
    } catch (err) {
      ctx.log.debug({ event: 'pod.status.failed', pod: this.#key(), err }, 'pod status not written');
    }
  }

  /** The pod object as stored (or as last seen, when it is gone). */
  #object(): KubeObject {
    try {
      return this.#ctx.objects.get(this.#ctx.podType, this.namespace, this.name);
    } catch {
      return { apiVersion: 'v1', kind: 'Pod', metadata: { name: this.name, namespace: this.namespace, uid: this.uid } };
    }
  }

  #event(slot: Slot | undefined, event: EventInput): void {
    this.#ctx.events.record({ namespace: this.namespace, name: this.name, uid: this.uid, ...(slot === undefined ? {} : { fieldPath: slot.fieldPath }) }, event);
  }

  #formatPod(): string {
    return `${this.name}_${this.namespace}(${this.uid})`;
  }

  #key(): string {
    return `${this.namespace}/${this.name}`;
  }

  // ---- what the runner shows ---------------------------------------------------------------------------

  /** The container's kind, or undefined when the pod has no such container. */
  containerKind(name: string): SlotKind | undefined {
    return this.#slot(name)?.kind;
  }

  containerNames(kind: 'init' | 'app'): string[] {
    return this.#slots.filter((s) => (kind === 'app' ? s.kind === 'app' : s.kind !== 'app')).map((s) => s.container.name);
  }

  /** Whether the container's current run goes on (a followed log keeps waiting). */
  running(name: string): boolean {
    const run = this.#slot(name)?.run;
    return run !== undefined && run.finishedAt === undefined && !this.terminating;
  }

  /** How many times the container was started: which run a log belongs to. */
  runNumber(name: string): number {
    return this.#slot(name)?.starts ?? 0;
  }

  /** Why the container has no log yet. */
  waitingReason(name: string): string {
    const slot = this.#slot(name);
    if (slot === undefined) return 'ContainerCreating';
    const state = this.#containerStatus(slot).state;
    return 'waiting' in state ? state.waiting.reason : 'ContainerCreating';
  }

  logPath(name: string, previous: boolean): string {
    return previous ? this.#logs.previous(name) : this.#logs.current(name);
  }

  runtimeStatus(): PodRuntimeStatus {
    return {
      namespace: this.namespace,
      name: this.name,
      uid: this.uid,
      phase: this.#phase,
      ...(this.#sandbox === undefined ? {} : { netns: this.#sandbox.netns, ip: this.#sandbox.ip }),
      terminating: this.terminating,
      containers: this.#slots.map((slot): ContainerRuntimeStatus => {
        const status = this.#containerStatus(slot);
        const state = 'running' in status.state ? 'running' : 'terminated' in status.state ? 'terminated' : 'waiting';
        const reason = 'waiting' in status.state ? status.state.waiting.reason : 'terminated' in status.state ? status.state.terminated.reason : undefined;
        const pid = slot.run !== undefined && slot.run.finishedAt === undefined ? slot.run.pid : undefined;
        return {
          name: slot.container.name,
          kind: slot.kind,
          state,
          ...(reason === undefined ? {} : { reason }),
          ...(pid === undefined ? {} : { pid }),
          restartCount: status.restartCount,
          log: this.#logs.current(slot.container.name),
          ...(slot.starts > 1 ? { previousLog: this.#logs.previous(slot.container.name) } : {}),
        };
      }),
    };
  }
}

/**
 * The spec with the ServiceAccount volume Kubernetes' admission adds (token, the API's CA, the namespace at
 * /var/run/secrets/kubernetes.io/serviceaccount in every container), when the runner has the API's CA and the pod
 * does not have it already.
 */
function withServiceAccountVolume(view: PodView, ctx: WorkerContext): PodSpec {
  const spec = view.spec;
  if (ctx.apiCaPem === undefined) return spec;
  const automount = spec.automountServiceAccountToken ?? ctx.automount(view.namespace, spec.serviceAccountName) ?? true;
  const containers = [...spec.initContainers, ...spec.containers];
  // As the admission plugin: nothing when a container mounts something there already (the API's admission did).
  if (!automount || containers.some((c) => c.volumeMounts.some((m) => m.mountPath.replace(/\/+$/, '') === SERVICE_ACCOUNT_PATH))) return spec;
  const volume: Volume = {
    name: SERVICE_ACCOUNT_VOLUME,
    source: {
      kind: 'projected',
      defaultMode: 0o644,
      sources: [
        { kind: 'serviceAccountToken', expirationSeconds: SERVICE_ACCOUNT_TOKEN_SECONDS, path: 'token' },
        { kind: 'inline', path: 'ca.crt', content: ctx.apiCaPem },
        { kind: 'downwardAPI', items: [{ path: 'namespace', fieldPath: 'metadata.namespace' }] },
      ],
    },
  };
  const mount = (c: Container): Container => ({ ...c, volumeMounts: [...c.volumeMounts, { name: SERVICE_ACCOUNT_VOLUME, mountPath: SERVICE_ACCOUNT_PATH, readOnly: true }] });
  return { ...spec, volumes: [...spec.volumes, volume], initContainers: spec.initContainers.map(mount), containers: spec.containers.map(mount) };
}

function conditionTime(object: KubeObject, type: string): number | undefined {
  const status = isRecord(object['status']) ? object['status'] : {};
  const conditions = Array.isArray(status['conditions']) ? status['conditions'] : [];
  const found = conditions.find((c) => isRecord(c) && c['type'] === type && c['status'] === 'True') as Record<string, unknown> | undefined;
  const at = typeof found?.['lastTransitionTime'] === 'string' ? Date.parse(found['lastTransitionTime']) : NaN;
  return Number.isFinite(at) ? at : undefined;
}

const decoded = (data: Readonly<Record<string, Buffer>> | undefined): Record<string, string> | undefined =>
  data === undefined ? undefined : Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('utf8')]));

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const controller = new AbortController();
  const timeout = sleep(ms, false, { signal: controller.signal }).catch(() => false);
  const result = await Promise.race([promise.then(() => true), timeout]);
  controller.abort();
  return result;
}

/**
 * Makes what the mounts need exist on the host: a subPath's source directory below its volume, and the mount
 * point itself (a directory, or an empty file when a file is mounted). This creates mountPaths on the host file
 * system when they are missing: the processes run on the host's file system, only their mounts are private.
 */
async function prepareMountPoints(mounts: readonly Mount[]): Promise<void> {
  for (const m of mounts) {
    let isFile: boolean;
    try {
      isFile = (await stat(m.source)).isFile();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(m.source, { recursive: true, mode: 0o755 });
      isFile = false;
    }
    let target: Awaited<ReturnType<typeof stat>> | undefined;
    try {
      target = await stat(m.target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (target === undefined) {
      if (isFile) {
        await mkdir(dirname(m.target), { recursive: true, mode: 0o755 });
        await (await open(m.target, 'a', 0o644)).close();
      } else await mkdir(m.target, { recursive: true, mode: 0o755 });
    } else if (target.isDirectory() === isFile) {
      throw new MountError(`cannot mount ${isFile ? 'a file' : 'a directory'} on ${m.target}: it is ${isFile ? 'a directory' : 'not a directory'}`);
    }
  }
}
