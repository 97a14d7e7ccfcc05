/**
 * Header conversions on both proxies' HTTP paths, the one place connection-specific fields are filtered (RFC 9110
 * §7.6.1; RFC 9113 §8.2.2). Pure functions over node's raw header arrays (`[name, value, name, value, ...]`, order,
 * case and duplicates kept) for requests node:http parsed, and over parsed header objects (lower-case names,
 * repeated fields as arrays) for what node:http2 and the HTTP/1 client (`h1-client`) deliver.
 *
 * - requests: HTTP/1 → HTTP/2 (an application's HTTP/1 request carried over `loom.h2`), HTTP/2 → HTTP/1 (the other
 *   proxy turning it back for its application), HTTP/2 → HTTP/2 (h2c, gRPC), HTTP/1 → HTTP/1 (to an HTTP/1
 *   upstream), and the raw head of a tunnelled (Upgrade, CONNECT) request;
 * - responses: HTTP/1 (as `h1-client` parses it) → HTTP/2 or HTTP/1, HTTP/2 → HTTP/1.
 *
 * `Expect` is never forwarded on a proxied request: node:http has already answered `100 Continue` to the client
 * (it does when the server has no `checkContinue` listener), so the upstream must not be asked again.
 */
import type { OutgoingHttpHeaders, IncomingHttpHeaders } from 'node:http';
import { ORIG_PROTO_HEADER } from '../wire.js';

/** Connection-specific fields, never forwarded (`host` is handled apart: it becomes or comes from `:authority`). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/** Fields a proxied HTTP/1 request never carries onward, besides `Connection`-listed ones. */
const REQUEST_DROPPED = new Set([...HOP_BY_HOP, 'expect', ORIG_PROTO_HEADER]);

/** Adds the names a `Connection` value lists (hop-by-hop too) to `tokens`, lower-case. */
function addTokens(value: string, tokens: Set<string> | null): Set<string> | null {
  for (const t of value.split(',')) {
    const name = t.trim().toLowerCase();
    if (name !== '' && name !== 'close' && name !== 'keep-alive') (tokens ??= new Set()).add(name);
  }
  return tokens;
}

/** Names listed in `Connection` fields of a raw list; null when none (the common case allocates nothing). */
function rawConnectionTokens(raw: readonly string[]): Set<string> | null {
  let tokens: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 10 && name.toLowerCase() === 'connection') tokens = addTokens(raw[i + 1]!, tokens);
  }
  return tokens;
}

/** Names listed in a parsed `connection` field; null when none. */
function parsedConnectionTokens(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null;
  if (typeof value === 'string') return addTokens(value, null);
  let tokens: Set<string> | null = null;
  for (const v of value) tokens = addTokens(v, tokens);
  return tokens;
}

/**
 * An HTTP/1 request's headers as HTTP/2 request headers: pseudo-headers from the request line and Host,
 * hop-by-hop fields, `Connection`-listed ones and `Expect` dropped (`te: trailers` kept), the original HTTP
 * version recorded in `loom-orig-proto`.
 */
export function h1RequestToH2(method: string, url: string, httpVersion: string, rawHeaders: readonly string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': method, ':scheme': 'http', ':path': url, [ORIG_PROTO_HEADER]: `HTTP/${httpVersion}` };
  const extra = rawConnectionTokens(rawHeaders);
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (name === 'host') {
      out[':authority'] = value;
      continue;
    }
    if (name === 'te') {
      if (value.toLowerCase().includes('trailers')) out.te = 'trailers';
      continue;
    }
    if (REQUEST_DROPPED.has(name) || (extra !== null && extra.has(name))) continue;
    appendHeader(out, name, value);
  }
  return out;
}

/**
 * An HTTP/1 request's raw headers for an HTTP/1.1 upstream: Host and everything else kept in order and case;
 * hop-by-hop fields, `Connection`-listed ones, `Expect` and `loom-orig-proto` dropped.
 */
export function h1RequestToH1(raw: readonly string[]): string[] {
  const out: string[] = [];
  const extra = rawConnectionTokens(raw);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (REQUEST_DROPPED.has(lower) || (extra !== null && extra.has(lower))) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}

/** HTTP/2 request headers as an HTTP/1.1 header list for the application: `:authority` → Host, pseudo-headers and `loom-orig-proto` dropped. */
export function h2RequestToH1(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  const authority = headers[':authority'];
  if (typeof authority === 'string') out.push('host', authority);
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ':' */ || name === ORIG_PROTO_HEADER || name === 'host' || HOP_BY_HOP.has(name)) continue;
    pushValues(out, name, headers[name]);
  }
  return out;
}

/** HTTP/2 request headers forwarded as HTTP/2 to the application (gRPC): `loom-orig-proto` and connection headers dropped. */
export function h2RequestToH2(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (name === ORIG_PROTO_HEADER || (HOP_BY_HOP.has(name) && name !== 'te') || name === 'host') continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  if (out[':authority'] === undefined && typeof headers.host === 'string') out[':authority'] = headers.host;
  return out;
}

/** An HTTP/1 response's headers (as `h1-client` parses them) as HTTP/2 response headers. */
export function h1ResponseToH2(statusCode: number, headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':status': statusCode };
  const extra = parsedConnectionTokens(headers.connection);
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || (extra !== null && extra.has(name))) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** An HTTP/1 response's headers (as `h1-client` parses them) as a flat `[name, value, ...]` list for `writeHead` (framing is the server's). */
export function h1ResponseToH1(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  const extra = parsedConnectionTokens(headers.connection);
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || (extra !== null && extra.has(name))) continue;
    pushValues(out, name, headers[name]);
  }
  return out;
}

/** HTTP/2 response headers as an HTTP/1.1 header list (pseudo-headers dropped). */
export function h2ResponseToH1(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 || HOP_BY_HOP.has(name)) continue;
    pushValues(out, name, headers[name]);
  }
  return out;
}

/** The head of an HTTP/1 request as received (headers in order), for carrying an Upgrade/CONNECT request byte for byte. */
export function requestHead(method: string, target: string, httpVersion: string, raw: readonly string[]): string {
  let head = `${method} ${target} HTTP/${httpVersion}\r\n`;
  for (let i = 0; i < raw.length; i += 2) head += `${raw[i]!}: ${raw[i + 1]!}\r\n`;
  return `${head}\r\n`;
}

function appendHeader(out: OutgoingHttpHeaders, name: string, value: string): void {
  const prev = out[name];
  if (prev === undefined) out[name] = value;
  else if (Array.isArray(prev)) prev.push(value);
  else out[name] = name === 'cookie' ? `${String(prev)}; ${value}` : [String(prev), value];
}

function pushValues(out: string[], name: string, value: string | string[] | undefined): void {
  if (value === undefined) return;
  if (Array.isArray(value)) for (const v of value) out.push(name, v);
  else out.push(name, value);
}
