/**
 * TCP bulk transfer: the source (client namespace) sends an 8-byte big-endian length and then that many bytes;
 * the sink (server namespace) counts them and answers one byte when all have arrived. The source's time runs
 * from connect to that byte, so it covers every byte crossing both proxies. No half-close is needed (proxies
 * differ in how they relay it), and the answer proves nothing was lost.
 */
import { connect, createServer, type Server } from 'node:net';

const CHUNK = Buffer.alloc(256 * 1024, 0x5a);

/** The sink on `host:port`; resolves once listening. */
export function startSink(host: string, port: number): Promise<Server> {
  const server = createServer((socket) => {
    let expected = -1;
    let header = Buffer.alloc(0);
    let received = 0;
    socket.on('error', () => undefined); // a source that gives up resets
    socket.on('data', (chunk: Buffer) => {
      let data = chunk;
      if (expected < 0) {
        header = Buffer.concat([header, data]);
        if (header.length < 8) return;
        expected = Number(header.readBigUInt64BE(0));
        data = header.subarray(8);
      }
      received += data.length;
      if (received >= expected) socket.end(received === expected ? 'k' : 'x');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`TCP sink cannot listen on ${host}:${port}: ${error.message}`)));
    server.listen(port, host, () => resolve(server));
  });
}

export interface BulkResult {
  readonly bytes: number;
  readonly seconds: number;
}

/** Sends `bytes` to the sink at `host:port` and resolves when the sink confirmed all of them. */
export function sendBulk(host: string, port: number, bytes: number, timeoutMs = 120_000): Promise<BulkResult> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const socket = connect({ host, port, noDelay: true });
    let settled = false;
    const finish = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error === null) resolve({ bytes, seconds: Number(process.hrtime.bigint() - start) / 1e9 });
      else reject(error);
    };
    const timer = setTimeout(() => finish(new Error(`bulk transfer of ${bytes} bytes to ${host}:${port} took over ${timeoutMs} ms`)), timeoutMs);
    socket.on('error', (error: Error) => finish(new Error(`bulk transfer to ${host}:${port}: ${error.message}`)));
    socket.on('close', () => finish(new Error(`bulk transfer to ${host}:${port}: closed before the sink confirmed`)));
    socket.on('data', (answer: Buffer) => finish(answer[0] === 0x6b ? null : new Error('the sink received more bytes than were sent')));
    socket.on('connect', () => {
      const header = Buffer.alloc(8);
      header.writeBigUInt64BE(BigInt(bytes));
      socket.write(header);
      let left = bytes;
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, CHUNK.length);
          left -= n;
          if (!socket.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
}
