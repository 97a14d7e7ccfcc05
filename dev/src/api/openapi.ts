/**
 * The OpenAPI v3 documents (`/openapi/v3` and one per group/version), only as far as kubectl reads them. Pure.
 *
 * kubectl (1.27+) reads them for two decisions:
 * - whether the server validates fields itself: a PATCH operation tagged with the kind's
 *   `x-kubernetes-group-version-kind` that lists the `fieldValidation` query parameter. When it does, `kubectl apply`
 *   and `create` send `fieldValidation=Strict` and skip their client-side validation (which would need
 *   `/openapi/v2`, not served). For a CRD kind kubectl looks at the Namespace's PATCH instead.
 * - whether to compute strategic merge patches from the document's schemas: only when the PATCH operation accepts
 *   `application/strategic-merge-patch+json`. The documents never list that type and carry no schemas, so kubectl
 *   uses the merge keys compiled into it for the built-in kinds (the same as patch/strategies.ts), and JSON merge
 *   patches for custom resources, as it does against any cluster.
 */
import { createHash } from 'node:crypto';
import { KUBERNETES_VERSION } from './discovery.js';
import type { Registry, ResourceType } from './registry.js';

/** The group/version key of the index (`api/v1`, `apis/apps/v1`). */
export const gvPath = (group: string, version: string): string => (group === '' ? `api/${version}` : `apis/${group}/${version}`);

const QUERY_PARAMETERS = ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'].map((name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } }));

const JSON_CONTENT = { 'application/json': { schema: { type: 'object' } } };
const PATCH_CONTENT = { 'application/json-patch+json': { schema: { type: 'object' } }, 'application/merge-patch+json': { schema: { type: 'object' } } };

function operations(type: ResourceType): Record<string, unknown> {
  const gvk = { 'x-kubernetes-group-version-kind': { group: type.group, version: type.version, kind: type.kind } };
  const op = (action: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    operationId: `${action}${type.kind}`,
    'x-kubernetes-action': action,
    ...gvk,
    parameters: QUERY_PARAMETERS,
    responses: { '200': { description: 'OK', content: JSON_CONTENT } },
    ...extra,
  });
  if (type.createOnly === true) return { post: op('post', { requestBody: { content: JSON_CONTENT } }) };
  return {
    get: op('get'),
    put: op('put', { requestBody: { content: JSON_CONTENT } }),
    patch: op('patch', { requestBody: { content: PATCH_CONTENT } }),
    delete: op('delete'),
  };
}

function resourcePath(type: ResourceType): string {
  const base = `/${gvPath(type.group, type.version)}`;
  return type.namespaced ? `${base}/namespaces/{namespace}/${type.plural}/{name}` : `${base}/${type.plural}/{name}`;
}

/** The document of one group/version, or undefined when nothing is served there. */
export function groupVersionDocument(registry: Registry, group: string, version: string): Record<string, unknown> | undefined {
  const types = registry.all.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  for (const type of types) {
    if (type.createOnly === true) paths[`/${gvPath(group, version)}/${type.plural}`] = operations(type);
    else paths[resourcePath(type)] = operations(type);
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: KUBERNETES_VERSION.gitVersion }, paths, components: { schemas: {} } };
}

/** A stable hash of a document, as the index's `?hash=` names it (clients cache by it). */
export const documentHash = (doc: unknown): string => createHash('sha256').update(JSON.stringify(doc)).digest('hex').toUpperCase();

/** `/openapi/v3`: every served group/version with the URL of its document. */
export function openApiIndex(registry: Registry): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [group, versions] of registry.groups()) {
    for (const version of versions) {
      const doc = groupVersionDocument(registry, group, version);
      if (doc === undefined) continue;
      const key = gvPath(group, version);
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${documentHash(doc)}` };
    }
  }
  return { paths };
}

/** The group/version a `/openapi/v3/...` path names, or undefined for the index or a malformed path. */
export function parseOpenApiPath(pathname: string): { group: string; version: string } | 'index' | undefined {
  const parts = pathname.split('/').filter((p) => p !== '');
  if (parts[0] !== 'openapi' || parts[1] !== 'v3') return undefined;
  const rest = parts.slice(2);
  if (rest.length === 0) return 'index';
  if (rest[0] === 'api' && rest.length === 2 && rest[1] !== undefined) return { group: '', version: rest[1] };
  if (rest[0] === 'apis' && rest.length === 3 && rest[1] !== undefined && rest[2] !== undefined) return { group: rest[1], version: rest[2] };
  return undefined;
}
