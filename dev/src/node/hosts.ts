/**
 * Name resolution in pods without a cluster DNS server: each pod's `/etc/hosts` carries every Service's names, and
 * `ip netns exec <pod namespace>` bind-mounts `/etc/netns/<namespace>/hosts` (and `resolv.conf`) over `/etc/hosts`
 * for every process it starts. The bind mount pins the file's inode at process start, so updates are written into
 * the same file (truncate and write), never by renaming a new file over it, which running processes would not see.
 * Write both files before the pod's first process starts: `ip netns exec` mounts only the files that exist then.
 *
 * `hostsFile` and `resolvConf` are pure; the rest writes under /etc/netns.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../api/store.js';

/** The DNS domain of the local cluster's names. */
export const CLUSTER_DOMAIN = 'cluster.local';

/** Where `ip netns exec` looks for a namespace's own /etc files. */
export const NETNS_ETC = '/etc/netns';

export interface HostsPod {
  readonly namespace: string;
  readonly podName: string;
  readonly podIp: string;
  /** `spec.hostname`: the pod's host name instead of its name. */
  readonly hostname?: string;
  /** `spec.subdomain`: with a headless Service of that name, the pod is also `<hostname>.<subdomain>.<ns>.svc.<domain>`. */
  readonly subdomain?: string;
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : []);

/** An EndpointSlice's addresses for DNS: of ready endpoints (`ready` unset counts as ready), with their `hostname`. */
export function readyAddresses(slice: KubeObject): { address: string; hostname?: string }[] {
  if (text(record(slice)?.addressType) === 'FQDN') return [];
  const out: { address: string; hostname?: string }[] = [];
  for (const item of list(slice.endpoints)) {
    const endpoint = record(item);
    if (endpoint === undefined || record(endpoint.conditions)?.ready === false) continue;
    const hostname = text(endpoint.hostname);
    for (const address of list(endpoint.addresses)) {
      const a = text(address);
      if (a !== undefined) out.push(hostname === undefined ? { address: a } : { address: a, hostname });
    }
  }
  return out;
}

/** The slices of Service `namespace/name` (label `kubernetes.io/service-name`). */
export function slicesOf(namespace: string, name: string, endpointSlices: readonly KubeObject[]): KubeObject[] {
  return endpointSlices.filter((s) => s.metadata.namespace === namespace && s.metadata.labels?.['kubernetes.io/service-name'] === name);
}

/** Numeric-aware order for addresses, so the file reads naturally and is stable. */
const byAddress = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

/**
 * The pod's `/etc/hosts`: localhost, the pod's own name (as kubelet writes it), then for every Service
 * `<svc>.<ns>.svc.cluster.local <svc>.<ns>.svc <svc>.<ns>` (and `<svc>` in the pod's own namespace) at its ClusterIP,
 * or, for a headless Service, one line per ready endpoint address (plus `<hostname>.<svc>.<ns>.svc.cluster.local`
 * for endpoints with a hostname). ExternalName Services and Services without a ClusterIP yet are left out.
 */
export function hostsFile(pod: HostsPod, services: readonly KubeObject[], endpointSlices: readonly KubeObject[]): string {
  const hostName = pod.hostname ?? pod.podName;
  const lines = [
    '# Kubernetes-managed hosts file (loom dev): Service names of the local cluster.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    pod.subdomain === undefined
      ? `${pod.podIp}\t${hostName}`
      : `${pod.podIp}\t${hostName}.${pod.subdomain}.${pod.namespace}.svc.${CLUSTER_DOMAIN}\t${hostName}`,
  ];
  const reserved = new Set(['localhost', hostName]);
  const sorted = [...services].sort((a, b) => key(a).localeCompare(key(b)));
  for (const service of sorted) {
    const namespace = service.metadata.namespace;
    const name = service.metadata.name;
    const spec = record(service.spec);
    if (namespace === undefined || spec === undefined || spec.type === 'ExternalName') continue;
    const names = serviceNames(name, namespace, namespace === pod.namespace && !reserved.has(name));
    const clusterIp = text(spec.clusterIP);
    if (clusterIp === undefined) continue;
    if (clusterIp !== 'None') {
      lines.push(`${clusterIp}\t${names.join(' ')}`);
      continue;
    }
    const endpoints = slicesOf(namespace, name, endpointSlices).flatMap(readyAddresses);
    for (const address of [...new Set(endpoints.map((e) => e.address))].sort(byAddress)) lines.push(`${address}\t${names.join(' ')}`);
    const named = endpoints.filter((e) => e.hostname !== undefined).sort((a, b) => byAddress(a.address, b.address));
    for (const e of named) lines.push(`${e.address}\t${serviceNames(`${e.hostname ?? ''}.${name}`, namespace, namespace === pod.namespace).join(' ')}`);
  }
  return `${[...new Set(lines)].join('\n')}\n`;
}

/** `<name>.<ns>.svc.cluster.local <name>.<ns>.svc <name>.<ns>`, and `<name>` when `short`. */
function serviceNames(name: string, namespace: string, short: boolean): string[] {
  const names = [`${name}.${namespace}.svc.${CLUSTER_DOMAIN}`, `${name}.${namespace}.svc`, `${name}.${namespace}`];
  return short ? [...names, name] : names;
}

const key = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

const LOOPBACK = /^(?:127\.|::1$|0\.0\.0\.0$|::$)/;

/**
 * The pods' `resolv.conf`, from the host's: its `nameserver`s that a pod can reach (loopback ones, such as
 * systemd-resolved's 127.0.0.53, would be the pod's own loopback, where nothing answers) with its `search` and
 * `domain`, and short timeouts (`options timeout:1 attempts:2`) so a name nobody knows fails within seconds.
 * Cluster names never reach DNS: /etc/hosts has them in every form. With no usable nameserver there is none in
 * the file: the resolver then asks 127.0.0.1 in the pod, where nothing listens, and fails at once.
 */
export function resolvConf(hostResolvConf: string): string {
  const kept: string[] = [];
  for (const raw of hostResolvConf.split('\n')) {
    const line = raw.trim();
    const [keyword, value] = line.split(/\s+/);
    if (keyword === 'nameserver' && value !== undefined && !LOOPBACK.test(value)) kept.push(`nameserver ${value}`);
    if (keyword === 'search' || keyword === 'domain') kept.push(line.replace(/\s+/g, ' '));
  }
  const servers = kept.filter((l) => l.startsWith('nameserver ')).length;
  return [
    '# loom dev: Service names come from /etc/hosts; other names from the host\'s nameservers that pods can reach.',
    ...(servers === 0 ? ['# (none: the host has only loopback nameservers, so lookups of other names fail at once)'] : []),
    ...kept,
    'options timeout:1 attempts:2',
    '',
  ].join('\n');
}

/** Whether `resolvConf(text)` would keep a nameserver. */
const hasUsableNameserver = (text: string): boolean => resolvConf(text).split('\n').some((l) => l.startsWith('nameserver '));

/** The host's resolver configuration pods should start from: systemd-resolved's upstream list when /etc's is its stub. */
async function hostResolver(): Promise<string> {
  const etc = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  if (hasUsableNameserver(etc)) return etc;
  const upstream = await readFile('/run/systemd/resolve/resolv.conf', 'utf8').catch(() => '');
  return hasUsableNameserver(upstream) ? upstream : etc;
}

function dirOf(netnsName: string): string {
  if (netnsName === '' || netnsName === '.' || netnsName === '..' || netnsName.includes('/') || netnsName.includes('\0')) {
    throw new RangeError(`"${netnsName}" is not a network namespace name`);
  }
  return join(NETNS_ETC, netnsName);
}

/** Writes `content` into `path` in place (same inode: truncate, then write) unless it holds that already. */
async function writeInPlace(path: string, content: string): Promise<boolean> {
  const current = await readFile(path, 'utf8').catch(() => null);
  if (current === content) return false;
  // flag 'w' is O_WRONLY|O_CREAT|O_TRUNC: the existing file is truncated and rewritten, never replaced.
  await writeFile(path, content, { flag: 'w', mode: 0o644 });
  return true;
}

/**
 * Writes the namespace's `hosts` (in place, so running processes see it) and `resolv.conf` under
 * `/etc/netns/<netnsName>/`. Resolves to whether the hosts file changed.
 */
export async function writeHostsFile(netnsName: string, text: string): Promise<boolean> {
  const dir = dirOf(netnsName);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await writeInPlace(join(dir, 'resolv.conf'), resolvConf(await hostResolver()));
  return writeInPlace(join(dir, 'hosts'), text);
}

/** Removes `/etc/netns/<netnsName>/`; fine when it is gone. */
export async function removeHostsDir(netnsName: string): Promise<void> {
  await rm(dirOf(netnsName), { recursive: true, force: true });
}
