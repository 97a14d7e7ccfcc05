/**
 * The downward API: the values of `fieldRef` paths (env and volume files), `resourceFieldRef`s (a container's
 * CPU, memory or ephemeral-storage limit or request in units of a divisor, the node's capacity when no limit is
 * set, as the kubelet does) and Kubernetes' quantity notation. Pure.
 */
import type { Container, PodView, ResourceFieldRef } from './spec.js';

/** What a pod's downward API fields read besides its object: its addresses, once it has them. */
export interface PodAddresses {
  readonly hostIP: string;
  readonly podIP?: string;
}

/** The node's capacity, what `limits.*` read when the container sets no limit. */
export interface NodeCapacity {
  readonly cpu: number;
  readonly memory: number;
  readonly ephemeralStorage: number;
}

export class FieldError extends Error {
  override readonly name = 'FieldError';
}

/** Decimal suffixes as powers of ten, binary ones as factors. */
const DECIMAL: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A quantity (`500m`, `1Gi`, `2e3`, `1.5`) as a number; throws a FieldError when it is none. */
export function parseQuantity(text: string): number {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/.exec(text.trim());
  if (m === null) throw new FieldError(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': "${text}"`);
  const base = Number(m[1]);
  const suffix = m[3] ?? '';
  const binary = BINARY[suffix];
  if (binary !== undefined) return base * binary;
  const exponent = m[2] !== undefined ? Number(m[2].slice(1)) : (DECIMAL[suffix] ?? 0);
  // Dividing keeps 100n exactly 1e-7 (multiplying by 1e-9 would not).
  return exponent < 0 ? base / 10 ** -exponent : base * 10 ** exponent;
}

/** `key="value"` lines sorted by key, as a downward API file shows labels and annotations. */
export function formatMap(map: Readonly<Record<string, string>>): string {
  return Object.keys(map)
    .sort()
    .map((k) => `${k}=${JSON.stringify(map[k])}`)
    .join('\n');
}

const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.*)'\]$/;

/**
 * The value of a `fieldRef.fieldPath`. Whole `metadata.labels`/`metadata.annotations` only in volumes
 * (`inVolume`), and there only `metadata.*`, as Kubernetes allows. Throws a FieldError for a path it does not support.
 */
export function fieldValue(pod: PodView, addresses: PodAddresses, fieldPath: string, inVolume = false): string {
  // Volumes read only the pod's metadata (Kubernetes validates it so).
  if (inVolume && !fieldPath.startsWith('metadata.')) throw new FieldError(`unsupported fieldPath: ${fieldPath}`);
  const sub = SUBSCRIPT.exec(fieldPath);
  if (sub !== null) {
    const map = sub[1] === 'labels' ? pod.labels : pod.annotations;
    return map[sub[2] ?? ''] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return pod.name;
    case 'metadata.namespace':
      return pod.namespace;
    case 'metadata.uid':
      return pod.uid;
    case 'spec.nodeName':
      return pod.spec.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName;
    case 'status.hostIP':
    case 'status.hostIPs':
      return addresses.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return addresses.podIP ?? '';
    case 'metadata.labels':
    case 'metadata.annotations':
      if (inVolume) return formatMap(fieldPath === 'metadata.labels' ? pod.labels : pod.annotations);
      break;
  }
  throw new FieldError(`unsupported fieldPath: ${fieldPath}`);
}

/**
 * The value of a `resourceFieldRef` for `self` (or the container it names): the limit or request in units of
 * the divisor, rounded up. A missing limit reads the node's capacity; a missing request reads the limit, or 0.
 */
export function resourceValue(pod: PodView, self: Container, ref: ResourceFieldRef, node: NodeCapacity): string {
  const name = ref.containerName;
  const container = name === undefined ? self : [...pod.spec.containers, ...pod.spec.initContainers].find((c) => c.name === name);
  if (container === undefined) throw new FieldError(`container "${name ?? ''}" not found in pod ${pod.namespace}/${pod.name}`);
  const [kind, resource] = ref.resource.split('.', 2) as [string, string | undefined];
  const capacity = resource === 'cpu' ? node.cpu : resource === 'memory' ? node.memory : resource === 'ephemeral-storage' ? node.ephemeralStorage : undefined;
  if ((kind !== 'limits' && kind !== 'requests') || resource === undefined || capacity === undefined) throw new FieldError(`unsupported container resource: ${ref.resource}`);
  const limit = container.resources.limits[resource];
  const request = container.resources.requests[resource];
  const value = kind === 'limits' ? (limit === undefined ? capacity : parseQuantity(limit)) : parseQuantity(request ?? limit ?? '0');
  const divisor = parseQuantity(ref.divisor ?? '1');
  if (!(divisor > 0)) throw new FieldError(`invalid divisor "${ref.divisor ?? ''}" of resource ${ref.resource}`);
  // Rounding up as the kubelet does; the epsilon keeps 0.1/0.001 exactly 100 instead of 100.00000000000001.
  return String(Math.ceil(value / divisor - 1e-9));
}
