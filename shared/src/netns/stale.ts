/** Removing what runs killed before their cleanup left behind, recognised by the pid in the names (names.ts). */
import { deleteLink, deleteNetns, listLinks, listNetns } from './ip.js';
import { staleNames } from './names.js';
import { processAlive } from './probe.js';

/**
 * Deletes the namespaces (killing what still runs inside) and this namespace's bridges named `<prefix><pid>...`
 * whose pid no longer runs. Never this process's own. Resolves to the names removed.
 */
export async function removeStale(prefix: string): Promise<string[]> {
  const namespaces = staleNames(await listNetns(prefix), prefix, processAlive, process.pid);
  for (const ns of namespaces) await deleteNetns(ns, { killProcesses: true });
  const bridges = staleNames(await listLinks(null, 'bridge'), prefix, processAlive, process.pid);
  for (const bridge of bridges) await deleteLink(null, bridge);
  return [...namespaces, ...bridges];
}
