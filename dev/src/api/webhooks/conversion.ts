/**
 * Custom resources converted between the versions of their CustomResourceDefinition, as apiextensions-apiserver
 * does (conversion/webhook_converter.go): strategy None changes only `apiVersion`; strategy Webhook sends the
 * objects not already in the desired version in one ConversionReview (apiextensions.k8s.io/v1, or v1beta1 when
 * the CRD's conversionReviewVersions list only that) and checks the answer: the request's uid, result status
 * Success, as many objects as were sent, each in the desired apiVersion with the same kind, name, namespace and
 * uid. Of a converted object's metadata only labels and annotations are taken (validated when changed); the rest
 * is restored from the original.
 *
 * Failures are 500s with Kubernetes' wording: `conversion webhook for stable.example.com/v1, Kind=CronTab failed:
 * Post "https://conv.system.svc:443/convert?timeout=30s": dial tcp ...: connect: connection refused`.
 */
import { randomUUID } from 'node:crypto';
import { aggregateErrors, fieldInvalid, labelKeyErrors, labelMapErrors } from '@loom/shared/k8s';
import type { Logger } from '@loom/shared/runtime';
import { ApiError } from '../status.js';
import type { KubeObject, Metadata } from '../store.js';
import { CLIENT_TIMEOUT_SECONDS, postJson, webhookTarget, WebhookCallError, WebhookConfigError, type ResolveService } from './client.js';
import { gvkString, quote } from './errors.js';

export type { ResolveService } from './client.js';

export interface ConversionOptions {
  readonly resolveService: ResolveService;
  readonly log: Logger;
  /** The uid of each ConversionReview (random UUIDs by default). */
  readonly uid?: () => string;
  /** Responses larger than this are refused (client.ts' default when absent). */
  readonly maxResponseBytes?: number;
  /** Seconds the webhook has to answer (kube-apiserver's client default, 30, when absent). */
  readonly timeoutSeconds?: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(value: T): T => structuredClone(value);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');
/** Annotations may hold this many bytes in all (keys and values), as Kubernetes allows. */
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** A failed conversion: a 500 Status with no reason, as kube-apiserver answers. */
const failure = (message: string): ApiError => new ApiError(500, '', message);

/**
 * `objects` (of the CRD's kind, in any of its versions) in `desiredAPIVersion` (`<group>/<version>`), as new
 * objects in the same order; the arguments are not changed. Throws an ApiError (500) when the webhook fails.
 */
export async function convertObjects(crd: KubeObject, objects: readonly KubeObject[], desiredAPIVersion: string, options: ConversionOptions): Promise<KubeObject[]> {
  const result = objects.map((o) => clone(o));
  const pending = result.flatMap((o, i) => (o['apiVersion'] === desiredAPIVersion ? [] : [i]));
  if (pending.length === 0) return result;
  const spec = isRecord(crd['spec']) ? crd['spec'] : {};
  const conversion = isRecord(spec['conversion']) ? spec['conversion'] : {};
  const strategy = conversion['strategy'] ?? 'None';
  const first = result[pending[0] ?? 0];
  const kind = text(first?.['kind']) || text(isRecord(spec['names']) ? spec['names']['kind'] : undefined);
  const single = objects.length === 1;
  const what = gvkString(text(first?.['apiVersion']), single ? kind : `${kind}List`);

  if (strategy === 'None') {
    for (const i of pending) {
      const o = result[i];
      if (o !== undefined) o['apiVersion'] = desiredAPIVersion;
    }
    return result;
  }
  if (strategy !== 'Webhook') throw failure(`conversion for ${what} failed: unknown conversion strategy ${typeof strategy === 'string' ? quote(strategy) : JSON.stringify(strategy)}`);
  const webhook = isRecord(conversion['webhook']) ? conversion['webhook'] : {};
  const accepted = Array.isArray(webhook['conversionReviewVersions']) ? webhook['conversionReviewVersions'] : [];
  const version = accepted.find((v): v is 'v1' | 'v1beta1' => v === 'v1' || v === 'v1beta1');
  if (version === undefined) throw failure(`conversion webhook for ${what} failed: no supported conversion review versions`);
  let target;
  try {
    target = webhookTarget(webhook['clientConfig']);
  } catch (err) {
    if (err instanceof WebhookConfigError) throw failure(`conversion webhook for ${what} failed: ${err.message}`);
    throw err;
  }

  const uid = (options.uid ?? randomUUID)();
  const originals = pending.map((i) => result[i] as KubeObject);
  const review = {
    kind: 'ConversionReview',
    apiVersion: `apiextensions.k8s.io/${version}`,
    request: { uid, desiredAPIVersion, objects: originals },
  };
  let answer: unknown;
  try {
    answer = await postJson(target, review, {
      timeoutSeconds: options.timeoutSeconds ?? CLIENT_TIMEOUT_SECONDS,
      resolveService: options.resolveService,
      ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }),
    });
  } catch (err) {
    if (err instanceof WebhookCallError) {
      options.log.warn({ event: 'conversion.failed', crd: crd.metadata.name, reason: err.message }, 'conversion webhook failed');
      throw failure(`conversion webhook for ${what} failed: ${err.message}`);
    }
    throw err;
  }
  const converted = convertedObjectsOf(version, uid, answer);
  if (typeof converted === 'string') throw failure(`conversion webhook for ${what} failed: ${converted}`);
  if (converted.length !== originals.length) throw failure(`conversion webhook for ${what} returned ${converted.length} objects, expected ${originals.length}`);

  converted.forEach((raw, index) => {
    const original = originals[index] as KubeObject;
    const at = single ? 'invalid object at index 0' : `invalid converted object at index ${index}`;
    if (!isRecord(raw)) throw failure(`conversion webhook for ${what} returned ${at}: json: cannot unmarshal ${jsonType(raw)} into an object`);
    const gotVersion = text(raw['apiVersion']);
    if (gotVersion !== desiredAPIVersion) throw failure(`conversion webhook for ${what} returned ${at}: invalid groupVersion (expected ${desiredAPIVersion}, received ${gotVersion})`);
    const gotKind = text(raw['kind']);
    if (gotKind !== text(original['kind'])) throw failure(`conversion webhook for ${what} returned ${at}: invalid kind (expected ${text(original['kind'])}, received ${gotKind})`);
    const problem = identityProblem(original, raw);
    if (problem !== undefined) throw failure(`conversion webhook for ${what} returned ${single ? 'invalid object' : at}: ${problem}`);
    const restored = restoreObjectMeta(original, raw);
    if (typeof restored === 'string') throw failure(`conversion webhook for ${what} returned invalid metadata${single ? '' : ` in object at index ${index}`}: ${restored}`);
    result[pending[index] ?? 0] = restored;
  });
  options.log.debug({ event: 'conversion.done', crd: crd.metadata.name, uid, objects: originals.length, to: desiredAPIVersion }, 'converted through the webhook');
  return result;
}

/** The converted objects of an answer, or why the answer is refused. */
function convertedObjectsOf(version: 'v1' | 'v1beta1', uid: string, answer: unknown): unknown[] | string {
  if (!isRecord(answer)) return `json: cannot unmarshal ${jsonType(answer)} into Go value of type ${version}.ConversionReview`;
  if (version === 'v1') {
    const apiVersion = text(answer['apiVersion']);
    const kind = text(answer['kind']);
    if (apiVersion !== 'apiextensions.k8s.io/v1' || kind !== 'ConversionReview') {
      return `expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got ${gvkString(apiVersion, kind)}`;
    }
  }
  const response = answer['response'];
  if (response === undefined || response === null) return 'no response provided';
  if (!isRecord(response)) return `json: cannot unmarshal ${jsonType(response)} into Go struct field ConversionReview.response of type ${version}.ConversionResponse`;
  if (version === 'v1' && text(response['uid']) !== uid) return `expected response.uid=${quote(uid)}, got ${quote(text(response['uid']))}`;
  const result = isRecord(response['result']) ? response['result'] : {};
  const status = text(result['status']);
  if (status !== 'Success') {
    const message = text(result['message']);
    return message !== '' ? message : `response.result.status was '${status}', not 'Success'`;
  }
  const objects = response['convertedObjects'];
  if (objects === undefined || objects === null) return [];
  if (!Array.isArray(objects)) return `json: cannot unmarshal ${jsonType(objects)} into Go struct field ConversionResponse.response.convertedObjects of type []runtime.RawExtension`;
  return objects as unknown[];
}

const metaOf = (o: Record<string, unknown>): Record<string, unknown> => (isRecord(o['metadata']) ? o['metadata'] : {});

/** validateConvertedObject: kind, name, namespace and uid must not change. */
function identityProblem(original: KubeObject, converted: Record<string, unknown>): string | undefined {
  const before = metaOf(original);
  const after = metaOf(converted);
  if (text(original['kind']) !== text(converted['kind'])) return `must have the same kind: ${text(original['kind'])} != ${text(converted['kind'])}`;
  for (const [field, label] of [
    ['name', 'name'],
    ['namespace', 'namespace'],
    ['uid', 'UID'],
  ] as const) {
    if (text(before[field]) !== text(after[field])) return `must have the same ${label}: ${text(before[field])} != ${text(after[field])}`;
  }
  return undefined;
}

/** restoreObjectMeta: the original's metadata, with the converted object's labels and annotations; or why not. */
function restoreObjectMeta(original: KubeObject, converted: Record<string, unknown>): KubeObject | string {
  const responseMeta = converted['metadata'];
  if (responseMeta === undefined) return 'missing metadata in converted object';
  if (!isRecord(responseMeta)) return `invalid metadata of type ${jsonType(responseMeta)} in converted object`;
  const metadata: Record<string, unknown> = clone(original.metadata);
  for (const field of ['labels', 'annotations'] as const) {
    const value = responseMeta[field];
    if (value === undefined || value === null) {
      delete metadata[field];
      continue;
    }
    if (!isRecord(value)) return `invalid metadata.${field} of type ${jsonType(value)} in converted object`;
    const before = isRecord(metadata[field]) ? metadata[field] : {};
    let changed = Object.keys(before).length !== Object.keys(value).length;
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') return `metadata.${field}[${k}] must be a string, but is ${jsonType(v)} in converted object`;
      if (before[k] !== v) changed = true;
    }
    if (changed) {
      const errors = field === 'labels' ? labelMapErrors(value, 'metadata.labels') : annotationErrors(value as Record<string, string>);
      const message = aggregateErrors(errors);
      if (message !== null) return message;
    }
    metadata[field] = value;
  }
  return { ...converted, metadata: metadata as Metadata };
}

/** ValidateAnnotations: keys are qualified names (any case), all of them at most 256 KiB. */
function annotationErrors(annotations: Readonly<Record<string, string>>): string[] {
  const path = 'metadata.annotation'; // sic: Kubernetes' path here
  const errors: string[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const m of labelKeyErrors(k.toLowerCase())) errors.push(fieldInvalid(path, k, m));
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) errors.push(`${path}: Too long: may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes`);
  return errors;
}
