/**
 * Kubernetes' printers for the small kinds: Namespace (STATUS), ConfigMap (DATA), Secret (TYPE, DATA),
 * ServiceAccount (SECRETS), Lease (HOLDER), Mutating/ValidatingWebhookConfiguration (WEBHOOKS), each with NAME
 * first and AGE. Pure.
 */
import type { KubeObject } from '../store.js';
import { column, AGE_COLUMN, NAME_COLUMN, type Convertor, type Row } from './convertor.js';
import { DOC } from './descriptions.js';
import { since } from './duration.js';
import { at, isRecord, list, size, str } from './value.js';

/** A printer of NAME, the given columns' cells, AGE. */
function simple(columns: readonly ReturnType<typeof column>[], cells: (object: KubeObject) => unknown[]): Convertor {
  return Object.freeze({
    columns: Object.freeze([NAME_COLUMN, ...columns, AGE_COLUMN]),
    row: (object: KubeObject, now: Date): Row => ({ cells: [object.metadata.name, ...cells(object), since(object.metadata['creationTimestamp'], now)] }),
  });
}

export const NAMESPACES = simple([column('Status', 'string', 'The status of the namespace')], (ns) => [str(at(ns, 'status', 'phase'))]);

export const CONFIG_MAPS = simple([column('Data', 'string', DOC.configMapData)], (cm) => [size(cm['data']) + size(cm['binaryData'])]);

/** A Secret's keys: `stringData` is merged into `data` when Kubernetes decodes it. */
function secretKeys(secret: KubeObject): number {
  const keys = new Set<string>();
  for (const field of ['data', 'stringData']) {
    const map = secret[field];
    if (isRecord(map)) for (const key of Object.keys(map)) keys.add(key);
  }
  return keys.size;
}

export const SECRETS = simple([column('Type', 'string', DOC.secretType), column('Data', 'string', DOC.secretData)], (secret) => [str(secret['type']), secretKeys(secret)]);

export const SERVICE_ACCOUNTS = simple([column('Secrets', 'string', DOC.serviceAccountSecrets)], (sa) => [list(sa['secrets']).length]);

export const LEASES = simple([column('Holder', 'string', DOC.leaseSpecHolderIdentity)], (lease) => [str(at(lease, 'spec', 'holderIdentity'))]);

export const WEBHOOK_CONFIGURATIONS = simple([column('Webhooks', 'integer', 'Webhooks indicates the number of webhooks registered in this configuration')], (config) => [list(config['webhooks']).length]);
