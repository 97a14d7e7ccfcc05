/**
 * Kubernetes' field-error messages (k8s.io/apimachinery/pkg/util/validation/field), so that what the local API server
 * answers with 422 reads like a real cluster's: `spec.selector: Invalid value: "-a": ...`, several joined as `[a, b]`.
 */

/** `base.name`, or `name` at the root. */
export function fieldChild(base: string, name: string): string {
  return base === '' ? name : `${base}.${name}`;
}

/** `base[i]` (a list index) or `base[key]` (a map key), as Kubernetes prints them. */
export function fieldIndex(base: string, index: number | string): string {
  return `${base}[${index}]`;
}

/** A value as Kubernetes prints it in a field error: strings quoted, everything else as JSON. */
function badValue(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function at(path: string, body: string): string {
  return path === '' ? body : `${path}: ${body}`;
}

export function fieldInvalid(path: string, value: unknown, detail: string): string {
  return at(path, `Invalid value: ${badValue(value)}: ${detail}`);
}

export function fieldRequired(path: string, detail: string): string {
  return at(path, `Required value: ${detail}`);
}

export function fieldForbidden(path: string, detail: string): string {
  return at(path, `Forbidden: ${detail}`);
}

/** Several errors as one message, the way Kubernetes aggregates them: duplicates dropped, `[a, b]` when more than one. */
export function aggregateErrors(errors: readonly string[]): string | null {
  const unique = [...new Set(errors)];
  if (unique.length === 0) return null;
  if (unique.length === 1) return unique[0] ?? null;
  return `[${unique.join(', ')}]`;
}
