/** How a connection is served (pure): the declared protocol first, else what detection saw. */
import t from 'tap';
import { declaredProtocol, detectedProtocol } from '../../src/transport/protocol.js';

t.test('protocol: declared first, else detected', (t) => {
  t.strictSame(
    (['http1', 'http2', 'grpc', 'opaque', 'detect'] as const).map(declaredProtocol),
    ['http1', 'http2', 'http2', 'opaque', 'detect'],
  );
  t.strictSame(
    (['http1', 'http2', 'tls', 'opaque', 'timeout', 'closed'] as const).map((kind) => detectedProtocol({ kind })),
    ['http1', 'http2', 'opaque', 'opaque', 'opaque', 'closed'],
    "the application's own TLS, unknown bytes and silence are relayed as TCP",
  );
  t.end();
});
