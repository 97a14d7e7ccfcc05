/** Test servers on loopback that never outlive their test. */
import { once } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import type { Http2Server } from 'node:http2';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { Test } from 'tap';

/** Listens on 127.0.0.1:0 and closes (destroying its connections) at teardown; resolves with the port. */
export async function listenOn(t: Test, server: NetServer | HttpServer | Http2Server): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}
