/**
 * HTTP/1 → HTTP/1 header forwarding (an HTTP/1 application to an unmeshed HTTP/1 endpoint, and raw request
 * heads of tunnelled Upgrade/CONNECT requests). Pure functions over node's raw header arrays.
 */
import { headerSafe } from '../http/respond.js';
import { PROXY_ERROR_HEADER } from '../wire.js';

/** Connection-specific headers never forwarded on a proxied (non-tunnelled) exchange (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/** Lower-case names listed in Connection headers (also hop-by-hop), or `null`. */
function connectionTokens(raw: readonly (string | Buffer)[]): Set<string> | null {
  let tokens: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = String(raw[i]);
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    for (const t of String(raw[i + 1]).split(',')) {
      const token = t.trim().toLowerCase();
      if (token !== '' && token !== 'close' && token !== 'keep-alive') (tokens ??= new Set()).add(token);
    }
  }
  return tokens;
}

/**
 * Request headers forwarded to an HTTP/1 upstream: hop-by-hop ones dropped, and `expect` (the proxy already
 * answered `100 Continue` to the application). Host and everything else kept in order.
 */
export function plainRequestHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  const extra = connectionTokens(raw);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'expect' || (extra !== null && extra.has(lower))) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}

/** Response headers of an HTTP/1 upstream for the application: hop-by-hop ones dropped. Buffers become latin1 strings. */
export function plainResponseHeaders(raw: readonly (string | Buffer)[]): string[] {
  const out: string[] = [];
  const extra = connectionTokens(raw);
  for (let i = 0; i < raw.length; i += 2) {
    const name = typeof raw[i] === 'string' ? (raw[i] as string) : (raw[i] as Buffer).toString('latin1');
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (extra !== null && extra.has(lower))) continue;
    const value = raw[i + 1]!;
    out.push(name, typeof value === 'string' ? value : value.toString('latin1'));
  }
  return out;
}

/** The request head of a tunnelled request (Upgrade, CONNECT) as the application sent it, headers in order. */
export function requestHead(method: string, url: string, httpVersion: string, raw: readonly string[]): string {
  let head = `${method} ${url} HTTP/${httpVersion}\r\n`;
  for (let i = 0; i < raw.length; i += 2) head += `${raw[i]!}: ${raw[i + 1]!}\r\n`;
  return `${head}\r\n`;
}

/** A minimal response written on a raw socket (tunnels that fail, malformed requests); the connection closes. */
export function rawResponse(status: number, reason: string, message: string, extra: Readonly<Record<string, string>> = {}): string {
  const body = message === '' ? '' : `${message}\n`;
  let head = `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${PROXY_ERROR_HEADER}: outbound\r\n`;
  for (const [name, value] of Object.entries(extra)) head += `${name}: ${headerSafe(value)}\r\n`;
  return `${head}\r\n${body}`;
}
