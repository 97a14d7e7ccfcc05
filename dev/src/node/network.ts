/**
 * The local cluster's node network, in the host's network namespace: one bridge per cluster whose address is the
 * pods' gateway (and the host address pods see), one network namespace per pod with a veth into the bridge, IP
 * forwarding, masquerading of pod traffic that leaves the pod network, and filter rules that let the bridge's
 * traffic through hosts whose FORWARD policy is DROP (Docker's).
 *
 * Everything is named after the cluster, so `ClusterNetwork.cleanup(name)` finds and removes it after a crash with
 * nothing in memory (`ld` = loom dev):
 * | what | name |
 * |---|---|
 * | bridge | `ld-<cluster>` |
 * | pod namespace | `ld-<cluster>.<pod uid>` (and `/etc/netns/<that>/` for its hosts file) |
 * | pod's veth, host end | `lv` + 5 hex digits of the cluster + 8 of cluster and uid (15 characters); `eth0` inside |
 * | iptables chains | `LD-<cluster>-<UPPER CASE>` in `nat` and `filter`, jumped to from the built-in chains |
 *
 * Replies of pod → ClusterIP → pod traffic on the same bridge must be un-DNATed by conntrack, so bridged traffic has
 * to pass iptables. The bridge is created with its own `nf_call_iptables` option (br_netfilter, per bridge)
 * instead of setting the host-wide `net.bridge.bridge-nf-call-iptables` sysctl, which would send every other bridge
 * of the host (Docker's, libvirt's) through iptables too. When br_netfilter is not loaded, pod traffic to a
 * ClusterIP that lands on a pod is masqueraded to the gateway instead (the server then sees the gateway, not the
 * client pod, as the source). `net.ipv4.ip_forward` is host-wide: it is set to 1 and, when it was 0 before, set
 * back when the last local cluster goes (the original value is kept in /run/loom-dev, which is gone after a
 * reboot, as is the setting itself).
 *
 * The iptables helpers at the end (save, restore, remove chains by name) are shared with services.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import {
  addAddress,
  addDefaultRoute,
  addNetns,
  addVethPair,
  attachToBridge,
  deleteLink,
  deleteNetns,
  exec,
  ip,
  ipv4RouteDestinations,
  linkUp,
  listLinks,
  listNetns,
  processAlive,
  run,
  setSysctl,
  MAX_INTERFACE_NAME,
} from '@loom/shared/netns';
import type { Logger } from '@loom/shared/runtime';
import { addressAt, cidrSize, conflictingRoute, formatCidr, parseCidr, pickClusterCidrs, type Ipv4Cidr } from './cidrs.js';
import { removeHostsDir, NETNS_ETC } from './hosts.js';

// ---- names ------------------------------------------------------------------------------------------------

const BRIDGE_PREFIX = 'ld-';
/** The longest cluster name: its bridge `ld-<name>` must fit an interface name. */
export const MAX_CLUSTER_NAME = MAX_INTERFACE_NAME - BRIDGE_PREFIX.length;
const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `name` cannot name a local cluster, or null when it can. */
export function clusterNameProblem(name: string): string | null {
  if (!CLUSTER_NAME.test(name)) {
    return `cluster name "${name}" must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`;
  }
  if (name.length > MAX_CLUSTER_NAME) return `cluster name "${name}" must be no more than ${MAX_CLUSTER_NAME} characters`;
  return null;
}

function checkName(name: string): void {
  const problem = clusterNameProblem(name);
  if (problem !== null) throw new RangeError(problem);
}

const hex = (text: string, length: number): string => createHash('sha256').update(text).digest('hex').slice(0, length);

export const bridgeName = (cluster: string): string => `${BRIDGE_PREFIX}${cluster}`;

/** What every pod namespace of `cluster` starts with. */
export const podNetnsPrefix = (cluster: string): string => `${BRIDGE_PREFIX}${cluster}.`;

const PLAIN_UID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The pod's network namespace: `ld-<cluster>.<uid>` (a uid that is not a plain token is hashed). */
export function podNetnsName(cluster: string, uid: string): string {
  checkName(cluster);
  if (uid === '') throw new RangeError('pod uid must not be empty');
  return `${podNetnsPrefix(cluster)}${PLAIN_UID.test(uid) ? uid : hex(uid, 32)}`;
}

/** What every host-side veth of `cluster` starts with. */
export const vethPrefix = (cluster: string): string => `lv${hex(`loom-dev/${cluster}`, 5)}`;

/** The host end of the pod's veth pair: 15 characters, stable for (cluster, uid). */
export const hostVethName = (cluster: string, uid: string): string => `${vethPrefix(cluster)}${hex(`loom-dev/${cluster}/${uid}`, 8)}`;

/** What the cluster's iptables chains start with; the rest is upper case, so `LD-a-` never matches cluster `a-b`'s. */
export const chainPrefix = (cluster: string): string => `LD-${cluster}-`;

export function isClusterChain(cluster: string, chain: string): boolean {
  const prefix = chainPrefix(cluster);
  return chain.startsWith(prefix) && /^[A-Z]/.test(chain.slice(prefix.length));
}

/** The comment on the cluster's jumps from built-in chains. */
export const ruleComment = (cluster: string): string => `loom-dev:${cluster}`;

/** A locally administered MAC for the bridge: a bridge without one takes its lowest port's, which changes. */
const bridgeMac = (cluster: string): string => `02:${(hex(`loom-dev-mac/${cluster}`, 10).match(/../g) ?? []).join(':')}`;

// ---- the network ------------------------------------------------------------------------------------------

/**
 * How replies of pod → ClusterIP → pod (same bridge) get un-DNATed: `netfilter` sends the bridge's traffic through
 * iptables (br_netfilter, per bridge); `masquerade` makes such connections come from the gateway.
 */
export type HairpinMode = 'netfilter' | 'masquerade';

export interface ClusterNetworkOptions {
  /** Lower-case letters, digits and dashes; at most MAX_CLUSTER_NAME characters. */
  readonly name: string;
  /** An IPv4 network for pods (`10.244.0.0/16`); a free /16 when omitted. */
  readonly podCidr?: string;
  /** An IPv4 network for ClusterIPs; a free /16 when omitted. */
  readonly serviceCidr?: string;
  readonly log: Logger;
  /** `auto` (default): `netfilter` when br_netfilter is loaded, else `masquerade`. */
  readonly hairpin?: HairpinMode | 'auto';
}

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface PodNetwork {
  /** The pod's network namespace (`ip netns exec <netns> ...`). */
  readonly netns: string;
  /** The pod's IPv4 address. */
  readonly ip: string;
}

interface PodEntry extends PodNetwork {
  readonly pod: PodRef;
  readonly veth: string;
  readonly index: number;
}

/** What `cleanup` removed, by kind. */
export interface CleanupReport {
  readonly namespaces: string[];
  readonly links: string[];
  readonly chains: string[];
  readonly hostsDirs: string[];
}

const BR_NETFILTER = '/proc/sys/net/bridge/bridge-nf-call-iptables';
const MIN_PREFIX = 8;
const MAX_PREFIX = 28;

export class ClusterNetwork {
  readonly name: string;
  readonly podCidr: string;
  readonly serviceCidr: string;
  /** The bridge's address: the pods' default gateway and the address of the host they see. */
  readonly gateway: string;
  readonly bridge: string;
  readonly hairpin: HairpinMode;
  readonly #pod: Ipv4Cidr;
  readonly #log: Logger;
  readonly #pods = new Map<string, PodEntry>();
  readonly #used = new Set<number>();
  /** The last address index handed out: the next search starts after it, so a freed address is not reused at once. */
  #cursor = 1;
  /** Per pod uid, the last add/remove: operations on one pod run one after the other. */
  readonly #ops = new Map<string, Promise<unknown>>();
  #destroyed = false;

  private constructor(name: string, pod: Ipv4Cidr, serviceCidr: string, hairpin: HairpinMode, log: Logger) {
    this.name = name;
    this.#pod = pod;
    this.podCidr = formatCidr(pod);
    this.serviceCidr = serviceCidr;
    this.gateway = addressAt(pod, 1);
    this.bridge = bridgeName(name);
    this.hairpin = hairpin;
    this.#log = log;
  }

  /**
   * Creates the cluster's bridge, routes and rules. Rejects when a cluster of this name already has a bridge here
   * (remove it with `cleanup` first), when given CIDRs are invalid or collide, or when a command fails (then
   * whatever was made is removed again).
   */
  static async create(options: ClusterNetworkOptions): Promise<ClusterNetwork> {
    const { name, log } = options;
    checkName(name);
    const given = {
      pod: options.podCidr === undefined ? undefined : checkCidr('pod CIDR', options.podCidr),
      service: options.serviceCidr === undefined ? undefined : checkCidr('service CIDR', options.serviceCidr),
    };
    if (given.pod !== undefined && given.service !== undefined && overlaps(given.pod, given.service)) {
      throw new RangeError(`pod CIDR ${formatCidr(given.pod)} and service CIDR ${formatCidr(given.service)} overlap`);
    }
    const hairpin = chooseHairpin(options.hairpin ?? 'auto');
    const bridge = bridgeName(name);
    // Without a bridge, whatever else carries the name was left half-removed by a crash: not a live cluster's.
    if (!(await linkExists(bridge))) await ClusterNetwork.cleanup(name);
    const network = await withHostLock(async () => {
      if (await linkExists(bridge)) {
        throw new Error(`cluster network "${name}" already exists (bridge ${bridge}); remove it first (loom dev down --name ${name})`);
      }
      const routes = await ipv4RouteDestinations(null);
      const [pod, service] = chooseCidrs(name, routes, given.pod, given.service);
      const made = new ClusterNetwork(name, pod, formatCidr(service), hairpin, log);
      try {
        await made.#createBridge();
        await enableForwarding();
      } catch (err) {
        await deleteLink(null, bridge).catch(() => undefined);
        throw err;
      }
      return made;
    });
    try {
      await restore(network.#ruleText());
    } catch (err) {
      await ClusterNetwork.cleanup(name).catch(() => undefined);
      throw err;
    }
    log.info(
      { event: 'network.created', cluster: name, podCidr: network.podCidr, serviceCidr: network.serviceCidr, gateway: network.gateway, bridge, hairpin },
      `cluster network ${name}: pods ${network.podCidr} on ${bridge} (gateway ${network.gateway}), services ${network.serviceCidr}`,
    );
    return network;
  }

  async #createBridge(): Promise<void> {
    const options = this.hairpin === 'netfilter' ? ['nf_call_iptables', '1'] : [];
    await ip(null, ['link', 'add', this.bridge, 'type', 'bridge', ...options]);
    await ip(null, ['link', 'set', this.bridge, 'address', bridgeMac(this.name)]);
    await addAddress(null, this.bridge, `${this.gateway}/${this.#pod.prefix}`);
    await linkUp(null, this.bridge);
    // The host reaches ClusterIPs through the bridge, from the gateway address, also on a host without a default route.
    await ip(null, ['route', 'add', this.serviceCidr, 'dev', this.bridge, 'src', this.gateway]);
  }

  /** nat: masquerade what leaves the pod network; filter: let the bridge's traffic through FORWARD and INPUT. */
  #ruleText(): string {
    const c = (text: string): string => `-m comment --comment "${ruleComment(this.name)} ${text}"`;
    const jump = `-m comment --comment "${ruleComment(this.name)}"`;
    const prefix = chainPrefix(this.name);
    const [postrouting, forward, input] = [`${prefix}POSTRT`, `${prefix}FORWARD`, `${prefix}INPUT`];
    const pods = this.podCidr;
    const br = this.bridge;
    const nat = [
      '*nat',
      `:${postrouting} - [0:0]`,
      `-A ${postrouting} -s ${pods} ! -d ${pods} ${c('pods leaving the pod network')} -j MASQUERADE`,
      ...(this.hairpin === 'masquerade'
        ? [`-A ${postrouting} -s ${pods} -d ${pods} -m conntrack --ctstate DNAT ${c('pods to a ClusterIP on this bridge')} -j MASQUERADE`]
        : []),
      `-I POSTROUTING ${jump} -j ${postrouting}`,
      'COMMIT',
    ];
    const filter = [
      '*filter',
      `:${forward} - [0:0]`,
      `:${input} - [0:0]`,
      `-A ${forward} -i ${br} -s ${pods} ${c('from pods')} -j ACCEPT`,
      `-A ${forward} -o ${br} -d ${pods} -m conntrack --ctstate RELATED,ESTABLISHED ${c('replies to pods')} -j ACCEPT`,
      `-A ${input} -i ${br} -s ${pods} ${c('pods to the host')} -j ACCEPT`,
      `-I FORWARD ${jump} -j ${forward}`,
      `-I INPUT ${jump} -j ${input}`,
      'COMMIT',
    ];
    return [...nat, ...filter, ''].join('\n');
  }

  /** The pod's network, when it has one. */
  pod(uid: string): PodNetwork | undefined {
    const entry = this.#pods.get(uid);
    return entry === undefined ? undefined : { netns: entry.netns, ip: entry.ip };
  }

  /**
   * A network namespace for the pod, with `eth0` on the bridge at the next free address, a default route via the
   * gateway and loopback up. Idempotent: the same uid gets the same namespace and address.
   */
  addPod(pod: PodRef): Promise<PodNetwork> {
    return this.#serial(pod.uid, async () => {
      if (this.#destroyed) throw new Error(`cluster network "${this.name}" was destroyed`);
      const known = this.#pods.get(pod.uid);
      if (known !== undefined) return { netns: known.netns, ip: known.ip };
      const index = this.#allocate();
      const entry: PodEntry = { pod, netns: podNetnsName(this.name, pod.uid), veth: hostVethName(this.name, pod.uid), index, ip: addressAt(this.#pod, index) };
      try {
        await this.#plumb(entry);
      } catch (err) {
        this.#used.delete(index);
        await this.#unplumb(entry).catch(() => undefined);
        throw err;
      }
      this.#pods.set(pod.uid, entry);
      this.#log.debug({ event: 'network.pod.added', cluster: this.name, pod: `${pod.namespace}/${pod.name}`, netns: entry.netns, ip: entry.ip }, 'pod network added');
      return { netns: entry.netns, ip: entry.ip };
    });
  }

  async #plumb(entry: PodEntry): Promise<void> {
    // Left by an attempt that failed half-way, or by a crashed run that was not cleaned up: same names, ours.
    await this.#unplumb(entry);
    await addNetns(entry.netns);
    await addVethPair({ name: entry.veth, ns: null }, { name: 'eth0', ns: entry.netns });
    await attachToBridge(null, entry.veth, this.bridge);
    // A pod reaching itself through a ClusterIP: br_netfilter DNATs on the bridge and sends the frame back out
    // the port it came in on, which a bridge port only does in hairpin mode (kubelet's hairpin-veth, CNI bridge's
    // hairpinMode).
    await ip(null, ['link', 'set', 'dev', entry.veth, 'type', 'bridge_slave', 'hairpin', 'on']);
    await linkUp(null, entry.veth);
    await addAddress(entry.netns, 'eth0', `${entry.ip}/${this.#pod.prefix}`);
    await linkUp(entry.netns, 'eth0');
    await addDefaultRoute(entry.netns, { via: this.gateway, dev: 'eth0' });
    // As containerd does for pods: any user may bind low ports and send ICMP echo inside the pod's namespace.
    await setSysctl(entry.netns, 'net.ipv4.ip_unprivileged_port_start', 0);
    await setSysctl(entry.netns, 'net.ipv4.ping_group_range', '0 2147483647');
  }

  async #unplumb(entry: Pick<PodEntry, 'netns' | 'veth'>): Promise<void> {
    await deleteNetns(entry.netns, { killProcesses: true });
    await deleteLink(null, entry.veth);
  }

  /**
   * Removes the pod's namespace (killing what still runs inside), its veth and its `/etc/netns` directory, and
   * frees its address. Idempotent; also removes what a pod of this uid left when it is not known (a crashed run).
   */
  removePod(uid: string): Promise<void> {
    return this.#serial(uid, async () => {
      const entry = this.#pods.get(uid);
      const netns = podNetnsName(this.name, uid);
      await this.#unplumb({ netns, veth: hostVethName(this.name, uid) });
      await removeHostsDir(netns);
      if (entry !== undefined) {
        this.#pods.delete(uid);
        this.#used.delete(entry.index);
        this.#log.debug({ event: 'network.pod.removed', cluster: this.name, netns, ip: entry.ip }, 'pod network removed');
      }
    });
  }

  /** Removes everything of this cluster (`cleanup`), also its pods and the service proxy's chains. */
  async destroy(): Promise<CleanupReport> {
    this.#destroyed = true;
    await Promise.allSettled([...this.#ops.values()]);
    const report = await ClusterNetwork.cleanup(this.name);
    this.#pods.clear();
    this.#used.clear();
    this.#log.info({ event: 'network.destroyed', cluster: this.name }, `cluster network ${this.name} removed`);
    return report;
  }

  #serial<T>(uid: string, op: () => Promise<T>): Promise<T> {
    const before = this.#ops.get(uid) ?? Promise.resolve();
    const next = before.then(op, op);
    const settled = next.catch(() => undefined);
    this.#ops.set(uid, settled);
    void settled.then(() => {
      if (this.#ops.get(uid) === settled) this.#ops.delete(uid);
    });
    return next;
  }

  /** The next free pod address index (2 ... size-2: not the network, the gateway or the broadcast address). */
  #allocate(): number {
    const first = 2;
    const last = cidrSize(this.#pod) - 2;
    const count = last - first + 1;
    for (let i = 1; i <= count; i++) {
      const index = first + ((this.#cursor - first + i + count) % count);
      if (!this.#used.has(index)) {
        this.#used.add(index);
        this.#cursor = index;
        return index;
      }
    }
    throw new Error(`cluster network "${this.name}": no free address left in pod CIDR ${this.podCidr}`);
  }

  /**
   * Removes everything a cluster of this name made on this machine, recognised by names, also when its process
   * crashed: pod namespaces (killing their processes) and their `/etc/netns` directories, veths, the bridge (and
   * with it its routes), and every `LD-<name>-...` chain with the rules that jump to it. When no local cluster is
   * left, IP forwarding goes back to what it was before the first one. Idempotent.
   */
  static async cleanup(name: string): Promise<CleanupReport> {
    checkName(name);
    const namespaces = await listNetns(podNetnsPrefix(name));
    for (const ns of namespaces) await deleteNetns(ns, { killProcesses: true });
    const hostsDirs = (await readdir(NETNS_ETC).catch(() => [] as string[])).filter((dir) => dir.startsWith(podNetnsPrefix(name)));
    for (const dir of hostsDirs) await removeHostsDir(dir);
    const bridge = bridgeName(name);
    const links: string[] = [];
    for (const veth of await listVeths()) {
      if (veth.name.startsWith(vethPrefix(name)) && (veth.master === null || veth.master === bridge)) {
        await deleteLink(null, veth.name);
        links.push(veth.name);
      }
    }
    if (await linkExists(bridge)) {
      await deleteLink(null, bridge);
      links.push(bridge);
    }
    const chains = await removeChains((chain) => isClusterChain(name, chain));
    await withHostLock(async () => {
      const others = (await listLinks(null, 'bridge')).filter((b) => b.startsWith(BRIDGE_PREFIX));
      if (others.length === 0) await restoreForwarding();
    });
    return { namespaces, links, chains, hostsDirs };
  }

  /** The names of local clusters with a bridge on this machine (alive or left by a crash). */
  static async list(): Promise<string[]> {
    return (await listLinks(null, 'bridge')).filter((b) => b.startsWith(BRIDGE_PREFIX)).map((b) => b.slice(BRIDGE_PREFIX.length));
  }
}

function checkCidr(what: string, text: string): Ipv4Cidr {
  const cidr = parseCidr(text);
  if (typeof cidr === 'string') throw new RangeError(`${what} ${cidr}`);
  if (cidr.prefix < MIN_PREFIX || cidr.prefix > MAX_PREFIX) {
    throw new RangeError(`${what} ${text} must have a prefix length from /${MIN_PREFIX} to /${MAX_PREFIX}`);
  }
  return cidr;
}

const overlaps = (a: Ipv4Cidr, b: Ipv4Cidr): boolean => a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);

/** The given CIDRs, checked against the host's routes, or free ones. */
function chooseCidrs(name: string, routes: readonly string[], pod: Ipv4Cidr | undefined, service: Ipv4Cidr | undefined): [Ipv4Cidr, Ipv4Cidr] {
  for (const [what, cidr] of [
    ['pod CIDR', pod],
    ['service CIDR', service],
  ] as const) {
    if (cidr === undefined) continue;
    // Only routes as narrow as the CIDR or narrower: a wider one (a VPN's /8) is refined by the cluster's.
    const route = conflictingRoute(formatCidr(cidr), routes, cidr.prefix);
    if (route !== null) throw new RangeError(`${what} ${formatCidr(cidr)} overlaps the host route ${route} (another local cluster's, or a network this machine reaches)`);
  }
  const taken = [pod, service].flatMap((c) => (c === undefined ? [] : [formatCidr(c)]));
  const picked = pod !== undefined && service !== undefined ? null : pickClusterCidrs(name, routes, taken);
  const chosenPod = pod ?? parsed(picked?.podCidr);
  const chosenService = service ?? parsed(pod === undefined ? picked?.serviceCidr : picked?.podCidr);
  if (chosenPod === undefined || chosenService === undefined) {
    throw new Error('no free /16 for the cluster left in 10.64.0.0-10.255.255.255 and 172.16.0.0/12: every one overlaps a host route; pass podCidr and serviceCidr');
  }
  return [chosenPod, chosenService];
}

function parsed(text: string | undefined): Ipv4Cidr | undefined {
  if (text === undefined) return undefined;
  const cidr = parseCidr(text);
  return typeof cidr === 'string' ? undefined : cidr;
}

function chooseHairpin(wanted: HairpinMode | 'auto'): HairpinMode {
  const loaded = existsSync(BR_NETFILTER);
  if (wanted === 'netfilter' && !loaded) throw new Error('hairpin mode netfilter needs the br_netfilter kernel module (modprobe br_netfilter)');
  if (wanted === 'auto') return loaded ? 'netfilter' : 'masquerade';
  return wanted;
}

async function linkExists(name: string): Promise<boolean> {
  return (await exec(['ip', 'link', 'show', 'dev', name])).code === 0;
}

/** The host's veths with their bridge (`master`), if any. */
async function listVeths(): Promise<{ name: string; master: string | null }[]> {
  const out = await ip(null, ['-o', 'link', 'show', 'type', 'veth']);
  return out
    .split('\n')
    .map((line) => ({ name: /^\d+:\s*([^:@\s]+)/.exec(line)?.[1] ?? '', master: / master (\S+)/.exec(line)?.[1] ?? null }))
    .filter((veth) => veth.name !== '');
}

// ---- host-wide state: IP forwarding, under a lock ---------------------------------------------------------

/** Where the host-wide state of local clusters lives (tmpfs: gone after a reboot, like the settings it restores). */
export const STATE_DIR = '/run/loom-dev';
const LOCK = `${STATE_DIR}/host.lock`;
const FORWARDING = '/proc/sys/net/ipv4/ip_forward';
const FORWARDING_BEFORE = `${STATE_DIR}/ip_forward.before`;
const LOCK_WAIT_MS = 15_000;
const LOCK_STALE_EMPTY_MS = 5_000;

let hostQueue: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` holding the host lock: one in this process at a time (a queue) and one across processes (a file made
 * with O_EXCL holding the owner's pid; a dead owner's lock is taken over). Bounded wait.
 */
function withHostLock<T>(fn: () => Promise<T>): Promise<T> {
  const run = async (): Promise<T> => {
    await acquireFileLock();
    try {
      return await fn();
    } finally {
      await unlink(LOCK).catch(() => undefined);
    }
  };
  const next = hostQueue.then(run, run);
  hostQueue = next.catch(() => undefined);
  return next;
}

async function acquireFileLock(): Promise<void> {
  await mkdir(STATE_DIR, { recursive: true, mode: 0o755 });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(LOCK, 'wx', 0o644);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = (await readFile(LOCK, 'utf8').catch(() => '')).trim();
    const pid = Number(owner);
    const age = Date.now() - ((await stat(LOCK).catch(() => null))?.mtimeMs ?? Date.now());
    const stale = owner === '' ? age > LOCK_STALE_EMPTY_MS : !Number.isSafeInteger(pid) || (pid !== process.pid && !processAlive(pid));
    if (stale) {
      await unlink(LOCK).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${LOCK_WAIT_MS} ms waiting for ${LOCK} (held by pid ${owner || 'unknown'})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Sets ip_forward to 1, first noting what it was (only the first cluster's note counts). Under the host lock. */
async function enableForwarding(): Promise<void> {
  const now = (await readFile(FORWARDING, 'utf8')).trim();
  if (now === '1') return;
  if (!existsSync(FORWARDING_BEFORE)) await writeFile(FORWARDING_BEFORE, `${now}\n`);
  await writeFile(FORWARDING, '1\n');
}

/** Puts ip_forward back to what it was before the first cluster changed it, if one did. Under the host lock. */
async function restoreForwarding(): Promise<void> {
  const before = (await readFile(FORWARDING_BEFORE, 'utf8').catch(() => '')).trim();
  if (before === '') return;
  if (/^[01]$/.test(before)) await writeFile(FORWARDING, `${before}\n`);
  await unlink(FORWARDING_BEFORE).catch(() => undefined);
}

// ---- iptables ---------------------------------------------------------------------------------------------

export type Table = 'nat' | 'filter';

export interface SavedRule {
  readonly chain: string;
  /** The rule after `-A <chain> `, as iptables-save prints it. */
  readonly spec: string;
}

export interface SavedTable {
  readonly chains: ReadonlySet<string>;
  readonly rules: readonly SavedRule[];
}

/** One table as `iptables-save -t <table>` prints it: its chains and rules. */
export function parseSave(text: string): SavedTable {
  const chains = new Set<string>();
  const rules: SavedRule[] = [];
  for (const line of text.split('\n')) {
    const declared = /^:(\S+)\s/.exec(line);
    if (declared?.[1] !== undefined) chains.add(declared[1]);
    const rule = /^-A (\S+) (.*)$/.exec(line);
    if (rule?.[1] !== undefined && rule[2] !== undefined) rules.push({ chain: rule[1], spec: rule[2] });
  }
  return { chains, rules };
}

/** The chain a rule jumps (`-j`) or goes (`-g`) to, or null. */
export function jumpTarget(spec: string): string | null {
  return /(?:^|\s)-[jg] (\S+)/.exec(spec)?.[1] ?? null;
}

export async function saveTable(table: Table): Promise<SavedTable> {
  return parseSave((await run(['iptables-save', '-t', table])).stdout);
}

/** One `iptables-restore --noflush` transaction: only the chains it names change, all or nothing. */
export async function restore(input: string): Promise<void> {
  await run(['iptables-restore', '-w', '--noflush'], { input });
}

/**
 * The restore lines (no `*table`/`COMMIT`) that delete the rules jumping to the chains `ours` picks from other
 * chains, then flush and delete those chains; empty when there are none.
 */
export function removalLines(saved: SavedTable, ours: (chain: string) => boolean): string[] {
  const chains = [...saved.chains].filter(ours);
  if (chains.length === 0) return [];
  const jumps = saved.rules.filter((r) => !ours(r.chain) && chains.includes(jumpTarget(r.spec) ?? '')).map((r) => `-D ${r.chain} ${r.spec}`);
  return [...jumps, ...chains.map((c) => `:${c} - [0:0]`), ...chains.map((c) => `-X ${c}`)];
}

/** Removes the chains `ours` picks, in nat and filter, with every rule that jumps to them. Resolves to their names. */
export async function removeChains(ours: (chain: string) => boolean): Promise<string[]> {
  const removed: string[] = [];
  const input: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    const saved = await saveTable(table);
    const lines = removalLines(saved, ours);
    if (lines.length === 0) continue;
    removed.push(...[...saved.chains].filter(ours).map((c) => `${table}/${c}`));
    input.push(`*${table}`, ...lines, 'COMMIT');
  }
  if (input.length > 0) await restore(`${input.join('\n')}\n`);
  return removed;
}
