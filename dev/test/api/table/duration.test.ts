import t from 'tap';
import { humanDuration, shortHumanDuration, since } from '../../../src/api/table/duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const Y = 365 * D;

t.test('humanDuration: about two significant figures, as kubectl AGE shows', (t) => {
  const cases: [number, string][] = [
    [-2 * S, '<invalid>'],
    [-2 * S + 1, '0s'],
    [0, '0s'],
    [S - 1, '0s'],
    [S, '1s'],
    [70 * S, '70s'],
    [2 * M - 1, '119s'],
    [2 * M, '2m'],
    [2 * M + S, '2m1s'],
    [190 * S, '3m10s'],
    [10 * M - 1, '9m59s'],
    [10 * M, '10m'],
    [10 * M + S, '10m'],
    [70 * M, '70m'],
    [3 * H - 1, '179m'],
    [3 * H, '3h'],
    [3 * H + M, '3h1m'],
    [8 * H - 1, '7h59m'],
    [8 * H + 59 * M, '8h'],
    [47 * H, '47h'],
    [2 * D - 1, '47h'],
    [2 * D, '2d'],
    [49 * H, '2d1h'],
    [8 * D - 1, '7d23h'],
    [8 * D + 23 * H, '8d'],
    [367 * D, '367d'],
    [2 * Y - 1, '729d'],
    [2 * Y, '2y'],
    [2 * Y + D - 1, '2y'],
    [2 * Y + 25 * H, '2y1d'],
    [8 * Y - 1, '7y364d'],
    [8 * Y + 364 * D, '8y'],
    [9 * Y, '9y'],
    [1e18, '292y'],
  ];
  for (const [ms, want] of cases) t.equal(humanDuration(ms), want, `${ms} ms`);
  t.end();
});

t.test('shortHumanDuration: one unit', (t) => {
  const cases: [number, string][] = [
    [-2 * S, '<invalid>'],
    [-2 * S + 1, '0s'],
    [S - 1, '0s'],
    [2 * S - 1, '1s'],
    [M - 1, '59s'],
    [2 * M - 1, '1m'],
    [H - 1, '59m'],
    [2 * H - 1, '1h'],
    [D - 1, '23h'],
    [2 * D - 1, '1d'],
    [Y - 1, '364d'],
    [Y, '1y'],
    [2 * Y - 1, '1y'],
    [2 * Y, '2y'],
  ];
  for (const [ms, want] of cases) t.equal(shortHumanDuration(ms), want, `${ms} ms`);
  t.end();
});

t.test('since: the age of a metav1.Time field', (t) => {
  const now = new Date('2024-05-01T12:00:00Z');
  const cases: [unknown, string][] = [
    ['2024-05-01T11:59:30Z', '30s'],
    ['2024-05-01T13:59:30+02:00', '30s'],
    ['2024-05-01T11:55:00.999Z', '4m59s'],
    ['2024-05-01T11:54:59.999Z', '5m'],
    ['2024-04-28T12:00:00Z', '3d'],
    ['2024-05-01T12:00:01Z', '0s'],
    ['2024-05-01T12:00:05Z', '<invalid>'],
    [undefined, '<unknown>'],
    [null, '<unknown>'],
    ['', '<unknown>'],
    ['0001-01-01T00:00:00Z', '<unknown>'],
    ['yesterday', '<unknown>'],
    ['2024-05-01 11:59:30Z', '<unknown>'],
    ['2023-02-29T00:00:00Z', '<unknown>'],
    ['0001-01-01T00:00:01Z', '292y'],
  ];
  for (const [timestamp, want] of cases) t.equal(since(timestamp, now), want, String(timestamp));
  t.end();
});
