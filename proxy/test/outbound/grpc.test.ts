/**
 * Real gRPC (grpc-js client and server) through the outbound proxy: unary calls, bidirectional streaming, a
 * non-OK status (counted as a failure from the trailers), and a client cancellation reaching the server. The
 * endpoint is unmeshed (h2c), so the calls exercise the same HTTP/2 exchange as the mesh path, minus TLS.
 */
import { credentials, makeGenericClientConstructor, Server, ServerCredentials, status, type Client, type ServerDuplexStream, type ServiceDefinition, type ServiceError, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import t from 'tap';
import { endpoint, service, servicePort, testPolicy } from '../support/policy.js';
import { startOutbound, until, VIP, waitForMetric } from './support.js';

const identity = (b: Buffer): Buffer => b;
const method = (path: string, requestStream: boolean, responseStream: boolean) => ({
  path,
  requestStream,
  responseStream,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});
const ECHO: ServiceDefinition = {
  Unary: method('/test.Echo/Unary', false, false),
  Chat: method('/test.Echo/Chat', true, true),
  Fail: method('/test.Echo/Fail', false, false),
};

interface EchoClient extends Client {
  Unary(request: Buffer, callback: (err: ServiceError | null, response?: Buffer) => void): void;
  Chat(): import('@grpc/grpc-js').ClientDuplexStream<Buffer, Buffer>;
  Fail(request: Buffer, callback: (err: ServiceError | null, response?: Buffer) => void): void;
}

t.test('grpc-js through the outbound proxy: unary, bidirectional streaming, status codes, cancellation', async (t) => {
  let chatCancelled = false;
  const server = new Server();
  server.addService(ECHO, {
    Unary: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => callback(null, Buffer.from(`echo:${call.request.toString()}`)),
    Chat: (call: ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (m: Buffer) => call.write(Buffer.from(m.toString().toUpperCase())));
      call.on('end', () => call.end());
      call.on('cancelled', () => (chatCancelled = true));
      call.on('error', () => {});
    },
    Fail: (_call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => callback({ code: status.FAILED_PRECONDITION, details: 'not today' }),
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  t.teardown(() => server.forceShutdown());
  const policy = testPolicy({ outbound: [service({ name: 'echo', vips: [VIP.address], ports: [servicePort({ port: VIP.port, protocol: 'grpc', endpoints: [endpoint({ address: '127.0.0.1', port, identity: null })] })] })] });
  const out = await startOutbound(t, { policy });
  const Ctor = makeGenericClientConstructor(ECHO, 'Echo');
  const client = new Ctor(`127.0.0.1:${out.port}`, credentials.createInsecure()) as unknown as EchoClient;
  t.teardown(() => client.close());

  const reply = await new Promise<string>((resolve, reject) => client.Unary(Buffer.from('hi'), (err, res) => (err ? reject(err) : resolve(res?.toString() ?? ''))));
  t.equal(reply, 'echo:hi', 'unary');

  const chat = client.Chat();
  const received: string[] = [];
  chat.on('data', (m: Buffer) => received.push(m.toString()));
  chat.write(Buffer.from('one'));
  await until(() => received.length === 1);
  chat.write(Buffer.from('two'));
  await until(() => received.length === 2);
  const ended = new Promise<void>((resolve) => chat.on('status', () => resolve()));
  chat.end();
  await ended;
  t.strictSame(received, ['ONE', 'TWO'], 'each message answered before the next was sent');

  const failure = await new Promise<ServiceError | null>((resolve) => client.Fail(Buffer.from('x'), (err) => resolve(err)));
  t.equal(failure?.code, status.FAILED_PRECONDITION);
  t.equal(failure?.details, 'not today');

  const cancelled = client.Chat();
  cancelled.on('error', () => {});
  cancelled.write(Buffer.from('x'));
  await new Promise<void>((resolve) => cancelled.once('data', () => resolve()));
  cancelled.cancel();
  await until(() => chatCancelled);
  t.pass('the cancellation reached the server');

  // The cancelled call is counted when the proxy sees the application's stream close.
  const requests = await waitForMetric(out, 'loom_requests_total', /outcome="failure"} 2/);
  t.match(requests, /dst_service="shop\/echo",route="",tls="false",status_code="200",outcome="success"} 2/, 'unary and chat succeeded');
  t.match(requests, /dst_service="shop\/echo",route="",tls="false",status_code="200",outcome="failure"} 2/, 'the non-OK status and the cancelled call are failures');
});
