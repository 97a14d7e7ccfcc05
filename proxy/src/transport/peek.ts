/**
 * Reading a connection's first bytes without consuming them, for the decisions taken before anything serves it
 * (protocol detection, the ClientHello's ALPN offer): read until a decision can be made, at most `timeoutMs`,
 * then give every byte back to the socket (`unshift`) so the next reader sees the stream from its start.
 */
import type { Socket } from 'node:net';

export type Peeked<T> =
  | { readonly kind: 'decided'; readonly value: T }
  /** No decision within the deadline; `partial`: some bytes arrived (they were given back). */
  | { readonly kind: 'timeout'; readonly partial: boolean }
  /** The client ended, closed or failed first (a stream that ended cannot take bytes back: the caller destroys it). */
  | { readonly kind: 'closed' };

/**
 * Reads `socket` until `decide` returns something other than `incomplete` for all the bytes so far. The socket
 * is left paused with the bytes buffered. Never rejects.
 */
export function peek<T>(socket: Socket, timeoutMs: number, decide: (bytes: Buffer) => T | 'incomplete'): Promise<Peeked<T>> {
  return new Promise<Peeked<T>>((resolve) => {
    let held: Buffer | null = null;
    // eslint-disable-next-line prefer-const -- assigned after `finish`, which clears it, is defined
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: Peeked<T>, giveBack: Buffer | null): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      socket.removeListener('error', onEnd);
      socket.pause();
      if (giveBack !== null) socket.unshift(giveBack);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      const bytes = held === null ? chunk : Buffer.concat([held, chunk]);
      const value = decide(bytes);
      if (value === 'incomplete') held = bytes;
      else finish({ kind: 'decided', value }, bytes);
    };
    const onEnd = (): void => finish({ kind: 'closed' }, null);
    timer = setTimeout(() => finish({ kind: 'timeout', partial: held !== null }, held), timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onEnd);
    socket.resume();
  });
}
