/**
 * Every SMI group/version/kind Loom serves. The CRD generator and the conversion webhook read this table;
 * `decodeSmi` dispatches on it.
 */

export const SmiGroup = {
  access: 'access.smi-spec.io',
  specs: 'specs.smi-spec.io',
  split: 'split.smi-spec.io',
  metrics: 'metrics.smi-spec.io',
} as const;
export type SmiGroup = (typeof SmiGroup)[keyof typeof SmiGroup];

export type SmiVersion = 'v1alpha1' | 'v1alpha2' | 'v1alpha3' | 'v1alpha4';

export type ServedSmiKind =
  | 'TrafficTarget'
  | 'IdentityBinding'
  | 'HTTPRouteGroup'
  | 'TCPRoute'
  | 'UDPRoute'
  | 'TrafficSplit'
  | 'TrafficMetrics';

export interface ServedVersion {
  readonly group: SmiGroup;
  readonly version: SmiVersion;
  readonly kind: ServedSmiKind;
  /** `<group>/<version>` */
  readonly apiVersion: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  /** The version a CRD stores (one per kind): the newest, which every other version converts to losslessly or refuses. */
  readonly storage: boolean;
  /** `false` for TrafficMetrics, an aggregated API behind an APIService rather than a CRD. */
  readonly crd: boolean;
}

interface KindNames {
  readonly group: SmiGroup;
  readonly kind: ServedSmiKind;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly versions: readonly SmiVersion[];
  readonly crd: boolean;
}

const KINDS: readonly KindNames[] = [
  { group: SmiGroup.access, kind: 'TrafficTarget', plural: 'traffictargets', singular: 'traffictarget', shortNames: ['tt'], versions: ['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4'], crd: true },
  // The spec defines no names for IdentityBinding; these follow the Kubernetes convention.
  { group: SmiGroup.access, kind: 'IdentityBinding', plural: 'identitybindings', singular: 'identitybinding', shortNames: [], versions: ['v1alpha4'], crd: true },
  { group: SmiGroup.specs, kind: 'HTTPRouteGroup', plural: 'httproutegroups', singular: 'httproutegroup', shortNames: ['htr'], versions: ['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4'], crd: true },
  { group: SmiGroup.specs, kind: 'TCPRoute', plural: 'tcproutes', singular: 'tcproute', shortNames: ['tr'], versions: ['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4'], crd: true },
  { group: SmiGroup.specs, kind: 'UDPRoute', plural: 'udproutes', singular: 'udproute', shortNames: ['ur'], versions: ['v1alpha4'], crd: true },
  { group: SmiGroup.split, kind: 'TrafficSplit', plural: 'trafficsplits', singular: 'trafficsplit', shortNames: ['ts'], versions: ['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4'], crd: true },
  { group: SmiGroup.metrics, kind: 'TrafficMetrics', plural: 'trafficmetrics', singular: 'trafficmetrics', shortNames: [], versions: ['v1alpha1'], crd: false },
];

/** One row per served group/version/kind, in a stable order (by kind as above, then version). */
export const SMI_SERVED_VERSIONS: readonly ServedVersion[] = Object.freeze(
  KINDS.flatMap((k) =>
    k.versions.map(
      (version): ServedVersion =>
        Object.freeze({
          group: k.group,
          version,
          kind: k.kind,
          apiVersion: `${k.group}/${version}`,
          listKind: `${k.kind}List`,
          plural: k.plural,
          singular: k.singular,
          shortNames: k.shortNames,
          storage: version === k.versions[k.versions.length - 1],
          crd: k.crd,
        }),
    ),
  ),
);

/** The groups whose objects `decodeSmi` reads (TrafficMetrics is output only). */
export const SMI_INPUT_GROUPS: readonly string[] = [SmiGroup.access, SmiGroup.specs, SmiGroup.split];

export function isSmiGroup(group: string): boolean {
  return (Object.values(SmiGroup) as string[]).includes(group);
}

/** `split.smi-spec.io/v1alpha4` → `{ group: 'split.smi-spec.io', version: 'v1alpha4' }`; core `v1` → group ''. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export function findServedVersion(apiVersion: string, kind: string): ServedVersion | undefined {
  return SMI_SERVED_VERSIONS.find((v) => v.apiVersion === apiVersion && v.kind === kind);
}

/** Versions in which `kind` is served, oldest first. */
export function servedVersionsOf(kind: string): readonly ServedVersion[] {
  return SMI_SERVED_VERSIONS.filter((v) => v.kind === kind);
}

/** `v1alpha3` → 3. */
export function alphaNumber(version: string): number {
  const m = /^v1alpha([1-9])$/.exec(version);
  return m?.[1] === undefined ? 0 : Number(m[1]);
}
