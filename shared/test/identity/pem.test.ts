import t from 'tap';
import { randomBytes } from 'node:crypto';
import { pemBlocks, pemDecodeAll, pemEncode, splitPemCertificates } from '../../src/identity/pem.js';

t.test('pemEncode armours DER in 64-column base64 lines', (t) => {
  const der = randomBytes(100);
  const pem = pemEncode('CERTIFICATE REQUEST', der);
  const lines = pem.split('\n');
  t.equal(lines[0], '-----BEGIN CERTIFICATE REQUEST-----');
  t.equal(lines.at(-2), '-----END CERTIFICATE REQUEST-----');
  t.equal(lines.at(-1), '', 'ends with a newline');
  const body = lines.slice(1, -2);
  t.ok(
    body.slice(0, -1).every((line) => line.length === 64),
    'full lines are 64 characters',
  );
  t.ok((body.at(-1) ?? '').length <= 64 && (body.at(-1) ?? '').length > 0, 'last line is not empty');
  t.same(Buffer.from(body.join(''), 'base64'), der);
  t.end();
});

t.test('pemEncode of exactly 48 bytes has no empty line before END', (t) => {
  const pem = pemEncode('X', randomBytes(48));
  t.notMatch(pem, /\n\n/);
  t.equal(pem.split('\n').length, 4);
  t.end();
});

t.test('pemDecodeAll round-trips every block in order and ignores text around them', (t) => {
  const first = randomBytes(70);
  const second = randomBytes(5);
  const text = `subject=whatever\n${pemEncode('CERTIFICATE', first)}junk between\n${pemEncode('EC PRIVATE KEY', second)}trailer`;
  const blocks = pemDecodeAll(text);
  t.same(
    blocks.map((block) => block.label),
    ['CERTIFICATE', 'EC PRIVATE KEY'],
  );
  t.same(blocks[0]?.der, first);
  t.same(blocks[1]?.der, second);
  t.end();
});

t.test('pemDecodeAll accepts CRLF line endings and indentation', (t) => {
  const der = randomBytes(90);
  const crlf = pemEncode('CERTIFICATE', der).replace(/\n/g, '\r\n').replace(/\r\n([A-Za-z0-9+/])/g, '\r\n  $1');
  t.same(pemDecodeAll(crlf)[0]?.der, der);
  t.end();
});

t.test('pemDecodeAll: no block is an empty list, not an error', (t) => {
  t.same(pemDecodeAll(''), []);
  t.same(pemDecodeAll('hello world'), []);
  t.same(pemDecodeAll('-----BEGIN CERTIFICATE-----\nAAAA\n'), [], 'a block without END is not a block');
  t.end();
});

t.test('pemDecodeAll refuses a block whose END label differs', (t) => {
  t.throws(() => pemDecodeAll('-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n'), {
    message: 'PEM block "BEGIN CERTIFICATE" ends with "END PRIVATE KEY"',
  });
  t.end();
});

t.test('pemDecodeAll refuses a body that is not base64', (t) => {
  t.throws(() => pemDecodeAll('-----BEGIN CERTIFICATE-----\nAA*A\n-----END CERTIFICATE-----\n'), {
    message: 'PEM block "CERTIFICATE" is not base64',
  });
  t.end();
});

t.test('pemBlocks keeps only blocks with the label', (t) => {
  const a = randomBytes(10);
  const b = randomBytes(11);
  const text = pemEncode('CERTIFICATE', a) + pemEncode('PRIVATE KEY', randomBytes(12)) + pemEncode('CERTIFICATE', b);
  t.same(pemBlocks(text, 'CERTIFICATE'), [a, b]);
  t.same(pemBlocks(text, 'CERTIFICATE REQUEST'), []);
  t.end();
});

t.test('splitPemCertificates normalises each certificate to its own PEM string', (t) => {
  const a = randomBytes(100);
  const b = randomBytes(200);
  const messy = `${pemEncode('CERTIFICATE', a).replace(/\n/g, '\r\n')}\n\n# comment\n${pemEncode('PRIVATE KEY', randomBytes(3))}${pemEncode('CERTIFICATE', b)}`;
  t.same(splitPemCertificates(messy), [pemEncode('CERTIFICATE', a), pemEncode('CERTIFICATE', b)]);
  t.same(splitPemCertificates(''), []);
  t.end();
});
