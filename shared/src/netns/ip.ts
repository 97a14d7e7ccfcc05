/**
 * Network namespaces, links, addresses, routes and sysctls: one small function per `ip`/`sysctl` command, each
 * rejecting with a one-line CommandError naming the command and its stderr. `ns` is a namespace name, or null for
 * this process's own namespace. Deleting is idempotent (what is already gone is fine); nothing here touches
 * anything it was not named.
 */
import { exec, inNetns, run, runSync, CommandError, type ExecOptions, type Exited, type Ran } from './exec.js';
import { routeDestinations } from './subnet.js';

/** `ip [-n <ns>] ...args`. */
export async function ip(ns: string | null, args: readonly string[], options: ExecOptions = {}): Promise<string> {
  return (await run(['ip', ...(ns === null ? [] : ['-n', ns]), ...args], options)).stdout;
}

/** Runs argv inside `ns` (`ip netns exec`); rejects unless it exits 0. */
export function runIn(ns: string, argv: readonly string[], options: ExecOptions = {}): Promise<Ran> {
  return run(inNetns(ns, argv), options);
}

/** Runs argv inside `ns` to completion; never rejects (see `exec`). */
export function execIn(ns: string, argv: readonly string[], options: ExecOptions = {}): Promise<Exited> {
  return exec(inNetns(ns, argv), options);
}

const GONE = /No such file|does not exist|Cannot find device|Cannot open network namespace/;

// ---- namespaces -------------------------------------------------------------------------------------------

/** Creates namespace `name` with loopback up (every user wants `127.0.0.1`); removes it again if that fails. */
export async function addNetns(name: string): Promise<void> {
  await run(['ip', 'netns', 'add', name]);
  try {
    await linkUp(name, 'lo');
  } catch (err) {
    await deleteNetns(name).catch(() => undefined);
    throw err;
  }
}

export interface DeleteNetnsOptions {
  /** SIGKILL every process still inside first (else they keep the namespace alive, unnamed, until they exit). */
  readonly killProcesses?: boolean;
}

/** Deletes namespace `name`; resolves also when there is no such namespace. */
export async function deleteNetns(name: string, options: DeleteNetnsOptions = {}): Promise<void> {
  if (options.killProcesses === true) killAll(await pidsInNetns(name));
  const argv = ['ip', 'netns', 'delete', name];
  const exited = await exec(argv);
  if ((exited.code !== 0 || exited.failure !== null) && !GONE.test(exited.stderr)) throw new CommandError(argv, exited);
}

/**
 * `deleteNetns` for an `exit` handler, where nothing asynchronous runs any more. Never throws: whether the
 * namespace is gone (deleted now or absent already).
 */
export function deleteNetnsSync(name: string, options: DeleteNetnsOptions = {}): boolean {
  if (options.killProcesses === true) {
    try {
      killAll(parsePids(runSync(['ip', 'netns', 'pids', name]).stdout));
    } catch {
      // no such namespace: nothing inside
    }
  }
  try {
    runSync(['ip', 'netns', 'delete', name]);
    return true;
  } catch (err) {
    return err instanceof CommandError && GONE.test(err.stderr);
  }
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
}

const parsePids = (text: string): number[] =>
  text
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => Number.isSafeInteger(pid) && pid > 0);

/** The named namespaces (`ip netns list`), only those starting with `prefix` when given. */
export async function listNetns(prefix = ''): Promise<string[]> {
  const out = (await run(['ip', 'netns', 'list'])).stdout;
  return out
    .split('\n')
    .map((line) => line.trim().split(' ')[0] ?? '')
    .filter((name) => name !== '' && name.startsWith(prefix));
}

/** The processes inside namespace `name`; none when there is no such namespace. */
export async function pidsInNetns(name: string): Promise<number[]> {
  const exited = await exec(['ip', 'netns', 'pids', name]);
  return exited.code === 0 ? parsePids(exited.stdout) : [];
}

// ---- links ------------------------------------------------------------------------------------------------

export interface LinkEnd {
  readonly name: string;
  /** Where this end is created; null for this process's namespace. */
  readonly ns: string | null;
}

/** A veth pair, each end created directly in its namespace (same names in two namespaces are fine). Down. */
export async function addVethPair(a: LinkEnd, b: LinkEnd): Promise<void> {
  const where = (end: LinkEnd): string[] => (end.ns === null ? [] : ['netns', end.ns]);
  await run(['ip', 'link', 'add', a.name, ...where(a), 'type', 'veth', 'peer', 'name', b.name, ...where(b)]);
}

/** Moves `link` from `ns` into namespace `to`. */
export async function moveLink(ns: string | null, link: string, to: string): Promise<void> {
  await ip(ns, ['link', 'set', link, 'netns', to]);
}

/** Renames `link` (it must be down). */
export async function renameLink(ns: string | null, link: string, name: string): Promise<void> {
  await ip(ns, ['link', 'set', link, 'name', name]);
}

/** A bridge device named `name`. Down. */
export async function addBridge(ns: string | null, name: string): Promise<void> {
  await ip(ns, ['link', 'add', name, 'type', 'bridge']);
}

/** Makes `link` a port of `bridge`. */
export async function attachToBridge(ns: string | null, link: string, bridge: string): Promise<void> {
  await ip(ns, ['link', 'set', link, 'master', bridge]);
}

export async function linkUp(ns: string | null, link: string): Promise<void> {
  await ip(ns, ['link', 'set', link, 'up']);
}

/** Deletes `link` (a veth's peer goes with it); resolves also when there is no such link. */
export async function deleteLink(ns: string | null, link: string): Promise<void> {
  const argv = ['ip', ...(ns === null ? [] : ['-n', ns]), 'link', 'delete', link];
  const exited = await exec(argv);
  if ((exited.code !== 0 || exited.failure !== null) && !GONE.test(exited.stderr)) throw new CommandError(argv, exited);
}

/** The links' names (`ip -o link show [type <type>]`, without the `@peer` part). */
export async function listLinks(ns: string | null, type?: string): Promise<string[]> {
  const out = await ip(ns, ['-o', 'link', 'show', ...(type === undefined ? [] : ['type', type])]);
  return out
    .split('\n')
    .map((line) => /^\d+:\s*([^:@\s]+)/.exec(line)?.[1] ?? '')
    .filter((name) => name !== '');
}

// ---- addresses and routes ---------------------------------------------------------------------------------

const isV6 = (address: string): boolean => address.includes(':');

/** `ip addr add <cidr> dev <link>`; IPv6 with `nodad`, so it is usable at once. */
export async function addAddress(ns: string | null, link: string, cidr: string): Promise<void> {
  await ip(ns, isV6(cidr) ? ['-6', 'addr', 'add', cidr, 'dev', link, 'nodad'] : ['addr', 'add', cidr, 'dev', link]);
}

export interface DefaultRoute {
  /** The gateway; its family picks the table (IPv4 or IPv6). */
  readonly via: string;
  readonly dev: string;
  /** The gateway need not be on a subnet of `dev` (or exist at all). */
  readonly onlink?: boolean;
}

export async function addDefaultRoute(ns: string | null, route: DefaultRoute): Promise<void> {
  const family = isV6(route.via) ? ['-6'] : [];
  await ip(ns, [...family, 'route', 'add', 'default', 'via', route.via, 'dev', route.dev, ...(route.onlink === true ? ['onlink'] : [])]);
}

/** The IPv4 routes' destinations (`default`, `a.b.c.d/n`, `a.b.c.d`) of the main table. */
export async function ipv4RouteDestinations(ns: string | null): Promise<string[]> {
  return routeDestinations(await ip(ns, ['-4', 'route', 'show']));
}

// ---- sysctl -----------------------------------------------------------------------------------------------

/** Sets a sysctl inside `ns` (`net.ipv4.ip_forward`, `net.ipv6.conf.all.disable_ipv6`, ...): per-namespace keys only. */
export async function setSysctl(ns: string, key: string, value: string | number): Promise<void> {
  await runIn(ns, ['sysctl', '-q', '-w', `${key}=${value}`]);
}

export async function getSysctl(ns: string, key: string): Promise<string> {
  return (await runIn(ns, ['sysctl', '-n', key])).stdout.trim();
}
