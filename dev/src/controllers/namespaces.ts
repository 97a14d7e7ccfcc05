/**
 * What Kubernetes' serviceaccounts and root-ca-cert-publisher controllers keep in every active namespace: a
 * `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap holding the API server's CA (`ca.crt`), made again
 * when deleted and put back when changed. Namespaces being deleted are left alone.
 */
import type { Logger } from '@loom/shared/runtime';
import type { Objects } from '../api/objects.js';
import type { StoreEvent } from '../api/store.js';
import { rec, sameJson, typesOf, Writer, type Types } from './kube.js';
import { LoopController, Reconciler } from './loop.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export interface NamespaceControllerOptions {
  readonly log: Logger;
  /** The API server's CA certificate (PEM), what pods verify it with. */
  readonly apiCaPem: string;
}

export class NamespaceController extends LoopController {
  readonly #objects: Objects;
  readonly #types: Types;
  readonly #writer: Writer;
  readonly #caPem: string;
  protected readonly loop: Reconciler;

  constructor(objects: Objects, options: NamespaceControllerOptions) {
    super();
    this.#objects = objects;
    this.#types = typesOf(objects);
    this.#writer = new Writer(objects, options.log, 'namespace');
    this.#caPem = options.apiCaPem;
    const named =
      (name: string) =>
      (e: StoreEvent): boolean =>
        e.object.metadata.name === name && e.type !== 'ADDED';
    this.loop = new Reconciler(
      'namespace',
      objects.store,
      [
        { resource: '/namespaces', relevant: (e) => e.type !== 'DELETED' },
        { resource: '/serviceaccounts', relevant: named(DEFAULT_SERVICE_ACCOUNT) },
        { resource: '/configmaps', relevant: named(ROOT_CA_CONFIGMAP) },
      ],
      () => this.#reconcile(),
      options.log,
    );
  }

  #reconcile(): undefined {
    for (const ns of this.#objects.list(this.#types.namespaces, undefined, {}).items) {
      if (rec(ns, 'status')['phase'] === 'Terminating' || ns.metadata['deletionTimestamp'] !== undefined) continue;
      const namespace = ns.metadata.name;
      if (this.#objects.store.get('/serviceaccounts', namespace, DEFAULT_SERVICE_ACCOUNT) === undefined) {
        this.#writer.create(this.#types.serviceAccounts, namespace, { metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace } });
      }
      this.#syncRootCa(namespace);
    }
    return undefined;
  }

  #syncRootCa(namespace: string): void {
    const data = { 'ca.crt': this.#caPem };
    const annotations = { 'kubernetes.io/description': ROOT_CA_DESCRIPTION };
    const existing = this.#objects.store.get('/configmaps', namespace, ROOT_CA_CONFIGMAP);
    if (existing === undefined) {
      this.#writer.create(this.#types.configMaps, namespace, { metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations }, data });
      return;
    }
    const hasAnnotation = existing.metadata.annotations?.['kubernetes.io/description'] === ROOT_CA_DESCRIPTION;
    if (sameJson(existing['data'], data) && hasAnnotation) return;
    this.#writer.update(this.#types.configMaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      ...existing,
      metadata: { ...existing.metadata, annotations: { ...(existing.metadata.annotations ?? {}), ...annotations } },
      data,
    });
  }
}
