import t from 'tap';
import { Reader, WireError, decodeUtf8, encodeVarint, lengthDelimited, wireTypeName } from '../../../src/api/protobuf/wire.js';
import { varintBytes } from './encoder.js';

const reader = (...bytes: number[]): Reader => new Reader(Uint8Array.from(bytes));

t.test('varint: unsigned 64-bit values, negatives as Go writes them', (t) => {
  const cases: [string, number[], bigint][] = [
    ['zero', [0x00], 0n],
    ['one byte', [0x7f], 127n],
    ['two bytes', [0x80, 0x01], 128n],
    ['300', [0xac, 0x02], 300n],
    ['2^32', [0x80, 0x80, 0x80, 0x80, 0x10], 2n ** 32n],
    ['max uint64 (10 bytes)', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 2n ** 64n - 1n],
    ['-1 as int64', [...varintBytes(-1)], 2n ** 64n - 1n],
    ['a redundant continuation is accepted', [0x81, 0x00], 1n],
  ];
  for (const [name, bytes, want] of cases) t.equal(reader(...bytes).varint(), want, name);
  t.end();
});

t.test('varint and uint: malformed input is a WireError with the offset', (t) => {
  const eleven = Array.from({ length: 10 }, () => 0xff).concat([0x01]);
  const cases: [string, () => unknown, RegExp, number][] = [
    ['empty', () => reader().varint(), /unexpected end of data/, 0],
    ['truncated', () => reader(0x80, 0x80).varint(), /unexpected end of data/, 2],
    ['longer than 10 bytes', () => reader(...eleven).varint(), /varint longer than 10 bytes/, 0],
    ['uint longer than 10 bytes', () => reader(...eleven).uint(), /varint longer than 10 bytes/, 0],
    ['uint beyond 2^53', () => reader(...varintBytes(2n ** 60n)).uint(), /out of range/, 0],
  ];
  for (const [name, read, message, offset] of cases) {
    try {
      read();
      t.fail(`${name}: no error`);
    } catch (err) {
      t.ok(err instanceof WireError, `${name}: a WireError`);
      t.match((err as Error).message, message, name);
      t.equal((err as WireError).offset, offset, `${name}: offset`);
    }
  }
  t.end();
});

t.test('tag: field number and wire type; field 0 and beyond 2^29-1 are refused', (t) => {
  t.strictSame(reader(0x0a).tag(), { field: 1, wire: 2 });
  t.strictSame(reader(0x08).tag(), { field: 1, wire: 0 });
  t.strictSame(reader(...varintBytes(17 * 8 + 0)).tag(), { field: 17, wire: 0 });
  t.strictSame(reader(...varintBytes(0x1fffffff * 8 + 5)).tag(), { field: 0x1fffffff, wire: 5 });
  t.throws(() => reader(0x02).tag(), /invalid field number 0/);
  t.throws(() => reader(...varintBytes(0x20000000 * 8)).tag(), /invalid field number 536870912/);
  t.end();
});

t.test('bytes: a view of exactly the length given; a length past the end is refused', (t) => {
  const r = reader(0x03, 0x61, 0x62, 0x63, 0x7f);
  t.strictSame([...r.bytes()], [0x61, 0x62, 0x63]);
  t.equal(r.offset, 4);
  t.equal(r.done, false);
  t.equal(r.varint(), 127n);
  t.equal(r.done, true);
  t.strictSame([...reader(0x00).bytes()], [], 'empty');
  t.throws(() => reader(0x04, 0x61).bytes(), /length 4 runs past the end of the data/);
  t.end();
});

t.test('a reader over part of a buffer stops at its end', (t) => {
  const r = new Reader(Uint8Array.from([0x01, 0x02, 0x03]), 1, 2);
  t.equal(r.varint(), 2n);
  t.equal(r.done, true);
  t.throws(() => r.varint(), /unexpected end of data/);
  t.end();
});

t.test('decodeUtf8: invalid sequences become U+FFFD, a BOM is kept', (t) => {
  t.equal(decodeUtf8(Uint8Array.from(Buffer.from('héllo ☃'))), 'héllo ☃');
  t.equal(decodeUtf8(Uint8Array.from([0x61, 0xff, 0x62])), 'a\ufffdb');
  t.equal(decodeUtf8(Uint8Array.from([0xef, 0xbb, 0xbf, 0x61])), '\ufeffa');
  t.end();
});

t.test('wireTypeName names wire types for messages', (t) => {
  t.equal(wireTypeName(0), '0 (varint)');
  t.equal(wireTypeName(2), '2 (length-delimited)');
  t.equal(wireTypeName(7), '7 (invalid)');
  t.end();
});

t.test('encodeVarint and lengthDelimited write what the reader reads', (t) => {
  const cases: [number, number[]][] = [
    [0, [0x00]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
    [Number.MAX_SAFE_INTEGER, [...varintBytes(Number.MAX_SAFE_INTEGER)]],
  ];
  for (const [value, want] of cases) {
    t.strictSame([...encodeVarint(value)], want, `varint ${value}`);
    t.equal(new Reader(encodeVarint(value)).uint(), value, `round trip ${value}`);
  }
  for (const bad of [-1, 1.5, 2 ** 53, Number.NaN]) t.throws(() => encodeVarint(bad), RangeError, `refuses ${bad}`);
  t.strictSame([...lengthDelimited(2, 'hé')], [0x12, 0x03, 0x68, 0xc3, 0xa9], 'a string as UTF-8');
  t.strictSame([...lengthDelimited(8, new Uint8Array(0))], [0x42, 0x00], 'an empty message');
  const r = new Reader(lengthDelimited(300, Uint8Array.of(1, 2)));
  t.strictSame(r.tag(), { field: 300, wire: 2 });
  t.strictSame([...r.bytes()], [1, 2]);
  t.end();
});
