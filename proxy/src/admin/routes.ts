/**
 * Which admin endpoint a request is for (the URL scheme is documented in `server.ts`). Pure: method and raw
 * request target in, a route out; the server does the I/O.
 */

export type AdminEndpoint = 'live' | 'ready' | 'metrics' | 'config' | 'log-level';

export type AdminRoute =
  | { readonly kind: AdminEndpoint; readonly query: URLSearchParams }
  /** Forward an HTTP(S) GET to the application: `path` is the path and query to request, as received. */
  | { readonly kind: 'probe-http'; readonly scheme: 'http' | 'https'; readonly port: number; readonly path: string }
  /** Check that the application accepts TCP connections on `port`. */
  | { readonly kind: 'probe-tcp'; readonly port: number }
  | { readonly kind: 'bad-request'; readonly reason: string }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'method-not-allowed'; readonly allow: readonly string[] };

const READ = Object.freeze(['GET', 'HEAD']);
const READ_WRITE = Object.freeze(['GET', 'HEAD', 'PUT', 'POST']);

const ENDPOINTS: ReadonlyMap<string, { readonly kind: AdminEndpoint; readonly methods: readonly string[] }> = new Map([
  ['/live', { kind: 'live', methods: READ }],
  ['/ready', { kind: 'ready', methods: READ }],
  ['/metrics', { kind: 'metrics', methods: READ }],
  ['/config', { kind: 'config', methods: READ }],
  ['/log-level', { kind: 'log-level', methods: READ_WRITE }],
]);

const PROBE = /^\/probe\/(https?|tcp)\/([^/?]*)(.*)$/s;

/** `method` and the raw request target (`req.url`, origin-form). */
export function routeAdmin(method: string, target: string): AdminRoute {
  if (target.startsWith('/probe/')) return routeProbe(method, target);
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  const endpoint = ENDPOINTS.get(path);
  if (endpoint === undefined) return { kind: 'not-found' };
  if (!endpoint.methods.includes(method)) return { kind: 'method-not-allowed', allow: endpoint.methods };
  return { kind: endpoint.kind, query: new URLSearchParams(queryAt === -1 ? '' : target.slice(queryAt + 1)) };
}

function routeProbe(method: string, target: string): AdminRoute {
  const match = PROBE.exec(target);
  if (match === null) return { kind: 'not-found' };
  const [, scheme, portText, rest] = match as unknown as [string, 'http' | 'https' | 'tcp', string, string];
  if (!READ.includes(method)) return { kind: 'method-not-allowed', allow: READ };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65_535)) return { kind: 'bad-request', reason: `probe port ${JSON.stringify(portText)} is not a port (1-65535)` };
  if (scheme === 'tcp') {
    if (rest !== '' && rest !== '/') return { kind: 'bad-request', reason: 'a TCP probe takes no path: /probe/tcp/<port>' };
    return { kind: 'probe-tcp', port };
  }
  // `/probe/http/8080` and `/probe/http/8080/` both ask for `/`; a query right after the port keeps it.
  const path = rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
  return { kind: 'probe-http', scheme, port, path };
}
