/** The client's failures: stable codes, one-line messages naming the server's address, connect failures told apart. */
import t from 'tap';
import {
  bodyFailed,
  connectFailed,
  connectTimeout,
  H1_ABORTED,
  H1_CONNECT_FAILED,
  H1_CONNECT_TIMEOUT,
  H1_SOCKET,
  H1ClientError,
  invalidRequest,
  isConnectFailure,
  malformedResponse,
  poolClosed,
  queueFull,
  socketLost,
} from '../../../src/http/h1-client/errors.js';

const A = '127.0.0.1:8080';
const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

t.test('messages', (t) => {
  const cases: [H1ClientError, string, string][] = [
    [connectTimeout(A, 3000), H1_CONNECT_TIMEOUT, 'connection to 127.0.0.1:8080 timed out after 3000 ms'],
    [connectFailed(A, withCode('connect ECONNREFUSED 127.0.0.1:8080', 'ECONNREFUSED')), H1_CONNECT_FAILED, 'connect ECONNREFUSED 127.0.0.1:8080'],
    [connectFailed('[::1]:80', withCode('connect ECONNREFUSED ::1:80', 'ECONNREFUSED')), H1_CONNECT_FAILED, 'connection to [::1]:80 failed: connect ECONNREFUSED ::1:80'],
    [connectFailed(A, null), H1_CONNECT_FAILED, 'connection to 127.0.0.1:8080 closed while connecting'],
    [socketLost(A, null, false), H1_SOCKET, 'the connection to 127.0.0.1:8080 closed before a response'],
    [socketLost(A, withCode('read ECONNRESET', 'ECONNRESET'), true), H1_SOCKET, 'the connection to 127.0.0.1:8080 lost (read ECONNRESET) before the response ended'],
    [malformedResponse(A, 'invalid status line'), 'LOOM_H1_PARSE', 'malformed response from 127.0.0.1:8080: invalid status line'],
    [queueFull(A, 256, 1024), 'LOOM_H1_QUEUE_FULL', 'too many requests to 127.0.0.1:8080: 256 connections busy and 1024 requests waiting'],
    [poolClosed(A, false), 'LOOM_H1_CLOSED', 'the connections to 127.0.0.1:8080 are closing'],
    [bodyFailed(A, new Error('client reset')), H1_ABORTED, 'the request body to 127.0.0.1:8080 failed: client reset'],
    [invalidRequest(A, 'invalid method'), 'LOOM_H1_INVALID_REQUEST', 'cannot send the request to 127.0.0.1:8080: invalid method'],
  ];
  for (const [err, code, message] of cases) {
    t.type(err, H1ClientError);
    t.equal(err.code, code, message);
    t.equal(err.message, message);
    t.equal(err.address.length > 0, true);
    t.notMatch(err.message, /\n/, 'one line');
  }
  t.end();
});

t.test('connect failures: the server (or the way to it) is at fault, nothing was sent', (t) => {
  t.equal(isConnectFailure(connectTimeout(A, 1)), true);
  t.equal(isConnectFailure(connectFailed(A, null)), true);
  for (const err of [socketLost(A, null, false), queueFull(A, 1, 1), poolClosed(A, true), bodyFailed(A, new Error('x')), new Error('plain'), null]) {
    t.equal(isConnectFailure(err), false, err?.message ?? 'null');
  }
  t.end();
});
