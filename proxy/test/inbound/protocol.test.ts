/** What a connection carries (pure): by mesh ALPN, or by declaration then detection for plaintext clients; how long to wait for its first bytes. */
import t from 'tap';
import { firstBytesWaitMs, MESH_HELLO_WAIT_MS, meshProtocol, plaintextProtocol, tlsOrPlaintext } from '../../src/inbound/protocol.js';

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

t.test('firstBytesWaitMs: short only on opaque ports open to plaintext clients', (t) => {
  const cases: [Parameters<typeof firstBytesWaitMs>[0], boolean, number, number][] = [
    ['opaque', true, 1_000, MESH_HELLO_WAIT_MS],
    ['opaque', true, 10, 10],
    ['opaque', false, 1_000, 1_000],
    ['http1', true, 1_000, 1_000],
    ['http2', true, 1_000, 1_000],
    ['grpc', true, 1_000, 1_000],
    ['detect', true, 1_000, 1_000],
  ];
  for (const [declared, plaintextServed, detectTimeoutMs, want] of cases) {
    t.equal(firstBytesWaitMs(declared, plaintextServed, detectTimeoutMs), want, `${declared}, plaintext ${plaintextServed ? 'served' : 'refused'}, deadline ${detectTimeoutMs}`);
  }
  t.ok(MESH_HELLO_WAIT_MS < 1_000, 'well under the default detection deadline');
  t.end();
});

t.test('tlsOrPlaintext: the first byte (and the version byte when present) tells', (t) => {
  const cases: [string, ReturnType<typeof tlsOrPlaintext>][] = [
    ['', 'incomplete'],
    ['16', 'tls'],
    ['1603', 'tls'],
    ['160301002e', 'tls'],
    ['1601', 'plaintext'],
    ['47', 'plaintext'], // "G": no waiting for the rest of a method on a declared port
    ['0000000804d2162f', 'plaintext'], // a PostgreSQL SSLRequest
  ];
  for (const [hex, want] of cases) t.equal(tlsOrPlaintext(Buffer.from(hex, 'hex')), want, hex === '' ? 'nothing' : hex);
  t.end();
});
