/**
 * decodeSmi: raw SMI object (any published version) → validated hub object (`model.ts`) plus diagnostics.
 * Every problem of an object is reported; an object with an error is not returned.
 */
import { DiagnosticCode } from '../diagnostics.js';
import type { Diagnostic, ObjectRef } from '../diagnostics.js';
import { decodeIdentityBinding, decodeTrafficTarget } from './decode-access.js';
import { decodeHTTPRouteGroup, decodeL4Route } from './decode-specs.js';
import { decodeTrafficSplit } from './decode-split.js';
import type { Origin, SmiObject } from './model.js';
import { DEFAULT_NAMESPACE, isRecord, objectRefOf, Problems, readMeta, subdomain, UNNAMED } from './reader.js';
import { alphaNumber, findServedVersion, parseApiVersion, SMI_INPUT_GROUPS, servedVersionsOf, SmiGroup } from './versions.js';

export interface DecodeOptions {
  /** Namespace of objects whose `metadata.namespace` is empty; default `default` (as `kubectl apply`). */
  readonly defaultNamespace?: string;
}

export interface DecodeResult<T> {
  /** Present iff the object is valid (diagnostics then hold only warnings). */
  readonly object?: T;
  readonly diagnostics: readonly Diagnostic[];
}

function single(code: DiagnosticCode, object: ObjectRef, message: string, source: string | undefined, field?: string): Diagnostic {
  return {
    code,
    severity: 'error',
    object,
    ...(field === undefined ? {} : { field }),
    message,
    ...(source === undefined ? {} : { source }),
  };
}

/** Checks the envelope (an object with string apiVersion and kind). */
export function envelope(
  raw: unknown,
  source: string | undefined,
): { ok: true; raw: Record<string, unknown>; apiVersion: string; kind: string } | { ok: false; diagnostics: Diagnostic[] } {
  const unknownRef: ObjectRef = { kind: '(unknown kind)', namespace: '', name: UNNAMED };
  if (!isRecord(raw)) {
    return { ok: false, diagnostics: [single(DiagnosticCode.MalformedManifest, unknownRef, 'a Kubernetes object must be a map with apiVersion, kind and metadata', source)] };
  }
  const apiVersion = raw['apiVersion'];
  const kind = raw['kind'];
  const ref = objectRefOf(raw, typeof kind === 'string' && kind !== '' ? kind : unknownRef.kind, undefined, '');
  const diagnostics: Diagnostic[] = [];
  if (typeof apiVersion !== 'string' || apiVersion === '') diagnostics.push(single(DiagnosticCode.MalformedManifest, ref, 'required, expected a string such as "split.smi-spec.io/v1alpha4"', source, 'apiVersion'));
  if (typeof kind !== 'string' || kind === '') diagnostics.push(single(DiagnosticCode.MalformedManifest, ref, 'required, expected a string such as "TrafficSplit"', source, 'kind'));
  if (diagnostics.length > 0 || typeof apiVersion !== 'string' || typeof kind !== 'string') return { ok: false, diagnostics };
  return { ok: true, raw, apiVersion, kind };
}

/**
 * Validates and normalises one SMI object of any served version. Dispatches on apiVersion/kind; objects of
 * other groups, unknown kinds and versions that do not have the kind give an UnknownKind error.
 */
export function decodeSmi(raw: unknown, source?: string, options: DecodeOptions = {}): DecodeResult<SmiObject> {
  const env = envelope(raw, source);
  if (!env.ok) return { diagnostics: env.diagnostics };
  const { apiVersion, kind } = env;
  const defaultNamespace = options.defaultNamespace ?? DEFAULT_NAMESPACE;
  const ref = objectRefOf(env.raw, kind, apiVersion, defaultNamespace);

  const served = findServedVersion(apiVersion, kind);
  const { group, version } = parseApiVersion(apiVersion);
  if (served === undefined || !SMI_INPUT_GROUPS.includes(group)) {
    return { diagnostics: [single(DiagnosticCode.UnknownKind, ref, unknownKindMessage(group, kind, apiVersion), source)] };
  }
  const v = alphaNumber(version);
  const p = new Problems(ref, source);
  const meta = readMeta(p, env.raw, { defaultNamespace, nameCheck: subdomain(`a ${kind} name`) });
  const origin: Origin = { apiVersion, ...(source === undefined ? {} : { source }) };

  let object: SmiObject | undefined;
  switch (served.kind) {
    case 'TrafficTarget':
      object = decodeTrafficTarget(p, env.raw, meta, origin, v);
      break;
    case 'IdentityBinding':
      object = decodeIdentityBinding(p, env.raw, meta, origin);
      break;
    case 'HTTPRouteGroup':
      object = decodeHTTPRouteGroup(p, env.raw, meta, origin, v);
      break;
    case 'TCPRoute':
    case 'UDPRoute':
      object = decodeL4Route(p, env.raw, meta, origin, v, served.kind);
      break;
    case 'TrafficSplit':
      object = decodeTrafficSplit(p, env.raw, meta, origin, v);
      break;
    case 'TrafficMetrics':
      object = undefined; // not an input group (excluded above)
      break;
  }
  return p.ok && object !== undefined ? { object, diagnostics: p.diagnostics } : { diagnostics: p.diagnostics };
}

function unknownKindMessage(group: string, kind: string, apiVersion: string): string {
  if (group === SmiGroup.metrics) return `${apiVersion} ${kind} is served by Loom's metrics API, not read as input`;
  const versions = servedVersionsOf(kind).filter((s) => s.group === group);
  if (versions.length > 0) return `${kind} is not served in ${apiVersion}; it exists in ${versions.map((s) => s.apiVersion).join(', ')}`;
  if (SMI_INPUT_GROUPS.includes(group)) return `${group} has no kind ${kind}`;
  return `${apiVersion} ${kind} is not an SMI kind`;
}
