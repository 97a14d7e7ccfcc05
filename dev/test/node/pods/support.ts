/**
 * What the pod runner's tests run it with: a real (small) pod network of their own — a bridge in this namespace
 * with the gateway address, and per pod a network namespace joined to it by a veth pair, in a /24 of 10.244.x.0
 * that no route of the host uses — a fake token issuer that records what it was asked, and a runner on a real
 * Store/Objects/Registry with short back-offs. Everything is named after this process's pid and removed in
 * teardown (and what a killed run left is removed first).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  addAddress,
  addBridge,
  addDefaultRoute,
  addNetns,
  addVethPair,
  attachToBridge,
  deleteLink,
  deleteNetns,
  freeSubnet,
  interfaceName,
  ipv4RouteDestinations,
  linkUp,
  ownedName,
  removeStale,
  type Subnet,
} from '@loom/shared/netns';
import { silentLogger } from '@loom/shared/runtime';
import type { Test } from 'tap';
import { Objects } from '../../../src/api/objects.js';
import { Registry } from '../../../src/api/registry.js';
import { clusterStrategy } from '../../../src/api/strategy.js';
import { Store, type KubeObject } from '../../../src/api/store.js';
import { PodRunner } from '../../../src/node/pods/runner.js';
import type { PodNetwork, PodRunnerOptions, TokenIssuer, TokenRequest } from '../../../src/node/pods/types.js';

export const PREFIX = 'lpt';

/** A bridge with the gateway address, and one namespace per pod on it. */
export class TestNetwork implements PodNetwork {
  readonly gateway: string;
  readonly #subnet: Subnet;
  readonly #bridge: string;
  readonly #pods = new Map<string, { netns: string; ip: string }>();
  #next = 0;
  /** Every uid removePod was called with, once it is done. */
  readonly removed: string[] = [];

  private constructor(subnet: Subnet, bridge: string) {
    this.#subnet = subnet;
    this.#bridge = bridge;
    this.gateway = subnet.v4(1);
  }

  /** Makes the bridge; the caller closes the network. */
  static async create(): Promise<TestNetwork> {
    await removeStale(PREFIX);
    const subnet = freeSubnet({ v4: '10.244', v6: 'fd00:4c70' }, await ipv4RouteDestinations(null), process.pid % 256);
    if (subnet === null) throw new Error('no free /24 in 10.244.0.0/16');
    const bridge = interfaceName(PREFIX, process.pid, 'b');
    await addBridge(null, bridge);
    const network = new TestNetwork(subnet, bridge);
    try {
      await addAddress(null, bridge, subnet.v4(1, 24));
      await linkUp(null, bridge);
    } catch (err) {
      await network.close();
      throw err;
    }
    return network;
  }

  async addPod(pod: { namespace: string; name: string; uid: string }): Promise<{ netns: string; ip: string }> {
    const n = ++this.#next;
    if (n > 200) throw new Error('the test network has room for 200 pods');
    const netns = ownedName(PREFIX, process.pid, `-p${n}`);
    const ip = this.#subnet.v4(n + 9);
    await addNetns(netns);
    this.#pods.set(pod.uid, { netns, ip });
    const host = interfaceName(PREFIX, process.pid, `v${n}`);
    await addVethPair({ name: host, ns: null }, { name: 'eth0', ns: netns });
    await attachToBridge(null, host, this.#bridge);
    await linkUp(null, host);
    await addAddress(netns, 'eth0', `${ip}/24`);
    await linkUp(netns, 'eth0');
    await addDefaultRoute(netns, { via: this.gateway, dev: 'eth0' });
    return { netns, ip };
  }

  async removePod(uid: string): Promise<void> {
    const pod = this.#pods.get(uid);
    this.#pods.delete(uid);
    if (pod !== undefined) await deleteNetns(pod.netns, { killProcesses: true });
    this.removed.push(uid);
  }

  netnsOf(uid: string): string | undefined {
    return this.#pods.get(uid)?.netns;
  }

  async close(): Promise<void> {
    for (const uid of [...this.#pods.keys()]) await this.removePod(uid);
    await deleteLink(null, this.#bridge);
  }
}

/** A token issuer that makes up tokens and remembers the requests. */
export class FakeTokens implements TokenIssuer {
  readonly requests: TokenRequest[] = [];
  /** The lifetime it claims for the tokens (seconds); the request's when undefined. */
  lifetimeSeconds: number | undefined;

  issue(req: TokenRequest): { token: string; expirationTimestamp: string } {
    this.requests.push(req);
    const seconds = this.lifetimeSeconds ?? req.expirationSeconds;
    return {
      token: `token-${this.requests.length}-${req.namespace}-${req.serviceAccount}-${req.audiences.join(',')}`,
      expirationTimestamp: new Date(Date.now() + seconds * 1000).toISOString(),
    };
  }
}

export interface Harness {
  readonly objects: Objects;
  readonly network: TestNetwork;
  readonly tokens: FakeTokens;
  readonly runner: PodRunner;
  /** A temporary directory for the test's files (mountPaths go below it too). */
  readonly dir: string;
  /** Creates a pod (without the ServiceAccount volume unless the manifest sets automountServiceAccountToken). */
  createPod(manifest: Record<string, unknown>, namespace?: string): KubeObject;
  pod(name: string, namespace?: string): KubeObject | undefined;
  deletePod(name: string, namespace?: string): void;
  events(namespace?: string): KubeObject[];
  create(plural: string, body: Record<string, unknown>, namespace?: string): KubeObject;
}

/** A runner on its own API objects (with the local API's admission unless `api.admission` is false), test network and state directory, all removed in teardown. */
export async function harness(t: Test, options: Partial<PodRunnerOptions> = {}, api: { admission?: boolean } = {}): Promise<Harness> {
  // As the local API makes them: pods defaulted, admitted and validated (updates may not change the spec).
  const store = new Store();
  const objects = new Objects(store, new Registry(), api.admission === false ? {} : { strategy: clusterStrategy(store) });
  const type = (plural: string) => {
    const found = objects.registry.find('', 'v1', plural);
    if (found === undefined) throw new Error(`no ${plural}`);
    return found;
  };
  objects.create(type('namespaces'), undefined, { metadata: { name: 'default' } });
  const dir = await mkdtemp(join(tmpdir(), 'loom-pods-'));
  let network: TestNetwork;
  try {
    network = await TestNetwork.create();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const tokens = new FakeTokens();
  const runner = new PodRunner({
    objects,
    network,
    tokens,
    nodeName: 'test-node',
    stateDir: join(dir, 'state'),
    log: silentLogger(),
    backoff: { initialMs: 300, maxMs: 1_200 },
    maxGracePeriodMs: 3_000,
    ...options,
  });
  // In this order: the processes, then the network, then the files.
  t.teardown(async () => {
    await runner.stop();
    await network.close();
    await rm(dir, { recursive: true, force: true });
  });
  await runner.start();
  return {
    objects,
    network,
    tokens,
    runner,
    dir,
    createPod: (manifest, namespace = 'default') => objects.create(type('pods'), namespace, withoutServiceAccount(manifest)),
    pod: (name, namespace = 'default') => objects.store.get('/pods', namespace, name),
    deletePod: (name, namespace = 'default') => void objects.delete(type('pods'), namespace, name),
    events: (namespace = 'default') => objects.store.list('/events', namespace),
    create: (plural, body, namespace = 'default') => objects.create(type(plural), namespace, body),
  };
}

/**
 * The manifest with `automountServiceAccountToken: false` unless it says otherwise: the API's admission would add
 * the ServiceAccount volume, mounted at /var/run/secrets/kubernetes.io/serviceaccount (a directory on the host).
 */
function withoutServiceAccount(manifest: Record<string, unknown>): Record<string, unknown> {
  const spec = (manifest['spec'] ?? {}) as Record<string, unknown>;
  return 'automountServiceAccountToken' in spec ? manifest : { ...manifest, spec: { ...spec, automountServiceAccountToken: false } };
}

/** Polls `check` every 50 ms until it returns something other than undefined/false, or fails after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last === undefined ? '' : `: ${(last as Error).message}`}`);
    await sleep(50);
  }
}

type Json = Record<string, unknown>;

export const statusOf = (pod: KubeObject | undefined): Json => (pod?.['status'] ?? {}) as Json;

export function condition(pod: KubeObject | undefined, type: string): Json | undefined {
  const conditions = (statusOf(pod)['conditions'] ?? []) as Json[];
  return conditions.find((c) => c['type'] === type);
}

export function containerStatus(pod: KubeObject | undefined, name: string, init = false): Json | undefined {
  const list = (statusOf(pod)[init ? 'initContainerStatuses' : 'containerStatuses'] ?? []) as Json[];
  return list.find((c) => c['name'] === name);
}

/** The container's state kind and its details (`['running', {...}]`). */
export function stateOf(status: Json | undefined): [string, Json] | undefined {
  const state = status?.['state'] as Json | undefined;
  if (state === undefined) return undefined;
  const [kind] = Object.keys(state);
  return kind === undefined ? undefined : [kind, state[kind] as Json];
}

/** A stream read to its end as text. */
export async function text(stream: Readable): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += String(chunk);
  return out;
}

/** Whether a process runs (a zombie waiting to be reaped does not: PID 1 here does not reap). */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
