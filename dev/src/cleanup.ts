/**
 * Removing everything a local cluster made, whether or not its daemon is still around to do it: pod network
 * namespaces (killing what runs inside), veths, the bridge, the iptables chains and rules, `/etc/netns` entries
 * (ClusterNetwork.cleanup finds them by the cluster's name). `loom dev up` runs it before starting over a crashed
 * cluster, `loom dev down` after stopping the daemon.
 */
import { ClusterNetwork } from './node/network.js';
import type { ClusterFiles } from './cli/state.js';

/** Removes what cluster `name` left; `report` gets one line per kind of thing removed. */
export async function cleanupCluster(name: string, _files: ClusterFiles, report: (line: string) => void): Promise<void> {
  const removed = await ClusterNetwork.cleanup(name);
  const say = (what: string, list: readonly string[]): void => {
    if (list.length > 0) report(`removed ${list.length} ${what}: ${list.join(', ')}`);
  };
  say('pod network namespace(s) and their processes', removed.namespaces);
  say('link(s)', removed.links);
  say('iptables chain(s)', removed.chains);
  say('/etc/netns entr(ies)', removed.hostsDirs);
}
