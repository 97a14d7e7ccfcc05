/**
 * The API's request pipeline over {@link Objects}, in kube-apiserver's order: decode and default → mutating
 * admission webhooks → schema pruning/defaulting/validation (custom resources) and the kind's validation →
 * validating admission webhooks → storage. Custom resources whose CRD converts through a webhook are stored in the
 * storage version and converted on the way in and out. Everything async lives here; objects.ts stays synchronous
 * (the in-process controllers and the pod runner use it directly, as Kubernetes' controllers bypass nothing but
 * webhooks do not apply to them either: they are trusted writers of the local cluster).
 */
import { applyPatch, type Objects, type PatchType, type PropagationPolicy, type Selection } from './objects.js';
import { applyScale, scaleOf } from './scale.js';
import { apiVersionOf, type ResourceType } from './registry.js';
import { badRequest } from './status.js';
import type { KubeObject } from './store.js';

export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  /** What the authenticator adds (a ServiceAccount token's pod name and uid, credential id). */
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export interface RequestContext {
  readonly user: UserInfo;
  readonly dryRun: boolean;
  readonly fieldValidation: FieldValidation;
}

/** What admission webhooks see of a request (webhooks/admission.ts). */
export interface AdmissionAttributes {
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE';
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly kind: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name: string;
  readonly namespaced: boolean;
  readonly object?: KubeObject;
  readonly oldObject?: KubeObject;
  readonly dryRun: boolean;
  readonly userInfo: { username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> };
  readonly options?: unknown;
}

export interface AdmissionPort {
  mutate(attrs: AdmissionAttributes): Promise<{ object: KubeObject; warnings: string[] }>;
  /** Mutating webhooks of a request without an object (DELETE): they are called, and may only refuse. */
  mutateWithoutObject(attrs: AdmissionAttributes): Promise<{ warnings: string[] }>;
  validate(attrs: AdmissionAttributes): Promise<{ warnings: string[] }>;
}

/** Custom resources' schemas and conversion (custom.ts). */
export interface CustomResourcesPort {
  /** Whether `type` is a custom resource whose objects are stored in another version through a conversion webhook. */
  storageType(type: ResourceType): ResourceType | undefined;
  /** Objects (in any served version of the resource) converted to `type`'s version. */
  convert(type: ResourceType, objects: KubeObject[]): Promise<KubeObject[]>;
  /** Prunes unknown fields, applies defaults and validates against the version's schema (only the status for /status); returns warnings. */
  admit(type: ResourceType, object: KubeObject, fieldValidation: FieldValidation, subresource?: string): string[];
}

export interface Result {
  readonly object: KubeObject;
  readonly warnings: readonly string[];
}

const FIELD_VALIDATION = new Set<string>(['Ignore', 'Warn', 'Strict']);

/** The `fieldValidation` query parameter (default Warn, as Kubernetes since 1.27). */
export function fieldValidationOf(value: string | null): FieldValidation {
  if (value === null || value === '') return 'Warn';
  if (!FIELD_VALIDATION.has(value)) throw badRequest(`fieldValidation: Unsupported value: "${value}": supported values: "Ignore", "Strict", "Warn"`);
  return value as FieldValidation;
}

/** A user as JSON (AdmissionReview's and SelfSubjectReview's `userInfo`): extra keys sorted, empty parts left out. */
export function userInfoJson(user: UserInfo): { username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> } {
  const extra = Object.entries(user.extra ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    username: user.username,
    ...(user.uid === undefined ? {} : { uid: user.uid }),
    groups: [...user.groups],
    ...(extra.length === 0 ? {} : { extra: Object.fromEntries(extra.map(([k, v]) => [k, [...v]])) }),
  };
}

export class Api {
  readonly objects: Objects;
  readonly #admission: AdmissionPort | undefined;
  readonly #custom: CustomResourcesPort | undefined;

  constructor(objects: Objects, ports: { admission?: AdmissionPort; custom?: CustomResourcesPort } = {}) {
    this.objects = objects;
    this.#admission = ports.admission;
    this.#custom = ports.custom;
  }

  /** Objects as `type`'s version serves them (converted when stored in another). */
  async served(type: ResourceType, objects: KubeObject[]): Promise<KubeObject[]> {
    const expected = apiVersionOf(type.group, type.version);
    if (this.#custom === undefined || objects.every((o) => o['apiVersion'] === expected)) return objects;
    return this.#custom.convert(type, objects);
  }

  async #one(type: ResourceType, object: KubeObject): Promise<KubeObject> {
    const [converted] = await this.served(type, [object]);
    return converted ?? object;
  }

  async get(type: ResourceType, namespace: string | undefined, name: string): Promise<KubeObject> {
    return this.#one(type, this.objects.get(type, namespace, name));
  }

  async list(type: ResourceType, namespace: string | undefined, selection: Selection): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const { items, resourceVersion } = this.objects.list(type, namespace, selection);
    return { items: await this.served(type, items), resourceVersion };
  }

  async create(type: ResourceType, namespace: string | undefined, body: unknown, ctx: RequestContext): Promise<Result> {
    const prepared = this.objects.prepareCreate(type, namespace, body);
    const { object, warnings } = await this.#admit(type, 'CREATE', prepared, undefined, undefined, ctx);
    const storage = this.#custom?.storageType(type);
    if (storage === undefined) return { object: this.objects.commitCreate(type, object, ctx.dryRun), warnings };
    const [stored] = await this.#custom!.convert(storage, [object]);
    const created = this.objects.commitCreate(storage, stored ?? object, ctx.dryRun);
    return { object: await this.#one(type, created), warnings };
  }

  async update(type: ResourceType, namespace: string | undefined, name: string, body: unknown, subresource: string | undefined, ctx: RequestContext): Promise<Result> {
    return this.#change(type, namespace, name, subresource, ctx, (current) => this.objects.prepareUpdate(type, current, body, subresource));
  }

  async patch(type: ResourceType, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, subresource: string | undefined, ctx: RequestContext): Promise<Result> {
    return this.#change(type, namespace, name, subresource, ctx, (current) => this.objects.preparePatch(type, current, patchType, patch, subresource));
  }

  async #change(type: ResourceType, namespace: string | undefined, name: string, subresource: string | undefined, ctx: RequestContext, prepare: (current: KubeObject) => KubeObject): Promise<Result> {
    const stored = this.objects.get(type, namespace, name);
    const current = await this.#one(type, stored);
    const next = prepare(current);
    const { object, warnings } = await this.#admit(type, 'UPDATE', next, current, subresource, ctx);
    const storage = this.#custom?.storageType(type);
    if (storage === undefined) return { object: this.objects.commitUpdate(type, stored, object, ctx.dryRun), warnings };
    const [converted] = await this.#custom!.convert(storage, [object]);
    const updated = this.objects.commitUpdate(storage, stored, converted ?? object, ctx.dryRun);
    return { object: await this.#one(type, updated), warnings };
  }

  /** The object's `scale` subresource (autoscaling/v1 Scale). */
  async getScale(type: ResourceType, namespace: string | undefined, name: string): Promise<KubeObject> {
    return scaleOf(type, await this.get(type, namespace, name));
  }

  /** PUT of a Scale: the object's replicas set (its schema still applies to custom resources). */
  async updateScale(type: ResourceType, namespace: string | undefined, name: string, body: unknown, ctx: RequestContext): Promise<Result> {
    return this.#scale(type, namespace, name, ctx, () => body);
  }

  /** PATCH of a Scale (kubectl scale sends a merge patch of spec.replicas); a strategic merge patch merges like JSON (Scale has no lists). */
  async patchScale(type: ResourceType, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, ctx: RequestContext): Promise<Result> {
    return this.#scale(type, namespace, name, ctx, (scale) => applyPatch(scale, patchType, patch, {}));
  }

  /**
   * Admission webhooks are not called for `scale` (rules naming `<resource>/scale` would see an autoscaling/v1
   * Scale; nothing in Loom registers such a rule).
   */
  async #scale(type: ResourceType, namespace: string | undefined, name: string, ctx: RequestContext, change: (scale: KubeObject) => unknown): Promise<Result> {
    const stored = this.objects.get(type, namespace, name);
    const current = await this.#one(type, stored);
    const requested = change(scaleOf(type, current));
    const next = this.objects.prepareUpdate(type, current, applyScale(type, current, requested), undefined);
    const warnings = this.#custom?.admit(type, next, ctx.fieldValidation) ?? [];
    const storage = this.#custom?.storageType(type);
    let updated: KubeObject;
    if (storage === undefined) updated = this.objects.commitUpdate(type, stored, next, ctx.dryRun);
    else {
      const [converted] = await this.#custom!.convert(storage, [next]);
      updated = await this.#one(type, this.objects.commitUpdate(storage, stored, converted ?? next, ctx.dryRun));
    }
    return { object: scaleOf(type, updated), warnings };
  }

  async delete(type: ResourceType, namespace: string | undefined, name: string, options: { propagation?: PropagationPolicy; uid?: string; resourceVersion?: string }, ctx: RequestContext): Promise<Result> {
    const current = await this.get(type, namespace, name);
    let warnings: string[] = [];
    if (this.#admission !== undefined) {
      const attrs = this.#attributes(type, 'DELETE', undefined, current, undefined, ctx);
      warnings = (await this.#admission.mutateWithoutObject(attrs)).warnings;
      warnings.push(...(await this.#admission.validate(attrs)).warnings);
    }
    const gone = this.objects.delete(type, namespace, name, { ...options, dryRun: ctx.dryRun });
    return { object: await this.#one(type, gone), warnings };
  }

  async deleteCollection(type: ResourceType, namespace: string | undefined, selection: Selection, propagation: PropagationPolicy | undefined, ctx: RequestContext): Promise<Result[]> {
    const { items } = this.objects.list(type, namespace, selection);
    const out: Result[] = [];
    for (const item of items) {
      out.push(await this.delete(type, item.metadata.namespace, item.metadata.name, propagation === undefined ? {} : { propagation }, ctx));
    }
    return out;
  }

  async #admit(type: ResourceType, operation: 'CREATE' | 'UPDATE', object: KubeObject, old: KubeObject | undefined, subresource: string | undefined, ctx: RequestContext): Promise<Result> {
    const warnings: string[] = [];
    let current = object;
    if (this.#admission !== undefined) {
      const mutated = await this.#admission.mutate(this.#attributes(type, operation, current, old, subresource, ctx));
      current = mutated.object;
      warnings.push(...mutated.warnings);
    }
    if (this.#custom !== undefined) warnings.push(...this.#custom.admit(type, current, ctx.fieldValidation, subresource));
    if (this.#admission !== undefined) warnings.push(...(await this.#admission.validate(this.#attributes(type, operation, current, old, subresource, ctx))).warnings);
    return { object: current, warnings };
  }

  #attributes(type: ResourceType, operation: AdmissionAttributes['operation'], object: KubeObject | undefined, old: KubeObject | undefined, subresource: string | undefined, ctx: RequestContext): AdmissionAttributes {
    const subject = object ?? old;
    // A Namespace object's own name is the request's namespace; the admission code derives that itself.
    const namespace = type.namespaced ? subject?.metadata.namespace : undefined;
    return {
      operation,
      group: type.group,
      version: type.version,
      resource: type.plural,
      kind: type.kind,
      name: subject?.metadata.name ?? '',
      namespaced: type.namespaced,
      dryRun: ctx.dryRun,
      userInfo: userInfoJson(ctx.user),
      ...(subresource === undefined ? {} : { subresource }),
      ...(namespace === undefined ? {} : { namespace }),
      ...(object === undefined ? {} : { object }),
      ...(old === undefined ? {} : { oldObject: old }),
    };
  }
}
