/**
 * ServiceAccount tokens as kube-apiserver issues and checks them: the TokenRequest subresource
 * (`POST /api/v1/namespaces/<ns>/serviceaccounts/<sa>/token`), TokenReview
 * (`POST /apis/authentication.k8s.io/v1/tokenreviews`), bearer authentication of API requests, tokens for the pod
 * runner's projected volumes, and the service account issuer discovery documents.
 *
 * Tokens are JWTs signed RS256 with the cluster's own RSA 2048 key by default (what kubeadm's `sa.key` is and
 * what every JWT library verifies); an EC key signs ES256/384/512 as kube-apiserver would. Claims, defaults,
 * validation and the messages of every refusal follow kube-apiserver 1.32 (pkg/registry/core/serviceaccount,
 * pkg/serviceaccount), including the 60 s leeway on times and the "[invalid bearer token, ...]" wording its
 * authenticator chain gives TokenReview errors. Objects are read through a callback, so a token stops working
 * when its ServiceAccount (or bound Pod or Secret) is deleted or recreated with another uid.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { algorithmOf, keyIdOf, parseJws, peekPayload, publicJwk, signJws, verifyJws, type JwsAlgorithm } from './jwt.js';
import { userInfoJson } from './api.js';
import { ApiError, badRequest, notFound } from './status.js';
import type { KubeObject } from './store.js';

/** kube-apiserver's `--service-account-issuer` in kind and kubeadm clusters. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const AUTHENTICATION_API_VERSION = 'authentication.k8s.io/v1';
export const DEFAULT_EXPIRATION_SECONDS = 3600;
export const MIN_EXPIRATION_SECONDS = 600;
export const MAX_EXPIRATION_SECONDS = 2 ** 32;
/** What the kubelet asks for its default token volume: tokens of exactly this life are extended (see issue). */
export const WARN_ONLY_EXPIRATION_SECONDS = 3607;
export const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 3600;
/** go-jose's jwt.DefaultLeeway, which Kubernetes uses for exp, nbf, iat and deletion times. */
export const LEEWAY_SECONDS = 60;

/** Where kube-apiserver serves the issuer discovery documents, and how. */
export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/openid/v1/jwks';
export const OPENID_CONFIGURATION_CONTENT_TYPE = 'application/json';
export const JWKS_CONTENT_TYPE = 'application/jwk-set+json';
export const DISCOVERY_CACHE_CONTROL = 'public, max-age=3600';

/** Keys of a ServiceAccount user's `extra`, as Kubernetes names them. */
export const EXTRA_POD_NAME = 'authentication.kubernetes.io/pod-name';
export const EXTRA_POD_UID = 'authentication.kubernetes.io/pod-uid';
export const EXTRA_NODE_NAME = 'authentication.kubernetes.io/node-name';
export const EXTRA_NODE_UID = 'authentication.kubernetes.io/node-uid';
export const EXTRA_CREDENTIAL_ID = 'authentication.kubernetes.io/credential-id';

export type LookupKind = 'ServiceAccount' | 'Pod' | 'Secret';
/** Reads the current object, or undefined when there is none. */
export type Lookup = (namespace: string, kind: LookupKind, name: string) => KubeObject | undefined;

export interface TokenAuthorityOptions {
  readonly lookup: Lookup;
  /** The `iss` of every token. Default {@link DEFAULT_ISSUER}. */
  readonly issuer?: string;
  /** The API server's own audiences (`--api-audiences`); default `[issuer]`, as kube-apiserver defaults them. */
  readonly apiAudiences?: readonly string[];
  /** The signing key (a private KeyObject or PKCS#8/PKCS#1/SEC1 PEM); a fresh RSA 2048 key when omitted. */
  readonly signingKey?: KeyObject | string;
  /** Epoch milliseconds; injectable for tests. */
  readonly now?: () => number;
  /** `--service-account-extend-token-expiration` (default true): see {@link TokenAuthority.issue}. */
  readonly extendExpiration?: boolean;
  /** `--service-account-max-token-expiration` in seconds: longer requests are shortened to it. None by default. */
  readonly maxExpirationSeconds?: number;
}

/** Who a token authenticates as. */
export interface TokenUser {
  readonly username: string;
  readonly groups: string[];
  readonly uid?: string;
  readonly extra?: Record<string, string[]>;
}

/** The outcome of checking a token, with the `status.error` text TokenReview would give. */
export type TokenVerification =
  | { readonly authenticated: true; readonly user: TokenUser; readonly audiences: string[] }
  | { readonly authenticated: false; readonly error: string };

export interface IssueRequest {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Default: the API server's audiences. */
  readonly audiences?: readonly string[];
  /** Default 3600; at least 600. */
  readonly expirationSeconds?: number;
  /** The pod the token is bound to (a projected volume's token always is). */
  readonly pod?: { readonly name: string; readonly uid: string };
}

export interface IssuedToken {
  readonly token: string;
  /** RFC 3339, whole seconds: when the kubelet would consider the token expired (the requested life). */
  readonly expirationTimestamp: string;
}

const SA_USER_PREFIX = 'system:serviceaccount:';
const ALL_SA_GROUP = 'system:serviceaccounts';
const AUTHENTICATED_GROUP = 'system:authenticated';
const INVALID_BEARER = 'invalid bearer token';
const INVALIDATED = 'service account token has been invalidated';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const rfc3339 = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
/** Go's %q of a string (close enough: JSON escaping). */
const q = (s: string): string => JSON.stringify(s);
/** Go's %q of a []string: `["a" "b"]`. */
const qList = (list: readonly string[]): string => `[${list.map(q).join(' ')}]`;
const uidOf = (obj: KubeObject): string => obj.metadata.uid ?? '';

export class TokenAuthority {
  readonly issuer: string;
  readonly apiAudiences: readonly string[];
  readonly keyId: string;
  readonly algorithm: JwsAlgorithm;
  readonly #lookup: Lookup;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #now: () => number;
  readonly #extendExpiration: boolean;
  readonly #maxExpirationSeconds: number | undefined;

  constructor(options: TokenAuthorityOptions) {
    this.issuer = options.issuer ?? DEFAULT_ISSUER;
    if (this.issuer === '') throw new Error('the service account issuer must not be empty');
    this.apiAudiences = Object.freeze([...(options.apiAudiences ?? [this.issuer])]);
    this.#lookup = options.lookup;
    this.#privateKey =
      options.signingKey === undefined
        ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
        : typeof options.signingKey === 'string'
          ? createPrivateKey(options.signingKey)
          : options.signingKey;
    if (this.#privateKey.type !== 'private') throw new Error('the service account signing key must be a private key');
    this.#publicKey = createPublicKey(this.#privateKey);
    this.algorithm = algorithmOf(this.#privateKey);
    this.keyId = keyIdOf(this.#publicKey);
    this.#now = options.now ?? Date.now;
    this.#extendExpiration = options.extendExpiration ?? true;
    this.#maxExpirationSeconds = options.maxExpirationSeconds;
  }

  /** The signing key as PKCS#8 PEM, to keep tokens valid across restarts (pass it back as `signingKey`). */
  signingKeyPem(): string {
    return this.#privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  /**
   * The TokenRequest subresource: `body` is the posted TokenRequest; returns it with `status.token` and
   * `status.expirationTimestamp`. Throws {@link ApiError}: 400 for an undecodable body or a bad bound object,
   * 404 for a missing ServiceAccount, Pod, Secret or Node, 409 for a bound object uid that does not match,
   * 422 for an invalid expiration or a name/namespace that contradicts the URL.
   */
  tokenRequest(namespace: string, serviceAccountName: string, body: unknown): KubeObject {
    const req = decodeTokenRequest(body);
    if (req.name !== undefined && req.name !== '' && req.name !== serviceAccountName) {
      throw invalidTokenRequest(serviceAccountName, 'metadata.name', `Invalid value: ${q(req.name)}: must match the service account name if specified`);
    }
    if (req.namespace !== undefined && req.namespace !== '' && req.namespace !== namespace) {
      throw invalidTokenRequest(serviceAccountName, 'metadata.namespace', `Invalid value: ${q(req.namespace)}: must match the service account namespace if specified`);
    }
    const serviceAccount = this.#lookup(namespace, 'ServiceAccount', serviceAccountName);
    if (serviceAccount === undefined) throw notFound({ group: '', plural: 'serviceaccounts' }, serviceAccountName);
    const audiences = req.audiences !== undefined && req.audiences.length > 0 ? req.audiences : [...this.apiAudiences];
    const now = this.#now();
    let expirationSeconds = req.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
    if (expirationSeconds < MIN_EXPIRATION_SECONDS) {
      throw invalidTokenRequest('', 'spec.expirationSeconds', `Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`);
    }
    if (expirationSeconds > MAX_EXPIRATION_SECONDS) {
      throw invalidTokenRequest('', 'spec.expirationSeconds', `Invalid value: ${expirationSeconds}: may not specify a duration larger than 2^32 seconds`);
    }
    const bound = req.boundObjectRef === undefined ? {} : this.#bind(namespace, serviceAccountName, req.boundObjectRef);
    if (this.#maxExpirationSeconds !== undefined && this.#maxExpirationSeconds > 0 && expirationSeconds > this.#maxExpirationSeconds) {
      expirationSeconds = this.#maxExpirationSeconds;
    }
    // Kubernetes' safe rollout of bound tokens: a pod-bound token asked for with exactly 3607 s (the kubelet's
    // default volume) for the API server's audiences lives a year, with `warnafter` at the requested time.
    let lifetime = expirationSeconds;
    let warnAfter: number | undefined;
    const kubeAudiences = audiences.every((a) => this.apiAudiences.includes(a));
    if (this.#extendExpiration && bound.pod !== undefined && expirationSeconds === WARN_ONLY_EXPIRATION_SECONDS && kubeAudiences) {
      warnAfter = expirationSeconds;
      lifetime = EXTENDED_EXPIRATION_SECONDS;
    }
    const token = this.#sign(namespace, serviceAccount, audiences, now, lifetime, warnAfter, bound);
    const metadata = isRecord(req.metadata) ? req.metadata : {};
    return {
      kind: 'TokenRequest',
      apiVersion: AUTHENTICATION_API_VERSION,
      metadata: { ...metadata, name: serviceAccountName, namespace, creationTimestamp: rfc3339(now) },
      spec: { audiences, expirationSeconds, boundObjectRef: req.boundObjectRef === undefined ? null : boundRefJson(req.boundObjectRef) },
      status: { token, expirationTimestamp: rfc3339(now + expirationSeconds * 1000) },
    };
  }

  /**
   * A token for a projected ServiceAccount token volume, as the kubelet gets one: a TokenRequest bound to the
   * pod. With the default `extendExpiration`, a request for exactly 3607 s for the API server's audiences gets
   * a token valid for a year whose `kubernetes.io.warnafter` is at 3607 s (Kubernetes does this so old clients
   * that never reread the file keep working); `expirationTimestamp` is still the requested time. Throws
   * {@link ApiError} like {@link tokenRequest}.
   */
  issue(request: IssueRequest): IssuedToken {
    const out = this.tokenRequest(request.namespace, request.serviceAccount, {
      apiVersion: AUTHENTICATION_API_VERSION,
      kind: 'TokenRequest',
      spec: {
        ...(request.audiences === undefined ? {} : { audiences: [...request.audiences] }),
        ...(request.expirationSeconds === undefined ? {} : { expirationSeconds: request.expirationSeconds }),
        ...(request.pod === undefined ? {} : { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: request.pod.name, uid: request.pod.uid } }),
      },
    });
    const status = out['status'] as { token: string; expirationTimestamp: string };
    return { token: status.token, expirationTimestamp: status.expirationTimestamp };
  }

  /**
   * TokenReview: `body` is the posted TokenReview; returns it with `status`. When the review names audiences
   * the token must carry one of them and `status.audiences` is the intersection; when it names none, the API
   * server's audiences are required. A refusal is `authenticated` absent (false) with `status.error`, as
   * Kubernetes answers. Throws {@link ApiError} 400 for an undecodable body or an empty token.
   */
  tokenReview(body: unknown): KubeObject {
    const review = decodeTokenReview(body);
    if (review.token === undefined || review.token === '') throw badRequest('token is required for TokenReview in authentication');
    const result = this.verify(review.token, review.audiences);
    const status = result.authenticated
      ? { authenticated: true, user: userInfoJson(result.user), audiences: result.audiences }
      : { user: {}, error: result.error };
    const metadata = isRecord(review.metadata) ? review.metadata : {};
    return {
      kind: 'TokenReview',
      apiVersion: AUTHENTICATION_API_VERSION,
      // A review has no name; Kubernetes omits it (the cast: KubeObject's metadata always types one).
      metadata: { creationTimestamp: null, ...metadata } as unknown as KubeObject['metadata'],
      spec: { token: review.token, ...(review.audiences === undefined ? {} : { audiences: review.audiences }) },
      status,
    };
  }

  /** Bearer authentication of an API request (audience: the API server's). Null when the token is not valid. */
  authenticate(token: string): TokenUser | null {
    const result = this.verify(token);
    return result.authenticated ? result.user : null;
  }

  /**
   * Checks `token` for `audiences` (default: the API server's), as kube-apiserver's authenticator chain does,
   * with the error text its TokenReview would report.
   */
  verify(token: string, audiences?: readonly string[]): TokenVerification {
    const requested = audiences !== undefined && audiences.length > 0 ? [...audiences] : [...this.apiAudiences];
    const outcome = this.#check(token, requested);
    if ('error' in outcome) return { authenticated: false, error: outcome.error === undefined ? INVALID_BEARER : `[${INVALID_BEARER}, ${outcome.error}]` };
    return { authenticated: true, user: outcome.user, audiences: outcome.audiences };
  }

  /** The OIDC discovery document, as `/.well-known/openid-configuration` serves it; `apiServerUrl` is where clients reach the API. */
  openIdConfiguration(apiServerUrl: string): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: new URL(JWKS_PATH, apiServerUrl).toString(),
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [this.algorithm],
    };
  }

  /** The key set, as `/openid/v1/jwks` serves it. */
  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: [publicJwk(this.#publicKey, this.keyId)] };
  }

  #bind(namespace: string, serviceAccountName: string, ref: BoundRef): Bound {
    const gvk = groupVersionKind(ref.apiVersion ?? '', ref.kind ?? '');
    const name = ref.name ?? '';
    let bound: Bound;
    let uid: string;
    if (gvk.group === '' && (gvk.kind === 'Pod' || gvk.kind === 'Secret' || gvk.kind === 'Node')) {
      if (name === '') throw badRequest('Name parameter required.');
      if (gvk.kind === 'Node') throw notFound({ group: '', plural: 'nodes' }, name); // the local cluster has no Node objects
      const obj = this.#lookup(namespace, gvk.kind, name);
      if (obj === undefined) throw notFound({ group: '', plural: gvk.kind === 'Pod' ? 'pods' : 'secrets' }, name);
      uid = uidOf(obj);
      if (gvk.kind === 'Pod') {
        const spec = isRecord(obj['spec']) ? obj['spec'] : {};
        // Kubernetes' ServiceAccount admission stores "default" when a pod names none.
        const podServiceAccount = typeof spec['serviceAccountName'] === 'string' && spec['serviceAccountName'] !== '' ? spec['serviceAccountName'] : 'default';
        if (podServiceAccount !== serviceAccountName) {
          throw badRequest(`cannot bind token for serviceaccount ${q(serviceAccountName)} to pod running with different serviceaccount name.`);
        }
        const nodeName = typeof spec['nodeName'] === 'string' && spec['nodeName'] !== '' ? spec['nodeName'] : undefined;
        bound = { pod: { name, uid }, ...(nodeName === undefined ? {} : { node: { name: nodeName } }) };
      } else {
        bound = { secret: { name, uid } };
      }
    } else {
      throw badRequest(`cannot bind token to object of type ${gvk.group}/${gvk.version}, Kind=${gvk.kind}`);
    }
    if (ref.uid !== undefined && ref.uid !== '' && ref.uid !== uid) {
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${gvk.kind} ${q(name)}: the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
        { name, group: '', kind: gvk.kind },
      );
    }
    return bound;
  }

  #sign(namespace: string, serviceAccount: KubeObject, audiences: readonly string[], nowMs: number, lifetime: number, warnAfter: number | undefined, bound: Bound): string {
    const now = Math.floor(nowMs / 1000);
    const kube: Record<string, unknown> = {
      namespace,
      serviceaccount: ref(serviceAccount.metadata.name, uidOf(serviceAccount)),
      ...(bound.pod === undefined ? {} : { pod: ref(bound.pod.name, bound.pod.uid) }),
      ...(bound.secret === undefined ? {} : { secret: ref(bound.secret.name, bound.secret.uid) }),
      ...(bound.node === undefined ? {} : { node: ref(bound.node.name, '') }),
      ...(warnAfter === undefined ? {} : { warnafter: now + warnAfter }),
    };
    const payload = {
      aud: [...audiences],
      exp: now + lifetime,
      iat: now,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': kube,
      nbf: now,
      sub: `${SA_USER_PREFIX}${namespace}:${serviceAccount.metadata.name}`,
    };
    return signJws(payload, this.#privateKey, this.keyId);
  }

  /**
   * The ServiceAccount authenticator: `error` undefined means the token is not one of ours (kube-apiserver then
   * only says "invalid bearer token"); otherwise the message its JWT authenticator gives.
   */
  #check(token: string, requested: readonly string[]): { user: TokenUser; audiences: string[] } | { error: string | undefined } {
    if (token.trim().startsWith('{')) return { error: undefined };
    if (peekPayload(token)?.['iss'] !== this.issuer) return { error: undefined };
    const jws = parseJws(token);
    if (jws === undefined) return { error: undefined };
    const kid = jws.header['kid'];
    if (typeof kid === 'string' && kid !== '' && kid !== this.keyId) return { error: 'invalid signature, no keys found' };
    const verdict = verifyJws(jws, this.#publicKey);
    if (verdict === 'unsupported') return { error: 'go-jose/go-jose: unknown/unsupported algorithm' };
    if (verdict === 'invalid') return { error: 'go-jose/go-jose: error in cryptographic primitive' };
    const claims = jws.payload;

    const aud = claims['aud'];
    let tokenAudiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    if (tokenAudiences.length === 0) tokenAudiences = [...this.apiAudiences];
    const audiences = tokenAudiences.filter((a) => requested.includes(a));
    if (audiences.length === 0) return { error: `token audiences ${qList(tokenAudiences)} is invalid for the target audiences ${qList(requested)}` };

    const now = this.#now() / 1000;
    const nbf = numericDate(claims['nbf']);
    const exp = numericDate(claims['exp']);
    const iat = numericDate(claims['iat']);
    if (nbf !== undefined && now + LEEWAY_SECONDS < nbf) return { error: 'service account token is not valid yet' };
    if (exp !== undefined && now - LEEWAY_SECONDS > exp) return { error: 'service account token has expired' };
    if (iat !== undefined && now + LEEWAY_SECONDS < iat) return { error: 'service account token is issued in the future' };

    const kube = isRecord(claims['kubernetes.io']) ? claims['kubernetes.io'] : {};
    const namespace = stringField(kube, 'namespace');
    const saRef = refField(kube, 'serviceaccount') ?? { name: '', uid: '' };
    const podRef = refField(kube, 'pod');
    const secretRef = refField(kube, 'secret');
    const nodeRef = refField(kube, 'node');
    const cutoff = (now - LEEWAY_SECONDS) * 1000;

    const serviceAccount = this.#lookup(namespace, 'ServiceAccount', saRef.name);
    if (serviceAccount === undefined) return { error: `serviceaccounts ${q(saRef.name)} not found` };
    if (uidOf(serviceAccount) !== saRef.uid) return { error: `service account UID (${uidOf(serviceAccount)}) does not match claim (${saRef.uid})` };
    if (deletedBefore(serviceAccount, cutoff)) return { error: `service account ${namespace}/${saRef.name} has been deleted` };

    if (secretRef !== undefined) {
      const secret = this.#lookup(namespace, 'Secret', secretRef.name);
      if (secret === undefined) return { error: INVALIDATED };
      if (uidOf(secret) !== secretRef.uid) return { error: `secret UID (${uidOf(secret)}) does not match service account secret ref claim (${secretRef.uid})` };
      if (deletedBefore(secret, cutoff)) return { error: INVALIDATED };
    }
    if (podRef !== undefined) {
      const pod = this.#lookup(namespace, 'Pod', podRef.name);
      if (pod === undefined) return { error: INVALIDATED };
      if (uidOf(pod) !== podRef.uid) return { error: `pod UID (${uidOf(pod)}) does not match service account pod ref claim (${podRef.uid})` };
      if (deletedBefore(pod, cutoff)) return { error: INVALIDATED };
    }
    // A token bound to a Node alone would need the Node object, which the local cluster does not have.
    if (nodeRef !== undefined && podRef === undefined) return { error: INVALIDATED };

    const extra: Record<string, string[]> = {};
    if (podRef !== undefined && podRef.name !== '' && podRef.uid !== '') {
      extra[EXTRA_POD_NAME] = [podRef.name];
      extra[EXTRA_POD_UID] = [podRef.uid];
    }
    const jti = claims['jti'];
    if (typeof jti === 'string' && jti !== '') extra[EXTRA_CREDENTIAL_ID] = [`JTI=${jti}`];
    if (nodeRef !== undefined && nodeRef.name !== '') {
      extra[EXTRA_NODE_NAME] = [nodeRef.name];
      if (nodeRef.uid !== '') extra[EXTRA_NODE_UID] = [nodeRef.uid];
    }
    const user: TokenUser = {
      username: `${SA_USER_PREFIX}${namespace}:${saRef.name}`,
      groups: [ALL_SA_GROUP, `system:serviceaccounts:${namespace}`, AUTHENTICATED_GROUP],
      ...(saRef.uid === '' ? {} : { uid: saRef.uid }),
      ...(Object.keys(extra).length === 0 ? {} : { extra }),
    };
    return { user, audiences };
  }
}

interface NamedRef {
  readonly name: string;
  readonly uid: string;
}

interface Bound {
  readonly pod?: NamedRef;
  readonly secret?: NamedRef;
  readonly node?: { readonly name: string };
}

interface BoundRef {
  readonly kind?: string;
  readonly apiVersion?: string;
  readonly name?: string;
  readonly uid?: string;
}

/** A `ref` claim as Go writes it (`omitempty` on both members). */
const ref = (name: string, uid: string): Record<string, string> => ({ ...(name === '' ? {} : { name }), ...(uid === '' ? {} : { uid }) });

const boundRefJson = (r: BoundRef): Record<string, string> => ({
  ...(r.kind === undefined || r.kind === '' ? {} : { kind: r.kind }),
  ...(r.apiVersion === undefined || r.apiVersion === '' ? {} : { apiVersion: r.apiVersion }),
  ...(r.name === undefined || r.name === '' ? {} : { name: r.name }),
  ...(r.uid === undefined || r.uid === '' ? {} : { uid: r.uid }),
});


const stringField = (obj: Record<string, unknown>, key: string): string => (typeof obj[key] === 'string' ? obj[key] : '');

function refField(obj: Record<string, unknown>, key: string): NamedRef | undefined {
  const value = obj[key];
  return isRecord(value) ? { name: stringField(value, 'name'), uid: stringField(value, 'uid') } : undefined;
}

const numericDate = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : undefined);

function deletedBefore(obj: KubeObject, cutoffMs: number): boolean {
  const at = obj.metadata['deletionTimestamp'];
  return typeof at === 'string' && Date.parse(at) < cutoffMs;
}

/** schema.FromAPIVersionAndKind: an apiVersion that does not parse leaves group and version empty. */
function groupVersionKind(apiVersion: string, kind: string): { group: string; version: string; kind: string } {
  const parts = apiVersion.split('/');
  if (apiVersion === '') return { group: '', version: '', kind };
  if (parts.length === 1) return { group: '', version: apiVersion, kind };
  if (parts.length === 2) return { group: parts[0] ?? '', version: parts[1] ?? '', kind };
  return { group: '', version: '', kind };
}

/** 422 on a TokenRequest, worded as kube-apiserver words it. */
function invalidTokenRequest(name: string, field: string, message: string): ApiError {
  return new ApiError(422, 'Invalid', `TokenRequest.authentication.k8s.io ${q(name)} is invalid: ${field}: ${message}`, {
    name,
    group: 'authentication.k8s.io',
    kind: 'TokenRequest',
    causes: [{ reason: 'FieldValueInvalid', message, field }],
  });
}

// ---- decoding request bodies, with the errors Go's JSON decoding gives ----

const GO_JSON_TYPE = (value: unknown): string =>
  typeof value === 'string' ? 'string' : typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'bool' : Array.isArray(value) ? 'array' : 'object';

class Decoder {
  constructor(
    readonly kind: string,
    readonly version: string,
  ) {}

  fail(detail: string): ApiError {
    return badRequest(`${this.kind} in version ${q(this.version)} cannot be handled as a ${this.kind}: ${detail}`);
  }

  mismatch(value: unknown, struct: string, path: string, goType: string): ApiError {
    return this.fail(`json: cannot unmarshal ${GO_JSON_TYPE(value)} into Go struct field ${struct}.${path} of type ${goType}`);
  }

  string(obj: Record<string, unknown>, key: string, struct: string, path: string): string | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw this.mismatch(value, struct, path, 'string');
    return value;
  }

  strings(obj: Record<string, unknown>, key: string, struct: string, path: string): string[] | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw this.mismatch(value, struct, path, '[]string');
    return value.map((item) => {
      if (typeof item !== 'string') throw this.mismatch(item, struct, path, 'string');
      return item;
    });
  }

  object(obj: Record<string, unknown>, key: string, struct: string, path: string, goType: string): Record<string, unknown> | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (!isRecord(value)) throw this.mismatch(value, struct, path, goType);
    return value;
  }

  int64(obj: Record<string, unknown>, key: string, struct: string, path: string): number | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number') throw this.mismatch(value, struct, path, 'int64');
    if (!Number.isSafeInteger(value)) throw this.fail(`json: cannot unmarshal number ${String(value)} into Go struct field ${struct}.${path} of type int64`);
    return value;
  }
}

/** Checks kind and apiVersion of a posted body and returns it as an object. */
function envelope(body: unknown, kind: string): Record<string, unknown> {
  if (!isRecord(body)) throw badRequest(`the object provided is unrecognized (must be of type ${kind}): the request body is not a JSON object`);
  const apiVersion = body['apiVersion'] ?? '';
  const bodyKind = body['kind'] ?? '';
  if (typeof apiVersion !== 'string' || typeof bodyKind !== 'string') {
    throw badRequest(`the object provided is unrecognized (must be of type ${kind}): apiVersion and kind must be strings`);
  }
  if (apiVersion !== '' && apiVersion !== AUTHENTICATION_API_VERSION) {
    throw badRequest(`the API version in the data (${apiVersion}) does not match the expected API version (${AUTHENTICATION_API_VERSION})`);
  }
  if (bodyKind !== '' && bodyKind !== kind) {
    throw badRequest(`${bodyKind} in version "v1" cannot be handled as a ${kind}: the body is a ${bodyKind}, not a ${kind}`);
  }
  return body;
}

interface DecodedTokenRequest {
  readonly metadata: unknown;
  readonly name?: string;
  readonly namespace?: string;
  readonly audiences?: string[];
  readonly expirationSeconds?: number;
  readonly boundObjectRef?: BoundRef;
}

function decodeTokenRequest(body: unknown): DecodedTokenRequest {
  const obj = envelope(body, 'TokenRequest');
  const d = new Decoder('TokenRequest', 'v1');
  const metadata = d.object(obj, 'metadata', 'TokenRequest', 'metadata', 'v1.ObjectMeta') ?? {};
  const spec = d.object(obj, 'spec', 'TokenRequest', 'spec', 'v1.TokenRequestSpec') ?? {};
  const name = d.string(metadata, 'name', 'ObjectMeta', 'metadata.name');
  const namespace = d.string(metadata, 'namespace', 'ObjectMeta', 'metadata.namespace');
  const audiences = d.strings(spec, 'audiences', 'TokenRequestSpec', 'spec.audiences');
  const expirationSeconds = d.int64(spec, 'expirationSeconds', 'TokenRequestSpec', 'spec.expirationSeconds');
  const refObj = d.object(spec, 'boundObjectRef', 'TokenRequestSpec', 'spec.boundObjectRef', 'v1.BoundObjectReference');
  let boundObjectRef: BoundRef | undefined;
  if (refObj !== undefined) {
    const field = (key: string): string | undefined => d.string(refObj, key, 'BoundObjectReference', `spec.boundObjectRef.${key}`);
    const [kind, apiVersion, refName, uid] = [field('kind'), field('apiVersion'), field('name'), field('uid')];
    boundObjectRef = {
      ...(kind === undefined ? {} : { kind }),
      ...(apiVersion === undefined ? {} : { apiVersion }),
      ...(refName === undefined ? {} : { name: refName }),
      ...(uid === undefined ? {} : { uid }),
    };
  }
  return {
    metadata,
    ...(name === undefined ? {} : { name }),
    ...(namespace === undefined ? {} : { namespace }),
    ...(audiences === undefined ? {} : { audiences }),
    ...(expirationSeconds === undefined ? {} : { expirationSeconds }),
    ...(boundObjectRef === undefined ? {} : { boundObjectRef }),
  };
}

function decodeTokenReview(body: unknown): { metadata: unknown; token?: string; audiences?: string[] } {
  const obj = envelope(body, 'TokenReview');
  const d = new Decoder('TokenReview', 'v1');
  const metadata = d.object(obj, 'metadata', 'TokenReview', 'metadata', 'v1.ObjectMeta') ?? {};
  const spec = d.object(obj, 'spec', 'TokenReview', 'spec', 'v1.TokenReviewSpec') ?? {};
  const token = d.string(spec, 'token', 'TokenReviewSpec', 'spec.token');
  const audiences = d.strings(spec, 'audiences', 'TokenReviewSpec', 'spec.audiences');
  return { metadata, ...(token === undefined ? {} : { token }), ...(audiences === undefined ? {} : { audiences }) };
}
