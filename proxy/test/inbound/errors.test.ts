/** Application failures that become responses (pure): 504 for timeouts, 502 otherwise. */
import t from 'tap';
import { upstreamFailure } from '../../src/inbound/errors.js';
import { H1_CONNECT_FAILED, H1_CONNECT_TIMEOUT, H1_PARSE, H1_QUEUE_FULL, H1_SOCKET } from '../../src/http/h1-client/index.js';
import { CONNECT_TIMEOUT } from '../../src/transport/connect.js';

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

t.test('upstreamFailure', (t) => {
  const cases: [Error | null, number][] = [
    [withCode('connect ECONNREFUSED 127.0.0.1:8080', 'ECONNREFUSED'), 502],
    [withCode('socket hang up', 'ECONNRESET'), 502],
    [withCode('127.0.0.1:8080 closed the connection mid-response', H1_SOCKET), 502],
    [withCode('cannot connect to 127.0.0.1:8080', H1_CONNECT_FAILED), 502],
    [withCode('127.0.0.1:8080 sent a malformed response', H1_PARSE), 502],
    [withCode('connecting to 127.0.0.1:8080 took longer than 3000 ms', H1_CONNECT_TIMEOUT), 504],
    [withCode('too many requests waiting for 127.0.0.1:8080', H1_QUEUE_FULL), 503],
    [withCode('connecting took longer than 3000 ms', CONNECT_TIMEOUT), 504],
    [withCode('connect ETIMEDOUT', 'ETIMEDOUT'), 504],
    [new Error('no code'), 502],
    [null, 502],
  ];
  for (const [err, status] of cases) t.equal(upstreamFailure(err, 8080).status, status, err?.message ?? 'no error');
  t.equal(upstreamFailure(withCode('connect ECONNREFUSED 127.0.0.1:8080', 'ECONNREFUSED'), 8080).message, 'the application on port 8080 failed: connect ECONNREFUSED 127.0.0.1:8080');
  t.equal(upstreamFailure(withCode('too many requests waiting', H1_QUEUE_FULL), 8080).retryAfterSeconds, 1, 'busy: retry-after');
  t.equal(upstreamFailure(null, 9).message, 'the application on port 9 failed: the connection closed');
  t.end();
});
