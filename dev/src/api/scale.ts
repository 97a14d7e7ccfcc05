/**
 * The `scale` subresource (`.../deployments/<name>/scale`), as kubectl scale and autoscalers use it: the object
 * seen as an autoscaling/v1 Scale (spec.replicas, status.replicas, status.selector), and a Scale written back as
 * the object with its replicas changed. Where replicas live comes from the type ({@link ScaleSubresource}): fixed
 * for apps/v1, the CRD's `subresources.scale` paths for custom resources. Pure.
 */
import type { ResourceType, ScaleSubresource } from './registry.js';
import { selectorString } from './table/labels.js';
import { ApiError, badRequest, invalid } from './status.js';
import type { KubeObject } from './store.js';

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export const SCALE_API_VERSION = 'autoscaling/v1';

const SCALES = { group: 'autoscaling', plural: 'scales' };

/** `.spec.replicas` → ['spec', 'replicas'] (CRD validation allows only such simple paths). */
const segments = (path: string): string[] => path.split('.').filter((s) => s !== '');

function read(object: unknown, path: string): unknown {
  let at: unknown = object;
  for (const key of segments(path)) {
    if (!isRecord(at)) return undefined;
    at = at[key];
  }
  return at;
}

/** A copy of `object` with `value` at `path`, creating the objects on the way. */
function write<T extends Json>(object: T, path: string, value: unknown): T {
  const out = structuredClone(object);
  const keys = segments(path);
  let at: Json = out;
  keys.slice(0, -1).forEach((key) => {
    const next = at[key];
    if (!isRecord(next)) at[key] = {};
    at = at[key] as Json;
  });
  const last = keys[keys.length - 1];
  if (last !== undefined) at[last] = value;
  return out;
}

function scaleSpecOf(type: ResourceType): ScaleSubresource {
  if (type.scale === undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  return type.scale;
}

/** The label selector string a Scale reports: apps/v1 kinds format spec.selector; custom resources read labelSelectorPath. */
function selectorOf(type: ResourceType, scale: ScaleSubresource, object: KubeObject): string | undefined {
  if (type.group === 'apps') {
    return selectorString(read(object, '.spec.selector'));
  }
  if (scale.labelSelectorPath === undefined) return undefined;
  const value = read(object, scale.labelSelectorPath);
  return typeof value === 'string' ? value : undefined;
}

/** A value in a message: strings as they are, anything else as JSON. */
const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

const count = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) ? v : 0);

/** The object as an autoscaling/v1 Scale (its name, namespace, uid, resourceVersion and creation time). */
export function scaleOf(type: ResourceType, object: KubeObject): KubeObject {
  const scale = scaleSpecOf(type);
  const { name, namespace, uid, resourceVersion } = object.metadata;
  const selector = selectorOf(type, scale, object);
  return {
    kind: 'Scale',
    apiVersion: SCALE_API_VERSION,
    metadata: {
      name,
      ...(namespace === undefined ? {} : { namespace }),
      ...(uid === undefined ? {} : { uid }),
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
      creationTimestamp: object.metadata['creationTimestamp'],
    },
    spec: { replicas: count(read(object, scale.specReplicasPath)) },
    status: { replicas: count(read(object, scale.statusReplicasPath)), ...(selector === undefined || selector === '' ? {} : { selector }) },
  };
}

/**
 * `object` with the replicas a written Scale asks for. The Scale must name the object; a resourceVersion in it is
 * a precondition (kept on the result, so storage answers 409 when the object changed). spec.replicas must be a
 * non-negative integer (Kubernetes' ValidateScale message).
 */
export function applyScale(type: ResourceType, object: KubeObject, body: unknown): KubeObject {
  const scale = scaleSpecOf(type);
  if (!isRecord(body)) throw badRequest('the request body must be an autoscaling/v1 Scale object');
  if (body['kind'] !== undefined && body['kind'] !== 'Scale') throw badRequest(`the request body must be a Scale, not a ${text(body['kind'])}`);
  const metadata = isRecord(body['metadata']) ? body['metadata'] : {};
  const name = object.metadata.name;
  if (metadata['name'] !== undefined && metadata['name'] !== name) {
    throw badRequest(`the name of the object (${text(metadata['name'])}) does not match the name on the URL (${name})`);
  }
  const spec = isRecord(body['spec']) ? body['spec'] : {};
  const replicas = spec['replicas'] ?? 0;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas)) {
    throw invalid('Scale.autoscaling', SCALES, name, [{ field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be an integer` }]);
  }
  if (replicas < 0) {
    throw invalid('Scale.autoscaling', SCALES, name, [{ field: 'spec.replicas', message: `Invalid value: ${replicas}: must be greater than or equal to 0` }]);
  }
  const next = write(object, scale.specReplicasPath, replicas);
  const resourceVersion = metadata['resourceVersion'];
  if (typeof resourceVersion === 'string' && resourceVersion !== '') next.metadata = { ...next.metadata, resourceVersion };
  return next;
}
