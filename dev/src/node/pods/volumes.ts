/**
 * A pod's volumes on disk, below its directory in the runner's state: emptyDir directories (mode 0777), the files
 * of configMap, secret, downwardAPI and projected volumes (written atomically and only when changed, so a sync
 * after a ConfigMap or label change updates what running containers see through their bind mounts; files no
 * longer wanted are removed), hostPath volumes checked (or created) on the host. Projected ServiceAccount tokens
 * are issued through the TokenIssuer and issued again at 80% of their life (or after 24 h): `nextRefresh()` says
 * when the owner should sync again.
 */
import { chmod, chown, lstat, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TokenIssuer } from './types.js';
import type { Volume } from './spec.js';
import { MountError, volumeFiles, type TokenSource, type VolumeContext, type VolumeFile } from './volume-files.js';

export interface PodVolumesOptions {
  /** Where the volumes' directories go (`<pod dir>/volumes`). */
  readonly dir: string;
  readonly volumes: readonly Volume[];
  readonly fsGroup?: number;
  readonly tokens: TokenIssuer;
  readonly pod: { readonly namespace: string; readonly name: string; readonly uid: string; readonly serviceAccount: string };
  readonly now: () => number;
}

/** Tokens are issued again after this much of their life, and at least daily (the kubelet's rule). */
const TOKEN_REFRESH_FRACTION = 0.8;
const TOKEN_MAX_AGE_MS = 24 * 3600_000;

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

export class PodVolumes {
  readonly #options: PodVolumesOptions;
  readonly #written = new Map<string, Set<string>>();
  readonly #tokens = new Map<string, { token: string; refreshAt: number }>();

  constructor(options: PodVolumesOptions) {
    this.#options = options;
  }

  /** The directory a volume's mounts bind (a hostPath volume's host path). */
  dirOf(name: string): string | undefined {
    const volume = this.#options.volumes.find((v) => v.name === name);
    if (volume === undefined) return undefined;
    return volume.source.kind === 'hostPath' ? volume.source.path : join(this.#options.dir, name);
  }

  /** When a token will want issuing again (ms since the epoch), if there is a token. */
  nextRefresh(): number | undefined {
    let next: number | undefined;
    for (const { refreshAt } of this.#tokens.values()) next = Math.min(next ?? Infinity, refreshAt);
    return next;
  }

  /**
   * Writes every volume as it should be now. Rejects with a MountError naming the first volume that cannot be set
   * up (`MountVolume.SetUp failed for volume "x" : ...`); the others are still written.
   */
  async sync(ctx: Omit<VolumeContext, 'token'>): Promise<void> {
    const full: VolumeContext = { ...ctx, token: (volume, source) => this.#token(volume, source) };
    await mkdir(this.#options.dir, { recursive: true, mode: 0o755 });
    let first: MountError | undefined;
    for (const volume of this.#options.volumes) {
      try {
        await this.#syncVolume(volume, full);
      } catch (err) {
        const message = err instanceof MountError ? err.message : (err as Error).message;
        first ??= new MountError(`MountVolume.SetUp failed for volume "${volume.name}" : ${message}`);
      }
    }
    if (first !== undefined) throw first;
  }

  async #syncVolume(volume: Volume, ctx: VolumeContext): Promise<void> {
    const source = volume.source;
    if (source.kind === 'hostPath') return checkHostPath(source.path, source.type);
    const dir = join(this.#options.dir, volume.name);
    const files = volumeFiles(volume.name, source, ctx);
    if (files === undefined) {
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o777);
      if (this.#options.fsGroup !== undefined) await chown(dir, 0, this.#options.fsGroup);
      return;
    }
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const wanted = new Set<string>();
    for (const file of files) {
      wanted.add(file.path);
      await this.#writeFile(dir, file);
    }
    for (const old of this.#written.get(volume.name) ?? []) {
      if (!wanted.has(old)) await rm(join(dir, old), { force: true });
    }
    this.#written.set(volume.name, wanted);
  }

  async #writeFile(dir: string, file: VolumeFile): Promise<void> {
    const path = join(dir, file.path);
    const group = this.#options.fsGroup;
    const mode = group !== undefined && (file.mode & 0o400) !== 0 ? file.mode | 0o040 : file.mode;
    const uid = file.owner ?? 0;
    const gid = group ?? 0;
    try {
      const [content, info] = await Promise.all([readFile(path), stat(path)]);
      if (content.equals(file.content) && (info.mode & 0o7777) === mode && info.uid === uid && info.gid === gid) return;
    } catch (err) {
      if (errno(err) !== 'ENOENT' && errno(err) !== 'EISDIR') throw err;
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    const temporary = join(dirname(path), `..${Math.random().toString(36).slice(2)}.tmp`);
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(file.content);
      await handle.chown(uid, gid);
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  }

  #token(volume: string, source: TokenSource): string {
    const key = `${volume}/${source.path}`;
    const now = this.#options.now();
    const cached = this.#tokens.get(key);
    if (cached !== undefined && now < cached.refreshAt) return cached.token;
    const pod = this.#options.pod;
    let issued: { token: string; expirationTimestamp: string };
    try {
      issued = this.#options.tokens.issue({
        namespace: pod.namespace,
        serviceAccount: pod.serviceAccount,
        audiences: source.audience === undefined ? [] : [source.audience],
        expirationSeconds: source.expirationSeconds,
        pod: { name: pod.name, uid: pod.uid },
      });
    } catch (err) {
      throw new MountError(`failed to fetch token: ${(err as Error).message}`);
    }
    const expires = Date.parse(issued.expirationTimestamp);
    const life = Number.isFinite(expires) ? Math.max(0, expires - now) : source.expirationSeconds * 1000;
    this.#tokens.set(key, { token: issued.token, refreshAt: now + Math.min(life * TOKEN_REFRESH_FRACTION, TOKEN_MAX_AGE_MS) });
    return issued.token;
  }

  /** Deletes the volumes' directories (never a hostPath's). */
  async remove(): Promise<void> {
    await rm(this.#options.dir, { recursive: true, force: true });
  }
}

/** Kubernetes' hostPath `type` check; `DirectoryOrCreate` and `FileOrCreate` create what is missing. */
async function checkHostPath(path: string, type: string): Promise<void> {
  if (!path.startsWith('/')) throw new MountError(`hostPath "${path}" must be an absolute path`);
  let info: Awaited<ReturnType<typeof lstat>> | undefined;
  try {
    info = await stat(path);
  } catch (err) {
    if (errno(err) !== 'ENOENT') throw err;
  }
  if (info === undefined) {
    if (type === 'DirectoryOrCreate') return void (await mkdir(path, { recursive: true, mode: 0o755 }));
    if (type === 'FileOrCreate') {
      const handle = await open(path, 'a', 0o644);
      return handle.close();
    }
    if (type === '') return;
    throw new MountError(`hostPath type check failed: ${path} does not exist`);
  }
  const is: Record<string, boolean> = {
    Directory: info.isDirectory(),
    DirectoryOrCreate: info.isDirectory(),
    File: info.isFile(),
    FileOrCreate: info.isFile(),
    Socket: info.isSocket(),
    CharDevice: info.isCharacterDevice(),
    BlockDevice: info.isBlockDevice(),
  };
  if (type !== '' && is[type] !== true) throw new MountError(`hostPath type check failed: ${path} is not a ${type.replace('OrCreate', '').toLowerCase()}`);
}
