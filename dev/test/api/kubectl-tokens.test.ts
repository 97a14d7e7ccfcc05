/**
 * ServiceAccount tokens on the local API server through the real kubectl: TokenRequest (`kubectl create --raw
 * .../serviceaccounts/<sa>/token`), TokenReview with and without matching audiences, invalidation when the
 * ServiceAccount goes (or comes back with another uid), bearer authentication of kubectl itself (only with the API's
 * audience), and the issuer discovery documents, against which the token's signature is checked.
 */
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import t, { type Test } from 'tap';
import { json, kubectlMissing, startKube, type Kube } from './support/kube.js';

interface TokenRequestOut {
  kind: string;
  apiVersion: string;
  metadata: { name: string; namespace: string };
  spec: { audiences: string[]; expirationSeconds: number };
  status: { token: string; expirationTimestamp: string };
}

interface TokenReviewOut {
  kind: string;
  status: {
    authenticated?: boolean;
    user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
    audiences?: string[];
    error?: string;
  };
}

const decodePart = (token: string, index: number): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

const missing = await kubectlMissing();
if (missing !== null) {
  t.plan(0, missing);
} else {
  const kube: Kube = await startKube(t);
  const { kubectl, ok, fails } = kube;
  const APPLY = ['apply', '-f', '-'];
  const SA = JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'default' } });

  /** `kubectl create --raw <path> -f <body as a file>`: kubectl reads `-f -` too, but a file is what users write. */
  const createRaw = async (t: Test, path: string, body: unknown): Promise<string> => ok(t, ['create', '--raw', path, '-f', await kube.file('body.json', JSON.stringify(body))]);
  const requestToken = async (t: Test, audiences?: string[]): Promise<TokenRequestOut> =>
    json<TokenRequestOut>(
      await createRaw(t, '/api/v1/namespaces/default/serviceaccounts/robot/token', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { ...(audiences === undefined ? {} : { audiences }), expirationSeconds: 3600 },
      }),
    );
  const review = async (t: Test, token: string, audiences?: string[]): Promise<TokenReviewOut> =>
    json<TokenReviewOut>(
      await createRaw(t, '/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token, ...(audiences === undefined ? {} : { audiences }) },
      }),
    );

  let loomToken = '';
  let apiToken = '';
  let saUid = '';

  t.test('a TokenRequest for a ServiceAccount returns a signed token for the audiences asked', async (t) => {
    t.match(await ok(t, APPLY, SA), 'serviceaccount/robot created');
    saUid = (await ok(t, ['get', 'sa', 'robot', '-o', 'jsonpath={.metadata.uid}'])).trim();
    t.not(saUid, '');
    const before = Date.now();
    const out = await requestToken(t, ['loom']);
    t.equal(out.kind, 'TokenRequest');
    t.equal(out.apiVersion, 'authentication.k8s.io/v1');
    t.strictSame(out.spec.audiences, ['loom']);
    t.equal(out.spec.expirationSeconds, 3600);
    const expires = Date.parse(out.status.expirationTimestamp);
    t.ok(Math.abs(expires - (before + 3600_000)) < 10_000, `expires in an hour (${out.status.expirationTimestamp})`);
    loomToken = out.status.token;
    t.equal(loomToken.split('.').length, 3, 'a compact JWS');
    const claims = decodePart(loomToken, 1);
    t.strictSame(claims['aud'], ['loom']);
    t.equal(claims['sub'], 'system:serviceaccount:default:robot');
    t.equal(claims['iss'], 'https://kubernetes.default.svc.cluster.local');
    t.strictSame(claims['kubernetes.io'], { namespace: 'default', serviceaccount: { name: 'robot', uid: saUid } });

    apiToken = (await requestToken(t)).status.token;
    t.strictSame(decodePart(apiToken, 1)['aud'], ['https://kubernetes.default.svc.cluster.local'], 'without audiences: the API server\'s');

    const noSa = await kubectl(['create', '--raw', '/api/v1/namespaces/default/serviceaccounts/nobody/token', '-f', await kube.file('req.json', JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} }))]);
    t.equal(noSa.code, 1);
    t.match(noSa.stderr, 'Error from server (NotFound): serviceaccounts "nobody" not found');
    const short = await kubectl(['create', '--raw', '/api/v1/namespaces/default/serviceaccounts/robot/token', '-f', await kube.file('req.json', JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 60 } }))]);
    t.equal(short.code, 1);
    t.match(short.stderr, 'spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes');

    const builtin = await kubectl(['create', 'token', 'robot', '--audience', 'loom']);
    t.equal(builtin.code, 0, `kubectl create token works${builtin.code === 0 ? '' : `: ${builtin.stderr.trim()}`}`);
    const issued = JSON.parse(Buffer.from(builtin.stdout.trim().split('.')[1] ?? '', 'base64url').toString()) as { aud: string[]; sub: string };
    t.strictSame([issued.aud, issued.sub], [['loom'], 'system:serviceaccount:default:robot'], 'the protobuf TokenRequest\'s audience and ServiceAccount');
  });

  t.test('TokenReview: authenticated for its audience with the ServiceAccount\'s user, refused for another', async (t) => {
    const good = await review(t, loomToken, ['loom']);
    t.equal(good.kind, 'TokenReview');
    t.equal(good.status.authenticated, true);
    t.equal(good.status.user?.username, 'system:serviceaccount:default:robot');
    t.equal(good.status.user?.uid, saUid);
    t.strictSame(good.status.user?.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
    t.strictSame(good.status.audiences, ['loom']);
    t.match(good.status.user?.extra?.['authentication.kubernetes.io/credential-id']?.[0] ?? '', /^JTI=[0-9a-f-]{36}$/);

    const other = await review(t, loomToken, ['other']);
    t.notOk(other.status.authenticated, 'not authenticated for another audience');
    t.match(other.status.error ?? '', 'token audiences ["loom"] is invalid for the target audiences ["other"]');

    const noAudiences = await review(t, loomToken);
    t.notOk(noAudiences.status.authenticated, 'without audiences the API server\'s are required');
    t.match(noAudiences.status.error ?? '', 'is invalid for the target audiences ["https://kubernetes.default.svc.cluster.local"]');

    const tampered = `${loomToken.slice(0, -4)}AAAA`;
    const forged = await review(t, tampered, ['loom']);
    t.notOk(forged.status.authenticated, 'a changed signature does not verify');
    t.match(forged.status.error ?? '', 'invalid bearer token');
  });

  t.test('kubectl --token: the API accepts a token of its own audience only', async (t) => {
    const refused = await kubectl(['--token', loomToken, 'get', 'serviceaccounts']);
    t.equal(refused.code, 1);
    t.match(refused.stderr, 'error: You must be logged in to the server (Unauthorized)');
    t.match(await ok(t, ['--token', apiToken, 'get', 'serviceaccount', 'robot', '-o', 'name']), 'serviceaccount/robot');
    const whoami = await kubectl(['--token', apiToken, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    t.equal(whoami.stdout, 'system:serviceaccount:default:robot', `kubectl auth whoami names the ServiceAccount${whoami.code === 0 ? '' : `: ${whoami.stderr.trim()}`}`);
    const review = json<{ kind: string; status: { userInfo: { username: string; uid: string; groups: string[]; extra: Record<string, string[]> } } }>(await ok(t, ['--token', apiToken, 'auth', 'whoami', '-o', 'json']));
    t.equal(review.kind, 'SelfSubjectReview');
    t.strictSame(review.status.userInfo.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
    t.match(review.status.userInfo.uid, /^[0-9a-f-]{36}$/, 'the ServiceAccount uid');
    t.match(review.status.userInfo.extra['authentication.kubernetes.io/credential-id']?.[0] ?? '', /^JTI=/, 'the token\'s extra');
    t.match(await ok(t, ['auth', 'whoami']), /Username\s+kubernetes-admin[\s\S]*Groups\s+\[system:masters system:authenticated\]/, 'the admin credentials, as a table');
  });

  t.test('the issuer discovery documents describe the key that signed the tokens', async (t) => {
    const config = json<{ issuer: string; jwks_uri: string; id_token_signing_alg_values_supported: string[] }>(await ok(t, ['get', '--raw', '/.well-known/openid-configuration']));
    t.equal(config.issuer, 'https://kubernetes.default.svc.cluster.local');
    t.equal(config.jwks_uri, `${kube.api.url}/openid/v1/jwks`);
    t.strictSame(config.id_token_signing_alg_values_supported, ['RS256']);
    const jwks = json<{ keys: (JsonWebKey & { kid: string; use: string; alg: string })[] }>(await ok(t, ['get', '--raw', '/openid/v1/jwks']));
    t.equal(jwks.keys.length, 1);
    const header = decodePart(loomToken, 0);
    const key = jwks.keys.find((k) => k.kid === header['kid']);
    t.ok(key !== undefined, 'the token\'s kid is in the key set');
    t.equal(key?.use, 'sig');
    t.equal(header['alg'], 'RS256');
    if (key === undefined) return;
    const [h = '', p = '', s = ''] = loomToken.split('.');
    const publicKey = createPublicKey({ key, format: 'jwk' });
    t.ok(verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url')), 'the signature verifies with the published key');
  });

  t.test('deleting the ServiceAccount invalidates its tokens; recreating it does not bring them back', async (t) => {
    t.match(await ok(t, ['delete', 'sa', 'robot']), 'serviceaccount "robot" deleted');
    const gone = await review(t, loomToken, ['loom']);
    t.notOk(gone.status.authenticated);
    t.match(gone.status.error ?? '', 'serviceaccounts "robot" not found');
    const refused = await kubectl(['--token', apiToken, 'get', 'serviceaccounts']);
    t.match(refused.stderr, 'error: You must be logged in to the server (Unauthorized)');

    await ok(t, APPLY, SA);
    const newUid = (await ok(t, ['get', 'sa', 'robot', '-o', 'jsonpath={.metadata.uid}'])).trim();
    t.not(newUid, saUid);
    const stale = await review(t, loomToken, ['loom']);
    t.notOk(stale.status.authenticated, 'a token of the old ServiceAccount stays invalid');
    t.match(stale.status.error ?? '', `service account UID (${newUid}) does not match claim (${saUid})`);
    t.match(await fails(t, ['--token', apiToken, 'get', 'serviceaccounts']), 'Unauthorized');
    const fresh = (await requestToken(t)).status.token;
    t.match(await ok(t, ['--token', fresh, 'get', 'sa', 'robot', '-o', 'name']), 'serviceaccount/robot', 'a new token works');
  });
}
