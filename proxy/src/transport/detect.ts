/**
 * Protocol detection on undeclared ports (DESIGN §6): wait for the client's first bytes, at most `timeoutMs`,
 * classify them, and put them back so the next stage reads the stream from its start.
 *
 * Handing a detected socket to a node:http or node:http2 server (`handOff`): both servers pick up bytes already
 * buffered on the socket, but differently. The HTTP/1 server needs the socket flowing again (`resume()`); an
 * HTTP/2 session reads the buffer itself on the next tick and loses it if the socket was resumed first.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

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

/** Classifies the first bytes a client sent. Pure. */
export function classify(first: Buffer): DetectedProtocol {
  if (first.length === 0) return 'opaque';
  // TLS record: handshake (22), version major 3.
  if (first[0] === 0x16 && (first.length < 2 || first[1] === 0x03)) return 'tls';
  const n = Math.min(first.length, H2_PREFACE.length);
  if (n >= 3 && first.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return 'http2';
  const space = first.indexOf(0x20);
  if (space > 0 && space <= 10 && METHODS.has(first.toString('latin1', 0, space))) return 'http1';
  return 'opaque';
}

/**
 * Waits for the first chunk (or `timeoutMs`), classifies it and unshifts it back. The socket is left paused with
 * the chunk buffered. Never rejects; a socket error during detection yields `closed` (the caller destroys it).
 */
export function detect(socket: Socket, timeoutMs: number): Promise<Detection> {
  return new Promise<Detection>((resolve) => {
    // eslint-disable-next-line prefer-const -- assigned after `done`, which clears it, is defined
    let timer: NodeJS.Timeout | undefined;
    const done = (result: Detection): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      socket.removeListener('error', onEnd);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      socket.pause();
      socket.unshift(chunk);
      done({ kind: classify(chunk) });
    };
    const onEnd = (): void => done({ kind: 'closed' });
    timer = setTimeout(() => {
      socket.pause();
      done({ kind: 'timeout' });
    }, timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onEnd);
  });
}

/** Gives a socket (possibly with detected bytes buffered) to an HTTP/1 or HTTP/2 server. */
export function handOff(server: EventEmitter, socket: Socket, protocol: 'http1' | 'http2'): void {
  server.emit('connection', socket);
  if (protocol === 'http1') socket.resume();
}
