/**
 * Header conversions on the way to and from an HTTP/1.1 application that `http/headers.ts` does not cover:
 * an HTTP/1 request forwarded as HTTP/1.1 (plaintext and `loom.http1` clients), and a response as undici
 * parsed it (lower-cased names, repeated fields as arrays) going back over HTTP/2 or HTTP/1. Pure.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { ORIG_PROTO_HEADER } from '../wire.js';

/** Connection-specific fields (RFC 9110 §7.6.1, RFC 9113 §8.2.2), never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/** Names listed in `Connection` values (hop-by-hop too), lower-case; null when none. */
function connectionTokens(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null;
  let tokens: Set<string> | null = null;
  for (const v of Array.isArray(value) ? value : [value]) {
    for (const t of v.split(',')) {
      const name = t.trim().toLowerCase();
      if (name !== '' && name !== 'close' && name !== 'keep-alive') (tokens ??= new Set()).add(name);
    }
  }
  return tokens;
}

/**
 * An HTTP/1 request's raw headers for the application: Host kept, hop-by-hop fields, `Connection`-listed
 * fields, `Expect` (the proxy's HTTP server already answered `100-continue`) and `loom-orig-proto` dropped.
 */
export function h1RequestToH1(raw: readonly string[]): string[] {
  let connection: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() === 'connection') (connection ??= []).push(raw[i + 1] as string);
  }
  const extra = connectionTokens(connection);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(name) || name === 'expect' || name === ORIG_PROTO_HEADER || (extra !== null && extra.has(name))) continue;
    out.push(raw[i] as string, raw[i + 1] as string);
  }
  return out;
}

/** An HTTP/1.1 response's (parsed) headers as HTTP/2 response headers. */
export function h1ResponseToH2Headers(status: number, headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':status': status };
  const extra = connectionTokens(headers.connection);
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || (extra !== null && extra.has(name))) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** An HTTP/1.1 response's (parsed) headers as a flat `[name, value, ...]` list for `writeHead` (framing is the server's). */
export function h1ResponseToH1(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  const extra = connectionTokens(headers.connection);
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || (extra !== null && extra.has(name))) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  return out;
}

/** The head of an HTTP/1 request as received, for carrying an Upgrade/CONNECT request to the application byte for byte. */
export function requestHead(method: string, target: string, httpVersion: string, raw: readonly string[]): string {
  let head = `${method} ${target} HTTP/${httpVersion}\r\n`;
  for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return `${head}\r\n`;
}
