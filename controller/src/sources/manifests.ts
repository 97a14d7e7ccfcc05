/**
 * Manifest files → MeshSnapshot: the edge where files are read. Used by `loom why -f` and tests (and later
 * the directory source). Parsing, decoding and building are pure; only `readManifestFiles` does I/O.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { compareDiagnostics, type Diagnostic } from '@loom/shared/diagnostics';
import { decodeObject } from '@loom/shared/k8s';
import { parseManifests } from '@loom/shared/manifests';
import { buildSnapshot, type BuildOptions, type SourcedObject } from '../store/build.js';
import type { MeshSnapshot } from '../store/snapshot.js';

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

export interface ManifestFile {
  /** Path as the user should see it in messages. */
  readonly path: string;
  readonly text: string;
}

/** A path that cannot be read, with a message naming it. */
export class ManifestPathError extends Error {
  readonly code = 'MANIFEST_PATH';
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'ManifestPathError';
  }
}

/**
 * Reads files and directories (recursively: every .yaml, .yml and .json, in sorted order, hidden entries
 * skipped). A missing path or a directory without manifests is an error.
 */
export async function readManifestFiles(paths: readonly string[], cwd = process.cwd()): Promise<ManifestFile[]> {
  const out: ManifestFile[] = [];
  for (const p of paths) {
    const abs = isAbsolute(p) ? p : join(cwd, p);
    let st;
    try {
      st = await stat(abs);
    } catch {
      throw new ManifestPathError(p, 'no such file or directory');
    }
    if (st.isDirectory()) {
      const files = await listManifestFiles(abs);
      if (files.length === 0) throw new ManifestPathError(p, 'directory contains no .yaml, .yml or .json files');
      for (const f of files) out.push({ path: join(p, relative(abs, f)), text: await readFile(f, 'utf8') });
    } else {
      out.push({ path: p, text: await readFile(abs, 'utf8') });
    }
  }
  return out;
}

async function listManifestFiles(dir: string): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1));
  const out: string[] = [];
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listManifestFiles(full)));
    else if (e.isFile() && MANIFEST_FILE.test(e.name)) out.push(full);
  }
  return out;
}

export interface LoadedManifests {
  readonly snapshot: MeshSnapshot;
  /** Decoded objects in input order (for tools that need more than the snapshot, e.g. workloads). */
  readonly objects: readonly SourcedObject[];
  /** Raw objects Loom does not model (e.g. Deployments), for tools that want them. */
  readonly others: readonly { raw: unknown; source: string }[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Pure: file contents → snapshot plus every diagnostic (parse, validation, duplicates). */
export function loadManifests(files: readonly ManifestFile[], options: BuildOptions = {}): LoadedManifests {
  const diagnostics: Diagnostic[] = [];
  const objects: SourcedObject[] = [];
  const others: { raw: unknown; source: string }[] = [];
  for (const file of files) {
    const parsed = parseManifests(file.text, file.path);
    diagnostics.push(...parsed.diagnostics);
    for (const doc of parsed.objects) {
      const decoded = decodeObject(doc.raw, doc.source);
      diagnostics.push(...decoded.diagnostics);
      if (decoded.object !== undefined) objects.push({ object: decoded.object, source: doc.source });
      else if (decoded.diagnostics.length === 0) others.push({ raw: doc.raw, source: doc.source });
    }
  }
  const built = buildSnapshot(objects, options);
  diagnostics.push(...built.diagnostics);
  return { snapshot: built.snapshot, objects, others, diagnostics: diagnostics.sort(compareDiagnostics) };
}
