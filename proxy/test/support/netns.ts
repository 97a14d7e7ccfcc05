/**
 * Network namespaces for tests that need real interception (iptables REDIRECT, SO_ORIGINAL_DST, proxy-init,
 * two proxies over a veth pair). Each namespace has a unique name (`loom-t-<pid>-<n>`), loopback up, and is
 * deleted in the test's teardown — also when an assertion failed, and on process exit as a last resort;
 * namespaces left behind by a crashed earlier run (its pid gone) are deleted on first use. Processes run inside
 * with `ip netns exec`. Nothing here touches the host namespace's iptables.
 *
 *   const reason = netnsUnavailable();
 *   t.test('...', { skip: reason ?? false }, async (t) => {
 *     const ns = await createNetns(t);
 *     await addDevice(ns, { name: 'pod0', addresses: [subnet.v4(2, 24), subnet.v6(2, 64)] });
 *     const out = await ns.execOk('iptables-nft-save', ['-t', 'nat']);
 *     const child = ns.spawn(process.execPath, [script]);  // killed in teardown
 *   });
 *
 * Requires Linux, root (or CAP_SYS_ADMIN + CAP_NET_ADMIN) and `ip` from iproute2; `netnsUnavailable()` says why
 * not, for `{ skip }`.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** What the helpers need from a tap Test (tap's `t` satisfies it). */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  /** Written to stdin (then closed). */
  readonly input?: string;
  /** Added to (or replacing) the inherited environment; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Killed (SIGKILL) after this long; default 30 s. */
  readonly timeoutMs?: number;
  /** Run as this uid/gid with no capabilities at all (setpriv), e.g. to see what an unprivileged process gets. */
  readonly asUser?: { readonly uid: number; readonly gid: number };
}

const PREFIX = 'loom-t-';
let counter = 0;
let availability: string | null | undefined;
const live = new Set<string>();

function runSync(file: string, args: readonly string[]): { ok: boolean; output: string } {
  const result = spawnSync(file, args, { encoding: 'utf8', timeout: 10_000 });
  if (result.error !== undefined) return { ok: false, output: result.error.message };
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

/** Why namespaces cannot be used here (a one-line reason for `skip`), or null when they can. Cached. */
export function netnsUnavailable(): string | null {
  if (availability !== undefined) return availability;
  availability = probe();
  return availability;
}

function probe(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add); run the tests as root to include them';
  const list = runSync('ip', ['netns', 'list']);
  if (!list.ok) return `\`ip netns\` is unavailable: ${list.output.split('\n')[0] ?? ''}`;
  removeStale(list.output);
  const name = `${PREFIX}${process.pid}-probe`;
  const add = runSync('ip', ['netns', 'add', name]);
  runSync('ip', ['netns', 'del', name]);
  if (!add.ok) return `cannot create a network namespace: ${add.output.split('\n')[0] ?? ''}`;
  return null;
}

/** Deletes `loom-t-<pid>-*` namespaces whose process no longer exists (a crashed earlier run). */
function removeStale(listing: string): void {
  for (const line of listing.split('\n')) {
    const name = line.trim().split(' ')[0] ?? '';
    const pid = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || isAlive(Number(pid))) continue;
    runSync('ip', ['netns', 'del', name]);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const name of live) runSync('ip', ['netns', 'del', name]);
  });
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

/** Runs a program to completion; never rejects (a failure to start is exit code null with the reason on stderr). */
export function execFile(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: definedOnly({ ...process.env, ...options.env }),
      timeout: options.timeoutMs ?? 30_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.on('error', () => {});
    child.on('error', (err) => (stderr += `${file}: ${err.message}\n`));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

const describe = (file: string, args: readonly string[]): string => [file, ...args].join(' ');


export class Netns {
  private readonly children = new Set<ChildProcess>();
  private deleted = false;

  constructor(readonly name: string) {}

  /** `ip netns exec <name> [setpriv ...] file args`. */
  command(file: string, args: readonly string[], options: Pick<ExecOptions, 'asUser'> = {}): [string, string[]] {
    const user = options.asUser;
    // As another user, NODE_OPTIONS goes: the test runner instruments child node processes through it (re-adding
    // it to any environment we pass), and its hook writes into the checkout, which that user may not write.
    const drop =
      user === undefined
        ? []
        : ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--', 'env', '-u', 'NODE_OPTIONS'];
    return ['ip', ['netns', 'exec', this.name, ...drop, file, ...args]];
  }

  exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const [cmd, argv] = this.command(file, args, options);
    return execFile(cmd, argv, options);
  }

  /** Like exec, but resolves to stdout and rejects (with stderr) unless the exit code is 0. */
  async execOk(file: string, args: readonly string[], options: ExecOptions = {}): Promise<string> {
    const result = await this.exec(file, args, options);
    if (result.code !== 0) {
      throw new Error(`in ${this.name}: ${describe(file, args)} exited ${result.code ?? result.signal ?? '?'}: ${result.stderr.trim()}`);
    }
    return result.stdout;
  }

  /** A node script inside the namespace (this process's node binary). */
  node(script: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<ExecResult> {
    return this.exec(process.execPath, [script, ...args], options);
  }

  /**
   * A long-running process inside the namespace (a proxy, an app). The caller handles its output; it is killed
   * (SIGKILL) before the namespace is deleted.
   */
  spawn(file: string, args: readonly string[], options: Omit<SpawnOptions, 'uid' | 'gid'> & Pick<ExecOptions, 'asUser'> = {}): ChildProcess {
    const [cmd, argv] = this.command(file, args, options);
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.children.add(child);
    child.on('error', () => {});
    child.on('close', () => this.children.delete(child));
    return child;
  }

  /** Kills what `spawn` started, then deletes the namespace. Idempotent. */
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
    const result = await execFile('ip', ['netns', 'del', this.name]);
    live.delete(this.name);
    if (result.code !== 0 && !/No such file/.test(result.stderr)) {
      throw new Error(`could not delete network namespace ${this.name}: ${result.stderr.trim()}`);
    }
  }
}

/** A fresh namespace with loopback up, deleted in `t`'s teardown. Check `netnsUnavailable()` first. */
export async function createNetns(t: Teardown): Promise<Netns> {
  const reason = netnsUnavailable();
  if (reason !== null) throw new Error(reason);
  installExitHook();
  const name = `${PREFIX}${process.pid}-${++counter}`;
  const add = await execFile('ip', ['netns', 'add', name]);
  if (add.code !== 0) throw new Error(`ip netns add ${name}: ${add.stderr.trim()}`);
  live.add(name);
  const ns = new Netns(name);
  t.teardown(() => ns.delete());
  await run(ns, ['link', 'set', 'lo', 'up']);
  return ns;
}

async function run(ns: Netns, args: readonly string[]): Promise<void> {
  const result = await execFile('ip', ['-n', ns.name, ...args]);
  if (result.code !== 0) throw new Error(`ip -n ${ns.name} ${args.join(' ')}: ${result.stderr.trim()}`);
}

/** `ip addr add`: `a.b.c.d/n` or an IPv6 CIDR (added with `nodad`, so it is usable at once). */
export async function addAddress(ns: Netns, device: string, cidr: string): Promise<void> {
  await run(ns, cidr.includes(':') ? ['-6', 'addr', 'add', cidr, 'dev', device, 'nodad'] : ['addr', 'add', cidr, 'dev', device]);
}

/**
 * A device carrying the given addresses inside one namespace, up: a dummy interface when the kernel has the
 * dummy driver, else one end of a veth pair whose other end (`<name>p`) stays in the same namespace. Gives a
 * namespace "its pod address".
 */
export async function addDevice(ns: Netns, options: { name: string; addresses: readonly string[] }): Promise<void> {
  const dummy = await execFile('ip', ['-n', ns.name, 'link', 'add', options.name, 'type', 'dummy']);
  if (dummy.code !== 0) {
    const peer = `${options.name}p`.slice(0, 15);
    await run(ns, ['link', 'add', options.name, 'type', 'veth', 'peer', 'name', peer]);
    await run(ns, ['link', 'set', peer, 'up']);
  }
  for (const cidr of options.addresses) await addAddress(ns, options.name, cidr);
  await run(ns, ['link', 'set', options.name, 'up']);
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
  // Created under a temporary name in `a` so the peer's name cannot clash there, then moved into `b`.
  const temp = `lt${process.pid % 100000}x${++counter}`.slice(0, 15);
  await run(a, ['link', 'add', aName, 'type', 'veth', 'peer', 'name', temp]);
  await run(a, ['link', 'set', temp, 'netns', b.name]);
  await run(b, ['link', 'set', temp, 'name', bName]);
  for (const cidr of options.aAddresses) await addAddress(a, aName, cidr);
  for (const cidr of options.bAddresses) await addAddress(b, bName, cidr);
  await run(a, ['link', 'set', aName, 'up']);
  await run(b, ['link', 'set', bName, 'up']);
}

export interface TestSubnet {
  /** `10.<x>.<y>.<host>`, with `/prefix` when given. */
  v4(host: number, prefix?: number): string;
  /** `fd00:<x>:<y>::<host>`, with `/prefix` when given. */
  v6(host: number, prefix?: number): string;
}

let subnets = 0;

/**
 * Addresses for one test: a /24 (and an IPv6 /64) derived from this process's pid and a counter, so tests running
 * in parallel never share a subnet (namespaces are isolated anyway; this keeps logs unambiguous).
 */
/** An IPv6 address in its canonical text form (RFC 5952), as the kernel and node report it. */
function canonicalV6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

export function testSubnet(): TestSubnet {
  const n = (process.pid * 16 + subnets++) % 65536;
  const x = n >> 8;
  const y = n & 0xff;
  return {
    v4: (host, prefix) => `10.${x}.${y}.${host}${prefix === undefined ? '' : `/${prefix}`}`,
    // Canonical text (zero groups compressed as the kernel prints them: `fd00:e0::2`, not `fd00:e0:0::2`).
    v6: (host, prefix) => `${canonicalV6(`fd00:${x.toString(16)}:${y.toString(16)}::${host.toString(16)}`)}${prefix === undefined ? '' : `/${prefix}`}`,
  };
}

/** Whether a program is on PATH (e.g. `iptables-legacy`). */
export function hasProgram(name: string): boolean {
  return runSync('sh', ['-c', `command -v ${JSON.stringify(name)}`]).ok;
}
