/**
 * An in-memory Secret resource for {@link startFakeKubeApi}: GET/POST/PUT `/api/v1/namespaces/{ns}/secrets`
 * answering as the API server does — a cluster-wide resourceVersion that increments on every write,
 * 201 on create, 409 AlreadyExists on a duplicate create, 409 Conflict on a PUT with a stale
 * resourceVersion, 404 NotFound for a missing Secret or namespace, 400 for a body that does not match the
 * URL or data that is not base64, 422 for a `kubernetes.io/tls` Secret without `tls.crt`/`tls.key`.
 */
import { status, type KubeReply, type KubeRequest, type KubeRoute } from './kube-api.js';

export interface StoredSecret {
  readonly apiVersion: 'v1';
  readonly kind: 'Secret';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly uid: string;
    readonly resourceVersion: string;
    readonly creationTimestamp: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly type: string;
  readonly data: Record<string, string>;
}

export interface FakeSecrets {
  readonly routes: readonly KubeRoute[];
  /** `<namespace>/<name>` → the stored object (tests may read and seed it). */
  readonly secrets: Map<string, StoredSecret>;
  /** Seeds a Secret as if created through the API; returns it. */
  put(namespace: string, name: string, data: Record<string, string>, extra?: { readonly type?: string; readonly labels?: Record<string, string> }): StoredSecret;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SEGMENT = '([a-z0-9](?:[-a-z0-9.]*[a-z0-9])?)';

interface SecretBody {
  readonly metadata?: { readonly name?: unknown; readonly namespace?: unknown; readonly resourceVersion?: unknown; readonly labels?: unknown; readonly annotations?: unknown };
  readonly type?: unknown;
  readonly data?: unknown;
}

/** Namespaces that exist (default: any). */
export function fakeSecrets(options: { readonly namespaces?: readonly string[] } = {}): FakeSecrets {
  const secrets = new Map<string, StoredSecret>();
  let version = 1000;
  let uid = 0;

  const store = (namespace: string, name: string, body: SecretBody, previous?: StoredSecret): StoredSecret => {
    const labels = body.metadata?.labels as Record<string, string> | undefined;
    const annotations = body.metadata?.annotations as Record<string, string> | undefined;
    const secret: StoredSecret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name,
        namespace,
        uid: previous?.metadata.uid ?? `uid-${++uid}`,
        resourceVersion: String(++version),
        creationTimestamp: previous?.metadata.creationTimestamp ?? new Date().toISOString(),
        ...(labels === undefined ? {} : { labels }),
        ...(annotations === undefined ? {} : { annotations }),
      },
      type: typeof body.type === 'string' && body.type !== '' ? body.type : 'Opaque',
      data: { ...((body.data as Record<string, string> | undefined) ?? {}) },
    };
    secrets.set(`${namespace}/${name}`, secret);
    return secret;
  };

  const missingNamespace = (namespace: string): KubeReply | undefined =>
    options.namespaces === undefined || options.namespaces.includes(namespace) ? undefined : status(404, 'NotFound', `namespaces "${namespace}" not found`);

  /** Checks a body as the API server's decoding and validation would; a reply when it is refused. */
  const invalid = (request: KubeRequest, namespace: string, name: string | undefined): KubeReply | undefined => {
    const body = request.body as SecretBody | undefined;
    if (body === undefined || typeof body !== 'object') return status(400, 'BadRequest', 'the body of the request was in an unknown format');
    const metaName = body.metadata?.name;
    const metaNamespace = body.metadata?.namespace;
    if (typeof metaName !== 'string' || metaName === '') return status(422, 'Invalid', 'Secret "" is invalid: metadata.name: Required value: name or generateName is required');
    if (name !== undefined && metaName !== name) return status(400, 'BadRequest', `the name of the object (${metaName}) does not match the name on the URL (${name})`);
    if (metaNamespace !== undefined && metaNamespace !== namespace) {
      return status(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    const data = body.data ?? {};
    if (typeof data !== 'object' || data === null) return status(400, 'BadRequest', 'Secret in version "v1" cannot be handled as a Secret: data must be an object');
    for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
      if (typeof value !== 'string' || !BASE64.test(value)) {
        return status(400, 'BadRequest', `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0 (data.${key})`);
      }
      if (!/^[-._a-zA-Z0-9]+$/.test(key)) return status(422, 'Invalid', `Secret "${metaName}" is invalid: data[${key}]: Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`);
    }
    if (body.type === 'kubernetes.io/tls') {
      for (const key of ['tls.crt', 'tls.key']) {
        if (!Object.hasOwn(data, key)) return status(422, 'Invalid', `Secret "${metaName}" is invalid: data[${key}]: Required value`);
      }
    }
    return undefined;
  };

  const routes: KubeRoute[] = [
    {
      method: 'GET',
      path: new RegExp(`^/api/v1/namespaces/${SEGMENT}/secrets/${SEGMENT}$`),
      handler: (_request, [namespace = '', name = '']) => {
        const secret = secrets.get(`${namespace}/${name}`);
        return secret === undefined ? status(404, 'NotFound', `secrets "${name}" not found`) : { status: 200, body: secret };
      },
    },
    {
      method: 'POST',
      path: new RegExp(`^/api/v1/namespaces/${SEGMENT}/secrets$`),
      handler: (request, [namespace = '']) => {
        const refused = missingNamespace(namespace) ?? invalid(request, namespace, undefined);
        if (refused !== undefined) return refused;
        const body = request.body as SecretBody;
        const name = body.metadata?.name as string;
        if (secrets.has(`${namespace}/${name}`)) return status(409, 'AlreadyExists', `secrets "${name}" already exists`);
        return { status: 201, body: store(namespace, name, body) };
      },
    },
    {
      method: 'PUT',
      path: new RegExp(`^/api/v1/namespaces/${SEGMENT}/secrets/${SEGMENT}$`),
      handler: (request, [namespace = '', name = '']) => {
        const refused = invalid(request, namespace, name);
        if (refused !== undefined) return refused;
        const current = secrets.get(`${namespace}/${name}`);
        if (current === undefined) return status(404, 'NotFound', `secrets "${name}" not found`);
        const body = request.body as SecretBody;
        const expected = body.metadata?.resourceVersion;
        if (expected !== undefined && expected !== '' && expected !== current.metadata.resourceVersion) {
          return status(409, 'Conflict', `Operation cannot be fulfilled on secrets "${name}": the object has been modified; please apply your changes to the latest version and try again`);
        }
        // The API server defaults an empty type to Opaque, then refuses any change of type.
        const type = typeof body.type === 'string' && body.type !== '' ? body.type : 'Opaque';
        if (type !== current.type) return status(422, 'Invalid', `Secret "${name}" is invalid: type: Invalid value: "${type}": field is immutable`);
        return { status: 200, body: store(namespace, name, body, current) };
      },
    },
  ];

  return {
    routes,
    secrets,
    put: (namespace, name, data, extra = {}) =>
      store(namespace, name, { metadata: { name, namespace, ...(extra.labels === undefined ? {} : { labels: extra.labels }) }, ...(extra.type === undefined ? {} : { type: extra.type }), data }),
  };
}
