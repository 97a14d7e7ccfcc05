/**
 * Watch events in a negotiated form, as kube-apiserver encodes each event's object (handlers/response.go
 * watchEmbeddedEncoder): as stored (Object), as a PartialObjectMetadata, or as a one-row Table whose column
 * definitions only the first event carries (`columnDefinitions: null` after it; kubectl reuses the first ones).
 * Every event counts as the first, whatever its type; ERROR events' Status objects pass unchanged. A watch asked as
 * PartialObjectMetadataList cannot encode any event: Kubernetes ends the stream at the first one.
 */
import type { ResourceType } from '../registry.js';
import type { KubeObject } from '../store.js';
import type { Negotiated } from './negotiate.js';
import { toPartialObjectMetadata } from './partial.js';
import { toTable, type IncludeObject } from './table.js';
import { isRecord } from './value.js';

export interface WatchEncodeOptions {
  /** For Tables (validated with includeObjectOf). */
  readonly includeObject: IncludeObject;
  /** The clock ages are measured with (default: the current time at each event). */
  readonly now?: () => Date;
}

const isStatus = (o: unknown): boolean => isRecord(o) && o['kind'] === 'Status';
const isKube = (o: unknown): o is KubeObject => isRecord(o) && isRecord(o['metadata']);

/**
 * A function from each event's object (in order) to what the event carries; undefined means the stream must end
 * without this event (PartialObjectMetadataList). Keeps state: one encoder per watch.
 */
export function watchEncoder(type: ResourceType, negotiated: Negotiated, options: WatchEncodeOptions): (object: unknown) => unknown {
  let first = true;
  const now = options.now ?? ((): Date => new Date());
  return (object: unknown): unknown => {
    if (negotiated.as === 'Object') return object;
    if (negotiated.as === 'PartialObjectMetadataList') return undefined;
    const headers = first;
    first = false;
    if (isStatus(object) || !isKube(object)) return object;
    if (negotiated.as === 'PartialObjectMetadata') return toPartialObjectMetadata(object, negotiated.version);
    const rv = object.metadata.resourceVersion;
    return toTable(type, [object], {
      now: now(),
      includeObject: options.includeObject,
      noHeaders: !headers,
      version: negotiated.version,
      ...(rv === undefined ? {} : { resourceVersion: rv }),
    });
  };
}
