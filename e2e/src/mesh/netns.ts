/**
 * Pods as network namespaces for end-to-end tests and benchmarks: a bridge in the host namespace (so the test
 * process reaches pod addresses and hosts the control plane on the bridge's address), one namespace per pod with a
 * veth leg on the bridge and its own address. Pods get a default route through an address nobody owns: traffic
 * that iptables fails to redirect is dropped on the link instead of leaving the machine. Everything created is
 * named from one prefix and removed by `destroy()` (also after a failed setup).
 *
 * Dual-stack when the kernel has IPv6: the bridge and every pod also get an address from a ULA /64
 * (`fd4c:6f6f:6d:<n>::/64`, duplicate address detection off so it is usable at once) and an IPv6 default route
 * through an address nobody owns, like IPv4's.
 */
import { access, readFile } from 'node:fs/promises';
import { run, tryRun } from './exec.js';

export interface PodNet {
  readonly name: string;
  /** Namespace name (`ip netns exec <ns> ...`). */
  readonly ns: string;
  readonly ip: string;
  /** The pod's IPv6 address, `null` when the host has no IPv6. */
  readonly ip6: string | null;
}

/** Whether the kernel has IPv6 (then topologies are dual-stack). */
export async function ipv6Available(): Promise<boolean> {
  try {
    await access('/proc/net/if_inet6');
    return true;
  } catch {
    return false;
  }
}

let counter = 0;

/** Why network namespaces cannot be used here, or null when they can. */
export async function netnsUnavailable(): Promise<string | null> {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    await run(['ip', 'netns', 'list']);
  } catch (err) {
    return `\`ip netns\` is unavailable: ${(err as Error).message}`;
  }
  return null;
}

/** A /24 from 10.201.0.0/16 that no route of the host already covers. */
async function freeSubnet(): Promise<string> {
  const routes = (await run(['ip', '-4', 'route', 'show'])).stdout;
  const start = (process.pid * 7 + counter * 13) % 250;
  for (let i = 0; i < 250; i++) {
    const third = ((start + i) % 250) + 1;
    const prefix = `10.201.${third}`;
    if (!routes.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('no free 10.201.x.0/24 subnet for the test bridge');
}

export class Topology {
  /** Short (interface names are at most 15 characters), unique per process and topology. */
  readonly prefix: string;
  readonly pods = new Map<string, PodNet>();
  #subnet = '';
  /** `fd4c:6f6f:6d:<n>` (a /64), or '' without IPv6. */
  #subnet6 = '';
  #bridge = '';
  #created = false;
  #podIndex = 0;

  constructor(tag = 'lm') {
    counter += 1;
    // `<tag><pid>x<n>`: the pid lets a later run remove what a killed run left behind (removeStale).
    this.prefix = `${tag}${process.pid % 100_000}x${counter}`;
  }

  /** The bridge's address in the host namespace (reachable from every pod). */
  get hostIp(): string {
    return `${this.#subnet}.254`;
  }

  /** Whether pods have IPv6 addresses too. */
  get dualStack(): boolean {
    return this.#subnet6 !== '';
  }

  async create(): Promise<void> {
    await removeStale();
    this.#subnet = await freeSubnet();
    this.#bridge = `${this.prefix}br`;
    this.#created = true;
    await run(['ip', 'link', 'add', this.#bridge, 'type', 'bridge']);
    await run(['ip', 'addr', 'add', `${this.hostIp}/24`, 'dev', this.#bridge]);
    if (await ipv6Available()) {
      // The IPv4 subnet's third octet keeps concurrent topologies apart.
      this.#subnet6 = `fd4c:6f6f:6d:${this.#subnet.split('.')[2] ?? '0'}`;
      await run(['ip', '-6', 'addr', 'add', `${this.#subnet6}::fe/64`, 'dev', this.#bridge, 'nodad']);
    }
    await run(['ip', 'link', 'set', this.#bridge, 'up']);
  }

  /** A namespace with `lo` up and `eth0` on the bridge. */
  async addPod(name: string): Promise<PodNet> {
    if (!this.#created) throw new Error('create() the topology first');
    this.#podIndex += 1;
    const i = this.#podIndex;
    const ns = `${this.prefix}-${name}`;
    const hostLeg = `${this.prefix}v${i}`;
    const ip = `${this.#subnet}.${10 + i}`;
    const ip6 = this.dualStack ? `${this.#subnet6}::${(10 + i).toString(16)}` : null;
    const pod: PodNet = { name, ns, ip, ip6 };
    this.pods.set(name, pod);
    await run(['ip', 'netns', 'add', ns]);
    await run(['ip', 'link', 'add', hostLeg, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await run(['ip', 'link', 'set', hostLeg, 'master', this.#bridge]);
    await run(['ip', 'link', 'set', hostLeg, 'up']);
    await this.exec(pod, ['ip', 'link', 'set', 'lo', 'up']);
    await this.exec(pod, ['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    await this.exec(pod, ['ip', 'link', 'set', 'eth0', 'up']);
    // A gateway nobody owns: cluster IPs route somewhere (so connect() reaches iptables) but never leave.
    await this.exec(pod, ['ip', 'route', 'add', 'default', 'via', `${this.#subnet}.253`, 'dev', 'eth0', 'onlink']);
    if (ip6 !== null) {
      await this.exec(pod, ['ip', '-6', 'addr', 'add', `${ip6}/64`, 'dev', 'eth0', 'nodad']);
      await this.exec(pod, ['ip', '-6', 'route', 'add', 'default', 'via', `${this.#subnet6}::fd`, 'dev', 'eth0', 'onlink']);
    }
    return pod;
  }

  /** `ip netns exec <ns> ...command`. */
  command(pod: PodNet, command: readonly string[]): string[] {
    return ['ip', 'netns', 'exec', pod.ns, ...command];
  }

  exec(pod: PodNet, command: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
    return run(this.command(pod, command), options);
  }

  /** Removes every namespace and link this topology made. Idempotent; never throws. */
  async destroy(): Promise<void> {
    for (const pod of this.pods.values()) await tryRun(['ip', 'netns', 'delete', pod.ns]);
    this.pods.clear();
    if (this.#bridge !== '') await tryRun(['ip', 'link', 'delete', this.#bridge]);
    this.#created = false;
  }
}

/** A topology name of a process that no longer runs (`lm<pid>x<n>...`). */
function staleName(name: string): boolean {
  const m = /^lm(\d+)x\d+/.exec(name);
  if (m === null) return false;
  const pid = Number(m[1]);
  if (pid === process.pid % 100_000) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Deletes namespaces and bridges left by runs that were killed before their cleanup. */
export async function removeStale(): Promise<void> {
  const namespaces = (await run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '');
  for (const ns of namespaces.filter(staleName)) await tryRun(['ip', 'netns', 'delete', ns]);
  const links = (await run(['ip', '-o', 'link', 'show', 'type', 'bridge'])).stdout.split('\n').map((l) => (l.split(': ')[1] ?? '').split('@')[0] ?? '');
  for (const link of links.filter(staleName)) await tryRun(['ip', 'link', 'delete', link]);
}

/** The processes whose network namespace is `ns` (to check nothing is left behind). */
export async function pidsIn(ns: string): Promise<number[]> {
  try {
    const out = (await run(['ip', 'netns', 'pids', ns])).stdout;
    return out.split('\n').filter((l) => l.trim() !== '').map(Number);
  } catch {
    return [];
  }
}

/** Reads a file if it exists (log excerpts for failure messages). */
export async function tail(path: string, lines = 40): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
