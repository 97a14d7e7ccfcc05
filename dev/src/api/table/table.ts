/**
 * meta.k8s.io Tables, as kube-apiserver serves them to `kubectl get` (Accept `application/json;as=Table;...`):
 * the resource's column definitions (all of them: the server always prints wide, kubectl hides columns with a
 * priority unless `-o wide`) and one row of cells per object, each row carrying the object as asked by
 * `includeObject` (Metadata: a PartialObjectMetadata, the default; Object: the object; None: null). Pure.
 */
import type { ResourceType } from '../registry.js';
import type { KubeObject } from '../store.js';
import { toPartialObjectMetadata, type MetaVersion } from './partial.js';
import { goJson } from './go.js';
import { convertorFor } from './printers.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  /** The time ages are measured to. */
  readonly now: Date;
  readonly includeObject: IncludeObject;
  /** Leave out the column definitions (`columnDefinitions: null`): watch events after the first. */
  readonly noHeaders?: boolean;
  /** The list's resourceVersion, or the object's for a single object (a GET or a watch event). */
  readonly resourceVersion?: string;
  /** The meta.k8s.io version asked for (default v1). */
  readonly version?: MetaVersion;
}

/** A meta.k8s.io Table of `objects` (one object for a GET or a watch event: a one-row table). */
export function toTable(type: ResourceType, objects: readonly KubeObject[], options: TableOptions): Record<string, unknown> {
  const convertor = convertorFor(type);
  const version = options.version ?? 'v1';
  const rows = objects.map((object) => {
    const row = convertor.row(object, options.now);
    const embedded = options.includeObject === 'Object' ? object : options.includeObject === 'Metadata' ? toPartialObjectMetadata(object, version) : null;
    return { cells: row.cells, ...(row.conditions === undefined ? {} : { conditions: row.conditions }), object: embedded };
  });
  const headers = options.noHeaders !== true || convertor.ignoresNoHeaders === true;
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: options.resourceVersion === undefined || options.resourceVersion === '' ? {} : { resourceVersion: options.resourceVersion },
    columnDefinitions: headers ? convertor.columns : null,
    rows: rows.length === 0 && convertor.nullWithoutRows === true ? null : rows,
  };
}

/**
 * The `includeObject` query parameter of a Table request (its first value; missing or empty means Metadata), or
 * the message of the 400 Bad Request Kubernetes answers for another value.
 */
export function includeObjectOf(value: string | null | undefined): { readonly includeObject: IncludeObject } | { readonly badRequest: string } {
  if (value === null || value === undefined || value === '' || value === 'Metadata') return { includeObject: 'Metadata' };
  if (value === 'None' || value === 'Object') return { includeObject: value };
  return { badRequest: `Unable to convert to Table as requested: includeObject: Invalid value: ${goQuote(value)}: must be 'Metadata', 'Object', 'None', or empty` };
}

/** The value as field errors show a non-plain-string value: `json.Marshal`. */
const goQuote = (value: string): string => goJson(value);
