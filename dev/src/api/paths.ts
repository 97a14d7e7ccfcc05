/**
 * What a request path names, the way the Kubernetes API server reads it (its RequestInfoFactory): API group and
 * version, namespace, resource, name and subresource. Pure.
 *
 *   /api/v1/namespaces/shop/pods/web-1/status   core group, namespace shop, pods, web-1, status
 *   /apis/apps/v1/deployments                   all namespaces (or a cluster-scoped resource)
 *   /api/v1/namespaces/shop                     the Namespace shop itself (also .../shop/status, .../finalize)
 *   /api/v1/watch/namespaces/shop/pods          the legacy watch prefix (the same as ?watch=true)
 */

export interface ResourcePath {
  readonly group: string;
  readonly version: string;
  /** Namespace of a namespaced request; for the Namespace resource itself, undefined (its name is `name`). */
  readonly namespace?: string;
  readonly plural: string;
  readonly name?: string;
  readonly subresource?: string;
  /** The legacy `/watch/` prefix was used. */
  readonly watchPrefix: boolean;
}

export type ParsedPath =
  | { readonly kind: 'resource'; readonly path: ResourcePath }
  /** `/api` or `/apis`, `/apis/<group>`, `/api/v1` or `/apis/<group>/<version>` (discovery). */
  | { readonly kind: 'discovery'; readonly group?: string; readonly version?: string; readonly legacy: boolean }
  | { readonly kind: 'other' };

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parsePath(pathname: string): ParsedPath {
  const parts = pathname.split('/').filter((p) => p !== '');
  const prefix = parts[0];
  if (prefix !== 'api' && prefix !== 'apis') return { kind: 'other' };
  let rest: string[];
  let group: string;
  let version: string | undefined;
  if (prefix === 'api') {
    version = parts[1];
    if (version === undefined) return { kind: 'discovery', legacy: true };
    group = '';
    rest = parts.slice(2);
  } else {
    const g = parts[1];
    if (g === undefined) return { kind: 'discovery', legacy: false };
    group = g;
    version = parts[2];
    if (version === undefined) return { kind: 'discovery', group, legacy: false };
    rest = parts.slice(3);
  }
  if (rest.length === 0) return { kind: 'discovery', group, version, legacy: prefix === 'api' };
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2] ?? '')) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  if (plural === undefined || extra.length > 0) return { kind: 'other' };
  return {
    kind: 'resource',
    path: {
      group,
      version,
      plural,
      watchPrefix,
      ...(namespace === undefined ? {} : { namespace }),
      ...(name === undefined ? {} : { name }),
      ...(subresource === undefined ? {} : { subresource }),
    },
  };
}
