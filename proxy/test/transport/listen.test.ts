/**
 * The tracking listener: every accepted socket is known until it closes, a socket error never escapes,
 * `whenIdle` waits for the last connection while still accepting, and `close` stops accepting, waits for
 * connections to finish up to `drainMs`, then destroys the rest. Binding `::` is dual-stack, with an IPv4
 * fallback on hosts without IPv6.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { silentLogger } from '@loom/shared/runtime';
import t, { type Test } from 'tap';
import { peerOf } from '../../src/transport/address.js';
import { ANY_ADDRESS, ANY_IPV4_ADDRESS, bindAny, listen } from '../../src/transport/listen.js';
import { collectLogs } from '../identity/support.js';
import { waitFor } from '../support/wait.js';

const until = (condition: () => boolean): Promise<void> => waitFor(condition, 'a condition');

async function client(t: Test, port: number, host = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ host, port });
  socket.on('error', () => {});
  t.teardown(() => {
    socket.destroy();
  });
  await once(socket, 'connect');
  return socket;
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

t.test('whenIdle: resolves when the last connection closes, or false at the timeout; accepting goes on', async (t) => {
  const accepted: Socket[] = [];
  const listener = await listen({ host: '127.0.0.1', port: 0, log: silentLogger(), onConnection: (socket) => accepted.push(socket) });
  t.teardown(() => listener.close());
  t.equal(await listener.whenIdle(10_000), true, 'no connection: idle at once');
  await client(t, listener.address.port);
  await until(() => accepted.length === 1);
  t.equal(await listener.whenIdle(50), false, 'a connection open: not idle by the timeout');
  const idle = listener.whenIdle(10_000);
  const later = await client(t, listener.address.port);
  await until(() => accepted.length === 2);
  t.pass('still accepting while waited on');
  accepted[0]?.destroy();
  accepted[1]?.destroy();
  await once(later, 'close');
  t.equal(await idle, true, 'idle once both closed');
});

t.test('`::` listens on IPv6 and IPv4 alike (dual-stack); peers print as plain IPv4', async (t) => {
  const peers: string[] = [];
  const listener = await listen({ host: ANY_ADDRESS, port: 0, log: silentLogger(), onConnection: (socket) => peers.push(peerOf(socket)) });
  t.teardown(() => listener.close());
  t.equal(listener.address.address, '::');
  await client(t, listener.address.port, '127.0.0.1');
  await client(t, listener.address.port, '::1');
  await until(() => peers.length === 2);
  t.match(peers[0], /^127\.0\.0\.1:\d+$/, 'an IPv4 client (IPv4-mapped on the socket) shows as IPv4');
  t.match(peers[1], /^\[::1\]:\d+$/, 'an IPv6 client');
});

t.test('bindAny: `::` falls back to 0.0.0.0, logged, when the host has no IPv6; other failures are failures', async (t) => {
  for (const code of ['EAFNOSUPPORT', 'EADDRNOTAVAIL']) {
    const { logger, records } = collectLogs();
    const tried: string[] = [];
    const bound = await bindAny(
      (host) => {
        tried.push(host);
        return host === ANY_ADDRESS ? Promise.reject(Object.assign(new Error(`listen ${code} ::`), { code })) : Promise.resolve();
      },
      ANY_ADDRESS,
      logger,
      'outbound listener',
    );
    t.equal(bound, ANY_IPV4_ADDRESS, `${code}: bound 0.0.0.0`);
    t.strictSame(tried, [ANY_ADDRESS, ANY_IPV4_ADDRESS]);
    const warned = records.filter((r) => r.event === 'listen.ipv4_only');
    t.equal(warned.length, 1, `${code}: said so once`);
    t.equal(warned[0]?.level, 'warn');
    t.match(String(warned[0]?.msg), new RegExp(`^outbound listener: IPv6 is unavailable here \\(${code}\\); listening on 0\\.0\\.0\\.0`));
  }
  const { logger } = collectLogs();
  const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
  await t.rejects(bindAny(() => Promise.reject(inUse), ANY_ADDRESS, logger, 'x'), inUse, 'a port in use is not a missing IPv6');
  const noV6 = Object.assign(new Error('listen EADDRNOTAVAIL'), { code: 'EADDRNOTAVAIL' });
  await t.rejects(bindAny(() => Promise.reject(noV6), '10.0.0.1', logger, 'x'), noV6, 'a specific address: no fallback');
});
