/**
 * AdmissionReview (admission.k8s.io/v1, and v1beta1 for webhooks that only accept it) as kube-apiserver sends it,
 * and its check of the answer (request/admissionreview.go): the response must be there, carry the request's uid
 * and (v1) apiVersion/kind; a validating webhook may not return a patch; a mutating one returns patch and
 * patchType together.
 */
import type { KubeObject } from '../store.js';
import { gvkString, quote } from './errors.js';
import type { Invocation } from './matching.js';

export type ReviewVersion = 'v1' | 'v1beta1';

/** The first AdmissionReview version the webhook accepts that Kubernetes knows, in the webhook's order. */
export function reviewVersionOf(accepted: readonly string[]): ReviewVersion | undefined {
  return accepted.find((v): v is ReviewVersion => v === 'v1' || v === 'v1beta1');
}

export const NO_KNOWN_REVIEW_VERSION = 'webhook does not accept known AdmissionReview versions (v1, v1beta1)';

export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export interface ReviewRequest {
  readonly uid: string;
  readonly invocation: Invocation;
  /** The request as made (requestKind, requestResource, requestSubResource). */
  readonly requested: Invocation;
  readonly name: string;
  /** '' when none. */
  readonly namespace: string;
  readonly operation: string;
  readonly userInfo: UserInfo;
  readonly object: KubeObject | undefined;
  readonly oldObject: KubeObject | undefined;
  readonly dryRun: boolean;
  readonly options: unknown;
}

const gvk = (i: Invocation): Record<string, string> => ({ group: i.group, version: i.version, kind: i.kind });
const gvr = (i: Invocation): Record<string, string> => ({ group: i.group, version: i.version, resource: i.resource });

/** The AdmissionReview sent to a webhook (fields Kubernetes leaves empty are left out, as its JSON omits them). */
export function admissionReview(version: ReviewVersion, r: ReviewRequest): Record<string, unknown> {
  const user = r.userInfo;
  return {
    kind: 'AdmissionReview',
    apiVersion: `admission.k8s.io/${version}`,
    request: {
      uid: r.uid,
      kind: gvk(r.invocation),
      resource: gvr(r.invocation),
      ...(r.invocation.subresource === '' ? {} : { subResource: r.invocation.subresource }),
      requestKind: gvk(r.requested),
      requestResource: gvr(r.requested),
      ...(r.requested.subresource === '' ? {} : { requestSubResource: r.requested.subresource }),
      ...(r.name === '' ? {} : { name: r.name }),
      ...(r.namespace === '' ? {} : { namespace: r.namespace }),
      operation: r.operation,
      userInfo: {
        ...(user.username === '' ? {} : { username: user.username }),
        ...(user.uid === undefined || user.uid === '' ? {} : { uid: user.uid }),
        ...(user.groups.length === 0 ? {} : { groups: [...user.groups] }),
        ...(user.extra === undefined || Object.keys(user.extra).length === 0 ? {} : { extra: user.extra }),
      },
      object: r.object ?? null,
      oldObject: r.oldObject ?? null,
      dryRun: r.dryRun,
      options: r.options ?? null,
    },
  };
}

/** What kube-apiserver takes from an answer. */
export interface AdmissionResponse {
  readonly allowed: boolean;
  /** The decoded patch (bytes), when one was returned. */
  readonly patch?: Buffer;
  readonly patchType?: string;
  /** The webhook's metav1.Status (`response.status`). */
  readonly status?: Record<string, unknown>;
  readonly warnings: readonly string[];
  readonly auditAnnotations: Readonly<Record<string, string>>;
}

/** An answer that does not decode (Kubernetes: "failed to call webhook: <message>"). */
export class ReviewDecodeError extends Error {
  override readonly name = 'ReviewDecodeError';
}

/** An answer that decodes but is not a valid response to the request (Kubernetes: "received invalid webhook response: <message>"). */
export class ReviewInvalidError extends Error {
  override readonly name = 'ReviewInvalidError';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

function mismatch(field: string, value: unknown, goType: string): ReviewDecodeError {
  return new ReviewDecodeError(`json: cannot unmarshal ${jsonType(value)} into Go struct field ${field} of type ${goType}`);
}

/** Go's decoding of a []byte field: standard base64 with padding. */
export function decodeBase64(text: string, field: string): Buffer {
  const compact = text.replace(/[\r\n]/g, '');
  const bad = compact.search(/[^A-Za-z0-9+/=]/);
  const padding = compact.indexOf('=');
  if (bad >= 0) throw new ReviewDecodeError(`illegal base64 data at input byte ${bad} (${field})`);
  if (compact.length % 4 !== 0 || (padding >= 0 && padding < compact.length - 2) || /=[^=]/.test(compact)) {
    throw new ReviewDecodeError(`illegal base64 data at input byte ${Math.max(padding, 0)} (${field})`);
  }
  return Buffer.from(compact, 'base64');
}

/**
 * Checks a webhook's answer against the request (`uid`) and returns what counts. Throws a {@link ReviewDecodeError}
 * for fields of the wrong type and a {@link ReviewInvalidError} for a response Kubernetes refuses.
 */
export function verifyAdmissionResponse(version: ReviewVersion, uid: string, mutating: boolean, review: unknown): AdmissionResponse {
  if (!isRecord(review)) throw new ReviewDecodeError(`json: cannot unmarshal ${jsonType(review)} into Go value of type ${version}.AdmissionReview`);
  const response = review['response'];
  if (response === undefined || response === null) throw new ReviewInvalidError('webhook response was absent');
  if (!isRecord(response)) throw mismatch('AdmissionReview.response', response, `${version}.AdmissionResponse`);
  const field = (name: string): unknown => response[name] ?? undefined;
  const responseUid = field('uid') ?? '';
  if (typeof responseUid !== 'string') throw mismatch('AdmissionResponse.response.uid', responseUid, 'types.UID');
  const allowed = field('allowed') ?? false;
  if (typeof allowed !== 'boolean') throw mismatch('AdmissionResponse.response.allowed', allowed, 'bool');
  const status = field('status');
  if (status !== undefined && !isRecord(status)) throw mismatch('AdmissionResponse.response.status', status, 'v1.Status');
  const rawPatch = field('patch');
  if (rawPatch !== undefined && typeof rawPatch !== 'string') throw mismatch('AdmissionResponse.response.patch', rawPatch, '[]uint8');
  const patch = rawPatch === undefined ? undefined : decodeBase64(rawPatch, 'response.patch');
  const patchType = field('patchType');
  if (patchType !== undefined && typeof patchType !== 'string') throw mismatch('AdmissionResponse.response.patchType', patchType, 'v1.PatchType');
  const warnings = stringList(field('warnings'), 'AdmissionResponse.response.warnings');
  const auditAnnotations = stringMap(field('auditAnnotations'), 'AdmissionResponse.response.auditAnnotations');
  const hasPatch = patch !== undefined && patch.length > 0;

  if (version === 'v1') {
    if (responseUid !== uid) throw new ReviewInvalidError(`expected response.uid=${quote(uid)}, got ${quote(responseUid)}`);
    const apiVersion = typeof review['apiVersion'] === 'string' ? review['apiVersion'] : '';
    const kind = typeof review['kind'] === 'string' ? review['kind'] : '';
    if (apiVersion !== 'admission.k8s.io/v1' || kind !== 'AdmissionReview') {
      throw new ReviewInvalidError(`expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${gvkString(apiVersion, kind)}`);
    }
    if (mutating) {
      if (hasPatch && patchType === undefined) throw new ReviewInvalidError('webhook returned response.patch but not response.patchType');
      if (!hasPatch && patchType !== undefined) throw new ReviewInvalidError('webhook returned response.patchType but not response.patch');
      if (patchType === '') throw new ReviewInvalidError(`webhook returned invalid response.patchType of ""`);
    } else {
      if (hasPatch) throw new ReviewInvalidError('validating webhook may not return response.patch');
      if (patchType !== undefined) throw new ReviewInvalidError('validating webhook may not return response.patchType');
    }
  }
  const usesPatch = mutating && hasPatch;
  return {
    allowed,
    ...(usesPatch ? { patch } : {}),
    // v1beta1 did not check patchType: a patch is a JSON patch.
    ...(usesPatch ? { patchType: version === 'v1' ? (patchType ?? '') : 'JSONPatch' } : {}),
    ...(status === undefined ? {} : { status }),
    warnings,
    auditAnnotations,
  };
}

function stringList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw mismatch(field, value, '[]string');
  return value.map((v) => {
    if (typeof v !== 'string') throw mismatch(field, v, 'string');
    return v;
  });
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw mismatch(field, value, 'map[string]string');
  for (const v of Object.values(value)) if (typeof v !== 'string') throw mismatch(field, v, 'string');
  return value as Record<string, string>;
}
