/** Reading the controller's retry pushback (`grpc-retry-pushback-ms` trailer) from a failed Certify call. */
import { Metadata } from '@grpc/grpc-js';
import t from 'tap';
import { retryPushbackMs } from '../../src/identity/certify.js';

const trailers = (...values: string[]): Metadata => {
  const metadata = new Metadata();
  for (const value of values) metadata.add('grpc-retry-pushback-ms', value);
  return metadata;
};

t.test('a non-negative integer is a pushback in ms; anything else is ignored', (t) => {
  const cases: [Metadata | undefined, number | undefined][] = [
    [trailers('2000'), 2000],
    [trailers('0'), 0],
    [trailers('150', '9000'), 150],
    [trailers('-1'), undefined],
    [trailers('1.5'), undefined],
    [trailers('soon'), undefined],
    [trailers(''), undefined],
    [trailers('99999999999'), undefined],
    [new Metadata(), undefined],
    [undefined, undefined],
  ];
  for (const [metadata, expected] of cases) t.equal(retryPushbackMs(metadata), expected, JSON.stringify(metadata?.get('grpc-retry-pushback-ms') ?? null));
  t.end();
});
