/**
 * Label maps and label selectors as Kubernetes prints them: `labels.FormatLabels` (a Service's selector, sorted
 * `k=v` pairs, `<none>` when empty) and `LabelSelectorAsSelector(...).String()` (requirements sorted by key,
 * `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`). Pure.
 */
import { compareGo, sortedGo } from './go.js';
import { isRecord, list, str } from './value.js';

/** `labels.FormatLabels`: `a=1,b=2` in key order, `<none>` for an empty or missing map. */
export function formatLabels(map: unknown): string {
  if (!isRecord(map)) return '<none>';
  const text = Object.keys(map)
    .sort(compareGo)
    .map((k) => `${k}=${str(map[k])}`)
    .join(',');
  return text === '' ? '<none>' : text;
}

const OPERATORS: Record<string, { readonly text: string; readonly values: 'some' | 'none' }> = {
  In: { text: ' in ', values: 'some' },
  NotIn: { text: ' notin ', values: 'some' },
  Exists: { text: '', values: 'none' },
  DoesNotExist: { text: '', values: 'none' },
};

/**
 * A metav1.LabelSelector as its selector string: '' for a missing selector (Nothing) and for an empty one
 * (Everything), undefined when it cannot be converted (an unknown operator, `In` without values, `Exists` with
 * values). Label key and value syntax is not checked again: stored selectors were validated.
 */
export function selectorString(selector: unknown): string | undefined {
  if (!isRecord(selector)) return '';
  const parts: { key: string; text: string }[] = [];
  const matchLabels = isRecord(selector['matchLabels']) ? selector['matchLabels'] : {};
  for (const [key, value] of Object.entries(matchLabels)) parts.push({ key, text: `${key}=${str(value)}` });
  for (const expr of list(selector['matchExpressions'])) {
    const key = str(isRecord(expr) ? expr['key'] : undefined);
    const operator = str(isRecord(expr) ? expr['operator'] : undefined);
    const values = list(isRecord(expr) ? expr['values'] : undefined).map(str);
    const op = Object.hasOwn(OPERATORS, operator) ? OPERATORS[operator] : undefined;
    if (op === undefined) return undefined;
    if (op.values === 'some' && values.length === 0) return undefined;
    if (op.values === 'none' && values.length > 0) return undefined;
    if (op.values === 'none') parts.push({ key, text: operator === 'DoesNotExist' ? `!${key}` : key });
    else {
      const ordered = values.length === 1 ? values : sortedGo(values);
      parts.push({ key, text: `${key}${op.text}(${ordered.join(',')})` });
    }
  }
  return parts
    .sort((a, b) => compareGo(a.key, b.key))
    .map((p) => p.text)
    .join(',');
}

/** `metav1.FormatLabelSelector`: the selector string, `<none>` when empty, `<error>` when it cannot be converted. */
export function formatLabelSelector(selector: unknown): string {
  const text = selectorString(selector);
  if (text === undefined) return '<error>';
  return text === '' ? '<none>' : text;
}
