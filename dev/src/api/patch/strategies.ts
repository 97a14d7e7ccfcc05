// The strategic merge patch schemas of the built-in kinds the local cluster serves, transcribed
// from the `patchStrategy`/`patchMergeKey` tags of the Kubernetes 1.32 Go API types
// (k8s.io/api core/v1, apps/v1 and admissionregistration/v1 types.go, k8s.io/apimachinery's
// meta/v1 ObjectMeta, apiextensions-apiserver's and kube-aggregator's v1 types). kubectl computes
// the patches it sends from the same tags, so these must agree with them exactly: a list missing
// here is replaced as a whole by what is, for kubectl, only the changed elements.
//
// Lists without a tag are replaced as a whole, for instance a Pod's tolerations, readinessGates and
// container statuses, a Service's externalIPs, an Endpoints' subsets, an EndpointSlice's endpoints
// and ports, a CustomResourceDefinition's versions (and so everything in their schemas), a
// Namespace's spec.finalizers. Maps without a tag (labels, annotations, nodeSelector, data) merge.

import type { PatchSchema } from './strategic.js';

function mergeBy(mergeKey: string, items?: PatchSchema): PatchSchema {
  return { strategy: 'merge', mergeKey, ...(items === undefined ? {} : { items }) };
}

/** A list of primitives merged as a set. */
const set: PatchSchema = { strategy: 'merge' };

/** ObjectMeta: finalizers merge as a set, ownerReferences by uid; labels and annotations are maps. */
const objectMeta: PatchSchema = {
  fields: {
    finalizers: set,
    ownerReferences: mergeBy('uid'),
  },
};

/** A kind with nothing to merge but its metadata. */
const metadataOnly: PatchSchema = { fields: { metadata: objectMeta } };

/** Container and EphemeralContainerCommon. */
const container: PatchSchema = {
  fields: {
    ports: mergeBy('containerPort'),
    env: mergeBy('name'),
    volumeMounts: mergeBy('mountPath'),
    volumeDevices: mergeBy('devicePath'),
  },
};

const podSpec: PatchSchema = {
  fields: {
    volumes: { strategy: 'merge,retainKeys', mergeKey: 'name' },
    initContainers: mergeBy('name', container),
    containers: mergeBy('name', container),
    ephemeralContainers: mergeBy('name', container),
    imagePullSecrets: mergeBy('name'),
    hostAliases: mergeBy('ip'),
    topologySpreadConstraints: mergeBy('topologyKey'),
    schedulingGates: mergeBy('name'),
    resourceClaims: { strategy: 'merge,retainKeys', mergeKey: 'name' },
  },
};

const podStatus: PatchSchema = {
  fields: {
    conditions: mergeBy('type'),
    hostIPs: mergeBy('ip'),
    podIPs: mergeBy('ip'),
    resourceClaimStatuses: { strategy: 'merge,retainKeys', mergeKey: 'name' },
  },
};

const podTemplateSpec: PatchSchema = { fields: { metadata: objectMeta, spec: podSpec } };

/** A status whose only merge list is `conditions`, by type. */
const conditionsByType: PatchSchema = { fields: { conditions: mergeBy('type') } };

const pod: PatchSchema = { fields: { metadata: objectMeta, spec: podSpec, status: podStatus } };

const deployment: PatchSchema = {
  fields: {
    metadata: objectMeta,
    spec: { fields: { template: podTemplateSpec, strategy: { strategy: 'retainKeys' } } },
    status: conditionsByType,
  },
};

const replicaSet: PatchSchema = {
  fields: { metadata: objectMeta, spec: { fields: { template: podTemplateSpec } }, status: conditionsByType },
};

const service: PatchSchema = {
  fields: { metadata: objectMeta, spec: { fields: { ports: mergeBy('port') } }, status: conditionsByType },
};

const serviceAccount: PatchSchema = { fields: { metadata: objectMeta, secrets: mergeBy('name') } };

const namespace: PatchSchema = { fields: { metadata: objectMeta, status: conditionsByType } };

/** MutatingWebhookConfiguration and ValidatingWebhookConfiguration. */
const webhookConfiguration: PatchSchema = {
  fields: { metadata: objectMeta, webhooks: mergeBy('name', { fields: { matchConditions: mergeBy('name') } }) },
};

const apiService: PatchSchema = { fields: { metadata: objectMeta, status: conditionsByType } };

const schemas: ReadonlyMap<string, PatchSchema> = new Map([
  ['Pod', pod],
  ['Deployment', deployment],
  ['ReplicaSet', replicaSet],
  ['Service', service],
  ['ServiceAccount', serviceAccount],
  ['Namespace', namespace],
  ['ConfigMap', metadataOnly],
  ['Secret', metadataOnly],
  ['Endpoints', metadataOnly],
  ['EndpointSlice', metadataOnly],
  ['Lease', metadataOnly],
  ['Event', metadataOnly],
  ['MutatingWebhookConfiguration', webhookConfiguration],
  ['ValidatingWebhookConfiguration', webhookConfiguration],
  ['CustomResourceDefinition', metadataOnly],
  ['APIService', apiService],
  ['Scale', metadataOnly],
]);

/** The kinds patchSchemaFor knows, in no particular order. */
export const strategicMergePatchKinds: readonly string[] = [...schemas.keys()];

/**
 * The strategic merge patch schema of a built-in kind, or undefined for any other kind (custom
 * resources), for which the API server answers a strategic merge patch with 415 Unsupported Media
 * Type, as Kubernetes does.
 */
export function patchSchemaFor(kind: string): PatchSchema | undefined {
  return schemas.get(kind);
}
