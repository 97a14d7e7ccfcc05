/** How failed certificate requests are classified (all are retried; the kind sets how loudly). */
import { status } from '@grpc/grpc-js';
import t from 'tap';
import { CertifyCallError } from '../../src/identity/certify.js';
import { CredentialsError } from '../../src/identity/credentials.js';
import { classifyFailure, TokenError } from '../../src/identity/failure.js';

t.test('gRPC statuses, refused responses, tokens, bugs', (t) => {
  const cases: [unknown, object][] = [
    [new CertifyCallError(status.UNAVAILABLE, 'No connection established'), { kind: 'unavailable', code: 'UNAVAILABLE', reason: 'UNAVAILABLE: No connection established' }],
    [new CertifyCallError(status.RESOURCE_EXHAUSTED, 'rate limited'), { kind: 'unavailable', code: 'RESOURCE_EXHAUSTED' }],
    [new CertifyCallError(status.RESOURCE_EXHAUSTED, 'rate limited', 2000), { kind: 'unavailable', code: 'RESOURCE_EXHAUSTED', retryPushbackMs: 2000 }],
    [new CertifyCallError(status.DEADLINE_EXCEEDED, 'deadline'), { kind: 'unavailable', code: 'DEADLINE_EXCEEDED' }],
    [new CertifyCallError(status.PERMISSION_DENIED, 'token is for ns/a sa/x, CSR asks for ns/b sa/y'), { kind: 'refused', code: 'PERMISSION_DENIED', reason: 'PERMISSION_DENIED: token is for ns/a sa/x, CSR asks for ns/b sa/y' }],
    [new CertifyCallError(status.UNAUTHENTICATED, 'expired'), { kind: 'refused', code: 'UNAUTHENTICATED' }],
    [new CertifyCallError(status.INVALID_ARGUMENT, 'bad csr'), { kind: 'refused', code: 'INVALID_ARGUMENT' }],
    [new CertifyCallError(status.UNIMPLEMENTED, 'no such method'), { kind: 'refused', code: 'UNIMPLEMENTED' }],
    [new CredentialsError('the leaf certifies another public key than ours'), { kind: 'invalid-response', reason: 'response refused: the leaf certifies another public key than ours' }],
    [new TokenError('the ServiceAccount token file /t is empty'), { kind: 'token', reason: 'the ServiceAccount token file /t is empty' }],
    [new TypeError('x is undefined'), { kind: 'internal', reason: 'x is undefined' }],
    ['a string', { kind: 'internal', reason: 'a string' }],
  ];
  for (const [error, expected] of cases) t.match(classifyFailure(error), expected, String(error));
  t.notOk('retryPushbackMs' in classifyFailure(new CertifyCallError(status.UNAVAILABLE, 'down')), 'no pushback field without a trailer');
  t.end();
});
