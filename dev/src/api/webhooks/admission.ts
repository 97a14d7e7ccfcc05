/**
 * Admission webhooks, called as kube-apiserver calls them (webhook/mutating and webhook/validating dispatchers):
 *
 * - `mutate`: the mutating webhooks in order (configurations by name, then their webhooks), each seeing the
 *   object as the ones before left it; a JSONPatch answer is applied. When a webhook changed the object, the
 *   earlier webhooks with reinvocationPolicy IfNeeded are called once more, in a second round.
 * - `validate`: the validating webhooks all at once; when several refuse, the first in calling order decides.
 *
 * A webhook that cannot be called or answers nonsense fails the request with a 500 (failurePolicy Fail) or is
 * skipped and logged (Ignore). A denial is the webhook's own status (`admission webhook "<name>" denied the
 * request: <message>`). A dry run is refused by webhooks with side effects. Requests about webhook
 * configurations themselves are never sent to webhooks.
 *
 * Not done as Kubernetes does: matchConditions (CEL) are not evaluated — a webhook with them is called as if they
 * held, and a warning is logged once per webhook; under matchPolicy Equivalent, an object is converted to the
 * matched version by changing its apiVersion only, unless the caller supplies `convert`.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '@loom/shared/runtime';
import { applyJsonPatch, PatchError } from '../patch/index.js';
import { ApiError } from '../status.js';
import type { KubeObject } from '../store.js';
import { postJson, webhookTarget, WebhookCallError, WebhookConfigError, type ResolveService } from './client.js';
import { webhooksOf, type Webhook } from './config.js';
import { AdmissionError, deniedError, dryRunUnsupported, internalError, quote, WebhookCallFailure } from './errors.js';
import { invocationFor, isEmptySelector, isExempt, selectorProblem, selects, type Invocation, type RequestTarget } from './matching.js';
import {
  admissionReview,
  NO_KNOWN_REVIEW_VERSION,
  ReviewDecodeError,
  ReviewInvalidError,
  reviewVersionOf,
  verifyAdmissionResponse,
  type AdmissionResponse,
  type UserInfo,
} from './review.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** One API request, as admission sees it. */
export interface AdmissionAttributes {
  readonly operation: Operation;
  readonly group: string;
  readonly version: string;
  /** The plural resource name (`pods`). */
  readonly resource: string;
  readonly kind: string;
  readonly subresource?: string;
  /** The request's namespace; for a Namespace itself leave it out (it is derived as Kubernetes does). */
  readonly namespace?: string;
  /** The object's name ('' when generateName is still to pick it). */
  readonly name: string;
  /** The new object (CREATE, UPDATE); none for DELETE. */
  readonly object?: KubeObject;
  /** The stored object (UPDATE, DELETE). */
  readonly oldObject?: KubeObject;
  readonly dryRun: boolean;
  readonly userInfo: UserInfo;
  /** CreateOptions / UpdateOptions / DeleteOptions / PatchOptions as sent; a minimal one is made when absent. */
  readonly options?: unknown;
  readonly namespaced: boolean;
}

export interface AdmissionOptions {
  /** The stored webhook configurations (read at every request). */
  configurations(): { mutating: readonly KubeObject[]; validating: readonly KubeObject[] };
  /** A namespace's labels; undefined when it does not exist. */
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
  readonly resolveService: ResolveService;
  readonly log: Logger;
  /** Milliseconds, for the durations logged. */
  readonly now?: () => number;
  /** The uid of each AdmissionReview (random UUIDs by default). */
  readonly uid?: () => string;
  /** The versions a group/resource is served in (matchPolicy Equivalent); only the requested one when absent. */
  readonly versions?: (group: string, resource: string) => readonly string[];
  /** Converts an object to another version of its kind (matchPolicy Equivalent); by default only apiVersion changes. */
  readonly convert?: (object: KubeObject, apiVersion: string) => Promise<KubeObject> | KubeObject;
  /** Responses larger than this are refused (client.ts' default when absent). */
  readonly maxResponseBytes?: number;
}

export interface MutateResult<T extends KubeObject | undefined = KubeObject> {
  readonly object: T;
  readonly warnings: string[];
}

interface Call {
  readonly hook: Webhook;
  readonly invocation: Invocation;
}

const apiVersionOf = (group: string, version: string): string => (group === '' ? version : `${group}/${version}`);
const labelsOf = (object: KubeObject | undefined): Readonly<Record<string, string>> | undefined => object?.metadata.labels;
const clone = <T>(value: T): T => structuredClone(value);

/** Warnings in the order they came, each once (as Kubernetes' warning recorder keeps them). */
class Warnings {
  readonly #seen = new Set<string>();
  readonly list: string[] = [];
  add(warnings: readonly string[]): void {
    for (const w of warnings) {
      const text = w.trim();
      if (text === '' || this.#seen.has(text)) continue;
      this.#seen.add(text);
      this.list.push(text);
    }
  }
}

export class Admission {
  readonly #options: AdmissionOptions;
  readonly #now: () => number;
  readonly #uid: () => string;
  /** Webhooks already warned about (matchConditions not evaluated). */
  readonly #warned = new Set<string>();

  constructor(options: AdmissionOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#uid = options.uid ?? randomUUID;
  }

  /**
   * Runs the mutating webhooks on a request with an object (CREATE, UPDATE); returns the object they left (a copy,
   * `attrs.object` is not changed) and their warnings. Throws an {@link AdmissionError} (an ApiError) when the
   * request is refused. A request without an object goes to {@link mutateWithoutObject} (a TypeError here).
   */
  async mutate(attrs: AdmissionAttributes): Promise<MutateResult> {
    if (attrs.object === undefined) throw new TypeError(`mutate needs the request's object (a ${attrs.operation} of ${attrs.resource} has none): call mutateWithoutObject`);
    const { object, warnings } = await this.#mutate(attrs);
    return { object: object ?? clone(attrs.object), warnings };
  }

  /**
   * Runs the mutating webhooks on a request without an object (DELETE, CONNECT), as Kubernetes does: they see
   * `object: null` (and the stored object as `oldObject`) and may refuse, but not patch. Returns their warnings.
   */
  async mutateWithoutObject(attrs: AdmissionAttributes): Promise<{ warnings: string[] }> {
    const { warnings } = await this.#mutate(withoutObject(attrs));
    return { warnings };
  }

  async #mutate(attrs: AdmissionAttributes): Promise<MutateResult<KubeObject | undefined>> {
    const warnings = new Warnings();
    let object = attrs.object === undefined ? undefined : clone(attrs.object);
    if (isExempt(attrs.group, attrs.kind)) return { object, warnings: [] };
    const hooks = webhooksOf(this.#options.configurations().mutating, 'mutating');
    // Reinvocation: IfNeeded webhooks called before a change are called again in a second (and last) round.
    const previous = new Set<string>();
    const reinvoke = new Set<string>();
    let reinvokeRound = false;
    for (const round of [0, 1]) {
      if (round === 1 && !reinvokeRound) break;
      for (const hook of hooks) {
        const current: AdmissionAttributes = { ...attrs, ...(object === undefined ? {} : { object }) };
        const invocation = this.#shouldCall(hook, current, warnings);
        if (invocation === undefined) continue;
        if (round === 1 && !reinvoke.has(hook.uid)) continue;
        let changed = false;
        let failure: unknown;
        const hookWarnings: string[] = [];
        try {
          const result = await this.#callMutating({ hook, invocation }, current, hookWarnings);
          changed = result.changed;
          object = result.object;
        } catch (err) {
          failure = err ?? new Error('unknown failure');
        }
        warnings.add(hookWarnings);
        if (changed) {
          for (const uid of previous) reinvoke.add(uid);
          previous.clear();
          reinvokeRound = true;
        }
        if (hook.reinvocationPolicy === 'IfNeeded') previous.add(hook.uid);
        if (failure !== undefined) this.#failOrIgnore(hook, failure, warnings, round);
      }
    }
    return { object, warnings: warnings.list };
  }

  /**
   * Runs the validating webhooks on the (mutated) request, all at once; returns their warnings. Throws an
   * {@link AdmissionError} with the first refusal in calling order.
   */
  async validate(attrs: AdmissionAttributes): Promise<{ warnings: string[] }> {
    if (isExempt(attrs.group, attrs.kind)) return { warnings: [] };
    const warnings = new Warnings();
    const calls: Call[] = [];
    for (const hook of webhooksOf(this.#options.configurations().validating, 'validating')) {
      const invocation = this.#shouldCall(hook, attrs, warnings);
      if (invocation !== undefined) calls.push({ hook, invocation });
    }
    const outcomes = await Promise.all(
      calls.map(async (call) => {
        const hookWarnings: string[] = [];
        try {
          await this.#callValidating(call, attrs, hookWarnings);
          return { hookWarnings, failure: undefined };
        } catch (failure) {
          return { hookWarnings, failure: failure ?? new Error('unknown failure') };
        }
      }),
    );
    for (const { hookWarnings } of outcomes) warnings.add(hookWarnings);
    let refusal: ApiError | undefined;
    outcomes.forEach(({ failure }, i) => {
      const hook = calls[i]?.hook;
      if (failure === undefined || hook === undefined) return;
      try {
        this.#failOrIgnore(hook, failure, warnings, 0);
      } catch (err) {
        if (refusal === undefined && err instanceof ApiError) refusal = err;
        else this.#options.log.warn({ event: 'webhook.rejected', webhook: hook.name, reason: err instanceof Error ? err.message : String(err) }, 'another validating webhook also refused the request');
      }
    });
    if (refusal !== undefined) throw refusal;
    return { warnings: warnings.list };
  }

  /** Ignore: log and go on; otherwise throw what the request fails with. */
  #failOrIgnore(hook: Webhook, failure: unknown, warnings: Warnings, round: number): void {
    if (failure instanceof WebhookCallFailure) {
      if (hook.failurePolicy === 'Ignore') {
        this.#options.log.warn({ event: 'webhook.failed_open', webhook: hook.name, configuration: hook.configuration, round, reason: failure.message }, 'failed calling webhook, failing open');
        return;
      }
      this.#options.log.warn({ event: 'webhook.failed_closed', webhook: hook.name, configuration: hook.configuration, round, reason: failure.message }, 'failed calling webhook, failing closed');
      throw new AdmissionError(internalError(failure.message), [...warnings.list]);
    }
    if (failure instanceof ApiError) throw new AdmissionError(failure, [...warnings.list]);
    throw new AdmissionError(internalError(failure instanceof Error ? failure.message : String(failure)), [...warnings.list]);
  }

  /** The request as the rules see it: Kubernetes' namespace (a Namespace's own name for requests about it, except creation). */
  #target(attrs: AdmissionAttributes): RequestTarget {
    return {
      operation: attrs.operation,
      group: attrs.group,
      version: attrs.version,
      resource: attrs.resource,
      subresource: attrs.subresource ?? '',
      namespace: namespaceOf(attrs),
    };
  }

  /** generic.ShouldCallHook: selectors, then rules; a selector's error counts only when the rules match. */
  #shouldCall(hook: Webhook, attrs: AdmissionAttributes, warnings: Warnings): Invocation | undefined {
    const target = this.#target(attrs);
    const namespaceMatch = this.#matchNamespace(hook, attrs, target);
    if (namespaceMatch === false) return undefined;
    const objectMatch = matchObject(hook, attrs);
    if (objectMatch === false) return undefined;
    const versions = this.#options.versions?.(attrs.group, attrs.resource) ?? [attrs.version];
    const invocation = invocationFor(hook, target, attrs.kind, versions);
    if (invocation === undefined) return undefined;
    if (namespaceMatch !== true) throw new AdmissionError(namespaceMatch, [...warnings.list]);
    if (objectMatch !== true) throw new AdmissionError(objectMatch, [...warnings.list]);
    if (hook.matchConditions > 0 && !this.#warned.has(hook.uid)) {
      this.#warned.add(hook.uid);
      this.#options.log.warn(
        { event: 'webhook.match_conditions_ignored', webhook: hook.name, configuration: hook.configuration },
        'matchConditions are not evaluated by the local cluster: the webhook is called as if they held',
      );
    }
    return invocation;
  }

  #matchNamespace(hook: Webhook, attrs: AdmissionAttributes, target: RequestTarget): boolean | ApiError {
    if (target.namespace === '' && attrs.resource !== 'namespaces') return true; // cluster-scoped objects are never excluded
    const problem = selectorProblem(hook.namespaceSelector, 'namespaceSelector');
    if (problem !== null) return internalError(problem);
    if (isEmptySelector(hook.namespaceSelector)) return true;
    let labels: Readonly<Record<string, string>> | undefined;
    if (attrs.resource === 'namespaces' && (attrs.subresource ?? '') === '' && (attrs.operation === 'CREATE' || attrs.operation === 'UPDATE')) {
      labels = labelsOf(attrs.object);
    } else {
      labels = this.#options.namespaceLabels(target.namespace);
      if (labels === undefined) return new ApiError(404, 'NotFound', `namespaces ${quote(target.namespace)} not found`, { name: target.namespace, kind: 'namespaces' });
    }
    return selects(hook.namespaceSelector, labels);
  }

  async #versioned(object: KubeObject | undefined, apiVersion: string): Promise<KubeObject | undefined> {
    if (object === undefined || object['apiVersion'] === apiVersion) return object;
    const convert = this.#options.convert;
    if (convert === undefined) return { ...clone(object), apiVersion };
    return clone(await convert(clone(object), apiVersion));
  }

  /** Sends the review and checks the answer; throws WebhookCallFailure, or ApiError for a refusal. */
  async #ask(call: Call, attrs: AdmissionAttributes, object: KubeObject | undefined, oldObject: KubeObject | undefined, warnings: string[]): Promise<AdmissionResponse> {
    const { hook, invocation } = call;
    if (attrs.dryRun) {
      if (hook.sideEffects === undefined) throw new WebhookCallFailure(hook.name, 'Webhook SideEffects is nil');
      if (hook.sideEffects !== 'None' && hook.sideEffects !== 'NoneOnDryRun') throw dryRunUnsupported(hook.name);
    }
    const version = reviewVersionOf(hook.admissionReviewVersions);
    if (version === undefined) throw new WebhookCallFailure(hook.name, `could not create admission objects: ${NO_KNOWN_REVIEW_VERSION}`);
    if (hook.problem !== undefined) throw new WebhookCallFailure(hook.name, `could not get REST client: ${hook.problem}`);
    let target;
    try {
      target = webhookTarget(hook.clientConfig);
    } catch (err) {
      if (err instanceof WebhookConfigError) throw new WebhookCallFailure(hook.name, `could not get REST client: ${err.message}`);
      throw err;
    }
    const uid = this.#uid();
    const review = admissionReview(version, {
      uid,
      invocation,
      requested: { group: attrs.group, version: attrs.version, resource: attrs.resource, subresource: attrs.subresource ?? '', kind: attrs.kind },
      name: attrs.name,
      namespace: namespaceOf(attrs),
      operation: attrs.operation,
      userInfo: attrs.userInfo,
      object,
      oldObject,
      dryRun: attrs.dryRun,
      options: attrs.options ?? defaultOptions(attrs),
    });
    const started = this.#now();
    let answer: unknown;
    try {
      answer = await postJson(target, review, {
        timeoutSeconds: hook.timeoutSeconds,
        resolveService: this.#options.resolveService,
        ...(this.#options.maxResponseBytes === undefined ? {} : { maxResponseBytes: this.#options.maxResponseBytes }),
      });
    } catch (err) {
      if (err instanceof WebhookCallError) throw new WebhookCallFailure(hook.name, `failed to call webhook: ${err.message}`);
      throw err;
    }
    this.#options.log.debug({ event: 'webhook.called', webhook: hook.name, type: hook.type, uid, ms: this.#now() - started }, 'called webhook');
    let response;
    try {
      response = verifyAdmissionResponse(version, uid, hook.type === 'mutating', answer);
    } catch (err) {
      if (err instanceof ReviewDecodeError) throw new WebhookCallFailure(hook.name, `failed to call webhook: ${err.message}`);
      if (err instanceof ReviewInvalidError) throw new WebhookCallFailure(hook.name, `received invalid webhook response: ${err.message}`);
      throw err;
    }
    warnings.push(...response.warnings);
    if (!response.allowed) throw deniedError(hook.name, response.status);
    return response;
  }

  async #callValidating(call: Call, attrs: AdmissionAttributes, warnings: string[]): Promise<void> {
    const apiVersion = apiVersionOf(call.invocation.group, call.invocation.version);
    const object = await this.#versioned(attrs.object, apiVersion);
    const oldObject = await this.#versioned(attrs.oldObject, apiVersion);
    await this.#ask(call, attrs, object, oldObject, warnings);
  }

  async #callMutating(call: Call, attrs: AdmissionAttributes, warnings: string[]): Promise<{ object: KubeObject | undefined; changed: boolean }> {
    const { hook, invocation } = call;
    const before = attrs.object;
    const apiVersion = apiVersionOf(invocation.group, invocation.version);
    const object = await this.#versioned(before, apiVersion);
    const oldObject = await this.#versioned(attrs.oldObject, apiVersion);
    const response = await this.#ask(call, attrs, object, oldObject, warnings);
    if (response.patch === undefined) return { object: before, changed: false };
    let operations: unknown;
    try {
      operations = JSON.parse(response.patch.toString('utf8')) as unknown;
    } catch (err) {
      throw new WebhookCallFailure(hook.name, `received undecodable patch in webhook response: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!Array.isArray(operations)) throw new WebhookCallFailure(hook.name, 'received undecodable patch in webhook response: json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    if (operations.length === 0) return { object: before, changed: false };
    if (object === undefined) throw internalError(`admission webhook ${quote(hook.name)} attempted to modify the object, which is not supported for this operation`);
    if (response.patchType !== 'JSONPatch') throw new WebhookCallFailure(hook.name, `unsupported patch type ${quote(response.patchType ?? '')}`);
    let patched: unknown;
    try {
      patched = applyJsonPatch(object, operations);
    } catch (err) {
      if (err instanceof PatchError) throw internalError(err.message);
      throw err;
    }
    const checked = checkPatched(hook.name, object, patched);
    const back = await this.#versioned(checked, apiVersionOf(attrs.group, attrs.version));
    return { object: back, changed: !isDeepStrictEqual(back, before) };
  }
}

function withoutObject(attrs: AdmissionAttributes): AdmissionAttributes {
  const copy: { -readonly [K in keyof AdmissionAttributes]?: AdmissionAttributes[K] } = { ...attrs };
  delete copy.object;
  return copy as AdmissionAttributes;
}

/** The request's namespace as Kubernetes has it ('' for cluster-scoped objects). */
function namespaceOf(attrs: AdmissionAttributes): string {
  if (attrs.group === '' && attrs.resource === 'namespaces') return attrs.namespace ?? (attrs.operation === 'CREATE' ? '' : attrs.name);
  return attrs.namespaced ? (attrs.namespace ?? '') : '';
}

/** objectSelector: the new or the old object's labels; true, false, or the 500 of a malformed selector. */
function matchObject(hook: Webhook, attrs: AdmissionAttributes): boolean | ApiError {
  const problem = selectorProblem(hook.objectSelector, 'objectSelector');
  if (problem !== null) return internalError(problem);
  if (isEmptySelector(hook.objectSelector)) return true;
  const matches = (o: KubeObject | undefined): boolean => o !== undefined && selects(hook.objectSelector, labelsOf(o));
  return matches(attrs.object) || matches(attrs.oldObject);
}

/** The options object Kubernetes sends when the caller passed none. */
function defaultOptions(attrs: AdmissionAttributes): Record<string, unknown> | null {
  const kind = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions', CONNECT: undefined }[attrs.operation];
  if (kind === undefined) return null;
  return { kind, apiVersion: 'meta.k8s.io/v1', ...(attrs.dryRun ? { dryRun: ['All'] } : {}) };
}

/** A patched object must still be an object of the same kind, name and namespace (a webhook may not move it). */
function checkPatched(webhook: string, before: KubeObject, patched: unknown): KubeObject {
  const refuse = (what: string): never => {
    throw internalError(`admission webhook ${quote(webhook)} attempted to ${what}, which is not supported`);
  };
  if (typeof patched !== 'object' || patched === null || Array.isArray(patched)) return refuse('replace the object with something that is not an object');
  const after = patched as Record<string, unknown>;
  const meta = after['metadata'];
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return refuse('remove the object\'s metadata');
  const m = meta as Record<string, unknown>;
  const show = (v: unknown): string => (typeof v === 'string' ? quote(v) : String(JSON.stringify(v)));
  for (const field of ['apiVersion', 'kind'] as const) {
    if (after[field] !== before[field]) refuse(`change the object's ${field} from ${show(before[field])} to ${show(after[field])}`);
  }
  const name = before.metadata.name ?? '';
  if (name !== '' && m['name'] !== name) refuse(`change metadata.name from ${show(name)} to ${show(m['name'])}`);
  if ((m['namespace'] ?? '') !== (before.metadata.namespace ?? '')) refuse(`change metadata.namespace from ${show(before.metadata.namespace ?? '')} to ${show(m['namespace'] ?? '')}`);
  return after as KubeObject;
}
