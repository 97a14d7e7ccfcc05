/** ServiceAccount tokens: TokenRequest, TokenReview, bearer authentication and issuer discovery, as kube-apiserver does them. */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import t from 'tap';
import { ApiError } from '../../src/api/status.js';
import type { KubeObject } from '../../src/api/store.js';
import { TokenAuthority, type LookupKind, type TokenAuthorityOptions } from '../../src/api/tokens.js';

const RSA_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const OTHER_RSA_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const T0 = Date.parse('2025-03-01T12:00:00Z');
const S0 = T0 / 1000;
const BEARER = 'invalid bearer token';

/** A cluster of objects the authority reads, a clock, and the authority. */
function cluster(options: Partial<TokenAuthorityOptions> = {}) {
  const objects = new Map<string, KubeObject>();
  let now = T0;
  const key = (kind: LookupKind, ns: string, name: string): string => `${kind}/${ns}/${name}`;
  const put = (kind: LookupKind, ns: string, name: string, uid: string, rest: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): void => {
    objects.set(key(kind, ns, name), { metadata: { name, namespace: ns, uid, ...metadata }, ...rest });
  };
  put('ServiceAccount', 'default', 'web', 'sa-uid-1');
  put('ServiceAccount', 'default', 'db', 'sa-uid-db');
  put('Pod', 'default', 'web-0', 'pod-uid-1', { spec: { serviceAccountName: 'web' } });
  put('Pod', 'default', 'db-0', 'pod-uid-db', { spec: { serviceAccountName: 'db' } });
  put('Pod', 'default', 'plain', 'pod-uid-plain', { spec: {} });
  put('Secret', 'default', 'web-token', 'secret-uid-1');
  const authority = new TokenAuthority({ lookup: (ns, kind, name) => objects.get(key(kind, ns, name)), signingKey: RSA_KEY, now: () => now, ...options });
  return {
    authority,
    put,
    remove: (kind: LookupKind, ns: string, name: string) => objects.delete(key(kind, ns, name)),
    at: (ms: number) => {
      now = ms;
    },
  };
}

const body = (spec: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'authentication.k8s.io/v1',
  kind: 'TokenRequest',
  spec,
  ...extra,
});

const review = (token: string, audiences?: string[]): Record<string, unknown> => ({
  apiVersion: 'authentication.k8s.io/v1',
  kind: 'TokenReview',
  spec: { token, ...(audiences === undefined ? {} : { audiences }) },
});

const tokenOf = (obj: KubeObject): string => (obj['status'] as { token: string }).token;
const statusOf = (obj: KubeObject): Record<string, unknown> => obj['status'] as Record<string, unknown>;

function decode(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h = '', p = ''] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>, payload: JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown> };
}

function refusal(fn: () => unknown): { code: number; reason: string; message: string } | string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return { code: err.code, reason: err.reason, message: err.message };
    throw err;
  }
  return 'no error';
}

/** A compact JWS built by hand (for tokens the authority would never make). */
function forge(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject | undefined): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature = key === undefined ? Buffer.alloc(0) : sign('sha256', Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}

t.test('TokenRequest: the answer, the claims and a signature anyone can check with the published JWKS', (t) => {
  const { authority } = cluster();
  const out = authority.tokenRequest('default', 'web', body({}, { metadata: { labels: { a: 'b' } } }));
  const token = tokenOf(out);
  t.strictSame(out, {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { labels: { a: 'b' }, name: 'web', namespace: 'default', creationTimestamp: '2025-03-01T12:00:00Z' },
    spec: { audiences: [ISSUER], expirationSeconds: 3600, boundObjectRef: null },
    status: { token, expirationTimestamp: '2025-03-01T13:00:00Z' },
  });
  const { header, payload } = decode(token);
  t.strictSame(header, { alg: 'RS256', kid: authority.keyId });
  t.match(payload['jti'], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.strictSame(payload, {
    aud: [ISSUER],
    exp: S0 + 3600,
    iat: S0,
    iss: ISSUER,
    jti: payload['jti'],
    'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'web', uid: 'sa-uid-1' } },
    nbf: S0,
    sub: 'system:serviceaccount:default:web',
  });
  t.strictSame(Object.keys(payload), ['aud', 'exp', 'iat', 'iss', 'jti', 'kubernetes.io', 'nbf', 'sub'], 'claims in the order Go writes a map');

  const jwks = authority.jwks();
  t.equal(jwks.keys.length, 1);
  const jwk = jwks.keys[0] ?? {};
  t.strictSame(Object.keys(jwk), ['use', 'kty', 'kid', 'alg', 'n', 'e']);
  t.match(jwk, { use: 'sig', kty: 'RSA', kid: authority.keyId, alg: 'RS256', e: 'AQAB' });
  const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
  const [h, p, s] = token.split('.');
  t.ok(verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s ?? '', 'base64url')), 'the JWKS key verifies the token');
  const spkiHash = createHash('sha256').update(createPublicKey(RSA_KEY).export({ type: 'spki', format: 'der' })).digest('base64url');
  t.equal(authority.keyId, spkiHash, 'the key id is base64url(SHA-256(SPKI)), as kube-apiserver derives it');
  t.end();
});

t.test('TokenRequest: audiences, expiration, metadata and bound objects as asked', (t) => {
  const { authority } = cluster();
  const out = authority.tokenRequest(
    'default',
    'web',
    body({ audiences: ['vault', 'loom'], expirationSeconds: 600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-0', uid: 'pod-uid-1' } }, { metadata: { name: 'web', namespace: 'default' } }),
  );
  t.strictSame(out['spec'], { audiences: ['vault', 'loom'], expirationSeconds: 600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-0', uid: 'pod-uid-1' } });
  t.equal(statusOf(out)['expirationTimestamp'], '2025-03-01T12:10:00Z');
  const { payload } = decode(tokenOf(out));
  t.strictSame(payload['aud'], ['vault', 'loom']);
  t.equal(payload['exp'], S0 + 600);
  t.strictSame(payload['kubernetes.io'], { namespace: 'default', pod: { name: 'web-0', uid: 'pod-uid-1' }, serviceaccount: { name: 'web', uid: 'sa-uid-1' } });

  const bySecret = decode(tokenOf(authority.tokenRequest('default', 'web', body({ boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'web-token' }, expirationSeconds: 2 ** 32 })))).payload;
  t.strictSame(bySecret['kubernetes.io'], { namespace: 'default', secret: { name: 'web-token', uid: 'secret-uid-1' }, serviceaccount: { name: 'web', uid: 'sa-uid-1' } });
  t.equal(bySecret['exp'], S0 + 2 ** 32, '2^32 seconds is the longest allowed');

  const noVersion = authority.tokenRequest('default', 'web', { spec: { boundObjectRef: { kind: 'Pod', name: 'web-0' } } });
  t.ok(tokenOf(noVersion), 'kind and apiVersion may be omitted, and the bound ref apiVersion too (core group)');
  const nulls = authority.tokenRequest('default', 'web', body({ audiences: null, expirationSeconds: null, boundObjectRef: null }));
  t.strictSame(nulls['spec'], { audiences: [ISSUER], expirationSeconds: 3600, boundObjectRef: null }, 'null is absent (what kubectl create token sends)');
  const empty = authority.tokenRequest('default', 'web', body({ audiences: [] }));
  t.strictSame((empty['spec'] as Record<string, unknown>)['audiences'], [ISSUER], 'an empty audience list gets the API audience');
  t.end();
});

t.test('TokenRequest: every refusal, with the code and message kube-apiserver gives', (t) => {
  const { authority } = cluster();
  const GROUP = 'TokenRequest.authentication.k8s.io';
  const cases: [string, string, unknown, { code: number; reason: string; message: string }][] = [
    ['web', 'too short', body({ expirationSeconds: 599 }), { code: 422, reason: 'Invalid', message: `${GROUP} "" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes` }],
    ['web', 'zero', body({ expirationSeconds: 0 }), { code: 422, reason: 'Invalid', message: `${GROUP} "" is invalid: spec.expirationSeconds: Invalid value: 0: may not specify a duration less than 10 minutes` }],
    ['web', 'negative', body({ expirationSeconds: -3600 }), { code: 422, reason: 'Invalid', message: `${GROUP} "" is invalid: spec.expirationSeconds: Invalid value: -3600: may not specify a duration less than 10 minutes` }],
    ['web', 'too long', body({ expirationSeconds: 2 ** 32 + 1 }), { code: 422, reason: 'Invalid', message: `${GROUP} "" is invalid: spec.expirationSeconds: Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds` }],
    ['web', 'name contradicts the URL', body({}, { metadata: { name: 'other' } }), { code: 422, reason: 'Invalid', message: `${GROUP} "web" is invalid: metadata.name: Invalid value: "other": must match the service account name if specified` }],
    ['web', 'namespace contradicts the URL', body({}, { metadata: { namespace: 'kube-system' } }), { code: 422, reason: 'Invalid', message: `${GROUP} "web" is invalid: metadata.namespace: Invalid value: "kube-system": must match the service account namespace if specified` }],
    ['nope', 'no such ServiceAccount', body(), { code: 404, reason: 'NotFound', message: 'serviceaccounts "nope" not found' }],
    ['nope', 'a missing ServiceAccount before validation', body({ expirationSeconds: 1 }), { code: 404, reason: 'NotFound', message: 'serviceaccounts "nope" not found' }],
    ['web', 'validation before the bound object', body({ expirationSeconds: 1, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'ghost' } }), { code: 422, reason: 'Invalid', message: `${GROUP} "" is invalid: spec.expirationSeconds: Invalid value: 1: may not specify a duration less than 10 minutes` }],
    ['web', 'bound to a missing pod', body({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'ghost' } }), { code: 404, reason: 'NotFound', message: 'pods "ghost" not found' }],
    ['web', 'bound to a missing secret', body({ boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'ghost' } }), { code: 404, reason: 'NotFound', message: 'secrets "ghost" not found' }],
    ['web', 'bound to a node (none exist here)', body({ boundObjectRef: { kind: 'Node', apiVersion: 'v1', name: 'n1' } }), { code: 404, reason: 'NotFound', message: 'nodes "n1" not found' }],
    ['web', 'bound object without a name', body({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1' } }), { code: 400, reason: 'BadRequest', message: 'Name parameter required.' }],
    ['web', 'bound to a pod of another ServiceAccount', body({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'db-0' } }), { code: 400, reason: 'BadRequest', message: 'cannot bind token for serviceaccount "web" to pod running with different serviceaccount name.' }],
    ['web', 'a pod naming no ServiceAccount runs as "default"', body({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'plain' } }), { code: 400, reason: 'BadRequest', message: 'cannot bind token for serviceaccount "web" to pod running with different serviceaccount name.' }],
    ['web', 'bound to another kind', body({ boundObjectRef: { kind: 'Deployment', apiVersion: 'apps/v1', name: 'web' } }), { code: 400, reason: 'BadRequest', message: 'cannot bind token to object of type apps/v1, Kind=Deployment' }],
    ['web', 'bound to a core kind that cannot be bound', body({ boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'c' } }), { code: 400, reason: 'BadRequest', message: 'cannot bind token to object of type /v1, Kind=ConfigMap' }],
    ['web', 'a Pod of another group', body({ boundObjectRef: { kind: 'Pod', apiVersion: 'example.com/v1', name: 'web-0' } }), { code: 400, reason: 'BadRequest', message: 'cannot bind token to object of type example.com/v1, Kind=Pod' }],
    [
      'web',
      'bound pod recreated (uid differs)',
      body({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-0', uid: 'stale' } }),
      { code: 409, reason: 'Conflict', message: 'Operation cannot be fulfilled on Pod "web-0": the UID in the bound object reference (stale) does not match the UID in record. The object might have been deleted and then recreated' },
    ],
    ['web', 'audiences not a list', body({ audiences: 'vault' }), { code: 400, reason: 'BadRequest', message: 'TokenRequest in version "v1" cannot be handled as a TokenRequest: json: cannot unmarshal string into Go struct field TokenRequestSpec.spec.audiences of type []string' }],
    ['web', 'an audience not a string', body({ audiences: ['a', 1] }), { code: 400, reason: 'BadRequest', message: 'TokenRequest in version "v1" cannot be handled as a TokenRequest: json: cannot unmarshal number into Go struct field TokenRequestSpec.spec.audiences of type string' }],
    ['web', 'expiration as a string', body({ expirationSeconds: '3600' }), { code: 400, reason: 'BadRequest', message: 'TokenRequest in version "v1" cannot be handled as a TokenRequest: json: cannot unmarshal string into Go struct field TokenRequestSpec.spec.expirationSeconds of type int64' }],
    ['web', 'a fractional expiration', body({ expirationSeconds: 600.5 }), { code: 400, reason: 'BadRequest', message: 'TokenRequest in version "v1" cannot be handled as a TokenRequest: json: cannot unmarshal number 600.5 into Go struct field TokenRequestSpec.spec.expirationSeconds of type int64' }],
    ['web', 'spec not an object', body(undefined, { spec: [] }), { code: 400, reason: 'BadRequest', message: 'TokenRequest in version "v1" cannot be handled as a TokenRequest: json: cannot unmarshal array into Go struct field TokenRequest.spec of type v1.TokenRequestSpec' }],
    ['web', 'bound ref name not a string', body({ boundObjectRef: { kind: 'Pod', name: true } }), { code: 400, reason: 'BadRequest', message: 'TokenRequest in version "v1" cannot be handled as a TokenRequest: json: cannot unmarshal bool into Go struct field BoundObjectReference.spec.boundObjectRef.name of type string' }],
    ['web', 'another API version', body({}, { apiVersion: 'v1' }), { code: 400, reason: 'BadRequest', message: 'the API version in the data (v1) does not match the expected API version (authentication.k8s.io/v1)' }],
    ['web', 'another kind', body({}, { kind: 'TokenReview' }), { code: 400, reason: 'BadRequest', message: 'TokenReview in version "v1" cannot be handled as a TokenRequest: the body is a TokenReview, not a TokenRequest' }],
    ['web', 'not an object', ['x'], { code: 400, reason: 'BadRequest', message: 'the object provided is unrecognized (must be of type TokenRequest): the request body is not a JSON object' }],
    ['web', 'no body', undefined, { code: 400, reason: 'BadRequest', message: 'the object provided is unrecognized (must be of type TokenRequest): the request body is not a JSON object' }],
  ];
  for (const [sa, name, request, expected] of cases) t.strictSame(refusal(() => authority.tokenRequest('default', sa, request)), expected, name);
  t.end();
});

t.test('TokenRequest: the Invalid status names the field for kubectl', (t) => {
  const { authority } = cluster();
  try {
    authority.tokenRequest('default', 'web', body({ expirationSeconds: 60 }));
    t.fail('accepted');
  } catch (err) {
    t.ok(err instanceof ApiError);
    t.strictSame((err as ApiError).details, {
      name: '',
      group: 'authentication.k8s.io',
      kind: 'TokenRequest',
      causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: 60: may not specify a duration less than 10 minutes', field: 'spec.expirationSeconds' }],
    });
  }
  t.end();
});

t.test('TokenReview: audiences decide, and status.audiences is the intersection', (t) => {
  const { authority } = cluster();
  const apiToken = tokenOf(authority.tokenRequest('default', 'web', body()));
  const vaultToken = tokenOf(authority.tokenRequest('default', 'web', body({ audiences: ['vault', 'loom'] })));
  const ok = (token: string, audiences: string[] | undefined, expected: string[]): void => {
    const out = authority.tokenReview(review(token, audiences));
    const status = statusOf(out);
    t.equal(status['authenticated'], true, `${String(audiences)} authenticated`);
    t.strictSame(status['audiences'], expected, `audiences for ${String(audiences)}`);
    t.notOk('error' in status);
  };
  ok(apiToken, undefined, [ISSUER]);
  ok(apiToken, [], [ISSUER]);
  ok(apiToken, [ISSUER, 'other'], [ISSUER]);
  ok(vaultToken, ['vault'], ['vault']);
  ok(vaultToken, ['loom', 'x', 'vault'], ['vault', 'loom']);

  const refused = (token: string, audiences: string[] | undefined, error: string): void => {
    const out = authority.tokenReview(review(token, audiences));
    t.strictSame(out['status'], { user: {}, error }, `${String(audiences)} refused`);
  };
  refused(vaultToken, undefined, `[${BEARER}, token audiences ["vault" "loom"] is invalid for the target audiences ["${ISSUER}"]]`);
  refused(vaultToken, ['other'], `[${BEARER}, token audiences ["vault" "loom"] is invalid for the target audiences ["other"]]`);
  refused(apiToken, ['vault'], `[${BEARER}, token audiences ["${ISSUER}"] is invalid for the target audiences ["vault"]]`);
  t.end();
});

t.test('TokenReview: the user, its groups and extra, and the echoed request', (t) => {
  const { authority } = cluster();
  const token = tokenOf(authority.tokenRequest('default', 'web', body({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-0' } })));
  const jti = decode(token).payload['jti'] as string;
  const out = authority.tokenReview({ ...review(token, ['x', ISSUER]), metadata: { name: 'check' } });
  t.strictSame(out, {
    kind: 'TokenReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { creationTimestamp: null, name: 'check' },
    spec: { token, audiences: ['x', ISSUER] },
    status: {
      authenticated: true,
      user: {
        username: 'system:serviceaccount:default:web',
        uid: 'sa-uid-1',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
        extra: {
          'authentication.kubernetes.io/credential-id': [`JTI=${jti}`],
          'authentication.kubernetes.io/pod-name': ['web-0'],
          'authentication.kubernetes.io/pod-uid': ['pod-uid-1'],
        },
      },
      audiences: [ISSUER],
    },
  });
  t.end();
});

t.test('TokenReview: times, with the 60 s leeway Kubernetes allows', (t) => {
  const c = cluster();
  const token = tokenOf(c.authority.tokenRequest('default', 'web', body({ expirationSeconds: 600 })));
  const at = (seconds: number): unknown => {
    c.at(T0 + seconds * 1000);
    return statusOf(c.authority.tokenReview(review(token)))['error'] ?? 'authenticated';
  };
  t.equal(at(0), 'authenticated');
  t.equal(at(600), 'authenticated', 'at exp');
  t.equal(at(660), 'authenticated', 'within the leeway after exp');
  t.equal(at(661), `[${BEARER}, service account token has expired]`);
  t.equal(at(86_400), `[${BEARER}, service account token has expired]`);
  t.equal(at(-60), 'authenticated', 'within the leeway before nbf');
  t.equal(at(-61), `[${BEARER}, service account token is not valid yet]`);
  c.at(T0 + 700_000);
  t.equal(c.authority.authenticate(token), null, 'an expired token authenticates no request');
  t.end();
});

t.test('TokenReview: a token dies with its ServiceAccount, Pod or Secret', (t) => {
  const check = (setup: (c: ReturnType<typeof cluster>) => void, spec: Record<string, unknown>, expected: string): void => {
    const c = cluster();
    const token = tokenOf(c.authority.tokenRequest('default', 'web', body(spec)));
    t.equal(statusOf(c.authority.tokenReview(review(token)))['authenticated'], true, `valid before: ${expected}`);
    setup(c);
    t.strictSame(c.authority.tokenReview(review(token))['status'], { user: {}, error: expected });
  };
  check((c) => c.remove('ServiceAccount', 'default', 'web'), {}, `[${BEARER}, serviceaccounts "web" not found]`);
  check((c) => c.put('ServiceAccount', 'default', 'web', 'sa-uid-2'), {}, `[${BEARER}, service account UID (sa-uid-2) does not match claim (sa-uid-1)]`);
  check(
    (c) => c.put('ServiceAccount', 'default', 'web', 'sa-uid-1', {}, { deletionTimestamp: '2025-03-01T11:58:59Z' }),
    {},
    `[${BEARER}, service account default/web has been deleted]`,
  );
  const pod = { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-0' } };
  check((c) => c.remove('Pod', 'default', 'web-0'), pod, `[${BEARER}, service account token has been invalidated]`);
  check((c) => c.put('Pod', 'default', 'web-0', 'pod-uid-2', { spec: { serviceAccountName: 'web' } }), pod, `[${BEARER}, pod UID (pod-uid-2) does not match service account pod ref claim (pod-uid-1)]`);
  check((c) => c.remove('ServiceAccount', 'default', 'web'), pod, `[${BEARER}, serviceaccounts "web" not found]`);
  const secret = { boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'web-token' } };
  check((c) => c.remove('Secret', 'default', 'web-token'), secret, `[${BEARER}, service account token has been invalidated]`);
  check((c) => c.put('Secret', 'default', 'web-token', 'secret-uid-2'), secret, `[${BEARER}, secret UID (secret-uid-2) does not match service account secret ref claim (secret-uid-1)]`);

  const c = cluster();
  const token = tokenOf(c.authority.tokenRequest('default', 'web', body()));
  c.remove('Pod', 'default', 'web-0');
  t.equal(statusOf(c.authority.tokenReview(review(token)))['authenticated'], true, 'an unbound token does not care about pods');
  t.end();
});

t.test('TokenReview: forged, tampered and malformed tokens', (t) => {
  const { authority } = cluster();
  const other = new TokenAuthority({ lookup: () => undefined, signingKey: OTHER_RSA_KEY, now: () => T0 });
  const good = tokenOf(authority.tokenRequest('default', 'web', body()));
  const [h = '', p = '', s = ''] = good.split('.');
  const payload = decode(good).payload;
  const flip = (text: string, at: number): string => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
  const claims = (extra: Record<string, unknown>): string => Buffer.from(JSON.stringify({ ...payload, ...extra })).toString('base64url');
  const otherToken = tokenOf(
    new TokenAuthority({ lookup: (ns, kind, name) => ({ metadata: { name, namespace: ns, uid: kind === 'ServiceAccount' ? 'sa-uid-1' : '' } }), signingKey: OTHER_RSA_KEY, now: () => T0 }).tokenRequest(
      'default',
      'web',
      body(),
    ),
  );
  t.not(other.keyId, authority.keyId);

  const cases: [string, string, string][] = [
    ['signature changed', `${h}.${p}.${flip(s, 10)}`, `[${BEARER}, go-jose/go-jose: error in cryptographic primitive]`],
    ['signature of another token', `${h}.${p}.${tokenOf(authority.tokenRequest('default', 'db', body())).split('.')[2] ?? ''}`, `[${BEARER}, go-jose/go-jose: error in cryptographic primitive]`],
    ['claims changed (another ServiceAccount)', `${h}.${claims({ sub: 'system:serviceaccount:default:db', 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'db', uid: 'sa-uid-db' } } })}.${s}`, `[${BEARER}, go-jose/go-jose: error in cryptographic primitive]`],
    ['expiry extended', `${h}.${claims({ exp: S0 + 10 ** 8 })}.${s}`, `[${BEARER}, go-jose/go-jose: error in cryptographic primitive]`],
    ['signed by another key (another kid)', otherToken, `[${BEARER}, invalid signature, no keys found]`],
    ['signed by another key, no kid', forge({ alg: 'RS256' }, payload, OTHER_RSA_KEY), `[${BEARER}, go-jose/go-jose: error in cryptographic primitive]`],
    ['alg none', forge({ alg: 'none', kid: authority.keyId }, payload, undefined), `[${BEARER}, go-jose/go-jose: unknown/unsupported algorithm]`],
    ['alg HS256', forge({ alg: 'HS256', kid: authority.keyId }, payload, undefined), `[${BEARER}, go-jose/go-jose: unknown/unsupported algorithm]`],
    ['alg RS384 claimed', forge({ alg: 'RS384', kid: authority.keyId }, payload, RSA_KEY), `[${BEARER}, go-jose/go-jose: error in cryptographic primitive]`],
    ['another issuer, our key', forge({ alg: 'RS256', kid: authority.keyId }, { ...payload, iss: 'https://elsewhere' }, RSA_KEY), BEARER],
    ['legacy issuer', forge({ alg: 'RS256', kid: authority.keyId }, { ...payload, iss: 'kubernetes/serviceaccount' }, RSA_KEY), BEARER],
    ['no issuer', forge({ alg: 'RS256' }, { sub: 'x' }, RSA_KEY), BEARER],
    ['not a JWT', 'abc', BEARER],
    ['two parts', `${h}.${p}`, BEARER],
    ['four parts', `${good}.x`, BEARER],
    ['three garbage parts', 'a.b.c', BEARER],
    ['JSON instead of a JWT', JSON.stringify({ iss: ISSUER }), BEARER],
    ['payload with base64 padding', `${h}.${p}==.${s}`, BEARER],
    ['payload in standard base64', `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: '>>>???' })).toString('base64')}.${s}`, BEARER],
    ['payload a JSON array', `${h}.${Buffer.from('[1]').toString('base64url')}.${s}`, BEARER],
    ['header not JSON', `${Buffer.from('{alg').toString('base64url')}.${p}.${s}`, BEARER],
    ['signature not base64url', `${h}.${p}.***`, BEARER],
    ['kid not a string', `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 7 })).toString('base64url')}.${p}.${s}`, BEARER],
  ];
  for (const [name, token, error] of cases) {
    t.strictSame(authority.tokenReview(review(token))['status'], { user: {}, error }, name);
    t.equal(authority.authenticate(token), null, `${name}: no API access`);
  }
  t.equal(statusOf(authority.tokenReview(review(good)))['authenticated'], true, 'the untouched token still passes');
  t.end();
});

t.test('TokenReview: requests it refuses outright', (t) => {
  const { authority } = cluster();
  const cases: [string, unknown, { code: number; reason: string; message: string }][] = [
    ['no token', review(''), { code: 400, reason: 'BadRequest', message: 'token is required for TokenReview in authentication' }],
    ['no spec', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview' }, { code: 400, reason: 'BadRequest', message: 'token is required for TokenReview in authentication' }],
    ['token not a string', { kind: 'TokenReview', spec: { token: 5 } }, { code: 400, reason: 'BadRequest', message: 'TokenReview in version "v1" cannot be handled as a TokenReview: json: cannot unmarshal number into Go struct field TokenReviewSpec.spec.token of type string' }],
    ['audiences not a list', review('x', 'a' as unknown as string[]), { code: 400, reason: 'BadRequest', message: 'TokenReview in version "v1" cannot be handled as a TokenReview: json: cannot unmarshal string into Go struct field TokenReviewSpec.spec.audiences of type []string' }],
    ['v1beta1', { ...review('x'), apiVersion: 'authentication.k8s.io/v1beta1' }, { code: 400, reason: 'BadRequest', message: 'the API version in the data (authentication.k8s.io/v1beta1) does not match the expected API version (authentication.k8s.io/v1)' }],
    ['kind not a string', { ...review('x'), kind: 1 }, { code: 400, reason: 'BadRequest', message: 'the object provided is unrecognized (must be of type TokenReview): apiVersion and kind must be strings' }],
  ];
  for (const [name, request, expected] of cases) t.strictSame(refusal(() => authority.tokenReview(request)), expected, name);
  t.end();
});

t.test('authenticate: API bearer tokens need the API audience', (t) => {
  const { authority } = cluster();
  const token = tokenOf(authority.tokenRequest('default', 'web', body()));
  const jti = decode(token).payload['jti'] as string;
  t.strictSame(authority.authenticate(token), {
    username: 'system:serviceaccount:default:web',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
    uid: 'sa-uid-1',
    extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${jti}`] },
  });
  t.equal(authority.authenticate(tokenOf(authority.tokenRequest('default', 'web', body({ audiences: ['vault'] })))), null);
  t.equal(authority.authenticate(''), null);
  t.end();
});

t.test('issue: projected volume tokens, with the 3607 s extension Kubernetes applies', (t) => {
  const { authority } = cluster();
  const pod = { name: 'web-0', uid: 'pod-uid-1' };
  const extended = authority.issue({ namespace: 'default', serviceAccount: 'web', expirationSeconds: 3607, pod });
  t.equal(extended.expirationTimestamp, '2025-03-01T13:00:07Z', 'the requested expiry is reported');
  const claims = decode(extended.token).payload;
  t.equal(claims['exp'], S0 + 365 * 24 * 3600, 'the token itself lives a year');
  t.strictSame(claims['kubernetes.io'], { namespace: 'default', pod: { name: 'web-0', uid: 'pod-uid-1' }, serviceaccount: { name: 'web', uid: 'sa-uid-1' }, warnafter: S0 + 3607 });
  t.strictSame(Object.keys(claims['kubernetes.io'] as object), ['namespace', 'pod', 'serviceaccount', 'warnafter']);
  const user = authority.authenticate(extended.token);
  t.strictSame(user?.extra?.['authentication.kubernetes.io/pod-name'], ['web-0']);
  t.strictSame(user?.extra?.['authentication.kubernetes.io/pod-uid'], ['pod-uid-1']);

  const plain = decode(authority.issue({ namespace: 'default', serviceAccount: 'web', pod }).token).payload;
  t.equal(plain['exp'], S0 + 3600, '3600 s (the default) is not extended');
  t.notOk('warnafter' in (plain['kubernetes.io'] as object));
  const foreign = decode(authority.issue({ namespace: 'default', serviceAccount: 'web', expirationSeconds: 3607, audiences: ['vault'], pod }).token).payload;
  t.equal(foreign['exp'], S0 + 3607, 'not extended for other audiences');
  const unbound = decode(authority.issue({ namespace: 'default', serviceAccount: 'web', expirationSeconds: 3607 }).token).payload;
  t.equal(unbound['exp'], S0 + 3607, 'not extended without a pod');
  const off = cluster({ extendExpiration: false });
  t.equal(decode(off.authority.issue({ namespace: 'default', serviceAccount: 'web', expirationSeconds: 3607, pod }).token).payload['exp'], S0 + 3607, 'not extended when switched off');

  t.strictSame(refusal(() => authority.issue({ namespace: 'default', serviceAccount: 'web', pod: { name: 'web-0', uid: 'old' } })), {
    code: 409,
    reason: 'Conflict',
    message: 'Operation cannot be fulfilled on Pod "web-0": the UID in the bound object reference (old) does not match the UID in record. The object might have been deleted and then recreated',
  });
  t.strictSame(refusal(() => authority.issue({ namespace: 'default', serviceAccount: 'gone' })), { code: 404, reason: 'NotFound', message: 'serviceaccounts "gone" not found' });
  t.end();
});

t.test('a pod on a node: the node name travels in the token and the user', (t) => {
  const c = cluster();
  c.put('Pod', 'default', 'web-1', 'pod-uid-n', { spec: { serviceAccountName: 'web', nodeName: 'node-a' } });
  const token = c.authority.issue({ namespace: 'default', serviceAccount: 'web', pod: { name: 'web-1', uid: 'pod-uid-n' } }).token;
  t.strictSame((decode(token).payload['kubernetes.io'] as Record<string, unknown>)['node'], { name: 'node-a' });
  t.strictSame(c.authority.authenticate(token)?.extra?.['authentication.kubernetes.io/node-name'], ['node-a']);
  t.notOk('authentication.kubernetes.io/node-uid' in (c.authority.authenticate(token)?.extra ?? {}));
  t.end();
});

t.test('maxExpirationSeconds shortens long requests', (t) => {
  const { authority } = cluster({ maxExpirationSeconds: 3600 });
  const out = authority.tokenRequest('default', 'web', body({ expirationSeconds: 7200 }));
  t.equal((out['spec'] as Record<string, unknown>)['expirationSeconds'], 3600);
  t.equal(decode(tokenOf(out)).payload['exp'], S0 + 3600);
  t.equal(statusOf(out)['expirationTimestamp'], '2025-03-01T13:00:00Z');
  t.end();
});

t.test('issuer discovery documents, as kube-apiserver serves them', (t) => {
  const { authority } = cluster();
  t.strictSame(authority.openIdConfiguration('https://127.0.0.1:6443'), {
    issuer: ISSUER,
    jwks_uri: 'https://127.0.0.1:6443/openid/v1/jwks',
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  });
  const custom = cluster({ issuer: 'https://loom.example/cluster' }).authority;
  t.equal(custom.openIdConfiguration('https://[::1]:8443/')['issuer'], 'https://loom.example/cluster');
  t.equal(custom.openIdConfiguration('https://[::1]:8443/')['jwks_uri'], 'https://[::1]:8443/openid/v1/jwks');
  t.strictSame(custom.apiAudiences, ['https://loom.example/cluster'], 'the API audience defaults to the issuer');
  t.end();
});

t.test('an EC key signs ES256, and a persisted key keeps tokens valid across restarts', (t) => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const { authority } = cluster({ signingKey: ec });
  t.equal(authority.algorithm, 'ES256');
  const token = tokenOf(authority.tokenRequest('default', 'web', body()));
  t.strictSame(decode(token).header, { alg: 'ES256', kid: authority.keyId });
  const jwk = authority.jwks().keys[0] ?? {};
  t.strictSame(Object.keys(jwk), ['use', 'kty', 'kid', 'crv', 'alg', 'x', 'y']);
  const [h, p, s] = token.split('.');
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, Buffer.from(s ?? '', 'base64url'));
  t.ok(ok, 'the JWKS key verifies the ES256 token');
  t.equal(authority.openIdConfiguration('https://h:1')['id_token_signing_alg_values_supported']?.toString(), 'ES256');

  const first = cluster();
  const minted = tokenOf(first.authority.tokenRequest('default', 'web', body()));
  const restarted = cluster({ signingKey: first.authority.signingKeyPem() });
  t.equal(restarted.authority.keyId, first.authority.keyId);
  t.equal(restarted.authority.authenticate(minted)?.username, 'system:serviceaccount:default:web');
  t.throws(() => cluster({ signingKey: createPublicKey(createPrivateKey(first.authority.signingKeyPem())) }), /private key/);
  t.throws(() => cluster({ signingKey: generateKeyPairSync('ed25519').privateKey }), /unsupported signing key/);
  t.end();
});
