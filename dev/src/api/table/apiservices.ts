/**
 * kube-aggregator's APIService table (registry/apiservice/etcd ConvertToTable): NAME, SERVICE (`namespace/name`, or
 * `Local`), AVAILABLE (`True`, `False (Reason)`, `Unknown`), AGE. Its convertor always sends its column
 * definitions, also in watch events after the first. Pure.
 */
import type { KubeObject } from '../store.js';
import { column, AGE_COLUMN, NAME_COLUMN, type Convertor, type Row } from './convertor.js';
import { since } from './duration.js';
import { at, isRecord, list, str } from './value.js';

function available(apiService: KubeObject): string {
  const condition = list(at(apiService, 'status', 'conditions')).find((c) => isRecord(c) && c['type'] === 'Available');
  if (!isRecord(condition)) return 'Unknown';
  const status = str(condition['status']);
  const reason = str(condition['reason']);
  return status === 'True' || reason === '' ? status : `${status} (${reason})`;
}

function apiServiceRow(apiService: KubeObject, now: Date): Row {
  const service = at(apiService, 'spec', 'service');
  return {
    cells: [
      apiService.metadata.name,
      isRecord(service) ? `${str(service['namespace'])}/${str(service['name'])}` : 'Local',
      available(apiService),
      since(apiService.metadata['creationTimestamp'], now),
    ],
  };
}

export const API_SERVICES: Convertor = Object.freeze({
  columns: Object.freeze([
    NAME_COLUMN,
    column('Service', 'string', 'The reference to the service that hosts this API endpoint.'),
    column('Available', 'string', 'Whether this service is available.'),
    AGE_COLUMN,
  ]),
  row: apiServiceRow,
  ignoresNoHeaders: true,
});
