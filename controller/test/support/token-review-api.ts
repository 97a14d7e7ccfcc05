/**
 * `POST /apis/authentication.k8s.io/v1/tokenreviews` for {@link startFakeKubeApi}, answering as kube-apiserver
 * does (pkg/registry/authentication/tokenreview and the ServiceAccount JWT authenticator):
 *
 * - The reply to a review is always `201 Created` with the TokenReview echoed back (spec included) and a
 *   `status`; a refused token is not an HTTP error. `status.authenticated` is omitted when false
 *   (`omitempty`), `status.user` is then `{}`, and `status.error` carries the authenticator chain's
 *   aggregated error text, e.g. `[invalid bearer token, service account token has expired]` (the loopback
 *   token authenticator always adds `invalid bearer token`; identical messages are deduplicated).
 * - `spec.audiences` empty means the API server's own audiences. The JWT authenticator checks the audience
 *   before expiry, so an expired token for another audience is reported as an audience error.
 * - An accepted ServiceAccount token yields `system:serviceaccount:<ns>:<sa>`, its groups, the ServiceAccount
 *   UID, `status.audiences` = the intersection with the requested ones, and for pod-bound tokens the
 *   `authentication.kubernetes.io/{pod-name,pod-uid,node-name,node-uid,credential-id}` extras.
 * - `spec.token` empty → `400 BadRequest`. A reviewer (the caller's bearer) that is unknown → `401`, one not
 *   allowed to create tokenreviews → `403`, when `reviewers` is configured.
 *
 * Tokens are real-looking JWTs minted here; "verifying" one means finding it in the table of minted tokens,
 * so a token not minted here (garbage, another issuer, a forged signature) is unknown: `invalid bearer token`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { status, type KubeReply, type KubeRequest, type KubeRoute } from './kube-api.js';

export const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
/** kube-apiserver's default `--api-audiences` (the issuer URL). */
export const API_SERVER_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';
/** go-jose's default leeway for `exp` (the ServiceAccount authenticator validates with it). */
export const EXPIRY_LEEWAY_MS = 60_000;

export interface ServiceAccountTokenSpec {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** `aud` of the token; default `['loom']` (a projected token for Loom). */
  readonly audiences?: readonly string[];
  /** `exp`, epoch ms; default one hour from now. */
  readonly expiresAt?: number;
  /** The pod the token is bound to; default a pod named after the ServiceAccount. `null`: not pod-bound. */
  readonly pod?: { readonly name: string; readonly uid?: string } | null;
}

export interface UserTokenSpec {
  /** A user that is not a ServiceAccount, as an OIDC/JWT authenticator configured with these audiences yields. */
  readonly username: string;
  readonly audiences?: readonly string[];
}

interface MintedToken {
  readonly username: string;
  readonly uid: string;
  readonly groups: readonly string[];
  readonly audiences: readonly string[];
  readonly expiresAt: number;
  readonly extra: Readonly<Record<string, readonly string[]>>;
  revoked: boolean;
}

export interface TokenReviewApiOptions {
  /** The API server's clock, epoch ms. */
  readonly now?: () => number;
  readonly apiAudiences?: readonly string[];
  /**
   * `false` models a TokenReview server that ignores `spec.audiences` (a webhook authenticator that is not
   * audience-aware): it accepts tokens of any audience and returns no `status.audiences`.
   */
  readonly audienceAware?: boolean;
  /** Bearer tokens allowed to call the endpoint, with whether RBAC lets them create tokenreviews. Anyone when omitted. */
  readonly reviewers?: ReadonlyMap<string, { readonly username: string; readonly canReview: boolean }>;
}

export interface TokenReviewApi {
  /** The route to pass to startFakeKubeApi. */
  readonly route: KubeRoute;
  /** A projected ServiceAccount token the API server will recognise. */
  mintServiceAccountToken(spec: ServiceAccountTokenSpec): string;
  mintUserToken(spec: UserTokenSpec): string;
  /** The bound pod was deleted: the token stops validating (`service account token has been invalidated`). */
  revoke(token: string): void;
  /** Every review received: the token and the requested audiences. */
  readonly reviews: readonly { readonly token: string; readonly audiences: readonly string[] }[];
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Go's %q of a []string: `["a" "b"]`. */
const goQuote = (values: readonly string[]): string => `[${values.map((value) => JSON.stringify(value)).join(' ')}]`;

/** utilerrors.NewAggregate(...).Error(): one message bare, several deduplicated in brackets. */
const aggregate = (messages: readonly string[]): string => {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? (unique[0] ?? '') : `[${unique.join(', ')}]`;
};

export function tokenReviewApi(options: TokenReviewApiOptions = {}): TokenReviewApi {
  const now = options.now ?? Date.now;
  const apiAudiences = options.apiAudiences ?? [API_SERVER_AUDIENCE];
  const audienceAware = options.audienceAware ?? true;
  const tokens = new Map<string, MintedToken>();
  const reviews: { token: string; audiences: readonly string[] }[] = [];
  const serviceAccountUids = new Map<string, string>();
  const keyId = randomBytes(16).toString('base64url');

  const jwt = (claims: Record<string, unknown>): string => `${b64url({ alg: 'RS256', kid: keyId })}.${b64url(claims)}.${randomBytes(256).toString('base64url')}`;

  function mintServiceAccountToken(spec: ServiceAccountTokenSpec): string {
    const issuedAt = now();
    const expiresAt = spec.expiresAt ?? issuedAt + 3_600_000;
    const audiences = spec.audiences ?? ['loom'];
    const saKey = `${spec.namespace}/${spec.serviceAccount}`;
    const saUid = serviceAccountUids.get(saKey) ?? randomUUID();
    serviceAccountUids.set(saKey, saUid);
    const pod = spec.pod === null ? null : { name: spec.pod?.name ?? `${spec.serviceAccount}-0`, uid: spec.pod?.uid ?? randomUUID() };
    const node = { name: 'node-1', uid: randomUUID() };
    const jti = randomUUID();
    const username = `system:serviceaccount:${spec.namespace}:${spec.serviceAccount}`;
    const token = jwt({
      aud: audiences,
      exp: Math.floor(expiresAt / 1000),
      iat: Math.floor(issuedAt / 1000),
      iss: API_SERVER_AUDIENCE,
      jti,
      'kubernetes.io': {
        namespace: spec.namespace,
        ...(pod === null ? {} : { node, pod }),
        serviceaccount: { name: spec.serviceAccount, uid: saUid },
      },
      nbf: Math.floor(issuedAt / 1000),
      sub: username,
    });
    tokens.set(token, {
      username,
      uid: saUid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${spec.namespace}`, 'system:authenticated'],
      audiences,
      expiresAt,
      extra:
        pod === null
          ? { 'authentication.kubernetes.io/credential-id': [`JTI=${jti}`] }
          : {
              'authentication.kubernetes.io/credential-id': [`JTI=${jti}`],
              'authentication.kubernetes.io/node-name': [node.name],
              'authentication.kubernetes.io/node-uid': [node.uid],
              'authentication.kubernetes.io/pod-name': [pod.name],
              'authentication.kubernetes.io/pod-uid': [pod.uid],
            },
      revoked: false,
    });
    return token;
  }

  function mintUserToken(spec: UserTokenSpec): string {
    const issuedAt = now();
    const audiences = spec.audiences ?? ['loom'];
    const token = jwt({ aud: audiences, exp: Math.floor(issuedAt / 1000) + 3600, iat: Math.floor(issuedAt / 1000), iss: 'https://issuer.example', sub: spec.username });
    tokens.set(token, { username: spec.username, uid: '', groups: ['system:authenticated'], audiences, expiresAt: issuedAt + 3_600_000, extra: {}, revoked: false });
    return token;
  }

  /** The authenticator chain's answer: the user and confirmed audiences, or the error text. */
  function authenticate(token: string, requested: readonly string[]): { user: MintedToken; audiences: readonly string[] } | { error: string } {
    const minted = tokens.get(token);
    if (minted === undefined) return { error: aggregate(['invalid bearer token']) };
    const confirmed = minted.audiences.filter((audience) => requested.includes(audience));
    if (audienceAware && confirmed.length === 0) {
      return { error: aggregate(['invalid bearer token', `token audiences ${goQuote(minted.audiences)} is invalid for the target audiences ${goQuote(requested)}`]) };
    }
    if (minted.expiresAt + EXPIRY_LEEWAY_MS <= now()) return { error: aggregate(['invalid bearer token', 'service account token has expired']) };
    if (minted.revoked) return { error: aggregate(['invalid bearer token', 'service account token has been invalidated']) };
    return { user: minted, audiences: audienceAware ? confirmed : [] };
  }

  function handle(request: KubeRequest): KubeReply {
    if (options.reviewers !== undefined) {
      const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      const reviewer = bearer === undefined ? undefined : options.reviewers.get(bearer);
      if (reviewer === undefined) return status(401, 'Unauthorized', 'Unauthorized');
      if (!reviewer.canReview) {
        return status(
          403,
          'Forbidden',
          `tokenreviews.authentication.k8s.io is forbidden: User "${reviewer.username}" cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope`,
        );
      }
    }
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as { spec?: { token?: unknown; audiences?: unknown } };
    const token = typeof body.spec?.token === 'string' ? body.spec.token : '';
    const specAudiences = Array.isArray(body.spec?.audiences) ? body.spec.audiences.filter((a): a is string => typeof a === 'string') : [];
    if (token === '') return status(400, 'BadRequest', 'token is required for TokenReview in authentication');
    reviews.push({ token, audiences: specAudiences });
    const result = authenticate(token, specAudiences.length > 0 ? specAudiences : apiAudiences);
    const reviewStatus =
      'error' in result
        ? { user: {}, error: result.error }
        : {
            authenticated: true,
            user: { username: result.user.username, ...(result.user.uid === '' ? {} : { uid: result.user.uid }), groups: result.user.groups, extra: result.user.extra },
            ...(result.audiences.length === 0 ? {} : { audiences: result.audiences }),
          };
    return {
      status: 201,
      body: {
        kind: 'TokenReview',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { creationTimestamp: null },
        spec: { token, ...(specAudiences.length === 0 ? {} : { audiences: specAudiences }) },
        status: reviewStatus,
      },
    };
  }

  return {
    route: { method: 'POST', path: /^\/apis\/authentication\.k8s\.io\/v1\/tokenreviews$/, handler: handle },
    mintServiceAccountToken,
    mintUserToken,
    revoke(token) {
      const minted = tokens.get(token);
      if (minted !== undefined) minted.revoked = true;
    },
    reviews,
  };
}
