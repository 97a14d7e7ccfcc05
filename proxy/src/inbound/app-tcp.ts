/** A TCP connection to the application (opaque traffic, upgraded HTTP connections), bounded by a connect timeout. */
import { connect, type Socket } from 'node:net';
import { CONNECT_TIMEOUT } from './errors.js';

/**
 * Connects to `address:port`; rejects with the connect error, or one with code `ERR_LOOM_CONNECT_TIMEOUT`.
 * The socket has an `error` listener from the start (errors end in `close`); owners add their own.
 */
export function connectApp(address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host: address, port, noDelay: true });
    const timer = setTimeout(() => {
      const err = Object.assign(new Error(`connecting took longer than ${timeoutMs} ms`), { code: CONNECT_TIMEOUT });
      socket.destroy(err);
    }, timeoutMs);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    socket.on('error', () => {});
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(socket);
    });
  });
}
