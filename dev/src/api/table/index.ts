/**
 * Server-side printing for the local API: Tables for `kubectl get` (the columns a real cluster prints),
 * PartialObjectMetadata for metadata-only clients, and the Accept negotiation that picks between them and plain
 * objects. Pure functions; server.ts wires them into get, list and watch.
 */
export { humanDuration, shortHumanDuration } from './duration.js';
export { findResults, parseTemplate, type Template } from './jsonpath.js';
export { negotiate, parseAccept, SERVED_MEDIA_TYPES, type AcceptClause, type Negotiated, type Negotiation, type NegotiationRequest } from './negotiate.js';
export { toPartialObjectMetadata, toPartialObjectMetadataList, type MetaVersion } from './partial.js';
export { includeObjectOf, toTable, type IncludeObject, type TableOptions } from './table.js';
export { watchEncoder, type WatchEncodeOptions } from './watch.js';
export type { ColumnDefinition, RowCondition } from './convertor.js';
