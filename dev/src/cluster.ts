/**
 * One local cluster, composed: the node network (a bridge, pod namespaces), the API server listening on the
 * bridge's address (so the host and the pods reach it at one URL), the built-in controllers, kube-proxy's rules
 * for Services, `/etc/hosts` of every pod kept in step with Services, and the pod runner. Optionally its objects
 * are loaded from and saved to a snapshot file. `stop()` removes every process, rule, link and namespace it made.
 */
import type { ServerResponse } from 'node:http';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '@loom/shared/runtime';
import { startLocalApi, type LocalApi } from './api/local.js';
import { ApiError } from './api/status.js';
import type { LogSource } from './api/routes.js';
import type { KubeObject, StoreSnapshot } from './api/store.js';
import type { ClusterFiles } from './cli/state.js';
import { startControllers, type Controllers } from './controllers/index.js';
import { hostsFile, writeHostsFile } from './node/hosts.js';
import { ClusterNetwork } from './node/network.js';
import { LogsError, PodRunner } from './node/pods/index.js';
import { ServiceProxy } from './node/services.js';

const REPLICASET_CONTROLLER = { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] };

/** The API's port on the bridge address (each cluster has its own address, so clusters never collide on it). */
export const API_PORT = 6443;

export interface ClusterOptions {
  readonly name: string;
  readonly files: ClusterFiles;
  readonly log: Logger;
  /** Objects are loaded from it when it exists, saved to it while running (debounced) and on stop. */
  readonly snapshotFile?: string;
  /** Container restart back-off (tests); kubelet's by default. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

interface SnapshotFile {
  readonly store: StoreSnapshot;
  readonly signingKeyPem: string;
}

const SAVE_DELAY_MS = 2_000;
const SYNC_DELAY_MS = 50;

function readSnapshot(file: string): SnapshotFile | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`snapshot ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const p = parsed as Partial<SnapshotFile> | null;
  if (p === null || typeof p !== 'object' || typeof p.signingKeyPem !== 'string' || typeof p.store !== 'object' || p.store === null || typeof p.store.resourceVersion !== 'number') {
    throw new Error(`snapshot ${file} is not a loom dev snapshot (expected {store, signingKeyPem})`);
  }
  return p as SnapshotFile;
}

export class Cluster {
  readonly #options: ClusterOptions;
  readonly #network: ClusterNetwork;
  readonly #api: LocalApi;
  readonly #controllers: Controllers;
  readonly #services: ServiceProxy;
  readonly #runner: PodRunner;
  readonly #stops: (() => void)[] = [];
  #syncTimer: NodeJS.Timeout | undefined;
  #saveTimer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> = Promise.resolve();

  private constructor(options: ClusterOptions, parts: { network: ClusterNetwork; api: LocalApi; controllers: Controllers; services: ServiceProxy; runner: PodRunner }) {
    this.#options = options;
    this.#network = parts.network;
    this.#api = parts.api;
    this.#controllers = parts.controllers;
    this.#services = parts.services;
    this.#runner = parts.runner;
  }

  get apiUrl(): string {
    return this.#api.url;
  }
  get kubeconfig(): string {
    return this.#api.kubeconfig;
  }
  get podCidr(): string {
    return this.#network.podCidr;
  }
  get serviceCidr(): string {
    return this.#network.serviceCidr;
  }
  get gateway(): string {
    return this.#network.gateway;
  }
  get api(): LocalApi {
    return this.#api;
  }
  get runner(): PodRunner {
    return this.#runner;
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const { name, log, files } = options;
    const snapshot = options.snapshotFile === undefined ? undefined : readSnapshot(options.snapshotFile);
    const network = await ClusterNetwork.create({ name, log });
    let api: LocalApi | undefined;
    let runner: PodRunner | undefined;
    try {
      const logs: LogSource = { serve: (ns, pod, o, res) => serveLogs(runner, ns, pod, o, res) };
      api = await startLocalApi({
        name,
        host: network.gateway,
        port: API_PORT,
        log,
        logs,
        serviceCidr: network.serviceCidr,
        ...(snapshot === undefined ? {} : { snapshot: snapshot.store, signingKeyPem: snapshot.signingKeyPem }),
      });
      const podType = api.objects.registry.find('', 'v1', 'pods');
      const local = api;
      const controllers = startControllers(api.objects, {
        log,
        apiCaPem: api.caPem,
        kubernetesService: { serviceCidr: network.serviceCidr, address: network.gateway, port: api.port },
        // Pods the ReplicaSets make go through admission (the sidecar injector), as on Kubernetes.
        ...(podType === undefined
          ? {}
          : { createPod: async (namespace: string | undefined, body: unknown) => (await local.api.create(podType, namespace, body, { user: REPLICASET_CONTROLLER, dryRun: false, fieldValidation: 'Ignore' })).object }),
      });
      const services = new ServiceProxy({ cluster: name, log });
      const objects = api.objects;
      runner = new PodRunner({
        objects,
        network,
        tokens: { issue: (req) => api!.tokens.issue({ ...req, audiences: [...req.audiences] }) },
        hosts: async (pod, netns, ip) => {
          await writeHostsFile(netns, hostsFile(podIdentity(pod, ip), objects.store.list('/services'), objects.store.list('discovery.k8s.io/endpointslices')));
        },
        nodeName: `loom-dev-${name}`,
        stateDir: files.dir,
        log,
        apiCaPem: api.caPem,
        apiUrlForPods: api.url,
        ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      });
      const cluster = new Cluster(options, { network, api, controllers, services, runner });
      cluster.#follow();
      await cluster.#syncServices();
      await runner.start();
      return cluster;
    } catch (err) {
      await runner?.stop().catch(() => undefined);
      await api?.close().catch(() => undefined);
      await network.destroy().catch(() => undefined);
      throw err;
    }
  }

  /** Services and EndpointSlices → iptables and hosts files; any change → the snapshot file. */
  #follow(): void {
    const store = this.#api.objects.store;
    const sync = (): void => {
      if (this.#syncTimer !== undefined) return;
      this.#syncTimer = setTimeout(() => {
        this.#syncTimer = undefined;
        void this.#syncServices();
      }, SYNC_DELAY_MS);
    };
    for (const resource of ['/services', 'discovery.k8s.io/endpointslices']) this.#stops.push(store.watch(resource, store.resourceVersion, sync));
    if (this.#options.snapshotFile !== undefined) {
      const save = (): void => {
        if (this.#saveTimer !== undefined) return;
        this.#saveTimer = setTimeout(() => {
          this.#saveTimer = undefined;
          this.#save();
        }, SAVE_DELAY_MS);
      };
      for (const type of this.#api.objects.registry.all) this.#stops.push(store.watch(`${type.group}/${type.plural}`, store.resourceVersion, save));
    }
  }

  #syncServices(): Promise<void> {
    this.#syncing = this.#syncing.then(async () => {
      const store = this.#api.objects.store;
      const services = store.list('/services');
      const slices = store.list('discovery.k8s.io/endpointslices');
      try {
        await this.#services.sync(services, slices);
        for (const pod of this.#runner.status().pods) {
          if (pod.netns === undefined || pod.ip === undefined || pod.terminating) continue;
          await writeHostsFile(pod.netns, hostsFile({ namespace: pod.namespace, podName: pod.name, podIp: pod.ip }, services, slices));
        }
      } catch (err) {
        this.#options.log.error({ event: 'dev.services_sync_failed', reason: (err as Error).message }, 'could not apply Services to iptables and hosts files');
      }
    });
    return this.#syncing;
  }

  #save(): void {
    const file = this.#options.snapshotFile;
    if (file === undefined) return;
    const data: SnapshotFile = { store: this.#api.objects.store.snapshot(), signingKeyPem: this.#api.tokens.signingKeyPem() };
    try {
      mkdirSync(dirname(file), { recursive: true });
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, JSON.stringify(data), { mode: 0o600 });
      renameSync(temp, file);
    } catch (err) {
      this.#options.log.error({ event: 'dev.snapshot_failed', file, reason: (err as Error).message }, 'could not save the snapshot');
    }
  }

  /** Stops pods (graceful), controllers, the API and removes the network and rules. */
  async stop(): Promise<void> {
    for (const stop of this.#stops) stop();
    clearTimeout(this.#syncTimer);
    clearTimeout(this.#saveTimer);
    await this.#runner.stop();
    this.#controllers.stop();
    await this.#syncing;
    this.#save();
    await this.#api.close();
    await this.#services.destroy();
    await this.#network.destroy();
  }
}

function podIdentity(pod: KubeObject, ip: string): { namespace: string; podName: string; podIp: string; hostname?: string; subdomain?: string } {
  const spec = (typeof pod['spec'] === 'object' && pod['spec'] !== null ? pod['spec'] : {}) as Record<string, unknown>;
  return {
    namespace: pod.metadata.namespace ?? 'default',
    podName: pod.metadata.name,
    podIp: ip,
    ...(typeof spec['hostname'] === 'string' ? { hostname: spec['hostname'] } : {}),
    ...(typeof spec['subdomain'] === 'string' ? { subdomain: spec['subdomain'] } : {}),
  };
}

/** `kubectl logs`: the runner's log file streamed as text/plain; its refusals as Kubernetes Status errors. */
async function serveLogs(
  runner: PodRunner | undefined,
  namespace: string,
  pod: string,
  options: { container?: string; previous: boolean; follow: boolean; tailLines?: number },
  res: ServerResponse,
): Promise<void> {
  if (runner === undefined) throw new ApiError(503, 'ServiceUnavailable', 'the pod runner is not running');
  let stream;
  try {
    stream = await runner.logsOf(namespace, pod, options.container, { previous: options.previous, follow: options.follow, ...(options.tailLines === undefined ? {} : { tailLines: options.tailLines }) });
  } catch (err) {
    if (err instanceof LogsError) throw new ApiError(err.status, err.status === 404 ? 'NotFound' : 'BadRequest', err.message);
    throw err;
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-cache, private' });
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}

