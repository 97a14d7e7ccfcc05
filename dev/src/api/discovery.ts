/**
 * Discovery documents (legacy discovery, as kubectl and client libraries fall back to it): `/version`, `/api`,
 * `/apis`, `/apis/<group>`, and the resource list of each group/version with subresources. Pure.
 */
import { apiVersionOf, type Registry, type ResourceType } from './registry.js';

/** The Kubernetes version the local cluster reports (kubectl warns beyond one minor version of skew). */
export const KUBERNETES_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0+loom-dev' } as const;

export function versionInfo(): Record<string, string> {
  return {
    ...KUBERNETES_VERSION,
    gitCommit: '',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: '',
    compiler: 'loom-dev',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export function coreVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupDocument(name: string, versions: readonly string[]): Record<string, unknown> {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0] };
}

/** A group/version another server serves (an APIService with a Service behind it). */
export interface AggregatedVersion {
  readonly group: string;
  readonly version: string;
}

/** Group → versions, the registry's then the aggregated ones. */
function allGroups(registry: Registry, aggregated: readonly AggregatedVersion[]): Map<string, string[]> {
  const groups = registry.groups();
  for (const { group: name, version } of aggregated) {
    const versions = groups.get(name) ?? [];
    if (!versions.includes(version)) versions.push(version);
    groups.set(name, versions);
  }
  return groups;
}

/** `/apis`: every named group. */
export function groupList(registry: Registry, aggregated: readonly AggregatedVersion[] = []): Record<string, unknown> {
  const groups = [...allGroups(registry, aggregated)].filter(([name]) => name !== '').map(([name, versions]) => groupDocument(name, versions));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** `/apis/<group>`, or undefined when no version of it is served. */
export function group(registry: Registry, name: string, aggregated: readonly AggregatedVersion[] = []): Record<string, unknown> | undefined {
  const versions = allGroups(registry, aggregated).get(name);
  if (name === '' || versions === undefined) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(name, versions) };
}

function resourceEntries(type: ResourceType): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: type.plural,
    singularName: type.singular,
    namespaced: type.namespaced,
    kind: type.kind,
    verbs: type.verbs,
    ...(type.shortNames.length > 0 ? { shortNames: type.shortNames } : {}),
    ...(type.categories.length > 0 ? { categories: type.categories } : {}),
  };
  const out = [main];
  if (type.status) out.push({ name: `${type.plural}/status`, singularName: '', namespaced: type.namespaced, kind: type.kind, verbs: ['get', 'patch', 'update'] });
  if (type.scale !== undefined) out.push({ name: `${type.plural}/scale`, singularName: '', namespaced: type.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
  return out;
}

/** `/api/v1` or `/apis/<group>/<version>`, or undefined when nothing is served there. */
export function resourceList(registry: Registry, groupName: string, version: string): Record<string, unknown> | undefined {
  const types = registry.all.filter((r) => r.group === groupName && r.version === version);
  if (types.length === 0) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(groupName, version), resources: types.flatMap(resourceEntries) };
}
