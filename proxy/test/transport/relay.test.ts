/**
 * The byte relay over real socket pairs: both directions with counts, half-close passed on, a reset or error
 * on one side tearing down the other (reported once, as a failure), the idle timeout, and `close`.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { relay } from '../../src/transport/relay.js';

/**
 * A connected pair: [the test's end, the relay's end]. The test's end allows half-open (a peer that keeps
 * talking after the other side's FIN); the relay's end has node's default, which the relay must override.
 */
async function pair(t: Test): Promise<[Socket, Socket]> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const outer = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, allowHalfOpen: true });
  const [inner] = await accepted;
  await once(outer, 'connect');
  server.close();
  for (const s of [outer, inner]) {
    s.on('error', () => {});
    t.teardown(() => {
      s.destroy();
    });
  }
  return [outer, inner];
}

function collect(socket: Socket): { text: () => string } {
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { text: () => text };
}

t.test('relays both ways; half-closes pass through; counts bytes; clean end is not a failure', async (t) => {
  const [client, a] = await pair(t);
  const [server, b] = await pair(t);
  const r = relay(a, b);
  const atServer = collect(server);
  const atClient = collect(client);
  client.write('hello');
  server.write('world!');
  client.end();
  await once(server, 'end');
  t.equal(atServer.text(), 'hello');
  server.write(' after half-close');
  const clientEnded = once(client, 'end');
  server.end();
  const result = await r.done;
  await clientEnded;
  t.equal(atClient.text(), 'world! after half-close', 'the other direction kept flowing after the first half-close');
  t.same(result, { failure: false, error: null, bytesFromA: 5, bytesFromB: 23 });
});

t.test('a reset on one side destroys the other and reports a failure', async (t) => {
  const [client, a] = await pair(t);
  const [server, b] = await pair(t);
  const r = relay(a, b);
  const serverEnded = once(server, 'end');
  client.resetAndDestroy();
  const result = await r.done;
  t.equal(result.failure, true);
  t.ok(result.error, 'with the error');
  await serverEnded;
  t.pass('the other side was closed');
});

t.test('idle timeout and close()', async (t) => {
  const [, a] = await pair(t);
  const [, b] = await pair(t);
  const idle = await relay(a, b, { idleTimeoutMs: 50 }).done;
  t.equal(idle.failure, true);
  t.match(idle.error?.message, /idle for 50 ms/);

  const [c, d] = await pair(t);
  const [e, f] = await pair(t);
  const r = relay(d, f);
  const both = Promise.all([once(c, 'end'), once(e, 'end')]);
  r.close(new Error('revoked'));
  const closed = await r.done;
  t.match(closed, { failure: true, error: { message: 'revoked' } });
  await both;
  t.pass('both peers see the close');
  r.close();
  t.equal((await r.done).error?.message, 'revoked', 'reported once');
});

t.test('a receiver that stops reading stops the sender (bounded buffering); every byte then arrives in order', async (t) => {
  const [client, a] = await pair(t);
  const [server, b] = await pair(t);
  const r = relay(a, b);
  server.pause();
  const block = Buffer.alloc(256 * 1024);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32BE(i, i);
  // Write until the sender is held back; the kernel buffers on loopback take a few MiB, the relay at most 256 KiB.
  let written = 0;
  const limit = 256 * 1024 * 1024;
  while (written < limit) {
    written += block.length;
    if (!client.write(block)) {
      const drained = once(client, 'drain').then(() => false);
      const waited = new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 300));
      if (await Promise.race([drained, waited])) break; // still held back after 300 ms: backpressure reached the sender
    }
  }
  t.ok(written < 64 * 1024 * 1024, `the sender was held back after ${(written / 1048576).toFixed(1)} MiB, not left to buffer without bound`);
  const hash = createHash('sha256');
  let received = 0;
  const all = new Promise<void>((resolve) => {
    server.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      received += chunk.length;
      if (received === written) resolve();
    });
  });
  server.resume();
  await all;
  const expected = createHash('sha256');
  for (let i = 0; i < written / block.length; i++) expected.update(block);
  t.equal(hash.digest('hex'), expected.digest('hex'), 'the bytes arrived whole and in order');
  client.end();
  server.end();
  const result = await r.done;
  t.equal(result.bytesFromA, written);
});
