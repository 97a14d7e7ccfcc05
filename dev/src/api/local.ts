/**
 * One local API server with everything it needs to serve kubectl: a store, the registry, its own CA and serving
 * certificate, an admin token, the namespaces every cluster starts with (`default`, `kube-system`, `kube-public`,
 * `kube-node-lease`) and the kubeconfig text.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@loom/shared/runtime';
import { Api } from './api.js';
import { kubeconfig } from './kubeconfig.js';
import { NAMESPACE, Objects } from './objects.js';
import { Registry } from './registry.js';
import { ApiServer } from './server.js';
import { Store, type StoreSnapshot } from './store.js';
import { servingMaterial } from './tls.js';

export const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

export interface LocalApiOptions {
  readonly name: string;
  readonly host: string;
  /** 0: any free port. */
  readonly port?: number;
  /** Addresses the serving certificate names besides `host` (e.g. the bridge address pods use). */
  readonly extraAddresses?: readonly string[];
  readonly log: Logger;
  readonly snapshot?: StoreSnapshot;
  readonly bookmarkIntervalMs?: number;
}

export interface LocalApi {
  readonly server: ApiServer;
  readonly objects: Objects;
  readonly port: number;
  readonly url: string;
  readonly caPem: string;
  readonly token: string;
  readonly kubeconfig: string;
  close(): Promise<void>;
}

export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const store = new Store(options.snapshot === undefined ? {} : { snapshot: options.snapshot });
  const objects = new Objects(store, new Registry());
  const namespaceType = objects.registry.find('', 'v1', NAMESPACE.plural);
  if (namespaceType === undefined) throw new Error('the registry serves no namespaces');
  for (const name of INITIAL_NAMESPACES) {
    if (store.get('/namespaces', undefined, name) === undefined) objects.create(namespaceType, undefined, { metadata: { name } });
  }
  const tls = servingMaterial([options.host, ...(options.extraAddresses ?? [])]);
  const token = randomBytes(32).toString('base64url');
  const server = new ApiServer({
    api: new Api(objects),
    log: options.log,
    tls: { certPem: tls.certPem, keyPem: tls.keyPem },
    adminTokens: [token],
    ...(options.bookmarkIntervalMs === undefined ? {} : { bookmarkIntervalMs: options.bookmarkIntervalMs }),
  });
  const port = await server.listen(options.host, options.port ?? 0);
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `https://${host}:${port}`;
  return {
    server,
    objects,
    port,
    url,
    caPem: tls.rootPem,
    token,
    kubeconfig: kubeconfig({ name: options.name, server: url, caPem: tls.rootPem, token }),
    close: () => server.close(),
  };
}
