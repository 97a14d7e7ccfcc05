/**
 * The resource types the local API server serves: the built-in kinds Loom, kubectl and Prometheus use, and the
 * custom resources CRDs add at run time. One {@link ResourceType} per group/version/resource; discovery, routing
 * and storage all read this table. Pure data and lookups.
 */
import { byPriority } from './crd/definition.js';

export interface ResourceType {
  /** API group; '' for the core group (`/api/v1`). */
  readonly group: string;
  readonly version: string;
  /** Lower-case plural, the path segment (`pods`). */
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly string[];
  /** Whether `/status` is a subresource: the main resource then ignores status on update, `/status` only changes it. */
  readonly status: boolean;
  /** Only create (TokenReview): nothing stored, no list/get/watch. */
  readonly createOnly?: boolean;
  /**
   * A custom resource whose CRD converts versions through a webhook: objects stay in the version they were stored
   * in, and the API converts them when another version is asked for (api.ts). Otherwise only apiVersion differs.
   */
  readonly webhookConversion?: boolean;
  /** A custom resource version's `additionalPrinterColumns` (the table `kubectl get` prints); built-ins have their own printers. */
  readonly printerColumns?: readonly PrinterColumn[];
  /** The `scale` subresource: where replicas live in the object (Deployments, ReplicaSets, CRDs that declare it). */
  readonly scale?: ScaleSubresource;
}

/** One `additionalPrinterColumns` entry of a CRD version (apiextensions.k8s.io/v1 CustomResourceColumnDefinition). */
export interface PrinterColumn {
  readonly name: string;
  /** integer, number, string, boolean or date. */
  readonly type: string;
  readonly format?: string;
  readonly description?: string;
  readonly priority?: number;
  /** A simple JSONPath relative to the object (`.spec.replicas`). */
  readonly jsonPath: string;
}

/** A `scale` subresource's paths (CustomResourceSubresourceScale); JSON paths like `.spec.replicas`. */
export interface ScaleSubresource {
  readonly specReplicasPath: string;
  readonly statusReplicasPath: string;
  readonly labelSelectorPath?: string;
}

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

interface Spec {
  readonly group?: string;
  readonly version?: string;
  readonly kind: string;
  readonly plural?: string;
  readonly namespaced?: boolean;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  readonly status?: boolean;
  readonly createOnly?: boolean;
  readonly scale?: boolean;
}

/** Where apps/v1 Deployments and ReplicaSets keep replicas (their Scale is autoscaling/v1). */
const APPS_SCALE: ScaleSubresource = Object.freeze({ specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' });

function define(spec: Spec): ResourceType {
  const singular = spec.kind.toLowerCase();
  return Object.freeze({
    group: spec.group ?? '',
    version: spec.version ?? 'v1',
    plural: spec.plural ?? `${singular}s`,
    singular,
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    namespaced: spec.namespaced ?? true,
    shortNames: spec.shortNames ?? [],
    categories: spec.categories ?? [],
    verbs: spec.createOnly === true ? ['create'] : CRUD,
    status: spec.status ?? false,
    ...(spec.createOnly === true ? { createOnly: true } : {}),
    ...(spec.scale === true ? { scale: APPS_SCALE } : {}),
  });
}

/** The built-in resource types, in the order discovery lists them. */
export const BUILT_IN: readonly ResourceType[] = Object.freeze([
  define({ kind: 'Namespace', namespaced: false, shortNames: ['ns'], status: true }),
  define({ kind: 'Pod', shortNames: ['po'], categories: ['all'], status: true }),
  define({ kind: 'Service', shortNames: ['svc'], categories: ['all'], status: true }),
  define({ kind: 'Endpoints', plural: 'endpoints', shortNames: ['ep'] }),
  define({ kind: 'ServiceAccount', shortNames: ['sa'] }),
  define({ kind: 'ConfigMap', shortNames: ['cm'] }),
  define({ kind: 'Secret' }),
  define({ kind: 'Event', shortNames: ['ev'] }),
  define({ group: 'discovery.k8s.io', kind: 'EndpointSlice' }),
  define({ group: 'apps', kind: 'Deployment', shortNames: ['deploy'], categories: ['all'], status: true, scale: true }),
  define({ group: 'apps', kind: 'ReplicaSet', shortNames: ['rs'], categories: ['all'], status: true, scale: true }),
  define({ group: 'coordination.k8s.io', kind: 'Lease' }),
  define({ group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'], status: true }),
  define({ group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration', namespaced: false, categories: ['api-extensions'] }),
  define({ group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration', namespaced: false, categories: ['api-extensions'] }),
  define({ group: 'apiregistration.k8s.io', kind: 'APIService', namespaced: false, categories: ['api-extensions'], status: true }),
  define({ group: 'authentication.k8s.io', kind: 'TokenReview', namespaced: false, createOnly: true }),
  define({ group: 'authentication.k8s.io', kind: 'SelfSubjectReview', namespaced: false, createOnly: true }),
]);

/** `group/version` as `apiVersion` spells it (`v1` for the core group). */
export const apiVersionOf = (group: string, version: string): string => (group === '' ? version : `${group}/${version}`);

/** Splits an `apiVersion` into group and version. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const at = apiVersion.lastIndexOf('/');
  return at < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, at), version: apiVersion.slice(at + 1) };
}

/** Where one resource's objects are stored, whatever version they are read in: `<group>/<plural>`. */
export const storageKey = (type: Pick<ResourceType, 'group' | 'plural'>): string => `${type.group}/${type.plural}`;

/**
 * The served resource types: the built-ins plus those custom resources add. Custom resources are replaced
 * wholesale whenever a CRD changes ({@link setCustom}).
 */
export class Registry {
  #custom = new Map<string, readonly ResourceType[]>();
  #all: readonly ResourceType[] = BUILT_IN;

  get all(): readonly ResourceType[] {
    return this.#all;
  }

  /** Sets the versions a CRD (by its name) serves; an empty list removes them. */
  setCustom(crdName: string, types: readonly ResourceType[]): void {
    if (types.length === 0) this.#custom.delete(crdName);
    else this.#custom.set(crdName, types);
    this.#all = [...BUILT_IN, ...[...this.#custom.values()].flat()];
  }

  /** The type served at `group`/`version` with this plural, if any. */
  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.#all.find((r) => r.group === group && r.version === version && r.plural === plural);
  }

  /** The type of `kind` at `apiVersion`, if served. */
  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    const { group, version } = splitApiVersion(apiVersion);
    return this.#all.find((r) => r.group === group && r.version === version && r.kind === kind);
  }

  /**
   * Group → its served versions in Kubernetes' priority order (GA before beta before alpha, higher numbers first):
   * the first is the preferred version. Several CRDs of one group may serve different versions.
   */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const r of this.#all) {
      const versions = out.get(r.group) ?? [];
      if (!versions.includes(r.version)) versions.push(r.version);
      out.set(r.group, versions);
    }
    for (const [group, versions] of out) out.set(group, byPriority(versions));
    return out;
  }
}
