/**
 * metav1.LabelSelector (`{matchLabels, matchExpressions}`): matching with Kubernetes' semantics
 * (LabelSelectorAsSelector) and validation with its messages (ValidateLabelSelector); and a Service's plain-map
 * `spec.selector`. Pure.
 */
import { aggregateErrors, fieldChild, fieldForbidden, fieldIndex, fieldInvalid, fieldRequired } from './field-errors.js';
import { labelKeyErrors, labelMapErrors, labelValueErrors } from './labels.js';
import type { LabelSelector } from './model.js';

type Labels = Readonly<Record<string, string>> | undefined;

function lookup(labels: Labels, key: string): string | undefined {
  return labels !== undefined && Object.hasOwn(labels, key) ? labels[key] : undefined;
}

/**
 * Whether `labels` satisfy `selector`: every matchLabels pair and every matchExpressions requirement (AND). An empty
 * selector selects everything; `NotIn` and `DoesNotExist` hold for a missing key. A requirement with an operator
 * Kubernetes does not know selects nothing (validation rejects such selectors before they are stored).
 */
export function matchesSelector(selector: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (lookup(labels, k) !== v) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const value = lookup(labels, req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A Service's `spec.selector` (a plain map); an empty or missing selector selects nothing. */
export function matchesServiceSelector(selector: Readonly<Record<string, string>> | undefined, labels: Labels): boolean {
  if (selector === undefined) return false;
  const entries = Object.entries(selector);
  if (entries.length === 0) return false;
  return entries.every(([k, v]) => lookup(labels, k) === v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function requirementErrors(req: unknown, path: string): string[] {
  if (!isPlainObject(req)) return [fieldInvalid(path, req, 'must be a label selector requirement (key, operator, values)')];
  const errs: string[] = [];
  const valuesPath = fieldChild(path, 'values');
  const rawValues = req['values'] ?? [];
  const values: unknown[] = Array.isArray(rawValues) ? rawValues : [];
  if (!Array.isArray(rawValues)) errs.push(fieldInvalid(valuesPath, rawValues, 'must be a list of strings'));
  const operator = req['operator'] ?? '';
  switch (operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(fieldRequired(valuesPath, "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errs.push(fieldForbidden(valuesPath, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    default:
      errs.push(fieldInvalid(fieldChild(path, 'operator'), operator, 'not a valid selector operator'));
  }
  const key = req['key'] ?? '';
  if (typeof key === 'string') errs.push(...labelKeyErrors(key).map((m) => fieldInvalid(fieldChild(path, 'key'), key, m)));
  else errs.push(fieldInvalid(fieldChild(path, 'key'), key, 'must be a string'));
  values.forEach((v, i) => {
    const at = fieldIndex(valuesPath, i);
    if (typeof v === 'string') errs.push(...labelValueErrors(v).map((m) => fieldInvalid(at, v, m)));
    else errs.push(fieldInvalid(at, v, 'must be a string'));
  });
  return errs;
}

/**
 * Every field error in a metav1.LabelSelector as decoded from JSON, with Kubernetes' wording and paths under `path`
 * (e.g. `webhooks[0].namespaceSelector`): invalid matchLabels keys/values, unknown operators, In/NotIn without values,
 * Exists/DoesNotExist with values, invalid requirement keys/values. A missing (null) selector is valid.
 */
export function labelSelectorErrors(selector: unknown, path = ''): string[] {
  if (selector === undefined || selector === null) return [];
  if (!isPlainObject(selector)) return [fieldInvalid(path, selector, 'must be a label selector (matchLabels, matchExpressions)')];
  const errs = labelMapErrors(selector['matchLabels'], fieldChild(path, 'matchLabels'));
  const exprs = selector['matchExpressions'];
  const exprsPath = fieldChild(path, 'matchExpressions');
  if (exprs === undefined || exprs === null) return errs;
  if (!Array.isArray(exprs)) return [...errs, fieldInvalid(exprsPath, exprs, 'must be a list of label selector requirements')];
  exprs.forEach((e: unknown, i) => errs.push(...requirementErrors(e, fieldIndex(exprsPath, i))));
  return errs;
}

/** `labelSelectorErrors` as one message (`[a, b]` when several, as Kubernetes aggregates them), or null when valid. */
export function validateLabelSelector(selector: unknown, path = ''): string | null {
  return aggregateErrors(labelSelectorErrors(selector, path));
}
