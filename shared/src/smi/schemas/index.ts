/**
 * The OpenAPI v3 schema (and `kubectl get` columns) of every SMI kind in every version Loom serves as a CRD.
 */
import type { ServedSmiKind, SmiVersion } from '../versions.js';
import { ACCESS_SCHEMAS } from './access.js';
import type { VersionDefinition } from './common.js';
import { SPECS_SCHEMAS } from './specs.js';
import { SPLIT_SCHEMAS } from './split.js';

export type { JSONSchemaProps, PrinterColumn, SchemaType, VersionDefinition } from './common.js';

type CrdKind = Exclude<ServedSmiKind, 'TrafficMetrics'>;

const BY_KIND: Readonly<Record<CrdKind, (version: SmiVersion) => VersionDefinition | undefined>> = {
  ...ACCESS_SCHEMAS,
  ...SPECS_SCHEMAS,
  ...SPLIT_SCHEMAS,
};

/** The definition of `kind` in `version`, or undefined when Loom has none (TrafficMetrics is not a CRD). */
export function versionDefinition(kind: ServedSmiKind, version: SmiVersion): VersionDefinition | undefined {
  return kind === 'TrafficMetrics' ? undefined : BY_KIND[kind](version);
}
