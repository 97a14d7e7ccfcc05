/**
 * Network namespaces for tests that need real interception (iptables REDIRECT, SO_ORIGINAL_DST, proxy-init,
 * two proxies over a veth pair), on @loom/shared/netns. Each namespace has a unique name (`loom-t-<pid>-<n>`),
 * loopback up, and is deleted in the test's teardown — also when an assertion failed, and on process exit as a
 * last resort; namespaces left behind by a crashed earlier run (its pid gone) are deleted on first use. Processes
 * run inside with `ip netns exec`, optionally as an unprivileged user. Nothing here touches the host namespace.
 *
 *   const reason = netnsUnavailable();
 *   t.test('...', { skip: reason ?? false }, async (t) => {
 *     const ns = await createNetns(t);
 *     await addDevice(ns, { name: 'pod0', addresses: [subnet.v4(2, 24), subnet.v6(2, 64)] });
 *     const out = await ns.execOk('iptables-nft-save', ['-t', 'nat']);
 *     const child = ns.spawn(process.execPath, [script]);  // killed in teardown
 *   });
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import {
  addAddress,
  addNetns,
  addVethPair,
  deleteNetns,
  deleteNetnsSync,
  exec,
  inNetns,
  linkUp,
  netnsUnavailable,
  ownedName,
  removeStale,
  run,
  subnetAt,
  type ExecOptions as BaseExecOptions,
  type Exited,
  type Subnet,
} from '@loom/shared/netns';

export { exec, hasProgram, netnsUnavailable } from '@loom/shared/netns';

/** What the helpers need from a tap Test (tap's `t` satisfies it). */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface ExecOptions extends BaseExecOptions {
  /** Run as this uid/gid with no capabilities at all (setpriv), e.g. to see what an unprivileged process gets. */
  readonly asUser?: { readonly uid: number; readonly gid: number };
}

const PREFIX = 'loom-t-';
let counter = 0;
let staleRemoved = false;
const live = new Set<string>();

export class Netns {
  private readonly children = new Set<ChildProcess>();
  private deleted = false;

  constructor(readonly name: string) {}

  /** `ip netns exec <name> [setpriv ...] file args` as argv. */
  command(file: string, args: readonly string[], options: Pick<ExecOptions, 'asUser'> = {}): string[] {
    const user = options.asUser;
    // As another user, NODE_OPTIONS goes: the test runner instruments child node processes through it (re-adding
    // it to any environment we pass), and its hook writes into the checkout, which that user may not write.
    const drop =
      user === undefined
        ? []
        : ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--', 'env', '-u', 'NODE_OPTIONS'];
    return inNetns(this.name, [...drop, file, ...args]);
  }

  exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<Exited> {
    return exec(this.command(file, args, options), options);
  }

  /** Like exec, but resolves to stdout and rejects (one line with stderr) unless the exit code is 0. */
  async execOk(file: string, args: readonly string[], options: ExecOptions = {}): Promise<string> {
    return (await run(this.command(file, args, options), options)).stdout;
  }

  /** A node script inside the namespace (this process's node binary). */
  node(script: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<Exited> {
    return this.exec(process.execPath, [script, ...args], options);
  }

  /**
   * A long-running process inside the namespace (a proxy, an app). The caller handles its output; it is killed
   * (SIGKILL) before the namespace is deleted.
   */
  spawn(file: string, args: readonly string[], options: Omit<SpawnOptions, 'uid' | 'gid'> & Pick<ExecOptions, 'asUser'> = {}): ChildProcess {
    const [cmd = '', ...argv] = this.command(file, args, options);
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.children.add(child);
    child.on('error', () => {});
    child.on('close', () => this.children.delete(child));
    return child;
  }

  /** Kills what `spawn` started, then deletes the namespace (and anything else still inside). Idempotent. */
  async delete(): Promise<void> {
    if (this.deleted) return;
    this.deleted = true;
    await Promise.all(
      [...this.children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) {
              resolve();
              return;
            }
            child.once('close', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    await deleteNetns(this.name, { killProcesses: true });
    live.delete(this.name);
  }
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const name of live) deleteNetnsSync(name, { killProcesses: true });
  });
}

/** A fresh namespace with loopback up, deleted in `t`'s teardown. Check `netnsUnavailable()` first. */
export async function createNetns(t: Teardown): Promise<Netns> {
  const reason = netnsUnavailable();
  if (reason !== null) throw new Error(reason);
  if (!staleRemoved) {
    staleRemoved = true;
    await removeStale(PREFIX);
  }
  installExitHook();
  const name = ownedName(PREFIX, process.pid, `-${++counter}`);
  await addNetns(name);
  live.add(name);
  const ns = new Netns(name);
  t.teardown(() => ns.delete());
  return ns;
}

/**
 * A device carrying the given addresses inside one namespace, up: a dummy interface when the kernel has the
 * dummy driver, else one end of a veth pair whose other end (`<name>p`) stays in the same namespace. Gives a
 * namespace "its pod address".
 */
export async function addDevice(ns: Netns, options: { name: string; addresses: readonly string[] }): Promise<void> {
  const dummy = await exec(['ip', '-n', ns.name, 'link', 'add', options.name, 'type', 'dummy']);
  if (dummy.code !== 0) {
    const peer = `${options.name}p`.slice(0, 15);
    await addVethPair({ name: options.name, ns: ns.name }, { name: peer, ns: ns.name });
    await linkUp(ns.name, peer);
  }
  for (const cidr of options.addresses) await addAddress(ns.name, options.name, cidr);
  await linkUp(ns.name, options.name);
}

/**
 * A veth pair between two namespaces, both ends up with their addresses: `a` reaches `b`'s addresses directly
 * (same subnet), and the reverse. Device names are per namespace (default `veth0` on both sides).
 */
export async function connectNetns(
  a: Netns,
  b: Netns,
  options: { aAddresses: readonly string[]; bAddresses: readonly string[]; aName?: string; bName?: string },
): Promise<void> {
  const aName = options.aName ?? 'veth0';
  const bName = options.bName ?? 'veth0';
  await addVethPair({ name: aName, ns: a.name }, { name: bName, ns: b.name });
  for (const cidr of options.aAddresses) await addAddress(a.name, aName, cidr);
  for (const cidr of options.bAddresses) await addAddress(b.name, bName, cidr);
  await linkUp(a.name, aName);
  await linkUp(b.name, bName);
}

export type TestSubnet = Pick<Subnet, 'v4' | 'v6'>;

let subnets = 0;

/**
 * Addresses for one test: a /24 of 10/8 and a /64 of fd00::/16 numbered from this process's pid and a counter, so
 * tests running in parallel never share a subnet (namespaces are isolated anyway; this keeps logs unambiguous).
 */
export function testSubnet(): TestSubnet {
  return subnetAt({ v4: '10', v6: 'fd00' }, (process.pid * 16 + subnets++) % 65536);
}

