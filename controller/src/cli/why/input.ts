/**
 * The manifests `loom why -f` reads: files → LoadedManifests, with unreadable paths and files that are not
 * manifests at all (YAML syntax errors, documents that are not maps) turned into one-line InputErrors.
 * Validation problems of single objects are not fatal: they stay diagnostics (printed as warnings).
 */
import { formatDiagnostic, type Diagnostic } from '@loom/shared/diagnostics';
import { loadManifests, ManifestPathError, readManifestFiles, type LoadedManifests } from '../../sources/manifests.js';

/** Bad input (manifests, names that resolve to nothing): a one-line message; the command exits 2. */
export class InputError extends Error {
  readonly code = 'INPUT';
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

export async function loadInput(paths: readonly string[], cwd?: string): Promise<LoadedManifests> {
  let files;
  try {
    files = await readManifestFiles(paths, cwd);
  } catch (e) {
    if (e instanceof ManifestPathError) throw new InputError(e.message);
    if (isErrno(e)) throw new InputError(`${e.path ?? paths.join(', ')}: cannot read (${e.code ?? 'error'}: ${firstLine(e.message)})`);
    throw e;
  }
  const loaded = loadManifests(files);
  const fatal = loaded.diagnostics.find((d) => d.object.kind === 'Manifest');
  if (fatal !== undefined) throw new InputError(describeMalformed(fatal));
  return loaded;
}

/** `examples/why/bad.yaml:3:9: YAML syntax error: ...` (or the file and document when there is no position). */
export function describeMalformed(d: Diagnostic): string {
  const m = /^line (\d+), column (\d+): ([\s\S]*)$/.exec(d.message);
  const file = d.source ?? '(input)';
  if (m !== null) return `${file}:${m[1]}:${m[2]}: YAML syntax error: ${firstLine(m[3] ?? '')}`;
  return `${file}: ${d.object.name}: ${firstLine(d.message)}`;
}

/** A diagnostic as a one-line error message, naming the file, the object and the field. */
export function describeInvalid(d: Diagnostic): string {
  return firstLine(formatDiagnostic(d));
}

function firstLine(s: string): string {
  const line = s.split('\n', 1)[0] ?? '';
  return line.trim().replace(/[.:]$/, '');
}

function isErrno(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string';
}
