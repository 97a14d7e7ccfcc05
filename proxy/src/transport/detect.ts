/**
 * Protocol detection (DESIGN §6): wait for the client's first bytes, at most `timeoutMs`, classify them, and put
 * them back so the next stage reads the stream from its start. The outbound proxy detects on ports without a
 * declared protocol; the inbound proxy on every connection (mesh TLS, or the plaintext protocol).
 *
 * Handing a detected socket to a node:http or node:http2 server (`handOff`): both servers pick up bytes already
 * buffered on the socket, but differently. The HTTP/1 server needs the socket flowing again (`resume()`); an
 * HTTP/2 session reads the buffer itself on the next tick and loses it if the socket was resumed first.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { peek } from './peek.js';

export type DetectedProtocol = 'http1' | 'http2' | 'tls' | 'opaque';

export type Detection =
  | { readonly kind: DetectedProtocol }
  /** Nothing arrived in time (server-speaks-first protocols): treated as opaque. */
  | { readonly kind: 'timeout' }
  /** The client closed or failed before sending anything. */
  | { readonly kind: 'closed' };

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Request methods that mark HTTP/1 (RFC 9110 plus WebDAV/patch ones seen in practice). */
const METHODS = new Set([
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'REPORT', 'SEARCH', 'PURGE',
]);

/** Every proper prefix of `METHOD ` (the method and the space after it): bytes that may still become HTTP/1. */
const METHOD_PREFIXES = new Set<string>();
for (const method of METHODS) for (let n = 1; n <= method.length; n++) METHOD_PREFIXES.add(method.slice(0, n));
/** The longest such prefix. */
const MAX_PREFIX = Math.max(...[...METHODS].map((m) => m.length));

/**
 * Classifies the first bytes a client sent. Pure. `incomplete`: too few bytes to tell, a proper prefix of a
 * request line's method (`GE`, `POS`, `GET` without its space): read more before deciding.
 */
export function classify(first: Buffer): DetectedProtocol | 'incomplete' {
  if (first.length === 0) return 'incomplete';
  // TLS record: handshake (22), version major 3.
  if (first[0] === 0x16 && (first.length < 2 || first[1] === 0x03)) return 'tls';
  const n = Math.min(first.length, H2_PREFACE.length);
  if (n >= 3 && first.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return 'http2';
  const space = first.indexOf(0x20);
  if (space > 0 && space <= 10 && METHODS.has(first.toString('latin1', 0, space))) return 'http1';
  if (space === -1 && first.length <= MAX_PREFIX && METHOD_PREFIXES.has(first.toString('latin1'))) return 'incomplete';
  return 'opaque';
}

/**
 * Waits for the first bytes (at most `timeoutMs` in all), classifies them and gives them back to the socket. When
 * they are too few to tell (a method cut short), it keeps reading until they are, or the deadline: then what
 * arrived is opaque. The socket is left paused with the bytes buffered. Never rejects; a socket error, or the
 * client ending before anything classifiable arrived, yields `closed` (the caller destroys the socket).
 */
export async function detect(socket: Socket, timeoutMs: number): Promise<Detection> {
  const peeked = await peek(socket, timeoutMs, classify);
  switch (peeked.kind) {
    case 'decided':
      return { kind: peeked.value };
    case 'timeout':
      return { kind: peeked.partial ? 'opaque' : 'timeout' };
    case 'closed':
      return CLOSED;
  }
}

const CLOSED: Detection = Object.freeze({ kind: 'closed' });

/** Gives a socket (possibly with detected bytes buffered) to an HTTP/1 or HTTP/2 server. */
export function handOff(server: EventEmitter, socket: Socket, protocol: 'http1' | 'http2'): void {
  server.emit('connection', socket);
  if (protocol === 'http1') socket.resume();
}
