/**
 * Where the CA's state lives: a small interface with two implementations, a directory ({@link DirectoryStore},
 * the local cluster and tests) and a Kubernetes Secret ({@link SecretStore}, `loom-system/loom-ca`). Both hold
 * the same named files ({@link CA_FILE}), so an operator supplies an issuer the same way to either.
 *
 * The two writes are what keep a fleet of controllers consistent:
 * - {@link CaStore.create} is create-once: when two processes race to create the first root, exactly one
 *   wins and the other gets the winner's files back (`created: false`), never a second root;
 * - {@link CaStore.update} is optimistic: it names the revision it started from and fails with
 *   {@link CaStoreConflict} when someone else changed the store in between.
 */
import { createHash } from 'node:crypto';
import type { CaFiles } from '../material.js';

export interface StoredCa {
  readonly files: CaFiles;
  /** Opaque version of this content: changes whenever the store's content changes. */
  readonly revision: string;
}

export interface CreateResult {
  readonly stored: StoredCa;
  /** False when someone else created the store first: `stored` is then their content. */
  readonly created: boolean;
}

export interface CaStore {
  /** For messages: "directory /var/lib/loom/dev/loom/ca", "Secret loom-system/loom-ca". */
  readonly description: string;
  /** The current content, or undefined when the store holds no CA file at all. */
  load(): Promise<StoredCa | undefined>;
  /** Writes `files` into an empty store; when it is not empty (any more), returns what it holds instead. */
  create(files: CaFiles): Promise<CreateResult>;
  /**
   * Replaces the whole content with `files` (files absent from it are removed), provided the store still
   * holds revision `expected.revision`; otherwise throws {@link CaStoreConflict} and changes nothing.
   */
  update(files: CaFiles, expected: StoredCa): Promise<StoredCa>;
}

/** The store cannot be read or written (permissions, API errors, lock timeouts); `message` says which store and why. */
export class CaStoreError extends Error {
  override readonly name: string = 'CaStoreError';
}

/** An update lost a race: the store changed since the revision it started from. Reload and try again. */
export class CaStoreConflict extends CaStoreError {
  override readonly name = 'CaStoreConflict';
}

/** A content revision: SHA-256 over the file names and contents in name order (for stores without their own). */
export function contentRevision(files: CaFiles): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(files).sort()) {
    const content = files[name] ?? '';
    hash.update(`${name.length}:${name}${Buffer.byteLength(content)}:`).update(content);
  }
  return hash.digest('hex').slice(0, 32);
}

/** A frozen copy of `files`: stores never hand out or keep a caller's mutable object. */
export function freezeFiles(files: CaFiles): CaFiles {
  return Object.freeze({ ...files });
}
