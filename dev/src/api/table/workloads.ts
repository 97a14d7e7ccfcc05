/**
 * Kubernetes' Deployment printer (READY `ready/desired`, UP-TO-DATE, AVAILABLE, AGE; wide CONTAINERS, IMAGES,
 * SELECTOR) and ReplicaSet printer (DESIRED, CURRENT, READY, AGE; the same wide columns). Pure.
 */
import type { KubeObject } from '../store.js';
import { column, AGE_COLUMN, NAME_COLUMN, type Convertor, type Row } from './convertor.js';
import { DOC } from './descriptions.js';
import { since } from './duration.js';
import { formatLabelSelector, selectorString } from './labels.js';
import { at, int, isRecord, list, record, str } from './value.js';

const CONTAINERS = column('Containers', 'string', 'Names of each container in the template.', { priority: 1 });
const IMAGES = column('Images', 'string', 'Images referenced by each container in the template.', { priority: 1 });

/** layoutContainerCells: the template's container names and images, comma-separated. */
function containerCells(object: KubeObject): [string, string] {
  const containers = list(at(object, 'spec', 'template', 'spec', 'containers'));
  return [containers.map((c) => str(isRecord(c) ? c['name'] : undefined)).join(','), containers.map((c) => str(isRecord(c) ? c['image'] : undefined)).join(',')];
}

function deploymentRow(deployment: KubeObject, now: Date): Row {
  const spec = record(deployment['spec']);
  const status = record(deployment['status']);
  const selector = selectorString(spec['selector']);
  return {
    cells: [
      deployment.metadata.name,
      `${int(status['readyReplicas'])}/${int(spec['replicas'])}`,
      int(status['updatedReplicas']),
      int(status['availableReplicas']),
      since(deployment.metadata['creationTimestamp'], now),
      ...containerCells(deployment),
      selector ?? '<invalid>',
    ],
  };
}

export const DEPLOYMENTS: Convertor = Object.freeze({
  columns: Object.freeze([
    NAME_COLUMN,
    column('Ready', 'string', 'Number of the pod with ready state'),
    column('Up-to-date', 'string', DOC.deploymentStatusUpdatedReplicas),
    column('Available', 'string', DOC.deploymentStatusAvailableReplicas),
    AGE_COLUMN,
    CONTAINERS,
    IMAGES,
    column('Selector', 'string', DOC.deploymentSpecSelector, { priority: 1 }),
  ]),
  row: deploymentRow,
});

function replicaSetRow(replicaSet: KubeObject, now: Date): Row {
  const spec = record(replicaSet['spec']);
  const status = record(replicaSet['status']);
  return {
    cells: [
      replicaSet.metadata.name,
      int(spec['replicas']),
      int(status['replicas']),
      int(status['readyReplicas']),
      since(replicaSet.metadata['creationTimestamp'], now),
      ...containerCells(replicaSet),
      formatLabelSelector(spec['selector']),
    ],
  };
}

export const REPLICA_SETS: Convertor = Object.freeze({
  columns: Object.freeze([
    NAME_COLUMN,
    column('Desired', 'integer', DOC.replicaSetSpecReplicas),
    column('Current', 'integer', DOC.replicaSetStatusReplicas),
    column('Ready', 'integer', DOC.replicaSetStatusReadyReplicas),
    AGE_COLUMN,
    CONTAINERS,
    IMAGES,
    column('Selector', 'string', DOC.replicaSetSpecSelector, { priority: 1 }),
  ]),
  row: replicaSetRow,
});
