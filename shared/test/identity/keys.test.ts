import t from 'tap';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import {
  DEFAULT_KEY_TYPE,
  KEY_TYPES,
  describeKey,
  digestOfSignatureOid,
  generateKey,
  generateKeySync,
  keyTypeOf,
  signatureAlgorithm,
} from '../../src/identity/keys.js';

t.test('the default key type is ECDSA P-256', async (t) => {
  t.equal(DEFAULT_KEY_TYPE, 'ec-p256');
  t.equal(keyTypeOf(generateKeySync().privateKey), 'ec-p256');
  t.equal(keyTypeOf((await generateKey()).privateKey), 'ec-p256');
});

t.test('generateKey (async) makes a key of every type, recognised by keyTypeOf', async (t) => {
  const pairs = await Promise.all(KEY_TYPES.map(async (type) => [type, await generateKey(type)] as const));
  for (const [type, pair] of pairs) {
    t.equal(keyTypeOf(pair.privateKey), type, `${type} private key`);
    t.equal(keyTypeOf(pair.publicKey), type, `${type} public key`);
    t.equal(pair.privateKey.type, 'private');
    t.equal(pair.publicKey.type, 'public');
    t.same(
      createPublicKey(pair.privateKey).export({ type: 'spki', format: 'der' }),
      pair.publicKey.export({ type: 'spki', format: 'der' }),
      `${type}: the public key belongs to the private key`,
    );
  }
});

t.test('generateKey runs off the event loop: it returns a promise before the key exists', async (t) => {
  let settled = false;
  const pending = generateKey('rsa-2048').then((pair) => {
    settled = true;
    return pair;
  });
  t.notOk(settled, 'not settled synchronously');
  t.equal(keyTypeOf((await pending).publicKey), 'rsa-2048');
});

t.test('generateKeySync makes the EC types', (t) => {
  t.equal(keyTypeOf(generateKeySync('ec-p256').publicKey), 'ec-p256');
  t.equal(keyTypeOf(generateKeySync('ec-p384').publicKey), 'ec-p384');
  t.equal(keyTypeOf(generateKeySync('rsa-2048').publicKey), 'rsa-2048');
  t.end();
});

t.test('keys Loom does not accept have no key type, and describeKey says what they are', (t) => {
  const cases = [
    { key: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey, text: 'rsa (1024 bits)' },
    { key: generateKeyPairSync('rsa', { modulusLength: 2047 }).publicKey, text: 'rsa (2047 bits)' },
    { key: generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey, text: 'ec (secp256k1)' },
    { key: generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey, text: 'ec (secp521r1)' },
    { key: generateKeyPairSync('ed25519').publicKey, text: 'ed25519' },
    { key: generateKeyPairSync('x25519').privateKey, text: 'x25519' },
    { key: generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey, text: 'rsa-pss (2048 bits)' },
  ];
  for (const { key, text } of cases) {
    t.equal(keyTypeOf(key), undefined, `${text} is not accepted`);
    t.equal(describeKey(key), text);
  }
  t.end();
});

t.test('describeKey for accepted keys', (t) => {
  t.equal(describeKey(generateKeySync('ec-p256').publicKey), 'ec (prime256v1)');
  t.equal(describeKey(generateKeySync('ec-p384').privateKey), 'ec (secp384r1)');
  t.equal(describeKey(generateKeySync('rsa-2048').publicKey), 'rsa (2048 bits)');
  t.end();
});

t.test('signatureAlgorithm: a signature made with it verifies, and its OID maps back to its digest', (t) => {
  const data = Buffer.from('to be signed');
  for (const type of ['ec-p256', 'ec-p384', 'rsa-2048'] as const) {
    const { privateKey, publicKey } = generateKeySync(type);
    const algorithm = signatureAlgorithm(type);
    t.equal(digestOfSignatureOid(algorithm.oid), algorithm.digest, `${type}: OID ${algorithm.oid}`);
    t.equal(algorithm.nullParams, type.startsWith('rsa'), `${type}: NULL parameters only for RSA (RFC 4055 / RFC 5758)`);
    t.ok(verify(algorithm.digest, data, publicKey, sign(algorithm.digest, data, privateKey)), `${type}: signature verifies`);
  }
  t.equal(signatureAlgorithm('rsa-4096').oid, signatureAlgorithm('rsa-2048').oid);
  t.end();
});

t.test('digestOfSignatureOid', (t) => {
  t.equal(digestOfSignatureOid('1.2.840.10045.4.3.2'), 'sha256');
  t.equal(digestOfSignatureOid('1.2.840.10045.4.3.3'), 'sha384');
  t.equal(digestOfSignatureOid('1.2.840.10045.4.3.4'), 'sha512');
  t.equal(digestOfSignatureOid('1.2.840.113549.1.1.11'), 'sha256');
  t.equal(digestOfSignatureOid('1.2.840.113549.1.1.12'), 'sha384');
  t.equal(digestOfSignatureOid('1.2.840.113549.1.1.13'), 'sha512');
  t.equal(digestOfSignatureOid('1.2.840.113549.1.1.5'), undefined, 'sha1WithRSAEncryption is refused');
  t.equal(digestOfSignatureOid('1.3.101.112'), undefined, 'Ed25519 has no digest');
  t.equal(digestOfSignatureOid(''), undefined);
  t.end();
});
