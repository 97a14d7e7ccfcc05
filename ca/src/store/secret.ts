/**
 * A CA store in a Kubernetes Secret (default `loom-system/loom-ca`): one data key per {@link CA_FILE} name,
 * base64 as Kubernetes stores them, so a `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, `ca.crt`) made by
 * an operator or cert-manager is a valid store.
 *
 * - `create` POSTs the Secret: the API server admits exactly one create of a name, so when two controller
 *   replicas start at once the loser gets 409 AlreadyExists and adopts the winner's root;
 * - `update` PUTs with the `resourceVersion` it read: 409 Conflict means someone else wrote in between
 *   ({@link CaStoreConflict});
 * - `revision` is the Secret's `resourceVersion`.
 *
 * The API calls go through {@link SecretClient}, so this package does not depend on a Kubernetes client
 * (the controller implements it on @kubernetes/client-node).
 */
import { CA_FILE, type CaFiles } from '../material.js';
import { CaStoreConflict, CaStoreError, freezeFiles, type CaStore, type CreateResult, type StoredCa } from './index.js';

export const CA_SECRET_NAMESPACE = 'loom-system';
export const CA_SECRET_NAME = 'loom-ca';

/** A Secret as far as the store cares: its data (base64 values, as in the API object) and version. */
export interface SecretRecord {
  readonly data: Readonly<Record<string, string>>;
  readonly resourceVersion: string;
}

/**
 * How the API refused: `already-exists` (409 AlreadyExists on create), `conflict` (409 Conflict: stale
 * resourceVersion), `not-found` (404), `failed` (anything else: forbidden, unreachable, server error).
 */
export type SecretClientErrorKind = 'already-exists' | 'conflict' | 'not-found' | 'failed';

export class SecretClientError extends Error {
  override readonly name = 'SecretClientError';
  constructor(
    readonly kind: SecretClientErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** The three Secret calls the store makes. Failures are {@link SecretClientError}s. */
export interface SecretClient {
  /** The Secret, or undefined when it does not exist. */
  read(namespace: string, name: string): Promise<SecretRecord | undefined>;
  /** Creates the Secret; `already-exists` when it exists. */
  create(namespace: string, name: string, data: Readonly<Record<string, string>>): Promise<SecretRecord>;
  /** Replaces the Secret's data if it is still at `resourceVersion`; `conflict` when it is not. */
  replace(namespace: string, name: string, data: Readonly<Record<string, string>>, resourceVersion: string): Promise<SecretRecord>;
}

const FILE_NAMES: readonly string[] = Object.values(CA_FILE);
/** Rounds of "create, then adopt or fill what exists" before giving up (each round means someone else wrote). */
const CREATE_ATTEMPTS = 5;

export function encodeSecretData(files: CaFiles): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [name, content] of Object.entries(files)) data[name] = Buffer.from(content, 'utf8').toString('base64');
  return data;
}

/** The CA files of a Secret's data; other keys are ignored. */
export function decodeSecretData(data: Readonly<Record<string, string>>): CaFiles {
  const files: Record<string, string> = {};
  for (const name of FILE_NAMES) {
    const value = data[name];
    if (value !== undefined) files[name] = Buffer.from(value, 'base64').toString('utf8');
  }
  return freezeFiles(files);
}

export class SecretStore implements CaStore {
  readonly description: string;

  constructor(
    readonly client: SecretClient,
    readonly namespace: string = CA_SECRET_NAMESPACE,
    readonly name: string = CA_SECRET_NAME,
  ) {
    this.description = `Secret ${namespace}/${name}`;
  }

  async load(): Promise<StoredCa | undefined> {
    const record = await this.#read();
    if (record === undefined) return undefined;
    const stored = storedFrom(record);
    return Object.keys(stored.files).length === 0 ? undefined : stored;
  }

  async create(files: CaFiles): Promise<CreateResult> {
    const data = encodeSecretData(files);
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      try {
        const record = await this.client.create(this.namespace, this.name, data);
        return { stored: { files: freezeFiles(files), revision: record.resourceVersion }, created: true };
      } catch (error) {
        if (!(error instanceof SecretClientError && error.kind === 'already-exists')) throw this.#wrap('create', error);
      }
      // Someone created it first: adopt their CA, or fill the Secret if it exists without one (made empty by an installer).
      const existing = await this.#read();
      if (existing === undefined) continue; // deleted meanwhile: create again
      const stored = storedFrom(existing);
      if (Object.keys(stored.files).length > 0) return { stored, created: false };
      try {
        const record = await this.client.replace(this.namespace, this.name, data, existing.resourceVersion);
        return { stored: { files: freezeFiles(files), revision: record.resourceVersion }, created: true };
      } catch (error) {
        if (!(error instanceof SecretClientError && (error.kind === 'conflict' || error.kind === 'not-found'))) throw this.#wrap('write', error);
      }
    }
    throw new CaStoreError(`${this.description}: gave up creating it after ${CREATE_ATTEMPTS} attempts: it keeps changing under us`);
  }

  async update(files: CaFiles, expected: StoredCa): Promise<StoredCa> {
    try {
      const record = await this.client.replace(this.namespace, this.name, encodeSecretData(files), expected.revision);
      return { files: freezeFiles(files), revision: record.resourceVersion };
    } catch (error) {
      if (error instanceof SecretClientError && error.kind === 'conflict') {
        throw new CaStoreConflict(`${this.description} changed since it was read (resourceVersion ${expected.revision}); read it again and retry`);
      }
      if (error instanceof SecretClientError && error.kind === 'not-found') {
        throw new CaStoreConflict(`${this.description} was deleted since it was read`);
      }
      throw this.#wrap('write', error);
    }
  }

  async #read(): Promise<SecretRecord | undefined> {
    try {
      return await this.client.read(this.namespace, this.name);
    } catch (error) {
      throw this.#wrap('read', error);
    }
  }

  #wrap(action: string, error: unknown): CaStoreError {
    const message = error instanceof Error ? error.message : String(error);
    return new CaStoreError(`${this.description}: cannot ${action} it: ${message}`);
  }
}

function storedFrom(record: SecretRecord): StoredCa {
  return { files: decodeSecretData(record.data), revision: record.resourceVersion };
}
