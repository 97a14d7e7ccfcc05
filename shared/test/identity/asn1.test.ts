import t from 'tap';
import { randomBytes } from 'node:crypto';
import * as a from '../../src/identity/asn1.js';

const hex = (buffer: Uint8Array): string => Buffer.from(buffer).toString('hex');

t.test('unsignedInteger is minimal and non-negative', (t) => {
  t.equal(hex(a.der(a.unsignedInteger(Buffer.of(0x01)))), '020101');
  t.equal(hex(a.der(a.unsignedInteger(Buffer.of(0x80)))), '02020080', 'a leading zero keeps a set top bit positive');
  t.equal(hex(a.der(a.unsignedInteger(Buffer.of(0x00, 0x00, 0x7f)))), '02017f', 'leading zeros are dropped');
  t.equal(hex(a.der(a.unsignedInteger(Buffer.of(0x00, 0x00, 0x80)))), '02020080');
  t.equal(hex(a.der(a.unsignedInteger(Buffer.of(0x00)))), '020100');
  t.equal(hex(a.der(a.unsignedInteger(Buffer.alloc(0)))), '020100', 'no bytes is zero');
  t.end();
});

t.test('scalar encoders', (t) => {
  t.equal(hex(a.der(a.smallInteger(2))), '020102');
  t.equal(hex(a.der(a.bool(true))), '0101ff');
  t.equal(hex(a.der(a.bool(false))), '010100');
  t.equal(hex(a.der(a.nullValue())), '0500');
  // ecdsa-with-SHA256 (RFC 5758)
  t.equal(hex(a.der(a.oid('1.2.840.10045.4.3.2'))), '06082a8648ce3d040302');
  t.equal(hex(a.der(a.octets(Buffer.of(1, 2)))), '04020102');
  t.equal(hex(a.der(a.bitString(Buffer.of(0x80), 7))), '03020780');
  t.equal(hex(a.der(a.bitString(Buffer.of(0xaa)))), '030200aa', 'no unused bits by default');
  t.equal(hex(a.der(a.utf8('é'))), '0c02c3a9', 'UTF8String holds UTF-8 bytes');
  t.equal(hex(a.der(a.seq([]))), '3000');
  t.equal(hex(a.der(a.set([a.nullValue()]))), '31020500');
  t.end();
});

t.test('context-specific tags', (t) => {
  t.equal(hex(a.der(a.explicit(0, a.smallInteger(2)))), 'a003020102');
  t.equal(hex(a.der(a.implicitPrimitive(6, 'ab'))), '86026162');
  t.equal(hex(a.der(a.implicitPrimitive(2, Buffer.of(0xff)))), '8201ff');
  t.equal(hex(a.der(a.implicitConstructed(0, [a.nullValue()]))), 'a0020500');
  t.end();
});

t.test('time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), whole seconds', (t) => {
  const encode = (iso: string): string => Buffer.from(a.der(a.time(new Date(iso)))).toString('latin1');
  t.equal(encode('2026-03-04T05:06:07.890Z'), '\x17\x0d260304050607Z', 'milliseconds are dropped');
  t.equal(encode('2049-12-31T23:59:59.999Z'), '\x17\x0d491231235959Z', 'last UTCTime second');
  t.equal(encode('2050-01-01T00:00:00.000Z'), '\x18\x0f20500101000000Z', 'first GeneralizedTime second');
  t.equal(encode('2106-02-07T06:28:16Z'), '\x18\x0f21060207062816Z');
  t.end();
});

t.test('sequenceDer concatenates nodes and raw DER with the right length form', (t) => {
  t.equal(hex(a.sequenceDer([])), '3000');
  t.equal(hex(a.sequenceDer([a.nullValue(), Buffer.from('0500', 'hex')])), '300405000500');
  for (const size of [0x7d, 0x7e, 0xfe, 0xff, 0x1_0000]) {
    const content = randomBytes(size);
    const encoded = a.sequenceDer([a.octets(content)]);
    const span = a.tlvSpan(encoded, 0);
    t.equal(span.end, encoded.length, `content of ${size + 2}+ bytes: span covers everything`);
    const inner = a.tlvSpan(encoded, span.contentStart);
    t.same(encoded.subarray(inner.contentStart, inner.end), content);
    t.same(a.content(a.children(a.parseDer(encoded))[0]), content, 'node-forge reads it back');
  }
  t.end();
});

t.test('sequenceDer embeds a subarray of a larger buffer exactly', (t) => {
  const big = Buffer.from('ff0500ff', 'hex');
  t.equal(hex(a.sequenceDer([big.subarray(1, 3)])), '30020500');
  t.end();
});

t.test('tlvSpan', (t) => {
  t.same(a.tlvSpan(Buffer.from('3003020101ff', 'hex'), 0), { start: 0, contentStart: 2, end: 5 });
  t.same(a.tlvSpan(Buffer.from('3003020101', 'hex'), 2), { start: 2, contentStart: 4, end: 5 });
  t.same(a.tlvSpan(Buffer.concat([Buffer.from('0482012c', 'hex'), Buffer.alloc(300)]), 0), { start: 0, contentStart: 4, end: 304 });
  t.throws(() => a.tlvSpan(Buffer.alloc(0), 0), { message: 'truncated DER' });
  t.throws(() => a.tlvSpan(Buffer.from('30', 'hex'), 0), { message: 'truncated DER' });
  t.throws(() => a.tlvSpan(Buffer.from('3005', 'hex'), 0), { message: 'truncated DER' });
  t.throws(() => a.tlvSpan(Buffer.from('3082', 'hex'), 0), { message: 'truncated DER' });
  t.throws(() => a.tlvSpan(Buffer.from('3080', 'hex'), 0), { message: 'unsupported DER length' }, 'indefinite length');
  t.throws(() => a.tlvSpan(Buffer.from('30850000000000', 'hex'), 0), { message: 'unsupported DER length' });
  t.end();
});

t.test('parseDer reads one value, refuses trailing bytes, and keeps bit strings opaque', (t) => {
  const encoded = a.sequenceDer([a.oid('2.5.29.17'), a.bitString(a.der(a.seq([a.nullValue()])))]);
  const node = a.parseDer(encoded);
  t.ok(a.isSequence(node));
  const [oidNode, bits] = a.children(node);
  t.equal(a.readOid(oidNode), '2.5.29.17');
  t.equal(hex(a.content(bits) ?? Buffer.alloc(0)), '0030020500', 'bit string content as is (unused-bits byte first)');
  t.same(a.der(node), encoded, 're-encodes to the same bytes');
  t.throws(() => a.parseDer(Buffer.concat([encoded, Buffer.of(0)])));
  t.throws(() => a.parseDer(encoded.subarray(0, encoded.length - 1)));
  t.end();
});

t.test('raw embeds existing DER', (t) => {
  const inner = a.der(a.seq([a.smallInteger(7)]));
  t.same(a.der(a.seq([a.raw(inner)])), Buffer.concat([Buffer.of(0x30, inner.length), inner]));
  t.end();
});

t.test('readers are total on unexpected nodes', (t) => {
  t.equal(a.readOid(undefined), undefined);
  t.equal(a.readOid(a.nullValue()), undefined, 'not an OID');
  t.equal(a.content(undefined), undefined);
  t.equal(a.content(a.seq([])), undefined, 'constructed nodes have no content bytes');
  t.same(a.children(undefined), []);
  t.same(a.children(a.nullValue()), []);
  t.notOk(a.isSequence(undefined));
  t.notOk(a.isSequence(a.set([])));
  t.notOk(a.isSequence(a.implicitConstructed(16, [])), 'a context tag 16 is not a SEQUENCE');
  t.ok(a.isContext(a.explicit(3, a.nullValue()), 3));
  t.notOk(a.isContext(a.explicit(3, a.nullValue()), 0));
  t.notOk(a.isContext(a.seq([]), 16), 'universal SEQUENCE is not context tag 16');
  t.end();
});
