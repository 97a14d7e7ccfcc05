/**
 * parseManifests: the text of a manifest file (multi-document YAML or JSON) → raw objects, in order.
 * `kind: List` and typed lists (`PodList`, ...) are expanded into their items; empty documents are skipped;
 * syntax errors become MalformedManifest diagnostics naming the file and line. Pure: no file system.
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import { DiagnosticCode } from '../diagnostics.js';
import type { Diagnostic } from '../diagnostics.js';

export interface ManifestObject {
  /** The object as parsed (validate it with `decodeObject`). */
  readonly raw: unknown;
  /** The file it came from, as passed to `parseManifests`. */
  readonly source: string;
  /** 0-based position of the object in the file, counting List items one by one. */
  readonly index: number;
}

export interface ParsedManifests {
  readonly objects: readonly ManifestObject[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Documents with more aliases than this are refused (guards against "billion laughs" expansion). */
const MAX_ALIAS_COUNT = 100;

function malformed(source: string, document: number, message: string): Diagnostic {
  return {
    code: DiagnosticCode.MalformedManifest,
    severity: 'error',
    object: { kind: 'Manifest', namespace: '', name: `document ${document}` },
    message,
    source,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** The documents of `text`: JSON when it parses as JSON, otherwise YAML (a superset with line numbers for errors). */
function documents(text: string, source: string, diagnostics: Diagnostic[]): unknown[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return [JSON.parse(text) as unknown];
    } catch {
      // Not plain JSON: YAML below reports the error with a line number (or reads YAML flow style).
    }
  }
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const out: unknown[] = [];
  docs.forEach((doc, i) => {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const { line, col } = lineCounter.linePos(err.pos[0]);
        diagnostics.push(malformed(source, i + 1, `line ${line}, column ${col}: ${err.message}`));
      }
      out.push(undefined);
      return;
    }
    try {
      out.push(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
    } catch (e) {
      diagnostics.push(malformed(source, i + 1, e instanceof Error ? e.message : String(e)));
      out.push(undefined);
    }
  });
  return out;
}

export function parseManifests(text: string, source: string): ParsedManifests {
  const diagnostics: Diagnostic[] = [];
  const objects: ManifestObject[] = [];

  const add = (raw: unknown, document: number, where: string): void => {
    if (!isRecord(raw)) {
      diagnostics.push(malformed(source, document, `${where} is ${describe(raw)}, not a Kubernetes object (a map with apiVersion, kind and metadata)`));
      return;
    }
    const kind = raw['kind'];
    if (typeof kind === 'string' && kind.endsWith('List') && 'items' in raw) {
      const items = raw['items'];
      if (items === null || items === undefined) return;
      if (!Array.isArray(items)) {
        diagnostics.push(malformed(source, document, `${where}: items must be a list, got ${describe(items)}`));
        return;
      }
      // Items of typed lists (PodList from the API) may omit apiVersion and kind.
      const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
      (items as unknown[]).forEach((item, j) => {
        const filled =
          itemKind !== undefined && isRecord(item)
            ? { ...(item['apiVersion'] === undefined ? { apiVersion: raw['apiVersion'] } : {}), ...(item['kind'] === undefined ? { kind: itemKind } : {}), ...item }
            : item;
        add(filled, document, `${where} items[${j}]`);
      });
      return;
    }
    objects.push({ raw, source, index: objects.length });
  };

  documents(text, source, diagnostics).forEach((doc, i) => {
    if (doc === undefined || doc === null) return; // empty, or already reported
    add(doc, i + 1, `document ${i + 1}`);
  });
  return { objects, diagnostics };
}
