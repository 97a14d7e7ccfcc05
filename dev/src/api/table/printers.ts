/**
 * Which convertor prints a resource, as kube-apiserver v1.32 wires them: the built-in printers for the kinds the
 * local cluster serves, kube-aggregator's for APIServices, the CRD convertor for custom resources, and the default
 * (NAME, CREATED AT) for the rest — CustomResourceDefinitions included, which get their own printer only in v1.37.
 * Pure.
 */
import { BUILT_IN, type ResourceType } from '../registry.js';
import { API_SERVICES } from './apiservices.js';
import { CONFIG_MAPS, LEASES, NAMESPACES, SECRETS, SERVICE_ACCOUNTS, WEBHOOK_CONFIGURATIONS } from './core.js';
import type { Convertor } from './convertor.js';
import { customConvertor } from './custom.js';
import { EVENTS } from './events.js';
import { DEFAULT_CONVERTOR } from './generic.js';
import { ENDPOINT_SLICES, ENDPOINTS, SERVICES } from './network.js';
import { PODS } from './pods.js';
import { DEPLOYMENTS, REPLICA_SETS } from './workloads.js';

/** Built-in printers by `<group>/<kind>`. */
const BUILT_IN_PRINTERS: ReadonlyMap<string, Convertor> = new Map([
  ['/Namespace', NAMESPACES],
  ['/Pod', PODS],
  ['/Service', SERVICES],
  ['/Endpoints', ENDPOINTS],
  ['/ServiceAccount', SERVICE_ACCOUNTS],
  ['/ConfigMap', CONFIG_MAPS],
  ['/Secret', SECRETS],
  ['/Event', EVENTS],
  ['discovery.k8s.io/EndpointSlice', ENDPOINT_SLICES],
  ['apps/Deployment', DEPLOYMENTS],
  ['apps/ReplicaSet', REPLICA_SETS],
  ['coordination.k8s.io/Lease', LEASES],
  ['admissionregistration.k8s.io/MutatingWebhookConfiguration', WEBHOOK_CONFIGURATIONS],
  ['admissionregistration.k8s.io/ValidatingWebhookConfiguration', WEBHOOK_CONFIGURATIONS],
  ['apiregistration.k8s.io/APIService', API_SERVICES],
]);

/** Whether `type` is one of the built-in resources (every other served type comes from a CRD). */
export const isBuiltIn = (type: Pick<ResourceType, 'group' | 'version' | 'plural'>): boolean =>
  BUILT_IN.some((b) => b.group === type.group && b.version === type.version && b.plural === type.plural);

const customCache = new WeakMap<ResourceType, Convertor>();

/** The convertor of `type`. */
export function convertorFor(type: ResourceType): Convertor {
  if (isBuiltIn(type)) return BUILT_IN_PRINTERS.get(`${type.group}/${type.kind}`) ?? DEFAULT_CONVERTOR;
  let convertor = customCache.get(type);
  if (convertor === undefined) {
    convertor = customConvertor(type.printerColumns);
    customCache.set(type, convertor);
  }
  return convertor;
}
