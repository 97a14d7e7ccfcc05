/** Compact JWS: Go-style JSON, strict base64url, signing and verification with RSA and EC keys. */
import { generateKeyPairSync } from 'node:crypto';
import t from 'tap';
import { algorithmOf, decodeBase64Url, goJson, keyIdOf, parseJws, peekPayload, signJws, verifyJws } from '../../src/api/jwt.js';

t.test('goJson writes JSON as Go writes a map', (t) => {
  t.equal(goJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 'x' } }), '{"a":{"c":"x","d":[{"y":2,"z":1}]},"b":1}', 'keys sorted at every depth');
  t.equal(goJson({ s: '<a href="x">&</a>' }), '{"s":"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"}', 'HTML characters escaped');
  t.equal(goJson({ s: '\u2028\u2029' }), '{"s":"\\u2028\\u2029"}');
  t.equal(goJson({ a: undefined, b: null }), '{"b":null}', 'undefined members left out');
  t.end();
});

t.test('decodeBase64Url accepts unpadded base64url only', (t) => {
  t.equal(decodeBase64Url('aGk')?.toString(), 'hi');
  t.equal(decodeBase64Url('')?.length, 0);
  const refused = ['aGk=', 'a+b/', 'a b', 'abcde', 'ab.c'];
  for (const text of refused) t.equal(decodeBase64Url(text), undefined, JSON.stringify(text));
  t.end();
});

t.test('signing and verifying with each supported key', (t) => {
  const keys = [
    ['RS256', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey],
    ['ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey],
    ['ES384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
    ['ES512', generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey],
  ] as const;
  for (const [alg, key] of keys) {
    t.equal(algorithmOf(key), alg);
    const token = signJws({ iss: 'x', n: 1 }, key, 'kid-1');
    const jws = parseJws(token);
    t.strictSame(jws?.header, { alg, kid: 'kid-1' });
    t.strictSame(peekPayload(token), { iss: 'x', n: 1 });
    if (jws === undefined) continue;
    t.equal(verifyJws(jws, key), 'valid', `${alg} verifies`);
    const other = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey : generateKeyPairSync('ec', { namedCurve: key.asymmetricKeyDetails?.namedCurve ?? 'P-256' }).privateKey;
    t.equal(verifyJws(jws, other), 'invalid', `${alg}: another key does not`);
  }
  t.throws(() => algorithmOf(generateKeyPairSync('ed25519').privateKey), /unsupported signing key ed25519/);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  t.equal(keyIdOf(rsa.privateKey), keyIdOf(rsa.publicKey), 'the key id of a private key is that of its public key');
  t.throws(() => algorithmOf(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey), /unsupported signing key ec \(secp256k1\)/);
  t.end();
});

t.test('parseJws: three parts, JSON objects, padding tolerated as go-jose does', (t) => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const token = signJws({ a: 1 }, key, keyIdOf(key));
  const [h = '', p = '', s = ''] = token.split('.');
  const padded = parseJws(`${h}==.${p}.${s}`);
  t.ok(padded, 'padding accepted');
  t.equal(padded === undefined ? 'none' : verifyJws(padded, key), 'invalid', 'but the signature covers the bytes as received');
  t.equal(parseJws(`${h}.${p}`), undefined);
  t.equal(parseJws(`${Buffer.from('[]').toString('base64url')}.${p}.${s}`), undefined, 'header must be an object');
  t.equal(parseJws(`${h}.${Buffer.from('"x"').toString('base64url')}.${s}`), undefined, 'payload must be an object');
  t.equal(peekPayload(`${h}.${p}=.${s}`), undefined, 'peeking is strict: no padding');
  t.end();
});
