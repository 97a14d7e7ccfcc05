/** Success/failure classification for metrics (DESIGN §6): 5xx, no response and non-OK gRPC are failures. */
import t from 'tap';
import { isFailure, isGrpcContentType } from '../../src/http/classify.js';

t.test('isFailure', (t) => {
  const cases: [number, string | undefined, boolean][] = [
    [200, undefined, false],
    [204, undefined, false],
    [301, undefined, false],
    [403, undefined, false],
    [404, undefined, false],
    [499, undefined, false],
    [500, undefined, true],
    [502, undefined, true],
    [503, undefined, true],
    [504, undefined, true],
    [0, undefined, true],
    [200, '0', false],
    [200, '1', true],
    [200, '13', true],
    [200, '14', true],
    [0, '0', true],
    [503, '0', true],
  ];
  for (const [status, grpc, want] of cases) t.equal(isFailure(status, grpc), want, `status ${status}, grpc-status ${grpc ?? 'none'}`);
  t.end();
});

t.test('isGrpcContentType', (t) => {
  t.equal(isGrpcContentType('application/grpc'), true);
  t.equal(isGrpcContentType('application/grpc+proto'), true);
  t.equal(isGrpcContentType('application/grpc-web'), true);
  t.equal(isGrpcContentType('application/json'), false);
  t.equal(isGrpcContentType(undefined), false);
  t.equal(isGrpcContentType(['application/grpc']), false, 'repeated content-type is not trusted');
  t.end();
});
