import type { AddressInfo } from 'node:net';
import t from 'tap';
import { sendBulk, startSink } from '../../src/proxy/tcp-bulk.js';

t.test('the sink confirms exactly the bytes sent', async (t) => {
  const sink = await startSink('127.0.0.1', 0);
  t.teardown(() => sink.close());
  const port = (sink.address() as AddressInfo).port;
  for (const bytes of [0, 1, 256 * 1024 + 7, 8 * 1024 * 1024]) {
    const r = await sendBulk('127.0.0.1', port, bytes);
    t.equal(r.bytes, bytes);
    t.ok(r.seconds > 0);
  }
});

t.test('nothing listening: a clear error', async (t) => {
  const sink = await startSink('127.0.0.1', 0);
  const port = (sink.address() as AddressInfo).port;
  await new Promise((resolve) => sink.close(resolve));
  await t.rejects(sendBulk('127.0.0.1', port, 10), /bulk transfer to 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
});
