import t from 'tap';
import { jwtExpiry, parseServiceAccountUsername, tokenHash } from '../../src/identity/token.js';

t.test('parseServiceAccountUsername accepts exactly system:serviceaccount:<ns>:<sa>', (t) => {
  t.same(parseServiceAccountUsername('system:serviceaccount:shop:web'), { namespace: 'shop', serviceAccount: 'web' });
  t.same(parseServiceAccountUsername('system:serviceaccount:kube-system:coredns.v2'), { namespace: 'kube-system', serviceAccount: 'coredns.v2' });
  for (const username of [
    'alice',
    'system:serviceaccount:shop',
    'system:serviceaccount:shop:web:extra',
    'system:serviceaccount::web',
    'system:serviceaccount:shop:',
    'system:serviceaccounts:shop',
    'system:serviceaccount:Shop:web',
    'system:serviceaccount:shop.v1:web',
    'system:serviceaccount:shop:web/../x',
    'system:node:node-1',
    `system:serviceaccount:${'a'.repeat(64)}:web`,
  ]) {
    t.equal(parseServiceAccountUsername(username), null, username);
  }
  t.end();
});

t.test('jwtExpiry reads the exp claim in milliseconds, and nothing from non-JWTs', (t) => {
  const jwt = (claims: unknown): string => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
  t.equal(jwtExpiry(jwt({ exp: 1_700_000_000 })), 1_700_000_000_000);
  t.equal(jwtExpiry(jwt({ sub: 'x' })), undefined, 'no exp');
  t.equal(jwtExpiry(jwt({ exp: '1700000000' })), undefined, 'exp must be a number');
  t.equal(jwtExpiry(jwt(null)), undefined);
  t.equal(jwtExpiry('opaque-token'), undefined);
  t.equal(jwtExpiry('a.!!!.c'), undefined);
  t.equal(jwtExpiry('a.b.c.d'), undefined);
  t.end();
});

t.test('tokenHash is the hex SHA-256 and does not contain the token', (t) => {
  t.equal(tokenHash('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  t.not(tokenHash('abc'), tokenHash('abd'));
  t.end();
});
