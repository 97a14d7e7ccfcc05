/**
 * Pods as network namespaces for end-to-end tests and benchmarks (on @loom/shared/netns): a bridge in the host
 * namespace (so the test process reaches pod addresses and hosts the control plane on the bridge's address), one
 * namespace per pod with a veth leg on the bridge and its own address. Pods get a default route through an
 * address nobody owns: traffic that iptables fails to redirect is dropped on the link instead of leaving the
 * machine. Everything created is named `<tag><pid>x<n>...` and removed by `destroy()` (also after a failed setup);
 * what a killed run left is removed by the next one (`removeStale`).
 *
 * The bridge's /24 comes from 10.201.0.0/16, one that no route of the host already uses. Dual-stack when the
 * kernel has IPv6: the bridge and every pod also get an address from the matching ULA /64 of
 * `fd4c:6f6f:6d::/48` (duplicate address detection off, so it is usable at once) and an IPv6 default route
 * through an address nobody owns, like IPv4's.
 */
import * as netns from '@loom/shared/netns';
import type { ExecOptions, Ran, Subnet } from '@loom/shared/netns';

export interface PodNet {
  readonly name: string;
  /** Namespace name (`ip netns exec <ns> ...`). */
  readonly ns: string;
  readonly ip: string;
  /** The pod's IPv6 address, `null` when the host has no IPv6. */
  readonly ip6: string | null;
}

const DEFAULT_TAG = 'lm';
const BLOCK = { v4: '10.201', v6: 'fd4c:6f6f:6d' };
/** Host numbers on the /24 (and /64): the bridge, the gateway nobody owns, pod i at FIRST_POD + i. */
const BRIDGE_HOST = 254;
const GATEWAY_HOST = 253;
const FIRST_POD = 10;

let counter = 0;

export class Topology {
  /** `<tag><pid>x<n>`: every name this topology makes starts with it. */
  readonly prefix: string;
  readonly pods = new Map<string, PodNet>();
  readonly #tag: string;
  /** `x<n>`: what follows the pid in this topology's names. */
  readonly #id: string;
  #subnet: Subnet | null = null;
  #dualStack = false;
  #bridge = '';
  #podIndex = 0;

  constructor(tag = DEFAULT_TAG) {
    counter += 1;
    this.#tag = tag;
    this.#id = `x${counter}`;
    this.prefix = netns.ownedName(tag, process.pid, this.#id);
  }

  /** The bridge's address in the host namespace (reachable from every pod). */
  get hostIp(): string {
    return this.#created().v4(BRIDGE_HOST);
  }

  /** Whether pods have IPv6 addresses too. */
  get dualStack(): boolean {
    return this.#dualStack;
  }

  #created(): Subnet {
    if (this.#subnet === null) throw new Error('create() the topology first');
    return this.#subnet;
  }

  async create(): Promise<void> {
    await removeStale(this.#tag);
    const subnet = netns.freeSubnet(BLOCK, await netns.ipv4RouteDestinations(null), (process.pid * 7 + counter * 13) % 256);
    if (subnet === null) throw new Error(`no free /24 in ${BLOCK.v4}.0.0/16 for the test bridge: the host's routes cover them all`);
    const bridge = netns.interfaceName(this.#tag, process.pid, `${this.#id}br`);
    this.#subnet = subnet;
    this.#bridge = bridge;
    await netns.addBridge(null, bridge);
    await netns.addAddress(null, bridge, subnet.v4(BRIDGE_HOST, 24));
    if (netns.ipv6Available()) {
      this.#dualStack = true;
      await netns.addAddress(null, bridge, subnet.v6(BRIDGE_HOST, 64));
    }
    await netns.linkUp(null, bridge);
  }

  /** A namespace with `lo` up and `eth0` on the bridge. */
  async addPod(name: string): Promise<PodNet> {
    const subnet = this.#created();
    this.#podIndex += 1;
    const host = FIRST_POD + this.#podIndex;
    const ns = netns.ownedName(this.#tag, process.pid, `${this.#id}-${name}`);
    const hostLeg = netns.interfaceName(this.#tag, process.pid, `${this.#id}v${this.#podIndex}`);
    const pod: PodNet = { name, ns, ip: subnet.v4(host), ip6: this.#dualStack ? subnet.v6(host) : null };
    this.pods.set(name, pod);
    await netns.addNetns(ns);
    await netns.addVethPair({ name: hostLeg, ns: null }, { name: 'eth0', ns });
    await netns.attachToBridge(null, hostLeg, this.#bridge);
    await netns.linkUp(null, hostLeg);
    await netns.addAddress(ns, 'eth0', subnet.v4(host, 24));
    await netns.linkUp(ns, 'eth0');
    // A gateway nobody owns: cluster IPs route somewhere (so connect() reaches iptables) but never leave.
    await netns.addDefaultRoute(ns, { via: subnet.v4(GATEWAY_HOST), dev: 'eth0', onlink: true });
    if (this.#dualStack) {
      await netns.addAddress(ns, 'eth0', subnet.v6(host, 64));
      await netns.addDefaultRoute(ns, { via: subnet.v6(GATEWAY_HOST), dev: 'eth0', onlink: true });
    }
    return pod;
  }

  /** `ip netns exec <ns> ...command`. */
  command(pod: PodNet, command: readonly string[]): string[] {
    return netns.inNetns(pod.ns, command);
  }

  /** Runs `command` in the pod; rejects (one line with its stderr) unless it exits 0. */
  exec(pod: PodNet, command: readonly string[], options: ExecOptions = {}): Promise<Ran> {
    return netns.run(this.command(pod, command), options);
  }

  /** Removes every namespace (with what still runs inside) and link this topology made. Idempotent; never throws. */
  async destroy(): Promise<void> {
    for (const pod of this.pods.values()) await netns.deleteNetns(pod.ns, { killProcesses: true }).catch(() => undefined);
    this.pods.clear();
    if (this.#bridge !== '') await netns.deleteLink(null, this.#bridge).catch(() => undefined);
    this.#bridge = '';
    this.#subnet = null;
    this.#dualStack = false;
  }
}

/** Deletes namespaces and bridges left by runs that were killed before their cleanup; resolves to their names. */
export function removeStale(tag = DEFAULT_TAG): Promise<string[]> {
  return netns.removeStale(tag);
}
