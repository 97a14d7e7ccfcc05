/**
 * The bench-proxy network: two namespaces, "client" and "server", joined by one veth pair with addresses from a
 * private /30. Nothing is added to the host's own network: both addresses live only inside the namespaces this
 * benchmark created, so the /30 can be fixed. Names carry this process's pid (`lbp<pid>c`, `lbp<pid>s`), so a
 * later run can recognise and remove what a killed run left behind (`removeStale`).
 */
import { execFile, execFileSync } from 'node:child_process';

export interface Side {
  /** `client` or `server`. */
  readonly role: 'client' | 'server';
  /** Namespace name (`ip netns exec <ns> ...`). */
  readonly ns: string;
  /** This side's address on the veth link. */
  readonly address: string;
  /** The veth device inside the namespace. */
  readonly device: string;
}

export interface Network {
  readonly client: Side;
  readonly server: Side;
}

const PREFIX = 'lbp';
const NAME = /^lbp(\d+)[cs]$/;
/** Both ends of the link: only ever configured inside the benchmark's own namespaces. */
const CLIENT_ADDRESS = '10.77.0.1';
const SERVER_ADDRESS = '10.77.0.2';
const PREFIX_LENGTH = 30;

/** Runs a short command; rejects with one line naming the command and its stderr. */
export function run(argv: readonly string[], timeoutMs = 30_000): Promise<string> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`\`${argv.join(' ')}\` failed: ${(stderr.trim() || error.message).split('\n')[0] ?? ''}`));
    });
  });
}

/** argv run inside `side`'s namespace. */
export const inNamespace = (side: Side, argv: readonly string[]): string[] => ['ip', 'netns', 'exec', side.ns, ...argv];

function names(pid: number): { client: string; server: string } {
  return { client: `${PREFIX}${pid}c`, server: `${PREFIX}${pid}s` };
}

/** Creates the two namespaces and the link (loopback up in both). On failure removes what it made and rethrows. */
export async function createNetwork(pid: number = process.pid): Promise<Network> {
  const n = names(pid);
  const client: Side = { role: 'client', ns: n.client, address: CLIENT_ADDRESS, device: n.client };
  const server: Side = { role: 'server', ns: n.server, address: SERVER_ADDRESS, device: n.server };
  try {
    await run(['ip', 'netns', 'add', client.ns]);
    await run(['ip', 'netns', 'add', server.ns]);
    await run(['ip', 'link', 'add', client.device, 'netns', client.ns, 'type', 'veth', 'peer', 'name', server.device, 'netns', server.ns]);
    for (const side of [client, server]) {
      await run(inNamespace(side, ['ip', 'link', 'set', 'lo', 'up']));
      await run(inNamespace(side, ['ip', 'addr', 'add', `${side.address}/${PREFIX_LENGTH}`, 'dev', side.device]));
      await run(inNamespace(side, ['ip', 'link', 'set', side.device, 'up']));
    }
  } catch (error) {
    destroyNetworkSync({ client, server });
    throw error;
  }
  return { client, server };
}

/**
 * Deletes both namespaces (which removes the veth pair), after killing anything still running inside them.
 * Synchronous so it also works from an `exit` handler. Never throws.
 */
export function destroyNetworkSync(network: Network): void {
  for (const side of [network.client, network.server]) removeNamespaceSync(side.ns);
}

function removeNamespaceSync(ns: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const pid of pids.split('\n').map(Number).filter((p) => p > 0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // no such namespace
  }
  try {
    execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

/** Whether a process with this pid exists. */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Removes namespaces an earlier bench-proxy run left behind (it was killed before cleaning up): those named
 * `lbp<pid>c`/`lbp<pid>s` whose pid no longer runs. Returns their names.
 */
export async function removeStale(): Promise<string[]> {
  let listing: string;
  try {
    listing = await run(['ip', 'netns', 'list']);
  } catch {
    return [];
  }
  const stale: string[] = [];
  for (const line of listing.split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    const match = NAME.exec(ns);
    if (match === null || Number(match[1]) === process.pid || alive(Number(match[1]))) continue;
    removeNamespaceSync(ns);
    stale.push(ns);
  }
  return stale;
}
