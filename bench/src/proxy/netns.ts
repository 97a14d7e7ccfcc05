/**
 * The bench-proxy network (on @loom/shared/netns): two namespaces, "client" and "server", joined by one veth pair
 * with addresses from a private /30. Nothing is added to the host's own network: both addresses live only inside
 * the namespaces this benchmark created, so the /30 can be fixed. Names carry this process's pid (`lbp<pid>c`,
 * `lbp<pid>s`), so a later run can recognise and remove what a killed run left behind (`removeStale`).
 */
import {
  addAddress,
  addNetns,
  addVethPair,
  deleteNetnsSync,
  inNetns,
  linkUp,
  ownedName,
  removeStale as removeStaleNamed,
  run as runCommand,
} from '@loom/shared/netns';

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
/** Both ends of the link: only ever configured inside the benchmark's own namespaces. */
const CLIENT_ADDRESS = '10.77.0.1';
const SERVER_ADDRESS = '10.77.0.2';
const PREFIX_LENGTH = 30;

/** Runs a short command; resolves to its stdout, rejects with one line naming the command and its stderr. */
export async function run(argv: readonly string[], timeoutMs = 30_000): Promise<string> {
  return (await runCommand(argv, { timeoutMs })).stdout;
}

/** argv run inside `side`'s namespace. */
export const inNamespace = (side: Side, argv: readonly string[]): string[] => inNetns(side.ns, argv);

/** Creates the two namespaces and the link (loopback up in both). On failure removes what it made and rethrows. */
export async function createNetwork(pid: number = process.pid): Promise<Network> {
  const name = (role: 'c' | 's'): string => ownedName(PREFIX, pid, role);
  const client: Side = { role: 'client', ns: name('c'), address: CLIENT_ADDRESS, device: name('c') };
  const server: Side = { role: 'server', ns: name('s'), address: SERVER_ADDRESS, device: name('s') };
  try {
    await addNetns(client.ns);
    await addNetns(server.ns);
    await addVethPair({ name: client.device, ns: client.ns }, { name: server.device, ns: server.ns });
    for (const side of [client, server]) {
      await addAddress(side.ns, side.device, `${side.address}/${PREFIX_LENGTH}`);
      await linkUp(side.ns, side.device);
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
  for (const side of [network.client, network.server]) deleteNetnsSync(side.ns, { killProcesses: true });
}

/**
 * Removes namespaces an earlier bench-proxy run left behind (it was killed before cleaning up): those named
 * `lbp<pid>...` whose pid no longer runs. Resolves to their names; to none when `ip netns` is unavailable.
 */
export function removeStale(): Promise<string[]> {
  return removeStaleNamed(PREFIX).catch(() => []);
}
