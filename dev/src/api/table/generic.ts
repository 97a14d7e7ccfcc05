/**
 * Kubernetes' default table convertor (apiserver registry/rest/table.go), for kinds without a printer of their own
 * (CustomResourceDefinitions up to v1.36, TokenReviews...): NAME and CREATED AT, the creation time in RFC 3339. It
 * appends rows to a nil slice, so no objects give `rows: null`. Pure.
 */
import type { KubeObject } from '../store.js';
import { column, NAME_COLUMN, type Convertor, type Row } from './convertor.js';
import { DOC } from './descriptions.js';
import { formatRfc3339, timeOf } from './time.js';

export const DEFAULT_CONVERTOR: Convertor = Object.freeze({
  columns: Object.freeze([NAME_COLUMN, column('Created At', 'date', DOC.objectMetaCreationTimestamp)]),
  row: (object: KubeObject): Row => ({ cells: [object.metadata.name, formatRfc3339(timeOf(object.metadata['creationTimestamp']))] }),
  nullWithoutRows: true,
});
