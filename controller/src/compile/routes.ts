/**
 * HTTPRouteGroup matches → HttpRoute (the evaluable form in ProxyPolicy). Pure.
 * Regexes are checked here once, so proxies never receive one that does not compile (it would be dropped
 * with an InvalidRegex diagnostic: the match then admits nothing, i.e. fails closed).
 */
import { DiagnosticCode, type ObjectRef } from '@loom/shared/diagnostics';
import type { HttpRoute } from '@loom/shared/policy';
import type { HTTPMatch, HTTPRouteGroup } from '@loom/shared/smi';
import type { DiagnosticBook } from './diagnostics.js';

/**
 * SMI regexes are RE2 (Go). Accept the RE2 spellings JavaScript lacks: `(?P<name>` named groups and a leading
 * `(?flags)` (turned into a modifier group). RE2 syntax that JavaScript would silently read differently (`\A`,
 * `\z`, `\Q...\E`, `\pL`, `\x{...}`, POSIX classes `[[:digit:]]`, `]` first in a class) is refused rather than
 * passed on with another meaning. Returns the JavaScript source, or an error message.
 */
export function toJsRegex(source: string): { ok: true; source: string } | { ok: false; error: string } {
  const scanned = translateRe2(source);
  if (!scanned.ok) return scanned;
  let js = scanned.source;
  const flags = /^\(\?([imsU]+)\)/.exec(js);
  if (flags !== null) {
    const f = flags[1] ?? '';
    if (f.includes('U')) return { ok: false, error: 'RE2 flag U (ungreedy) has no JavaScript equivalent' };
    js = `(?${f}:${js.slice(flags[0].length)})`;
  }
  try {
    new RegExp(js);
    new RegExp(`^(?:${js})$`);
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  return { ok: true, source: js };
}

/** RE2 escapes JavaScript (without the `u` flag) reads as plain letters. */
const RE2_ONLY_ESCAPES = new Set(['A', 'z', 'Q', 'E', 'p', 'P', 'C', 'a']);

/** One pass over the RE2 source: `(?P<` → `(?<` outside classes; RE2-only syntax → an error. */
function translateRe2(source: string): { ok: true; source: string } | { ok: false; error: string } {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] ?? '';
    if (c === '\\') {
      const e = source[i + 1] ?? '';
      if (RE2_ONLY_ESCAPES.has(e) || (e === 'x' && source[i + 2] === '{')) return { ok: false, error: `RE2 escape \\${e} has no JavaScript equivalent` };
      out += c + e;
      i++;
    } else if (inClass) {
      if (c === '[' && source[i + 1] === ':') return { ok: false, error: 'RE2 POSIX classes such as [[:digit:]] have no JavaScript equivalent' };
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      const negated = source[i + 1] === '^';
      if (source[i + (negated ? 2 : 1)] === ']') return { ok: false, error: 'RE2 reads "]" first in a character class as a literal, JavaScript does not; write \\] instead' };
      out += negated ? '[^' : '[';
      if (negated) i++;
    } else if (source.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else {
      out += c;
    }
  }
  return { ok: true, source: out };
}

function groupRef(g: HTTPRouteGroup): ObjectRef {
  return { kind: 'HTTPRouteGroup', namespace: g.meta.namespace, name: g.meta.name, apiVersion: g.origin.apiVersion };
}

/** One match → HttpRoute, or `null` when a regex is invalid (reported). */
export function compileMatch(group: HTTPRouteGroup, match: HTTPMatch, index: number, book: DiagnosticBook): HttpRoute | null {
  let pathRegex: string | null = null;
  if (match.pathRegex !== undefined) {
    const r = toJsRegex(match.pathRegex);
    if (!r.ok) {
      book.add(DiagnosticCode.InvalidRegex, 'error', groupRef(group), `invalid regex ${JSON.stringify(match.pathRegex)}: ${r.error}; match "${match.name}" admits nothing`, `spec.matches[${index}].pathRegex`);
      return null;
    }
    pathRegex = r.source;
  }
  const headers: { name: string; value: string }[] = [];
  for (const [h, header] of (match.headers ?? []).entries()) {
    const r = toJsRegex(header.value);
    if (!r.ok) {
      book.add(DiagnosticCode.InvalidRegex, 'error', groupRef(group), `invalid regex ${JSON.stringify(header.value)} for header "${header.name}": ${r.error}; match "${match.name}" admits nothing`, `spec.matches[${index}].headers[${h}]`);
      return null;
    }
    headers.push({ name: header.name.toLowerCase(), value: r.source });
  }
  headers.sort((a, b) => cmp(a.name, b.name) || cmp(a.value, b.value));
  return {
    route: { kind: 'HTTPRouteGroup', namespace: group.meta.namespace, name: group.meta.name, match: match.name },
    pathRegex,
    methods: normaliseMethods(match.methods),
    headers,
  };
}

/** `undefined`, empty or containing `*` → any method (`null`); otherwise sorted, upper-case, unique. */
export function normaliseMethods(methods: readonly string[] | undefined): string[] | null {
  if (methods === undefined || methods.length === 0) return null;
  const upper = methods.map((m) => m.toUpperCase());
  if (upper.includes('*')) return null;
  return [...new Set(upper)].sort();
}

/**
 * The routes a TrafficTarget rule or TrafficSplit match selects from a group: all its matches, or the named ones.
 * Unknown names are reported as dangling references (`referrer` names the object that asked for them).
 */
export function selectRoutes(
  group: HTTPRouteGroup,
  names: readonly string[] | undefined,
  referrer: ObjectRef,
  field: string,
  book: DiagnosticBook,
): HttpRoute[] {
  const out: HttpRoute[] = [];
  if (names === undefined) {
    group.matches.forEach((m, i) => {
      const r = compileMatch(group, m, i, book);
      if (r !== null) out.push(r);
    });
    return out;
  }
  for (const name of names) {
    const i = group.matches.findIndex((m) => m.name === name);
    const m = group.matches[i];
    if (m === undefined) {
      book.add(DiagnosticCode.DanglingReference, 'error', referrer, `HTTPRouteGroup ${group.meta.namespace}/${group.meta.name} has no match named "${name}"; it admits nothing`, field);
      continue;
    }
    const r = compileMatch(group, m, i, book);
    if (r !== null) out.push(r);
  }
  return out;
}

export function compareRoutes(a: HttpRoute, b: HttpRoute): number {
  return (
    cmp(a.route.namespace, b.route.namespace) ||
    cmp(a.route.name, b.route.name) ||
    cmp(a.route.match ?? '', b.route.match ?? '') ||
    cmp(a.pathRegex ?? '', b.pathRegex ?? '') ||
    cmp(JSON.stringify(a.methods), JSON.stringify(b.methods)) ||
    cmp(JSON.stringify(a.headers), JSON.stringify(b.headers))
  );
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
