/**
 * ClusterIPs for the local cluster, the way kube-proxy's iptables mode serves them, in the host's network
 * namespace: every ClusterIP:port (TCP and UDP) DNATs to one of its ready endpoints at random
 * (`statistic --mode random`), for the host's own connections (nat OUTPUT) and the pods' (nat PREROUTING); a port
 * with no usable endpoint is rejected (filter OUTPUT and FORWARD: TCP reset, ICMP port unreachable for UDP), so
 * clients fail at once instead of timing out. A pod that reaches itself through its Service is masqueraded
 * (`LD-<cluster>-HAIRPIN`), else it would receive a packet from its own address and drop it.
 *
 * Chains (see network.ts for the naming): nat `LD-<c>-SERVICES` (from PREROUTING and OUTPUT), `LD-<c>-SVC-<hash>`
 * per service port, `LD-<c>-HAIRPIN` (from POSTROUTING); filter `LD-<c>-SERVICES` (from FORWARD and OUTPUT, new
 * connections). Each `sync` rewrites exactly these chains in one `iptables-restore --noflush` transaction per
 * call, and nothing else. Endpoints follow kube-proxy: `ready` (unset = ready); when a port has none, serving
 * endpoints that are terminating. Left out: NodePorts, external IPs, load balancers, session affinity, SCTP, IPv6,
 * and clearing UDP conntrack entries when endpoints change (an ongoing UDP flow keeps its endpoint until it idles).
 *
 * Create the ServiceProxy after the cluster's ClusterNetwork: its reject rules must come before the network's
 * FORWARD accept rule, and both are inserted at the top.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '@loom/shared/runtime';
import type { KubeObject } from '../api/store.js';
import { ipv4ToNumber } from './cidrs.js';
import { chainPrefix, clusterNameProblem, jumpTarget, removeChains, restore, ruleComment, saveTable, type SavedTable } from './network.js';

export type Protocol = 'TCP' | 'UDP';

/** What one service port becomes. */
export interface ServicePortPlan {
  /** `<namespace>/<name>`. */
  readonly service: string;
  /** The port's name; empty when unnamed. */
  readonly portName: string;
  readonly protocol: Protocol;
  /** The Service's IPv4 ClusterIPs (`spec.clusterIP` and further IPv4 `spec.clusterIPs`). */
  readonly clusterIPs: readonly string[];
  readonly port: number;
  /** `ip:port` of the endpoints traffic goes to, sorted; empty: rejected. */
  readonly endpoints: readonly string[];
}

export interface ServicesPlan {
  readonly ports: readonly ServicePortPlan[];
  /** One line per service port left out, and why. */
  readonly skipped: readonly string[];
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
const list = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : []);
const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const isPort = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
const isIpv4 = (value: string): boolean => ipv4ToNumber(value) !== null;
const protocolOf = (value: unknown): string => (value === undefined || value === null || value === '' ? 'TCP' : str(value));

interface Endpoint {
  readonly target: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

/** The endpoints of one slice for a port of this name and protocol (IPv4 slices; first address, as kube-proxy). */
function sliceEndpoints(slice: KubeObject, portName: string, protocol: string): Endpoint[] {
  const addressType = str(slice.addressType);
  if (addressType !== '' && addressType !== 'IPv4') return [];
  const port = list(slice.ports)
    .map(record)
    .find((p) => p !== undefined && str(p.name) === portName && protocolOf(p.protocol) === protocol);
  if (port === undefined || !isPort(port.port)) return [];
  const out: Endpoint[] = [];
  for (const item of list(slice.endpoints)) {
    const endpoint = record(item);
    const address = str(list(endpoint?.addresses)[0]);
    if (endpoint === undefined || !isIpv4(address)) continue;
    const conditions = record(endpoint.conditions) ?? {};
    out.push({
      target: `${address}:${port.port}`,
      ready: conditions.ready !== false,
      serving: conditions.serving !== false,
      terminating: conditions.terminating === true,
    });
  }
  return out;
}

/** kube-proxy's choice for cluster traffic: ready endpoints; with none, serving ones that are terminating. */
function usable(endpoints: readonly Endpoint[]): string[] {
  const ready = endpoints.filter((e) => e.ready);
  const chosen = ready.length > 0 ? ready : endpoints.filter((e) => e.serving && e.terminating);
  return [...new Set(chosen.map((e) => e.target))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** What the Services and EndpointSlices ask for. Pure. */
export function planServices(services: readonly KubeObject[], endpointSlices: readonly KubeObject[]): ServicesPlan {
  const ports: ServicePortPlan[] = [];
  const skipped: string[] = [];
  for (const service of services) {
    const namespace = service.metadata.namespace ?? '';
    const name = service.metadata.name;
    const id = `${namespace}/${name}`;
    const spec = record(service.spec) ?? {};
    if (spec.type === 'ExternalName') continue;
    const primary = str(spec.clusterIP);
    if (primary === '' || primary === 'None') continue;
    const clusterIPs = [...new Set([primary, ...list(spec.clusterIPs).map(str)])].filter(isIpv4);
    if (clusterIPs.length === 0) {
      skipped.push(`${id}: clusterIP ${primary} is not IPv4`);
      continue;
    }
    const slices = endpointSlices.filter((s) => s.metadata.namespace === namespace && s.metadata.labels?.['kubernetes.io/service-name'] === name);
    for (const item of list(spec.ports)) {
      const port = record(item);
      if (port === undefined) continue;
      const portName = str(port.name);
      const protocol = protocolOf(port.protocol);
      const label = `${id}${portName === '' ? '' : `:${portName}`}`;
      if (protocol !== 'TCP' && protocol !== 'UDP') {
        skipped.push(`${label}: protocol ${protocol} is not served (TCP and UDP are)`);
        continue;
      }
      if (!isPort(port.port)) {
        skipped.push(`${label}: port ${String(port.port)} is not a port number`);
        continue;
      }
      const endpoints = usable(slices.flatMap((s) => sliceEndpoints(s, portName, protocol)));
      ports.push({ service: id, portName, protocol, clusterIPs, port: port.port, endpoints });
    }
  }
  ports.sort((a, b) => `${a.service}:${a.portName}/${a.protocol}`.localeCompare(`${b.service}:${b.portName}/${b.protocol}`));
  return { ports, skipped };
}

/** kube-proxy's probability for rule `i` of `n`: each rule takes an equal share of what the rules before it left. */
export const probability = (i: number, n: number): string => (1 / (n - i)).toFixed(10);

const safeComment = (text: string): string => text.replace(/[^A-Za-z0-9_.:/>= -]/g, '_');

/** The chains of the service proxy of `cluster`. */
export function proxyChains(cluster: string): { services: string; hairpin: string; svcPrefix: string } {
  const prefix = chainPrefix(cluster);
  return { services: `${prefix}SERVICES`, hairpin: `${prefix}HAIRPIN`, svcPrefix: `${prefix}SVC-` };
}

/** Whether `chain` is one of the service proxy's (not the network's) chains of `cluster`. */
export function isProxyChain(cluster: string, chain: string): boolean {
  const { services, hairpin, svcPrefix } = proxyChains(cluster);
  return chain === services || chain === hairpin || chain.startsWith(svcPrefix);
}

/** The per-port chain names: 8 hex digits of a hash of the port's identity, distinct within one plan. */
function portChains(cluster: string, ports: readonly ServicePortPlan[]): Map<ServicePortPlan, string> {
  const { svcPrefix } = proxyChains(cluster);
  const names = new Map<ServicePortPlan, string>();
  const used = new Set<string>();
  for (const port of ports) {
    const id = `${port.service}:${port.portName}/${port.protocol}`;
    let name = '';
    for (let salt = 0; name === '' || used.has(name); salt++) {
      name = `${svcPrefix}${createHash('sha256').update(salt === 0 ? id : `${id}#${salt}`).digest('hex').slice(0, 8)}`;
    }
    used.add(name);
    names.set(port, name);
  }
  return names;
}

const BUILT_IN_JUMPS = {
  nat: [
    ['PREROUTING', 'services'],
    ['OUTPUT', 'services'],
    ['POSTROUTING', 'hairpin'],
  ],
  filter: [
    ['FORWARD', 'services'],
    ['OUTPUT', 'services'],
  ],
} as const;

/**
 * The iptables-restore input that makes the tables (`nat`, `filter`: their current state) serve `plan`: the proxy's
 * chains declared (so flushed) and filled, per-port chains no longer needed deleted, missing jumps from the
 * built-in chains inserted at their top. Pure.
 */
export function renderSync(cluster: string, plan: ServicesPlan, nat: SavedTable, filter: SavedTable): string {
  const chains = proxyChains(cluster);
  const comment = (text: string): string => `-m comment --comment "${safeComment(text)}"`;
  const served = plan.ports.filter((p) => p.endpoints.length > 0);
  const chainOf = portChains(cluster, served);
  const wanted = new Set(chainOf.values());
  const stale = [...nat.chains].filter((c) => c.startsWith(chains.svcPrefix) && !wanted.has(c)).sort();
  const match = (p: ServicePortPlan, ip: string): string => {
    const proto = p.protocol.toLowerCase();
    return `-d ${ip}/32 -p ${proto} -m ${proto} --dport ${p.port}`;
  };
  const label = (p: ServicePortPlan): string => `${p.service}${p.portName === '' ? '' : `:${p.portName}`}`;
  const jumps = (table: 'nat' | 'filter', saved: SavedTable): string[] =>
    BUILT_IN_JUMPS[table]
      .filter(([from, to]) => !saved.rules.some((r) => r.chain === from && jumpTarget(r.spec) === chains[to]))
      .map(([from, to]) => `-I ${from} ${table === 'filter' ? '-m conntrack --ctstate NEW ' : ''}${comment(ruleComment(cluster))} -j ${chains[to]}`);

  const natLines = ['*nat', `:${chains.services} - [0:0]`, `:${chains.hairpin} - [0:0]`];
  natLines.push(...[...wanted].sort().map((c) => `:${c} - [0:0]`), ...stale.map((c) => `:${c} - [0:0]`));
  const hairpins = new Set<string>();
  for (const port of served) {
    const chain = chainOf.get(port) ?? '';
    for (const ip of port.clusterIPs) natLines.push(`-A ${chains.services} ${match(port, ip)} ${comment(`${label(port)} cluster IP`)} -j ${chain}`);
    port.endpoints.forEach((target, i) => {
      const spread = i < port.endpoints.length - 1 ? ` -m statistic --mode random --probability ${probability(i, port.endpoints.length)}` : '';
      natLines.push(`-A ${chain} -p ${port.protocol.toLowerCase()} ${comment(`${label(port)} -> ${target}`)}${spread} -j DNAT --to-destination ${target}`);
      hairpins.add(target.slice(0, target.lastIndexOf(':')));
    });
  }
  for (const ip of [...hairpins].sort()) natLines.push(`-A ${chains.hairpin} -s ${ip}/32 -d ${ip}/32 ${comment('pod to itself through a ClusterIP')} -j MASQUERADE`);
  natLines.push(...stale.map((c) => `-X ${c}`), ...jumps('nat', nat), 'COMMIT');

  const filterLines = ['*filter', `:${chains.services} - [0:0]`];
  for (const port of plan.ports.filter((p) => p.endpoints.length === 0)) {
    const reject = port.protocol === 'TCP' ? 'tcp-reset' : 'icmp-port-unreachable';
    for (const ip of port.clusterIPs) {
      filterLines.push(`-A ${chains.services} ${match(port, ip)} ${comment(`${label(port)} has no endpoints`)} -j REJECT --reject-with ${reject}`);
    }
  }
  filterLines.push(...jumps('filter', filter), 'COMMIT');
  return [...natLines, ...filterLines, ''].join('\n');
}

export interface ServiceProxyOptions {
  /** The cluster's name (as its ClusterNetwork's). */
  readonly cluster: string;
  readonly log: Logger;
}

export interface SyncResult {
  /** Service ports with rules (each ClusterIP:port). */
  readonly ports: number;
  /** Of those, the ones without endpoints (rejected). */
  readonly rejecting: number;
  readonly skipped: readonly string[];
}

export class ServiceProxy {
  readonly cluster: string;
  readonly #log: Logger;
  #queue: Promise<unknown> = Promise.resolve();
  #destroyed = false;

  constructor(options: ServiceProxyOptions) {
    const problem = clusterNameProblem(options.cluster);
    if (problem !== null) throw new RangeError(problem);
    this.cluster = options.cluster;
    this.#log = options.log;
  }

  /**
   * Rewrites the proxy's chains to serve `services` with `endpointSlices` (all namespaces), in one transaction.
   * Calls run one after the other; each sees the tables as the previous one left them.
   */
  sync(services: readonly KubeObject[], endpointSlices: readonly KubeObject[]): Promise<SyncResult> {
    return this.#serial(async () => {
      if (this.#destroyed) throw new Error(`the service proxy of cluster "${this.cluster}" was destroyed`);
      const plan = planServices(services, endpointSlices);
      await restore(renderSync(this.cluster, plan, await saveTable('nat'), await saveTable('filter')));
      const result = { ports: plan.ports.length, rejecting: plan.ports.filter((p) => p.endpoints.length === 0).length, skipped: plan.skipped };
      for (const why of plan.skipped) this.#log.debug({ event: 'services.skipped', cluster: this.cluster, reason: why }, `service port skipped: ${why}`);
      this.#log.debug({ event: 'services.synced', cluster: this.cluster, ports: result.ports, rejecting: result.rejecting }, 'service rules synced');
      return result;
    });
  }

  /** Removes the proxy's chains and the jumps to them. Idempotent. */
  destroy(): Promise<void> {
    this.#destroyed = true;
    return this.#serial(async () => {
      await removeChains((chain) => isProxyChain(this.cluster, chain));
    });
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(op, op);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
