import t from 'tap';
import { grpcCheck, runStreaming, runUnary, startEchoServer } from '../../src/proxy/grpc.js';

t.test('the echo service answers unary calls and streams, in closed loops', async (t) => {
  const server = await startEchoServer('127.0.0.1', 0);
  t.teardown(server.stop);
  await grpcCheck('127.0.0.1', server.port);
  const options = { host: '127.0.0.1', port: server.port, concurrency: 4, seconds: 0.2, warmupSeconds: 0.05 };
  const unary = await runUnary(options);
  t.ok(unary.count > 0, `${unary.count} unary calls`);
  t.equal(unary.errors, 0);
  const stream = await runStreaming(options);
  t.ok(stream.count > 0, `${stream.count} streamed messages`);
  t.equal(stream.errors, 0, stream.firstError);
  t.ok(stream.latency.p99Ms >= stream.latency.p50Ms);
});

t.test('nothing listening: the check fails', async (t) => {
  const server = await startEchoServer('127.0.0.1', 0);
  await server.stop();
  await t.rejects(grpcCheck('127.0.0.1', server.port));
});
