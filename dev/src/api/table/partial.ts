/**
 * meta.k8s.io PartialObjectMetadata and PartialObjectMetadataList: an object reduced to its metadata, as
 * metadata-only clients (client-go's metadata informers) and table rows ask for it. Pure; the results share the
 * objects' metadata (nothing here changes it).
 */
import type { KubeObject } from '../store.js';

/** The meta.k8s.io versions that serve Table and PartialObjectMetadata. */
export type MetaVersion = 'v1' | 'v1beta1';

/** `{kind: PartialObjectMetadata, apiVersion: meta.k8s.io/v1, metadata}`. */
export function toPartialObjectMetadata(object: KubeObject, version: MetaVersion = 'v1'): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: object.metadata };
}

/**
 * A PartialObjectMetadataList of `objects`. Kubernetes builds its items by appending to a nil slice, so an empty
 * list has `items: null`.
 */
export function toPartialObjectMetadataList(objects: readonly KubeObject[], resourceVersion?: string, version: MetaVersion = 'v1'): Record<string, unknown> {
  return {
    kind: 'PartialObjectMetadataList',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: resourceVersion === undefined || resourceVersion === '' ? {} : { resourceVersion },
    items: objects.length === 0 ? null : objects.map((o) => toPartialObjectMetadata(o, version)),
  };
}
