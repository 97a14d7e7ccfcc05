/**
 * A CA store in a directory: one flat file per {@link CA_FILE} name (`tls.crt`, `tls.key`, `ca.crt`, ...), so
 * an operator supplies an issuer by dropping `tls.crt` + `tls.key` (+ `ca.crt`) into it. The local cluster
 * (`loom dev`) and tests use it; a missing or empty directory is an empty store.
 *
 * Concurrency, between processes on one machine:
 * - every create/update, and every read of the full set, happens under a lock directory `<dir>/.lock`
 *   (`mkdir` is atomic). The holder records pid, host and time in `.lock/owner.json`; a lock whose holder
 *   died (same host, pid gone) or that is older than {@link DEFAULT_STALE_LOCK_MS} is broken. Waiting for
 *   a lock is bounded ({@link DEFAULT_LOCK_WAIT_MS}), then fails with a message naming the holder;
 * - each file is written to a temporary file, flushed, then renamed over the old one, so a reader never
 *   sees half a file; keys are created with mode 0600 and a directory Loom creates with 0700;
 * - `revision` is a hash of the content, so an update started from stale content is refused.
 *
 * A crash between two renames of one update can leave files from two generations; decoding then fails
 * with an error naming the mismatched files (never a silent regeneration), and the operator repairs it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CA_FILE, type CaFiles } from '../material.js';
import { CaStoreConflict, CaStoreError, contentRevision, freezeFiles, type CaStore, type CreateResult, type StoredCa } from './index.js';

/** A lock older than this is considered abandoned (a holder keeps it for milliseconds). */
export const DEFAULT_STALE_LOCK_MS = 30_000;
/** How long to wait for a lock before giving up (longer than the stale age, so a lock left by a crash on another host is broken). */
export const DEFAULT_LOCK_WAIT_MS = 40_000;

export interface DirectoryStoreOptions {
  readonly staleLockMs?: number;
  readonly lockWaitMs?: number;
}

const LOCK = '.lock';
const OWNER = 'owner.json';
const FILE_NAMES: readonly string[] = Object.values(CA_FILE);
const KEY_FILES: ReadonlySet<string> = new Set([CA_FILE.issuerKey, CA_FILE.nextKey]);

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly time: string;
  readonly token: string;
}

const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Creates `dir` and its missing parents (mode 0700), one level at a time from the nearest existing
 * ancestor, so that a failure names the level that failed (a recursive mkdir reports the leaf, or loops on
 * some virtual file systems).
 */
async function makeDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    let info;
    try {
      info = await stat(current);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' || dirname(current) === current) throw error;
      missing.unshift(current);
      continue;
    }
    if (!info.isDirectory()) throw Object.assign(new Error(`${current} is not a directory`), { code: 'ENOTDIR', path: current });
    break;
  }
  for (const path of missing) {
    try {
      await mkdir(path, { mode: 0o700 });
    } catch (error) {
      // Another process may have created it meanwhile.
      if (errorCode(error) === 'EEXIST' && (await stat(path).catch(() => undefined))?.isDirectory() === true) continue;
      throw error;
    }
  }
}

/** The nearest ancestor of `path` (itself included) that exists but is not a directory. */
async function fileInTheWay(path: string): Promise<string | undefined> {
  for (let current = path; ; current = dirname(current)) {
    const info = await stat(current).catch(() => undefined);
    if (info !== undefined) return info.isDirectory() ? undefined : current;
    if (dirname(current) === current) return undefined;
  }
}

/** A file system failure, naming the path at fault where the code alone (ENOTDIR, ENOENT) would not. */
async function fsReason(error: unknown): Promise<string> {
  const code = errorCode(error);
  const path = (error as NodeJS.ErrnoException | undefined)?.path;
  if (path === undefined) return messageOf(error);
  switch (code) {
    case 'ENOTDIR': {
      const file = await fileInTheWay(path);
      return file === undefined ? messageOf(error) : `${file} is not a directory`;
    }
    case 'ENOENT':
      return `${dirname(path)} does not accept a new directory ${path} (ENOENT)`;
    default:
      return messageOf(error);
  }
}

export class DirectoryStore implements CaStore {
  readonly description: string;
  readonly dir: string;
  readonly #staleLockMs: number;
  readonly #lockWaitMs: number;

  constructor(dir: string, options: DirectoryStoreOptions = {}) {
    this.dir = resolve(dir);
    this.description = `directory ${this.dir}`;
    this.#staleLockMs = options.staleLockMs ?? DEFAULT_STALE_LOCK_MS;
    this.#lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
  }

  async load(): Promise<StoredCa | undefined> {
    if (!(await this.#exists())) return undefined;
    return this.#locked(() => this.#read(), { readOnly: true });
  }

  async create(files: CaFiles): Promise<CreateResult> {
    this.#checkNames(files);
    try {
      await makeDirectory(this.dir);
    } catch (error) {
      throw new CaStoreError(`${this.description}: cannot create it: ${await fsReason(error)}`);
    }
    return this.#locked(async () => {
      const current = await this.#read();
      if (current !== undefined) return { stored: current, created: false };
      await this.#write(files);
      return { stored: { files: freezeFiles(files), revision: contentRevision(files) }, created: true };
    });
  }

  async update(files: CaFiles, expected: StoredCa): Promise<StoredCa> {
    this.#checkNames(files);
    if (!(await this.#exists())) throw new CaStoreConflict(`${this.description} no longer exists (it was removed since it was read)`);
    return this.#locked(async () => {
      const current = await this.#read();
      if (current?.revision !== expected.revision) {
        throw new CaStoreConflict(`${this.description} changed since it was read (another process wrote it); read it again and retry`);
      }
      await this.#write(files);
      return { files: freezeFiles(files), revision: contentRevision(files) };
    });
  }

  #checkNames(files: CaFiles): void {
    const unknown = Object.keys(files).filter((name) => !FILE_NAMES.includes(name));
    if (unknown.length > 0) throw new CaStoreError(`${this.description}: refusing to write unknown file(s) ${unknown.join(', ')} (known: ${FILE_NAMES.join(', ')})`);
  }

  async #exists(): Promise<boolean> {
    let info;
    try {
      info = await stat(this.dir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw new CaStoreError(`${this.description}: cannot read it: ${await fsReason(error)}`);
    }
    if (!info.isDirectory()) throw new CaStoreError(`${this.description}: not a directory`);
    return true;
  }

  /** The CA files present, or undefined when there are none. Call under the lock. */
  async #read(): Promise<StoredCa | undefined> {
    const files: Record<string, string> = {};
    for (const name of FILE_NAMES) {
      try {
        files[name] = await readFile(join(this.dir, name), 'utf8');
      } catch (error) {
        if (errorCode(error) === 'ENOENT') continue;
        throw new CaStoreError(`${this.description}: cannot read ${name}: ${messageOf(error)}`);
      }
    }
    if (Object.keys(files).length === 0) return undefined;
    return { files: freezeFiles(files), revision: contentRevision(files) };
  }

  /** Replaces the content with `files`: temp files first, then renames, then removals. Call under the lock. */
  async #write(files: CaFiles): Promise<void> {
    const temps: { readonly temp: string; readonly target: string; done: boolean }[] = [];
    try {
      for (const [name, content] of Object.entries(files)) {
        const entry = { temp: join(this.dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`), target: join(this.dir, name), done: false };
        temps.push(entry);
        const handle = await open(entry.temp, 'wx', KEY_FILES.has(name) ? 0o600 : 0o644);
        try {
          await handle.writeFile(content, 'utf8');
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
      for (const entry of temps) {
        await rename(entry.temp, entry.target);
        entry.done = true;
      }
      for (const name of FILE_NAMES) if (files[name] === undefined) await rm(join(this.dir, name), { force: true });
      await this.#syncDir();
    } catch (error) {
      throw new CaStoreError(`${this.description}: cannot write: ${messageOf(error)}`);
    } finally {
      await Promise.all(temps.filter((entry) => !entry.done).map(({ temp }) => rm(temp, { force: true }).catch(() => undefined)));
    }
  }

  /** Makes the renames durable (best effort: some file systems refuse fsync on a directory). */
  async #syncDir(): Promise<void> {
    try {
      const handle = await open(this.dir, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch {
      // Durability of the directory entry is best effort; the content itself was flushed.
    }
  }

  /**
   * Runs `work` holding `<dir>/.lock`. With `readOnly`, a directory Loom cannot write (a read-only mount
   * such as a Secret volume, which its writer updates atomically anyway) is read without the lock.
   */
  async #locked<T>(work: () => Promise<T>, options: { readonly readOnly?: boolean } = {}): Promise<T> {
    const lockPath = join(this.dir, LOCK);
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + this.#lockWaitMs;
    let delayMs = 5;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.#tryLock(lockPath, token, options.readOnly === true);
      if (outcome === 'unlockable') return work();
      if (outcome === 'held') break;
      const holder = await inspectLock(lockPath);
      if (holder !== undefined && this.#isStale(holder)) {
        await breakLock(lockPath, holder.ino);
        continue;
      }
      if (Date.now() >= deadline || attempt > 100_000) {
        const who = holder?.owner === undefined ? 'another process' : `pid ${holder.owner.pid} on ${holder.owner.host} since ${holder.owner.time}`;
        throw new CaStoreError(
          `${this.description} is locked by ${who}; gave up after ${Math.round(this.#lockWaitMs / 1000)} s (if no Loom process is using it, remove ${lockPath})`,
        );
      }
      await sleep(delayMs + Math.floor(Math.random() * delayMs));
      delayMs = Math.min(delayMs * 2, 250);
    }
    try {
      return await work();
    } finally {
      await releaseLock(lockPath, token);
    }
  }

  async #tryLock(lockPath: string, token: string, readOnly: boolean): Promise<'held' | 'busy' | 'unlockable'> {
    try {
      await mkdir(lockPath, { mode: 0o700 });
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST') return 'busy';
      if (readOnly && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')) return 'unlockable';
      throw new CaStoreError(`${this.description}: cannot lock it (mkdir ${lockPath}): ${messageOf(error)}`);
    }
    const owner: LockOwner = { pid: process.pid, host: hostname(), time: new Date().toISOString(), token };
    try {
      const handle = await open(join(lockPath, OWNER), 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(owner));
      } finally {
        await handle.close();
      }
    } catch (error) {
      await rm(lockPath, { recursive: true, force: true }).catch(() => undefined);
      throw new CaStoreError(`${this.description}: cannot lock it (write ${join(lockPath, OWNER)}): ${messageOf(error)}`);
    }
    return 'held';
  }

  #isStale(holder: LockHolder): boolean {
    if (holder.owner !== undefined && holder.owner.host === hostname() && !processAlive(holder.owner.pid)) return true;
    const since = holder.owner === undefined ? holder.mtimeMs : Date.parse(holder.owner.time);
    return !(Date.now() - since < this.#staleLockMs);
  }
}

interface LockHolder {
  /** The lock directory's inode: breaking a lock checks it is still the one inspected. */
  readonly ino: number;
  readonly mtimeMs: number;
  /** Absent while the holder is between mkdir and writing owner.json, or when that file is unreadable. */
  readonly owner?: LockOwner;
}

async function inspectLock(lockPath: string): Promise<LockHolder | undefined> {
  let info;
  try {
    info = await stat(lockPath);
  } catch {
    return undefined; // released meanwhile: retry at once
  }
  const owner = await readOwner(lockPath);
  return { ino: info.ino, mtimeMs: info.mtimeMs, ...(owner === undefined ? {} : { owner }) };
}

async function readOwner(lockPath: string): Promise<LockOwner | undefined> {
  try {
    const value = JSON.parse(await readFile(join(lockPath, OWNER), 'utf8')) as Partial<LockOwner> | null;
    if (value === null || typeof value.pid !== 'number' || typeof value.host !== 'string' || typeof value.time !== 'string' || typeof value.token !== 'string') return undefined;
    if (Number.isNaN(Date.parse(value.time))) return undefined;
    return { pid: value.pid, host: value.host, time: value.time, token: value.token };
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Removes an abandoned lock. It is first renamed aside, so a process that took a fresh lock between our
 * inspection and now is not robbed: if the renamed directory is not the one inspected, it goes back.
 */
async function breakLock(lockPath: string, inspectedIno: number): Promise<void> {
  const aside = `${lockPath}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // someone else broke or released it
  }
  const moved = await stat(aside).catch(() => undefined);
  if (moved !== undefined && moved.ino !== inspectedIno) {
    await rename(aside, lockPath).catch(() => undefined);
    return;
  }
  await rm(aside, { recursive: true, force: true }).catch(() => undefined);
}

/** Releases the lock if it is still ours (it is not when it was broken as stale meanwhile). */
async function releaseLock(lockPath: string, token: string): Promise<void> {
  const owner = await readOwner(lockPath);
  if (owner?.token !== token) return;
  const aside = `${lockPath}.released.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return;
  }
  await rm(aside, { recursive: true, force: true }).catch(() => undefined);
}
