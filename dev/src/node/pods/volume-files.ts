/**
 * The files of a pod's configMap, secret, downwardAPI and projected volumes: which paths, with what content and
 * mode, as the kubelet writes them (all keys or the listed `items`, `defaultMode` unless an item sets `mode`;
 * a missing optional source is empty, a missing required one an error the pod waits on). A projected
 * ServiceAccount token comes from the `token` callback, owned by the pods' user with mode 0600 when every
 * container runs as the same user (Kubernetes' rule). Pure.
 */
import { FieldError, fieldValue, resourceValue, type NodeCapacity, type PodAddresses } from './fields.js';
import type { DownwardFile, KeyToPath, PodView, ProjectedSource, VolumeSource } from './spec.js';

export interface VolumeFile {
  /** Relative to the volume's directory. */
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
  /** Owner uid (root when absent). */
  readonly owner?: number;
}

/** A ConfigMap's (data and binaryData) or Secret's (decoded) contents, or undefined when there is no such object. */
export type BinaryLookup = (kind: 'configMap' | 'secret', name: string) => Readonly<Record<string, Buffer>> | undefined;

export interface TokenSource {
  readonly audience?: string;
  readonly expirationSeconds: number;
  readonly path: string;
}

export interface VolumeContext {
  readonly pod: PodView;
  readonly addresses: PodAddresses;
  readonly node: NodeCapacity;
  readonly data: BinaryLookup;
  /** The token to write for a projected serviceAccountToken source of volume `volume`. */
  readonly token: (volume: string, source: TokenSource) => string;
  /** The uid every container runs as, when they all run as the same one. */
  readonly commonUser?: number;
}

/** Why a volume cannot be set up (yet): the message of a FailedMount event. */
export class MountError extends Error {
  override readonly name = 'MountError';
}

/** Whether `path` is a relative path that stays inside its directory (no `..`, not absolute, not empty). */
export function isContainedPath(path: string): boolean {
  if (path === '' || path.startsWith('/')) return false;
  return path.split('/').every((part) => part !== '..' && part !== '');
}

function checked(path: string): string {
  if (!isContainedPath(path)) throw new MountError(`invalid path "${path}": must be a relative path without '..'`);
  return path;
}

const objectKind = (kind: 'configMap' | 'secret'): string => (kind === 'configMap' ? 'configmap' : 'secret');

function keyFiles(
  kind: 'configMap' | 'secret',
  name: string,
  items: readonly KeyToPath[] | undefined,
  optional: boolean,
  mode: number,
  data: BinaryLookup,
): VolumeFile[] {
  const found = data(kind, name);
  if (found === undefined) {
    if (optional) return [];
    throw new MountError(`${objectKind(kind)} "${name}" not found`);
  }
  if (items === undefined) return Object.keys(found).map((key) => ({ path: checked(key), content: found[key] ?? Buffer.alloc(0), mode }));
  const out: VolumeFile[] = [];
  for (const item of items) {
    const content = found[item.key];
    if (content === undefined) {
      if (optional) continue;
      throw new MountError(kind === 'configMap' ? `configmap references non-existent config key: ${item.key}` : `references non-existent secret key: ${item.key}`);
    }
    out.push({ path: checked(item.path), content, mode: item.mode ?? mode });
  }
  return out;
}

function downwardFiles(items: readonly DownwardFile[], mode: number, ctx: VolumeContext): VolumeFile[] {
  return items.map((item) => {
    let value: string;
    try {
      if (item.fieldPath !== undefined) value = fieldValue(ctx.pod, ctx.addresses, item.fieldPath, true);
      else if (item.resourceFieldRef !== undefined) {
        const self = ctx.pod.spec.containers.find((c) => c.name === item.resourceFieldRef?.containerName) ?? ctx.pod.spec.containers[0];
        if (self === undefined) throw new FieldError('the pod has no containers');
        value = resourceValue(ctx.pod, self, item.resourceFieldRef, ctx.node);
      } else throw new FieldError(`downward API file "${item.path}" names no field`);
    } catch (err) {
      if (err instanceof FieldError) throw new MountError(err.message);
      throw err;
    }
    return { path: checked(item.path), content: Buffer.from(value), mode: item.mode ?? mode };
  });
}

function projectedFiles(volume: string, source: ProjectedSource, mode: number, ctx: VolumeContext): VolumeFile[] {
  switch (source.kind) {
    case 'serviceAccountToken': {
      const token = ctx.token(volume, source);
      const owned = ctx.commonUser !== undefined && ctx.commonUser !== 0;
      return [{ path: checked(source.path), content: Buffer.from(token), mode: owned ? 0o600 : mode, ...(owned ? { owner: ctx.commonUser } : {}) }];
    }
    case 'configMap':
    case 'secret':
      return keyFiles(source.kind, source.name, source.items, source.optional, mode, ctx.data);
    case 'downwardAPI':
      return downwardFiles(source.items, mode, ctx);
    case 'inline':
      return [{ path: checked(source.path), content: Buffer.from(source.content), mode }];
    case 'unsupported':
      throw new MountError(`projected volume source ${source.what} is not supported by the local cluster`);
  }
}

/** The files of a file-backed volume; undefined for emptyDir and hostPath (directories, not files). */
export function volumeFiles(name: string, source: VolumeSource, ctx: VolumeContext): VolumeFile[] | undefined {
  switch (source.kind) {
    case 'emptyDir':
    case 'hostPath':
      return undefined;
    case 'configMap':
    case 'secret':
      return keyFiles(source.kind, source.name, source.items, source.optional, source.defaultMode, ctx.data);
    case 'downwardAPI':
      return downwardFiles(source.items, source.defaultMode, ctx);
    case 'projected': {
      const files = source.sources.flatMap((s) => projectedFiles(name, s, source.defaultMode, ctx));
      const seen = new Set<string>();
      for (const f of files) {
        if (seen.has(f.path)) throw new MountError(`conflicting duplicate paths: ${f.path}`);
        seen.add(f.path);
      }
      return files;
    }
    case 'unsupported':
      throw new MountError(`volume type ${source.what} is not supported by the local cluster`);
  }
}
