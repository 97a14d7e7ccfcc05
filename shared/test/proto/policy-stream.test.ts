/**
 * The Policy/Stream contract over a real grpc-js server and client on 127.0.0.1:0 (insecure; TLS is the CA's
 * business): Hello → policy → Ack, then an invalid policy → Nack with the decoder's reason, the last good
 * policy kept. Also: a protocol violation ends the stream with a status the client observes.
 */
import { credentials, Server, ServerCredentials, status, type ServerDuplexStream, type StatusObject } from '@grpc/grpc-js';
import t, { type Test } from 'tap';
import { decodePolicy, encodePolicy } from '../../src/policy/codec.js';
import { withVersion } from '../../src/policy/hash.js';
import type { ProxyPolicy } from '../../src/policy/model.js';
import type { ControllerMessage, ControllerMessage__Output, Hello__Output, Nack__Output, PolicyClient, PolicyHandlers, ProxyMessage__Output } from '../../src/proto/index.js';
import { loadPolicyService } from '../../src/proto/index.js';
import { rich, richContent } from './fixtures.js';

type ControllerCall = ServerDuplexStream<ProxyMessage__Output, ControllerMessage>;

/** Starts a server with `handlers` and a client connected to it; both closed at teardown. */
async function serve(t: Test, handlers: PolicyHandlers): Promise<PolicyClient> {
  const Policy = loadPolicyService();
  const server = new Server();
  server.addService(Policy.service, handlers);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  const client = new Policy(`127.0.0.1:${port}`, credentials.createInsecure());
  t.teardown(() => {
    client.close();
    server.forceShutdown();
  });
  return client;
}

/** A policy the decoder rejects: an inbound port out of range. */
const invalid: ProxyPolicy = withVersion({
  ...richContent,
  inbound: { ...richContent.inbound, ports: [...richContent.inbound.ports, { port: 70000, protocol: 'http1' }] },
});

t.test('Hello, policy, Ack; then an invalid policy is Nacked and the last good one kept', async (t) => {
  // Controller side: answer Hello with `rich`, its Ack with `invalid`, and end the stream on the Nack.
  const seen: { hello: Hello__Output[]; acks: string[]; nacks: Nack__Output[]; serverErrors: Error[] } = { hello: [], acks: [], nacks: [], serverErrors: [] };
  const client = await serve(t, {
    Stream(call: ControllerCall) {
      call.on('error', (err) => seen.serverErrors.push(err));
      call.on('data', (msg: ProxyMessage__Output) => {
        switch (msg.message) {
          case 'hello':
            if (msg.hello) seen.hello.push(msg.hello);
            call.write({ policy: encodePolicy(rich) });
            break;
          case 'ack':
            seen.acks.push(msg.ack?.version ?? '');
            call.write({ policy: encodePolicy(invalid) });
            break;
          case 'nack':
            if (msg.nack) seen.nacks.push(msg.nack);
            call.end();
            break;
          default:
            call.emit('error', { code: status.INVALID_ARGUMENT, details: 'empty ProxyMessage' });
        }
      });
    },
  });

  // Proxy side: apply what decodes (Ack), keep the last good policy otherwise (Nack with the reason).
  let applied: ProxyPolicy | null = null;
  const clientErrors: Error[] = [];
  const call = client.Stream();
  const ended = new Promise<StatusObject>((resolve) => call.on('status', resolve));
  call.on('error', (err) => clientErrors.push(err));
  call.on('data', (msg: ControllerMessage__Output) => {
    const result = decodePolicy(msg.policy);
    if (result.ok) {
      applied = result.policy;
      call.write({ ack: { version: result.policy.version } });
    } else {
      call.write({ nack: { version: msg.policy?.version ?? '', reason: result.reason } });
    }
  });
  call.write({ hello: { pod: 'cart-7d9f8b6c5-x2x7q', namespace: 'shop', proxyVersion: '0.1.0' } });

  const final = await ended;
  call.end();
  t.equal(final.code, status.OK, `stream ended OK (${final.details})`);
  t.strictSame(clientErrors, [], 'no client error');
  t.strictSame(seen.serverErrors, [], 'no server error');
  t.strictSame(seen.hello, [{ pod: 'cart-7d9f8b6c5-x2x7q', namespace: 'shop', proxyVersion: '0.1.0' }], 'controller saw the Hello');
  t.strictSame(seen.acks, [rich.version], 'controller saw the Ack of the first policy, by version');
  t.equal(seen.nacks.length, 1, 'one Nack');
  t.equal(seen.nacks[0]?.version, invalid.version, 'the Nack names the rejected version');
  t.equal(seen.nacks[0]?.reason, 'inbound.ports[5].port: 70000 is not a port (1-65535)', 'with the decoder reason');
  t.strictSame(applied, rich, 'the proxy kept the last good policy, intact');
});

t.test('a protocol violation ends the stream with a status the client observes', async (t) => {
  const client = await serve(t, {
    Stream(call: ControllerCall) {
      call.on('error', () => {}); // the status carries the outcome
      call.once('data', (msg: ProxyMessage__Output) => {
        if (msg.message !== 'hello') call.emit('error', { code: status.INVALID_ARGUMENT, details: `first message must be hello, got ${msg.message ?? 'nothing'}` });
      });
    },
  });
  const call = client.Stream();
  const errors: Error[] = [];
  call.on('error', (err) => errors.push(err));
  call.on('data', () => t.fail('no policy expected'));
  const ended = new Promise<StatusObject>((resolve) => call.on('status', resolve));
  call.write({ ack: { version: 'v0' } });
  const final = await ended;
  t.equal(final.code, status.INVALID_ARGUMENT);
  t.equal(final.details, 'first message must be hello, got ack');
  t.equal(errors.length, 1, 'the error event fired too (and was handled)');
  t.match(errors[0], { code: status.INVALID_ARGUMENT });
});
