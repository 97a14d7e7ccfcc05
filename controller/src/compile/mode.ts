/**
 * Per-pod settings from annotations (DESIGN §3, §6): enforcement mode, allow-unmeshed, opaque ports.
 * Pod annotations override namespace annotations (or labels), which override `loom-config`.
 */
import { DiagnosticCode } from '@loom/shared/diagnostics';
import { Annotations, type MeshConfig, type Namespace, type Pod } from '@loom/shared/k8s';
import type { DiagnosticBook } from './diagnostics.js';

export type Mode = 'strict' | 'permissive';

export interface PodSettings {
  readonly mode: Mode;
  readonly allowUnmeshed: boolean;
  /** Pod ports never sniffed (`loom.dev/opaque-ports`). */
  readonly opaquePorts: ReadonlySet<number>;
}

export function podSettings(pod: Pod, ns: Namespace | undefined, config: MeshConfig, book: DiagnosticBook): PodSettings {
  const nsRef = { kind: 'Namespace', namespace: '', name: pod.meta.namespace };
  const podRef = { kind: 'Pod', namespace: pod.meta.namespace, name: pod.meta.name };
  const nsMode = ns === undefined ? undefined : readMode(ns.meta.annotations[Annotations.mode] ?? ns.meta.labels[Annotations.mode], nsRef, book);
  const podMode = readMode(pod.meta.annotations[Annotations.mode], podRef, book);
  const nsAllow = ns === undefined ? undefined : readBool(ns.meta.annotations[Annotations.allowUnmeshed] ?? ns.meta.labels[Annotations.allowUnmeshed], nsRef, book);
  // Like the mode, a pod's own annotation (e.g. "false" in an allow-unmeshed namespace) overrides its namespace's.
  const allow = readBool(pod.meta.annotations[Annotations.allowUnmeshed], podRef, book) ?? nsAllow ?? false;
  const opaque = new Set<number>([
    ...(ns === undefined ? [] : readPorts(ns.meta.annotations[Annotations.opaquePorts], nsRef, book)),
    ...readPorts(pod.meta.annotations[Annotations.opaquePorts], podRef, book),
  ]);
  return {
    mode: podMode ?? nsMode ?? config.mode,
    allowUnmeshed: allow,
    opaquePorts: opaque,
  };
}

type Ref = { kind: string; namespace: string; name: string };

function readMode(value: string | undefined, object: Ref, book: DiagnosticBook): Mode | undefined {
  return readChoice(value, ['strict', 'permissive'] as const, 'strict', Annotations.mode, object, book);
}

function readBool(value: string | undefined, object: Ref, book: DiagnosticBook): boolean | undefined {
  const v = readChoice(value, ['true', 'false'] as const, 'false', Annotations.allowUnmeshed, object, book);
  return v === undefined ? undefined : v === 'true';
}

/** An annotation with a fixed set of values; anything else is reported and read as `failClosed`. */
function readChoice<T extends string>(value: string | undefined, choices: readonly T[], failClosed: T, annotation: string, object: Ref, book: DiagnosticBook): T | undefined {
  if (value === undefined) return undefined;
  if ((choices as readonly string[]).includes(value)) return value as T;
  book.add(
    DiagnosticCode.InvalidField,
    'error',
    object,
    `must be ${choices.map((c) => `"${c}"`).join(' or ')}, got ${JSON.stringify(value)}; treated as "${failClosed}" until fixed (fails closed)`,
    `metadata.annotations["${annotation}"]`,
  );
  return failClosed;
}

/** `"8080,9000-9002"` → ports. Bad entries are reported and skipped. */
export function readPorts(value: string | undefined, object: Ref, book: DiagnosticBook): number[] {
  if (value === undefined || value.trim() === '') return [];
  const out: number[] = [];
  for (const part of value.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    const lo = m?.[1] === undefined ? NaN : Number(m[1]);
    const hi = m?.[2] === undefined ? lo : Number(m[2]);
    if (!Number.isInteger(lo) || lo < 1 || hi > 65535 || hi < lo || hi - lo > 65535) {
      book.add(
        DiagnosticCode.InvalidField,
        'error',
        object,
        `must be a comma-separated list of ports or ranges (1-65535), got ${JSON.stringify(part)}`,
        `metadata.annotations["${Annotations.opaquePorts}"]`,
      );
      continue;
    }
    for (let p = lo; p <= hi; p++) out.push(p);
  }
  return out;
}
