/**
 * The Accept header of a read (get, list, watch), negotiated as kube-apiserver does (endpoints/handlers/negotiation
 * with goautoneg's parser): clauses sorted by q-value (then specific types before wildcards), the first one the
 * server can serve wins. This server serves JSON only: `application/json`, `application/*`, `*\/*` or no header;
 * with `as=Table`, `as=PartialObjectMetadata` or `as=PartialObjectMetadataList` and `g=meta.k8s.io` plus `v=v1`
 * or `v=v1beta1` it serves that form, in the version asked for. A clause with any of as/g/v that is not one of
 * those forms is skipped (`application/json;v=v1` too), as are `stream` other than `watch` and `sv` other than v1.
 * A plain protobuf clause is answered in JSON (see servable()).
 * Pure.
 */
import type { ResourceType } from '../registry.js';
import type { MetaVersion } from './partial.js';
import { isBuiltIn } from './printers.js';

/** The media types this server answers in (what a 406 lists). */
export const SERVED_MEDIA_TYPES: readonly string[] = Object.freeze(['application/json']);

export type Negotiated =
  | { readonly as: 'Object' }
  | { readonly as: 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList'; readonly version: MetaVersion };

export type Negotiation =
  | Negotiated
  | {
      /** The message of the 406 Not Acceptable Status (reason NotAcceptable). */
      readonly notAcceptable: string;
      /**
       * Kubernetes finds this out only once it has read the object or list (a PartialObjectMetadata request for a
       * list, a PartialObjectMetadataList request for one object): a failing read (404) answers first.
       */
      readonly afterRead?: true;
    };

export interface AcceptClause {
  readonly type: string;
  readonly subType: string;
  readonly q: number;
  readonly params: Readonly<Record<string, string>>;
}

const trimSpaces = (s: string): string => s.replace(/^ +| +$/g, '');

/** Splits at the first `sep`: goautoneg's nextSplitElement. */
function splitFirst(s: string, sep: string): [string, string] {
  const at = s.indexOf(sep);
  return at < 0 ? [s, ''] : [s.slice(0, at), s.slice(at + 1)];
}

/** Go's strconv.ParseFloat(s, 32) as goautoneg uses it: 0 for what is no number, ±Inf beyond float32. */
function parseQ(text: string): number {
  if (/^[+-]?(inf|infinity)$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return 0;
  return Math.fround(Number(text));
}

/** goautoneg's ordering (higher q first; among equal ones, concrete types and subtypes before `*`). */
function before(a: AcceptClause, b: AcceptClause): boolean {
  if (a.q > b.q) return true;
  if (a.type !== '*' && b.type === '*') return true;
  if (a.subType !== '*' && b.subType === '*') return true;
  return false;
}

/**
 * goautoneg.ParseAccept: comma-separated `type/subtype;k=v` clauses (only spaces trimmed, case kept), `*` alone
 * meaning `*\/*`, clauses without a `/` or with two dropped, `q` parsed (q=0 is kept), then sorted as Go's
 * insertion sort does.
 */
export function parseAccept(header: string): AcceptClause[] {
  const clauses: AcceptClause[] = [];
  let remaining = header;
  while (remaining.length > 0) {
    let part: string;
    [part, remaining] = splitFirst(remaining, ',');
    part = trimSpaces(part);
    const [mediaRange, rest] = splitFirst(part, ';');
    let paramText = rest;
    const [typePart, subPart] = splitFirst(mediaRange, '/');
    const type = trimSpaces(typePart);
    let subType: string;
    if (subPart.length === 0) {
      if (type !== '*') continue;
      subType = '*';
    } else {
      const [sub, extra] = splitFirst(subPart, '/');
      if (extra.length > 0) continue;
      subType = trimSpaces(sub);
    }
    let q = 1;
    const params: Record<string, string> = {};
    while (paramText.length > 0) {
      let param: string;
      [param, paramText] = splitFirst(paramText, ';');
      const [key, valuePart] = splitFirst(param, '=');
      if (valuePart.length === 0) continue;
      const [value, extra] = splitFirst(valuePart, '=');
      if (extra.length !== 0) continue;
      const token = trimSpaces(key);
      if (token === 'q') q = parseQ(value);
      else params[token] = trimSpaces(value);
    }
    clauses.push({ type, subType, q, params });
  }
  for (let i = 1; i < clauses.length; i++) {
    for (let j = i; j > 0 && before(clauses[j] as AcceptClause, clauses[j - 1] as AcceptClause); j--) {
      [clauses[j - 1], clauses[j]] = [clauses[j] as AcceptClause, clauses[j - 1] as AcceptClause];
    }
  }
  return clauses;
}

const PROTOBUF = 'vnd.kubernetes.protobuf';

const TRANSFORMS = new Set(['Table', 'PartialObjectMetadata', 'PartialObjectMetadataList']);

/** What one clause asks for, or undefined when this server cannot serve it. */
function servable(clause: AcceptClause): Negotiated | undefined {
  const { as, g, v, stream, sv } = clause.params;
  // Kubernetes would answer protobuf; client-go decodes a response by its Content-Type, so JSON serves a client
  // that accepts protobuf only (AcceptContentTypes without a fallback) as well. Transforms stay JSON-only.
  if (clause.type === 'application' && clause.subType === PROTOBUF && as === undefined && g === undefined && v === undefined) return { as: 'Object' };
  const json = (clause.type === 'application' && (clause.subType === 'json' || clause.subType === '*')) || (clause.type === '*' && clause.subType === '*');
  if (!json) return undefined;
  if (stream !== undefined && stream !== '' && stream !== 'watch') return undefined;
  if (sv !== undefined && sv !== '' && sv !== 'v1') return undefined;
  if (as === undefined && g === undefined && v === undefined) return { as: 'Object' };
  if (g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1') || as === undefined || !TRANSFORMS.has(as)) return undefined;
  return { as: as as 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList', version: v };
}

/**
 * The Go type Kubernetes names in its messages: the internal type of a built-in (`*core.PodList`, `*apps.Deployment`),
 * unstructured for custom resources.
 */
function goTypeName(type: ResourceType | undefined, list: boolean): string {
  if (type === undefined || !isBuiltIn(type)) return list ? '*unstructured.UnstructuredList' : '*unstructured.Unstructured';
  const pkg = type.group === '' ? 'core' : (type.group.split('.')[0] ?? type.group);
  return `*${pkg}.${type.kind}${list ? 'List' : ''}`;
}

export interface NegotiationRequest {
  /** A list or watch of a collection, rather than one object. */
  readonly list: boolean;
  readonly watch: boolean;
  /** The resource, for the type name in messages (unstructured objects when not given). */
  readonly type?: ResourceType;
}

/**
 * Negotiates a read's response form. `notAcceptable` carries Kubernetes' 406 message: no clause servable ("only
 * the following media types are accepted: application/json"), or a PartialObjectMetadata form that does not fit
 * (a list asked as PartialObjectMetadata, one object as PartialObjectMetadataList; `afterRead`). A watch asked as
 * PartialObjectMetadataList negotiates: Kubernetes then fails to encode the first event and ends the stream
 * ({@link watchEncoder} says so).
 */
export function negotiate(accept: string | undefined, request: NegotiationRequest): Negotiation {
  let chosen: Negotiated | undefined;
  if (accept === undefined || accept.length === 0) chosen = { as: 'Object' };
  else {
    for (const clause of parseAccept(accept)) {
      chosen = servable(clause);
      if (chosen !== undefined) break;
    }
  }
  if (chosen === undefined) return { notAcceptable: `only the following media types are accepted: ${SERVED_MEDIA_TYPES.join(', ')}` };
  if (chosen.as === 'PartialObjectMetadata' && request.list && !request.watch) {
    return { notAcceptable: `you requested PartialObjectMetadata, but the requested object is a list (${goTypeName(request.type, true)})`, afterRead: true };
  }
  if (chosen.as === 'PartialObjectMetadataList' && !request.list) {
    return { notAcceptable: `you requested PartialObjectMetadataList, but the requested object is not a list (${goTypeName(request.type, false)})`, afterRead: true };
  }
  return chosen;
}
