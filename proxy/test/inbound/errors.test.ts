/** Application failures that become responses (pure): 504 for timeouts, 502 otherwise. */
import t from 'tap';
import { upstreamFailure } from '../../src/inbound/errors.js';
import { CONNECT_TIMEOUT } from '../../src/transport/connect.js';

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

t.test('upstreamFailure', (t) => {
  const cases: [Error | null, number][] = [
    [withCode('connect ECONNREFUSED 127.0.0.1:8080', 'ECONNREFUSED'), 502],
    [withCode('socket hang up', 'ECONNRESET'), 502],
    [withCode('other side closed', 'UND_ERR_SOCKET'), 502],
    [withCode('connecting took longer than 3000 ms', CONNECT_TIMEOUT), 504],
    [withCode('Connect Timeout Error', 'UND_ERR_CONNECT_TIMEOUT'), 504],
    [withCode('Headers Timeout Error', 'UND_ERR_HEADERS_TIMEOUT'), 504],
    [withCode('Body Timeout Error', 'UND_ERR_BODY_TIMEOUT'), 504],
    [withCode('connect ETIMEDOUT', 'ETIMEDOUT'), 504],
    [new Error('no code'), 502],
    [null, 502],
  ];
  for (const [err, status] of cases) t.equal(upstreamFailure(err, 8080).status, status, err?.message ?? 'no error');
  t.equal(upstreamFailure(withCode('connect ECONNREFUSED 127.0.0.1:8080', 'ECONNREFUSED'), 8080).message, 'the application on port 8080 failed: connect ECONNREFUSED 127.0.0.1:8080');
  t.equal(upstreamFailure(null, 9).message, 'the application on port 9 failed: the connection closed');
  t.end();
});
