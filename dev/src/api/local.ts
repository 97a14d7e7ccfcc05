/**
 * One local API server with everything it needs to serve kubectl: a store, the registry, its own CA and serving
 * certificate, an admin token, the namespaces every cluster starts with (`default`, `kube-system`, `kube-public`,
 * `kube-node-lease`) and the kubeconfig text.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@loom/shared/runtime';
import { aggregatorRoute, issuerRoutes, logRoute, tokenRoutes, type LogSource } from './routes.js';
import { extensionApiserverAuthentication, frontProxyMaterial, type ResolveService } from './aggregator.js';
import { Api } from './api.js';
import { ApiServiceAvailability } from './availability.js';
import { CustomResources } from './custom.js';
import { resolveServiceEndpoint } from './resolve.js';
import { TokenAuthority } from './tokens.js';
import { Admission } from './webhooks/admission.js';
import { kubeconfig } from './kubeconfig.js';
import { NAMESPACE, Objects } from './objects.js';
import { clusterStrategy } from './strategy.js';
import { Registry, splitApiVersion } from './registry.js';
import { ApiServer } from './server.js';
import { Store, type StoreSnapshot } from './store.js';
import { servingMaterial } from './tls.js';

const MUTATING_WEBHOOKS = 'admissionregistration.k8s.io/mutatingwebhookconfigurations';
const VALIDATING_WEBHOOKS = 'admissionregistration.k8s.io/validatingwebhookconfigurations';

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
  /** Where webhooks and aggregated APIs reach a Service; default: a ready endpoint from its EndpointSlices. */
  readonly resolveService?: ResolveService;
  /** The ServiceAccount token signing key (PEM), so tokens outlive a restart; default: a new key. */
  readonly signingKeyPem?: string;
  /** Services get clusterIPs from this CIDR; without it they are stored as given. */
  readonly serviceCidr?: string;
  /** Where `kubectl logs` reads (the pod runner); default: logs are not served. */
  readonly logs?: LogSource;
}

export interface LocalApi {
  readonly server: ApiServer;
  readonly api: Api;
  readonly objects: Objects;
  readonly tokens: TokenAuthority;
  readonly port: number;
  readonly url: string;
  readonly caPem: string;
  readonly token: string;
  readonly kubeconfig: string;
  close(): Promise<void>;
}

export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const store = new Store(options.snapshot === undefined ? {} : { snapshot: options.snapshot });
  const strategy = clusterStrategy(store, options.serviceCidr === undefined ? {} : { serviceCidr: options.serviceCidr });
  const objects = new Objects(store, new Registry(), { strategy });
  const namespaceType = objects.registry.find('', 'v1', NAMESPACE.plural);
  if (namespaceType === undefined) throw new Error('the registry serves no namespaces');
  for (const name of INITIAL_NAMESPACES) {
    if (store.get('/namespaces', undefined, name) === undefined) objects.create(namespaceType, undefined, { metadata: { name } });
  }
  const resolveService: ResolveService = options.resolveService ?? ((ns, name, port) => Promise.resolve(resolveServiceEndpoint(store, ns, name, port, (n) => Math.floor(Math.random() * n))));
  const custom = new CustomResources(objects, { resolveService, log: options.log });
  custom.start();
  const admission = new Admission({
    configurations: () => ({ mutating: store.list(MUTATING_WEBHOOKS), validating: store.list(VALIDATING_WEBHOOKS) }),
    namespaceLabels: (ns) => {
      const found = store.get('/namespaces', undefined, ns);
      return found === undefined ? undefined : (found.metadata.labels ?? {});
    },
    resolveService,
    log: options.log,
    versions: (group, resource) => objects.registry.all.filter((t) => t.group === group && t.plural === resource).map((t) => t.version),
    convert: async (object, apiVersion) => {
      const { group, version } = splitApiVersion(apiVersion);
      const kind = typeof object['kind'] === 'string' ? object['kind'] : '';
      const target = objects.registry.byKind(apiVersion, kind) ?? objects.registry.all.find((t) => t.group === group && t.version === version && t.kind === kind);
      if (target === undefined) return { ...object, apiVersion };
      const [converted] = await custom.convert(target, [object]);
      return converted ?? { ...object, apiVersion };
    },
  });
  const api = new Api(objects, { admission, custom });
  const tokens = new TokenAuthority({
    lookup: (ns, kind, name) => store.get(kind === 'ServiceAccount' ? '/serviceaccounts' : kind === 'Pod' ? '/pods' : '/secrets', ns, name),
    ...(options.signingKeyPem === undefined ? {} : { signingKey: options.signingKeyPem }),
  });
  const tls = servingMaterial([options.host, ...(options.extraAddresses ?? [])]);
  const frontProxy = frontProxyMaterial();
  publishConfigMap(objects, 'kube-system', 'extension-apiserver-authentication', extensionApiserverAuthentication(tls.rootPem, frontProxy.caPem));
  const token = randomBytes(32).toString('base64url');
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let url = '';
  const server = new ApiServer({
    api,
    log: options.log,
    tls: { certPem: tls.certPem, keyPem: tls.keyPem },
    adminTokens: [token],
    authenticate: (t) => tokens.authenticate(t),
    routes: [
      tokenRoutes(tokens),
      issuerRoutes(tokens, () => url),
      aggregatorRoute(objects, { resolveService, proxyClient: { certPem: frontProxy.certPem, keyPem: frontProxy.keyPem }, log: options.log }),
      ...(options.logs === undefined ? [] : [logRoute(options.logs)]),
    ],
    ...(options.bookmarkIntervalMs === undefined ? {} : { bookmarkIntervalMs: options.bookmarkIntervalMs }),
  });
  const availability = new ApiServiceAvailability(objects, { resolveService, proxyClient: { certPem: frontProxy.certPem, keyPem: frontProxy.keyPem }, log: options.log });
  const port = await server.listen(options.host, options.port ?? 0);
  availability.start();
  url = `https://${host}:${port}`;
  return {
    server,
    api,
    objects,
    tokens,
    port,
    url,
    caPem: tls.rootPem,
    token,
    kubeconfig: kubeconfig({ name: options.name, server: url, caPem: tls.rootPem, token }),
    close: async () => {
      await availability.stop();
      custom.stop();
      await server.close();
    },
  };
}

/** Creates or updates a ConfigMap the API server itself publishes. */
function publishConfigMap(objects: Objects, namespace: string, name: string, data: Record<string, string>): void {
  const type = objects.registry.find('', 'v1', 'configmaps');
  if (type === undefined) return;
  const existing = objects.store.get('/configmaps', namespace, name);
  if (existing === undefined) objects.create(type, namespace, { metadata: { name, namespace }, data });
  else objects.update(type, namespace, name, { ...existing, data }, undefined);
}
