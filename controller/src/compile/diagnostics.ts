/**
 * Collects diagnostics per object, so a compile for one proxy can report exactly the problems of the
 * objects that shaped its policy, and `analyze()` can report all of them.
 */
import { compareDiagnostics, type Diagnostic, type DiagnosticCode, type ObjectRef, type Severity } from '@loom/shared/diagnostics';

export class DiagnosticBook {
  readonly #byObject = new Map<string, Diagnostic[]>();
  readonly #seen = new Set<string>();

  add(code: DiagnosticCode, severity: Severity, object: ObjectRef, message: string, field?: string): void {
    const d: Diagnostic = field === undefined ? { code, severity, object, message } : { code, severity, object, field, message };
    const dedupe = `${objectKey(object)}\u0000${code}\u0000${field ?? ''}\u0000${message}`;
    if (this.#seen.has(dedupe)) return;
    this.#seen.add(dedupe);
    const key = objectKey(object);
    const list = this.#byObject.get(key);
    if (list === undefined) this.#byObject.set(key, [d]);
    else list.push(d);
  }

  /** Diagnostics of the given objects, sorted. */
  about(objects: Iterable<ObjectRef>): Diagnostic[] {
    const out: Diagnostic[] = [];
    const done = new Set<string>();
    for (const o of objects) {
      const key = objectKey(o);
      if (done.has(key)) continue;
      done.add(key);
      const list = this.#byObject.get(key);
      if (list !== undefined) out.push(...list);
    }
    return out.sort(compareDiagnostics);
  }

  all(): Diagnostic[] {
    return [...this.#byObject.values()].flat().sort(compareDiagnostics);
  }
}

export function objectKey(o: ObjectRef): string {
  return `${o.kind}/${o.namespace}/${o.name}`;
}
