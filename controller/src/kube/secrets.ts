/**
 * The Kubernetes side of the CA's Secret store: `SecretClient` (from @loom/ca) on @kubernetes/client-node's
 * CoreV1Api. API failures become `SecretClientError`s with the kind the store needs — 404 `not-found`,
 * 409 with reason `AlreadyExists` (a create lost to another) vs any other 409 (`conflict`: a stale
 * resourceVersion) — and a one-line message carrying the API server's own.
 */
import { ApiException, CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { SecretClientError, type SecretClient, type SecretRecord } from '@loom/ca';

/** Labels on a Secret Loom creates. */
export const CA_SECRET_LABELS: Readonly<Record<string, string>> = Object.freeze({ 'app.kubernetes.io/part-of': 'loom', 'app.kubernetes.io/component': 'ca' });

export class KubeSecretClient implements SecretClient {
  readonly #api: CoreV1Api;

  constructor(config: KubeConfig) {
    this.#api = config.makeApiClient(CoreV1Api);
  }

  async read(namespace: string, name: string): Promise<SecretRecord | undefined> {
    const secret = await this.#readObject(namespace, name);
    return secret === undefined ? undefined : recordOf(secret, namespace, name);
  }

  async create(namespace: string, name: string, data: Readonly<Record<string, string>>): Promise<SecretRecord> {
    const body: V1Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, labels: { ...CA_SECRET_LABELS } }, type: 'Opaque', data: { ...data } };
    try {
      return recordOf(await this.#api.createNamespacedSecret({ namespace, body }), namespace, name);
    } catch (error) {
      throw clientError(error, `create Secret ${namespace}/${name}`);
    }
  }

  /**
   * PUTs the Secret with new data and `resourceVersion`, keeping everything else it has (type, labels,
   * annotations, owner references): an operator's `kubernetes.io/tls` Secret stays one. The API server
   * refuses the PUT with 409 Conflict when the Secret changed after `resourceVersion`.
   */
  async replace(namespace: string, name: string, data: Readonly<Record<string, string>>, resourceVersion: string): Promise<SecretRecord> {
    const current = await this.#readObject(namespace, name);
    if (current === undefined) throw new SecretClientError('not-found', `Secret ${namespace}/${name} not found`);
    if (current.metadata?.resourceVersion !== resourceVersion) {
      throw new SecretClientError('conflict', `Secret ${namespace}/${name} is at resourceVersion ${current.metadata?.resourceVersion ?? '?'}, not ${resourceVersion}`);
    }
    const body: V1Secret = { ...current, metadata: { ...current.metadata, resourceVersion }, data: { ...data } };
    try {
      return recordOf(await this.#api.replaceNamespacedSecret({ name, namespace, body }), namespace, name);
    } catch (error) {
      throw clientError(error, `replace Secret ${namespace}/${name}`);
    }
  }

  async #readObject(namespace: string, name: string): Promise<V1Secret | undefined> {
    try {
      return await this.#api.readNamespacedSecret({ name, namespace });
    } catch (error) {
      const mapped = clientError(error, `read Secret ${namespace}/${name}`);
      if (mapped.kind === 'not-found') return undefined;
      throw mapped;
    }
  }
}

function recordOf(secret: V1Secret, namespace: string, name: string): SecretRecord {
  const resourceVersion = secret.metadata?.resourceVersion;
  if (resourceVersion === undefined || resourceVersion === '') throw new SecretClientError('failed', `Secret ${namespace}/${name}: the API server sent no resourceVersion`);
  return { data: { ...(secret.data ?? {}) }, resourceVersion };
}

interface StatusBody {
  readonly reason?: unknown;
  readonly message?: unknown;
}

/** The `metav1.Status` of an ApiException (its body is the response text, or already parsed). */
function statusOf(error: ApiException<unknown>): StatusBody {
  const body: unknown = error.body;
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? parsed : {};
    } catch {
      return {};
    }
  }
  return typeof body === 'object' && body !== null ? body : {};
}

/** Maps a client-node failure onto a {@link SecretClientError}; `action` says what was attempted. */
export function clientError(error: unknown, action: string): SecretClientError {
  if (error instanceof SecretClientError) return error;
  if (error instanceof ApiException) {
    const status = statusOf(error);
    const reason = typeof status.reason === 'string' ? status.reason : '';
    const detail = typeof status.message === 'string' ? status.message : '';
    const message = `${action}: ${error.code}${reason === '' ? '' : ` ${reason}`}${detail === '' ? '' : `: ${detail}`}`;
    if (error.code === 404) return new SecretClientError('not-found', message);
    if (error.code === 409) return new SecretClientError(reason === 'AlreadyExists' ? 'already-exists' : 'conflict', message);
    return new SecretClientError('failed', message);
  }
  return new SecretClientError('failed', `${action}: ${describeFailure(error)}`);
}

/** An error's first line; an AggregateError (connecting to each address of a name failed) has its parts'. */
function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') return error.errors.map(messageOf).join(', ');
  const text = error instanceof Error ? error.message || ((error as NodeJS.ErrnoException).code ?? '') : String(error);
  return text.split('\n', 1)[0] ?? '';
}

/**
 * One line for a failure that is not an API answer, with its causes: fetch reports only "fetch failed",
 * the reason (connect ECONNREFUSED 127.0.0.1:6443, a TLS error...) is in `cause`.
 */
function describeFailure(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth += 1) {
    const text = messageOf(current);
    if (text !== '' && !parts.some((part) => part.includes(text))) parts.push(text);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ') || 'unknown error';
}
