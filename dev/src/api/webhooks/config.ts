/**
 * The webhooks of admissionregistration.k8s.io/v1 Mutating- and ValidatingWebhookConfigurations, in the order
 * kube-apiserver calls them (configurations sorted by name, then each one's webhooks in order), with v1's
 * defaults applied to what the stored object leaves out (failurePolicy Fail, matchPolicy Equivalent, empty
 * selectors, timeoutSeconds 10, reinvocationPolicy Never, rule scope `*`).
 *
 * Decoding is lenient, as the API already validated what it stored: a malformed rule matches nothing; a webhook
 * whose call settings are unusable (timeoutSeconds out of range; clientConfig and caBundle are checked when
 * calling) carries a `problem` and fails per its failurePolicy when it would be called.
 */
import type { KubeObject } from '../store.js';
import { DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS } from './client.js';

export type WebhookType = 'mutating' | 'validating';

export interface Rule {
  readonly operations: readonly string[];
  readonly apiGroups: readonly string[];
  readonly apiVersions: readonly string[];
  readonly resources: readonly string[];
  /** `*` (default), `Cluster` or `Namespaced`. */
  readonly scope: string;
}

export interface Webhook {
  /** `<configuration>/<webhook>/<index>`, as Kubernetes identifies a webhook (reinvocation tracks these). */
  readonly uid: string;
  readonly configuration: string;
  readonly name: string;
  readonly type: WebhookType;
  readonly clientConfig: unknown;
  readonly rules: readonly Rule[];
  readonly failurePolicy: 'Fail' | 'Ignore';
  readonly matchPolicy: 'Exact' | 'Equivalent';
  /** metav1.LabelSelector as stored (validated when used). */
  readonly namespaceSelector: unknown;
  readonly objectSelector: unknown;
  readonly sideEffects: string | undefined;
  readonly timeoutSeconds: number;
  readonly admissionReviewVersions: readonly string[];
  readonly reinvocationPolicy: 'Never' | 'IfNeeded';
  /** How many CEL matchConditions it has (they are not evaluated here). */
  readonly matchConditions: number;
  /** Why it cannot be called; it then fails per failurePolicy. */
  readonly problem?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/** Every webhook of `configurations`, in calling order. */
export function webhooksOf(configurations: readonly KubeObject[], type: WebhookType): Webhook[] {
  const sorted = [...configurations].sort((a, b) => compare(a.metadata.name, b.metadata.name));
  const hooks: Webhook[] = [];
  for (const configuration of sorted) {
    const entries = configuration['webhooks'];
    if (!Array.isArray(entries)) continue;
    entries.forEach((entry: unknown, index) => {
      if (isRecord(entry)) hooks.push(decodeWebhook(configuration.metadata.name, index, entry, type));
    });
  }
  return hooks;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function decodeWebhook(configuration: string, index: number, raw: Record<string, unknown>, type: WebhookType): Webhook {
  const name = typeof raw['name'] === 'string' ? raw['name'] : '';
  const timeout = raw['timeoutSeconds'] ?? DEFAULT_TIMEOUT_SECONDS;
  const validTimeout = typeof timeout === 'number' && Number.isInteger(timeout) && timeout >= 1 && timeout <= MAX_TIMEOUT_SECONDS;
  const sideEffects = raw['sideEffects'];
  const conditions = raw['matchConditions'];
  return {
    uid: `${configuration}/${name}/${index}`,
    configuration,
    name,
    type,
    clientConfig: raw['clientConfig'],
    rules: Array.isArray(raw['rules']) ? raw['rules'].filter(isRecord).map(decodeRule) : [],
    failurePolicy: raw['failurePolicy'] === 'Ignore' ? 'Ignore' : 'Fail',
    matchPolicy: raw['matchPolicy'] === 'Exact' ? 'Exact' : 'Equivalent',
    namespaceSelector: raw['namespaceSelector'] ?? {},
    objectSelector: raw['objectSelector'] ?? {},
    sideEffects: typeof sideEffects === 'string' ? sideEffects : undefined,
    timeoutSeconds: validTimeout ? timeout : DEFAULT_TIMEOUT_SECONDS,
    admissionReviewVersions: strings(raw['admissionReviewVersions']),
    reinvocationPolicy: type === 'mutating' && raw['reinvocationPolicy'] === 'IfNeeded' ? 'IfNeeded' : 'Never',
    matchConditions: Array.isArray(conditions) ? conditions.length : 0,
    ...(validTimeout ? {} : { problem: `timeoutSeconds: Invalid value: ${JSON.stringify(timeout)}: the timeout value must be between 1 and ${MAX_TIMEOUT_SECONDS} seconds` }),
  };
}

function decodeRule(raw: Record<string, unknown>): Rule {
  return {
    operations: strings(raw['operations']),
    apiGroups: strings(raw['apiGroups']),
    apiVersions: strings(raw['apiVersions']),
    resources: strings(raw['resources']),
    scope: typeof raw['scope'] === 'string' ? raw['scope'] : '*',
  };
}
