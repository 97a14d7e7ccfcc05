/**
 * HTTP route matching (HTTPRouteGroup matches), shared by inbound authorization and TrafficSplit `matches`.
 *
 * Regexes are compiled once, by `compileRoute`, when a policy is prepared; matching never constructs a RegExp.
 * Semantics (DESIGN §6, smi-reference §3.3 #3-#5):
 * - the path is matched without its query string, after `normalizePath`;
 * - `pathRegex` is anchored at the start, `^(?:re)` (`pathMatch: prefix`, the SMI default) or at both ends,
 *   `^(?:re)$` (`pathMatch: full`); `null` = any path;
 * - `methods` `null` (or containing `*`) = any method, else the upper-cased request method must be listed;
 * - every header must be present (lower-cased name) and its whole value must match `^(?:v)$`;
 * - a regex that does not compile makes its route never match (the compiler reports it); nothing here throws.
 */
import type { HttpRoute, MeshSettings } from './model.js';

export type PathMatch = MeshSettings['pathMatch'];

/** The parts of an HTTP request that routes look at. */
export interface HttpRequestView {
  readonly method: string;
  /** Request target as received: origin-form `/a/b?q`, or absolute-form `http://host/a/b?q`. */
  readonly path: string;
  /** Header lookup by lower-cased name (several values joined the way the caller's HTTP stack joins them). */
  readonly headers: (name: string) => string | undefined;
}

/** An HttpRoute with its regexes compiled. */
export interface CompiledRoute {
  readonly route: HttpRoute;
  /** `null` = any path. */
  readonly path: RegExp | null;
  /** `null` = any method. */
  readonly methods: ReadonlySet<string> | null;
  readonly headers: readonly { readonly name: string; readonly value: RegExp }[];
  /** A regex of this route did not compile: the route never matches. */
  readonly invalid: boolean;
}

/** Compiles `source` as `prefix + (?:source) + suffix`; `null` when it does not compile or could escape its group. */
function compileAnchored(source: string, suffix: '' | '$'): RegExp | null {
  try {
    // Compiling the source alone first rejects unbalanced input such as `a)|(b`, which would otherwise
    // escape the `(?:...)` group and drop the anchor for one alternative.
    new RegExp(source);
    return new RegExp(`^(?:${source})${suffix}`);
  } catch {
    return null;
  }
}

export function compileRoute(route: HttpRoute, pathMatch: PathMatch): CompiledRoute {
  let invalid = false;
  let path: RegExp | null = null;
  if (route.pathRegex !== null) {
    path = compileAnchored(route.pathRegex, pathMatch === 'full' ? '$' : '');
    if (path === null) invalid = true;
  }
  const methods = route.methods === null || route.methods.includes('*') ? null : new Set(route.methods.map((m) => m.toUpperCase()));
  const headers: { name: string; value: RegExp }[] = [];
  for (const h of route.headers) {
    const value = compileAnchored(h.value, '$');
    if (value === null) invalid = true;
    else headers.push({ name: h.name.toLowerCase(), value });
  }
  return Object.freeze({ route, path, methods, headers: Object.freeze(headers), invalid });
}

/** True when `c` matches a request whose method is already upper-cased and whose path is normalized. */
export function matchCompiled(c: CompiledRoute, method: string, path: string, headers: HttpRequestView['headers']): boolean {
  if (c.invalid) return false;
  if (c.methods !== null && !c.methods.has(method)) return false;
  if (c.path !== null && !c.path.test(path)) return false;
  for (const h of c.headers) {
    const v = headers(h.name);
    if (v === undefined || !h.value.test(v)) return false;
  }
  return true;
}

/** The first of `routes` matching the request, or -1. Normalizes the request once. */
export function findRoute(routes: readonly CompiledRoute[], req: HttpRequestView): number {
  if (routes.length === 0) return -1;
  const method = req.method.toUpperCase();
  const path = normalizePath(req.path);
  for (let i = 0; i < routes.length; i++) {
    if (matchCompiled(routes[i]!, method, path, req.headers)) return i;
  }
  return -1;
}

/** Convenience for one-off checks (tests, `loom why`): compiles, so never use it per request. */
export function matchRoute(route: HttpRoute, pathMatch: PathMatch, req: HttpRequestView): boolean {
  return findRoute([compileRoute(route, pathMatch)], req) === 0;
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * The path routes are matched against:
 * - the query string (from the first `?`) is removed;
 * - absolute-form targets (`http://host/p`) lose scheme and authority (`/p`);
 * - percent-encoded unreserved characters are decoded (`%2e` → `.`, RFC 3986 §6.2.2.2), other escapes kept
 *   as written (`%2F` stays, so an encoded slash never becomes a path separator);
 * - dot segments are removed (RFC 3986 §5.2.4), so `/public/../admin` is matched as `/admin`: an
 *   application that resolves dot segments can not be reached outside the allowed prefix.
 * Paths without `?`, `%` or `.` are returned as they are (no allocation).
 */
export function normalizePath(raw: string): string {
  let path = raw;
  const q = path.indexOf('?');
  if (q !== -1) path = path.slice(0, q);
  if (path.length > 0 && path.charCodeAt(0) !== 47 /* / */) {
    const scheme = path.indexOf('://');
    if (scheme !== -1) {
      const slash = path.indexOf('/', scheme + 3);
      path = slash === -1 ? '/' : path.slice(slash);
    }
  }
  if (path.includes('%')) path = decodeUnreserved(path);
  if (path.includes('.')) path = removeDotSegments(path);
  return path;
}

function decodeUnreserved(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (escape: string, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : escape.toUpperCase();
  });
}

function removeDotSegments(path: string): string {
  const segments = path.split('/');
  // A path without a `.` or `..` segment is already normal.
  if (!segments.some((s) => s === '.' || s === '..')) return path;
  const out: string[] = [];
  const absolute = path.startsWith('/');
  for (let i = absolute ? 1 : 0; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..' && out.length > 0) out.pop();
      // A trailing dot segment leaves a directory path: `/a/b/..` → `/a/`.
      if (last) out.push('');
      continue;
    }
    out.push(s);
  }
  return (absolute ? '/' : '') + out.join('/');
}

/** A short human description of a route, for reasons: `GET,HEAD /orders(/.*)? [x-beta: ^on$]`. */
export function describeRoute(route: HttpRoute): string {
  const methods = route.methods === null || route.methods.includes('*') ? '*' : route.methods.join(',');
  const path = route.pathRegex ?? '(any path)';
  const headers = route.headers.length === 0 ? '' : ` [${route.headers.map((h) => `${h.name}: ${h.value}`).join(', ')}]`;
  return `${methods} ${path}${headers}`;
}
