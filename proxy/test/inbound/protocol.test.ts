/** What a connection carries (pure): by mesh ALPN, or by declaration then detection for plaintext clients. */
import t from 'tap';
import { meshProtocol, plaintextProtocol } from '../../src/inbound/protocol.js';

t.test('meshProtocol', (t) => {
  t.equal(meshProtocol('loom.h2'), 'http2');
  t.equal(meshProtocol('loom.http1'), 'http1');
  t.equal(meshProtocol('loom.opaque'), 'opaque');
  t.equal(meshProtocol('h2'), null);
  t.end();
});

t.test('plaintextProtocol', (t) => {
  const cases: [Parameters<typeof plaintextProtocol>[0], Parameters<typeof plaintextProtocol>[1], ReturnType<typeof plaintextProtocol>][] = [
    ['http1', 'detect', 'http1'],
    ['http2', 'detect', 'http2'],
    ['opaque', 'detect', 'opaque'],
    ['timeout', 'detect', 'opaque'],
    ['tls', 'detect', 'opaque'],
    ['http2', 'http1', 'http1'],
    ['opaque', 'http1', 'http1'],
    ['timeout', 'http1', 'http1'],
    ['http1', 'http2', 'http2'],
    ['http1', 'grpc', 'http2'],
    ['http1', 'opaque', 'opaque'],
    ['tls', 'http1', 'opaque'],
    ['tls', 'grpc', 'opaque'],
  ];
  for (const [detected, declared, want] of cases) t.equal(plaintextProtocol(detected, declared), want, `detected ${detected}, declared ${declared}`);
  t.end();
});
