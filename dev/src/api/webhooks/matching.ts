/**
 * Which webhooks a request goes to, as kube-apiserver decides (webhook/predicates and generic.ShouldCallHook):
 * a webhook's rules (operations, apiGroups, apiVersions, resources with `*` and `res/sub` forms, scope), its
 * matchPolicy (Equivalent: the same group and resource in another served version), its namespaceSelector (on
 * the namespace's labels; a Namespace's own labels when it is created or updated; requests for cluster-scoped
 * objects always match) and its objectSelector (the new or the old object's labels). Pure.
 */
import { matchesSelector, validateLabelSelector, type LabelSelector } from '@loom/shared/k8s';
import type { Rule, Webhook } from './config.js';

/** The request as the rules see it. */
export interface RequestTarget {
  readonly operation: string;
  readonly group: string;
  readonly version: string;
  /** The plural resource name. */
  readonly resource: string;
  /** '' when none. */
  readonly subresource: string;
  /** The request's namespace as Kubernetes sets it: '' for cluster-scoped objects, a Namespace's name for requests about it. */
  readonly namespace: string;
}

/** Group, version, resource and kind the webhook is called with (another version under matchPolicy Equivalent). */
export interface Invocation {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly subresource: string;
  readonly kind: string;
}

const exactOrWildcard = (items: readonly string[], requested: string): boolean => items.some((item) => item === '*' || item === requested);

const isNamespaceResource = (r: RequestTarget): boolean => r.group === '' && r.version === 'v1' && r.resource === 'namespaces';

function scopeMatches(scope: string, r: RequestTarget): boolean {
  switch (scope) {
    case '*':
      return true;
    case 'Namespaced':
      return !isNamespaceResource(r) && r.namespace !== '';
    case 'Cluster':
      return isNamespaceResource(r) || r.namespace === '';
    default:
      return false;
  }
}

function resourceMatches(resources: readonly string[], resource: string, subresource: string): boolean {
  return resources.some((entry) => {
    const slash = entry.indexOf('/');
    const res = slash < 0 ? entry : entry.slice(0, slash);
    const sub = slash < 0 ? '' : entry.slice(slash + 1);
    return (res === '*' || res === resource) && (sub === '*' || sub === subresource);
  });
}

/** Whether one rule of a webhook covers the request. */
export function ruleMatches(rule: Rule, r: RequestTarget): boolean {
  return (
    scopeMatches(rule.scope, r) &&
    exactOrWildcard(rule.operations, r.operation) &&
    exactOrWildcard(rule.apiGroups, r.group) &&
    exactOrWildcard(rule.apiVersions, r.version) &&
    resourceMatches(rule.resources, r.resource, r.subresource)
  );
}

/**
 * What `hook` is called with for this request, or undefined when none of its rules covers it. Under matchPolicy
 * Equivalent, a request its rules do not list is still sent in another version of the same group and resource
 * that they do list (`versions`: the versions it is served in; earlier rules first, then the order given).
 */
export function invocationFor(hook: Webhook, r: RequestTarget, kind: string, versions: readonly string[]): Invocation | undefined {
  if (hook.rules.some((rule) => ruleMatches(rule, r))) return { group: r.group, version: r.version, resource: r.resource, subresource: r.subresource, kind };
  if (hook.matchPolicy !== 'Equivalent') return undefined;
  for (const rule of hook.rules) {
    for (const version of versions) {
      if (version === r.version) continue;
      if (ruleMatches(rule, { ...r, version })) return { group: r.group, version, resource: r.resource, subresource: r.subresource, kind };
    }
  }
  return undefined;
}

/** Requests about webhook and admission policy configurations never go to webhooks (so they cannot lock themselves in). */
export function isExempt(group: string, kind: string): boolean {
  return (
    group === 'admissionregistration.k8s.io' &&
    [
      'ValidatingWebhookConfiguration',
      'MutatingWebhookConfiguration',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
      'MutatingAdmissionPolicy',
      'MutatingAdmissionPolicyBinding',
    ].includes(kind)
  );
}

/** A label selector's problem (Kubernetes' field-error wording under `path`), or null when it is valid. */
export function selectorProblem(selector: unknown, path: string): string | null {
  return validateLabelSelector(selector, path);
}

/** Whether a selector (already checked with {@link selectorProblem}) has no requirement, so selects everything. */
export function isEmptySelector(selector: unknown): boolean {
  const s = (selector ?? {}) as LabelSelector;
  return Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;
}

/** Whether a selector (already checked with {@link selectorProblem}) selects `labels`. */
export function selects(selector: unknown, labels: Readonly<Record<string, string>> | undefined): boolean {
  const s = (selector ?? {}) as LabelSelector;
  return matchesSelector(s, labels);
}
