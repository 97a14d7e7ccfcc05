/**
 * Raw Kubernetes `metadata` as it appears in every published SMI object. Only the fields Loom reads are
 * typed; everything else a server or a user puts there is allowed and carried through conversions.
 */
export interface RawObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

/** `metadata` of a list (`TrafficTargetList` etc.). */
export interface RawListMeta {
  resourceVersion?: string;
  continue?: string;
  [field: string]: unknown;
}
