/**
 * The tracking listener: every accepted socket is known until it closes, a socket error never escapes, and
 * `close` stops accepting, waits for connections to finish up to `drainMs`, then destroys the rest.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { silentLogger } from '@loom/shared/runtime';
import t, { type Test } from 'tap';
import { listen } from '../../src/transport/listen.js';

async function client(t: Test, port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  t.teardown(() => {
    socket.destroy();
  });
  await once(socket, 'connect');
  return socket;
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

t.test('tracks connections until they close; closing with no connections is immediate', async (t) => {
  const accepted: Socket[] = [];
  const listener = await listen({ host: '127.0.0.1', port: 0, log: silentLogger(), onConnection: (socket) => accepted.push(socket) });
  t.teardown(() => listener.close());
  t.equal(listener.address.address, '127.0.0.1');
  t.ok(listener.address.port > 0, 'an ephemeral port');
  const a = await client(t, listener.address.port);
  await client(t, listener.address.port);
  await until(() => listener.connections.size === 2);
  t.equal(accepted.length, 2);
  a.destroy();
  await until(() => listener.connections.size === 1);
  t.pass('a closed connection is forgotten');
  accepted[1]?.destroy();
  await until(() => listener.connections.size === 0);
  await listener.close({ drainMs: 10_000 });
  t.pass('no connections: close does not wait for the drain time');
});

t.test('a socket error before its owner attached handlers does not crash; a throwing handler destroys that socket', async (t) => {
  let calls = 0;
  const listener = await listen({
    host: '127.0.0.1',
    port: 0,
    log: silentLogger(),
    onConnection: (socket) => {
      calls += 1;
      if (calls === 1) socket.emit('error', new Error('boom'));
      else throw new Error('handler failed');
    },
  });
  t.teardown(() => listener.close());
  await client(t, listener.address.port);
  const second = await client(t, listener.address.port);
  await once(second, 'close');
  t.equal(calls, 2, 'both connections were handled; the second was destroyed');
});

t.test('close drains: stops accepting, waits for connections, destroys the rest at drainMs', async (t) => {
  const accepted: Socket[] = [];
  const listener = await listen({ host: '127.0.0.1', port: 0, log: silentLogger(), onConnection: (socket) => accepted.push(socket) });
  const finishes = await client(t, listener.address.port);
  const lingers = await client(t, listener.address.port);
  await until(() => accepted.length === 2);
  const lingersClosed = once(lingers, 'close');
  const started = Date.now();
  const closing = listener.close({ drainMs: 200 });
  await t.rejects(client(t, listener.address.port), 'new connections are refused at once');
  accepted[0]?.end();
  await once(finishes, 'close');
  await until(() => listener.connections.size === 1);
  t.pass('the finished connection is forgotten, the other is still being waited for');
  await closing;
  await lingersClosed;
  t.ok(Date.now() - started >= 150, 'the lingering connection was given the drain time');
  t.equal(listener.connections.size, 0);
  t.equal(await listener.close(), undefined, 'idempotent');
});
