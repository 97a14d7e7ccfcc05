/** Failures that become responses (pure): upstream errors to 502/504, parser errors to 400/408/413/431, raw responses. */
import t from 'tap';
import { CONNECT_TIMEOUT, clientErrorResponse, rawResponse, upstreamFailure } from '../../src/inbound/errors.js';

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

t.test('clientErrorResponse', (t) => {
  const cases: [Error, number | null][] = [
    [withCode('Parse Error: Header overflow', 'HPE_HEADER_OVERFLOW'), 431],
    [withCode('Request timeout', 'ERR_HTTP_REQUEST_TIMEOUT'), 408],
    [withCode('Parse Error: Chunk extensions overflow', 'HPE_CHUNK_EXTENSIONS_OVERFLOW'), 413],
    [withCode("Parse Error: Transfer-Encoding can't be present with Content-Length", 'HPE_INVALID_TRANSFER_ENCODING'), 400],
    [withCode('Parse Error: Duplicate Content-Length', 'HPE_UNEXPECTED_CONTENT_LENGTH'), 400],
    [withCode('Parse Error: Invalid method encountered', 'HPE_INVALID_METHOD'), 400],
    [withCode('read ECONNRESET', 'ECONNRESET'), null],
    [withCode('write EPIPE', 'EPIPE'), null],
  ];
  for (const [err, status] of cases) t.equal(clientErrorResponse(err)?.status ?? null, status, (err as Error & { code: string }).code);
  const parseError = Object.assign(withCode('Parse Error: x', 'HPE_INVALID_CONSTANT'), { reason: 'Expected HTTP/\u0000' });
  t.equal(clientErrorResponse(parseError)?.message, 'malformed HTTP request: Expected HTTP/?', "node's reason, printable");
  t.end();
});

t.test('rawResponse', (t) => {
  const text = rawResponse({ status: 403, message: 'denied: because' }, { 'loom-denied-reason': 'denied:\r\nbecause' });
  t.equal(
    text,
    'HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 16\r\nloom-proxy-error: inbound\r\nconnection: close\r\nloom-denied-reason: denied:  because\r\n\r\ndenied: because\n',
  );
  t.match(rawResponse({ status: 431, message: 'request header fields too large' }), /^HTTP\/1.1 431 Request Header Fields Too Large\r\n/);
  t.end();
});
