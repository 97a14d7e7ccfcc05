/**
 * Compact JWS (JSON Web Signature) as Kubernetes' ServiceAccount tokens use it: signing with an RSA (RS256) or
 * EC (ES256/ES384/ES512) key from node:crypto, strict parsing, verification, key IDs and public JWKs. JSON is
 * written the way Go's encoding/json writes a map (keys sorted, `<`, `>`, `&` escaped), so tokens look like the
 * ones kube-apiserver issues. Pure apart from the signature itself.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export type JwsAlgorithm = 'RS256' | 'ES256' | 'ES384' | 'ES512';

const DIGEST: Readonly<Record<JwsAlgorithm, string>> = { RS256: 'sha256', ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' };
const CURVES: Readonly<Record<string, JwsAlgorithm>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

/** The algorithm Kubernetes signs with for this key: RS256 for any RSA key, ES256/384/512 by curve. */
export function algorithmOf(key: KeyObject): JwsAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const alg = key.asymmetricKeyType === 'ec' && curve !== undefined ? CURVES[curve] : undefined;
  if (alg === undefined) throw new Error(`unsupported signing key ${key.asymmetricKeyType ?? key.type}${curve === undefined ? '' : ` (${curve})`}: use RSA or EC P-256, P-384 or P-521`);
  return alg;
}

/** The key ID kube-apiserver derives from a key: base64url(SHA-256(SubjectPublicKeyInfo DER of its public half)). */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON as Go's encoding/json writes maps: object keys sorted, HTML-significant characters escaped. */
export function goJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) if (value[key] !== undefined) out[key] = sortKeys(value[key]);
  return out;
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

/** Signs `payload` as a compact JWS with header `{"alg":...,"kid":...}` (what go-jose writes for Kubernetes). */
export function signJws(payload: Record<string, unknown>, privateKey: KeyObject, keyId: string): string {
  const alg = algorithmOf(privateKey);
  const input = `${b64(goJson({ alg, kid: keyId }))}.${b64(goJson(payload))}`;
  const signature = sign(DIGEST[alg], Buffer.from(input, 'ascii'), alg === 'RS256' ? privateKey : { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/**
 * Unpadded base64url, strictly (Go's RawURLEncoding): only the URL alphabet, no padding, no impossible length.
 * Undefined when `text` is not that.
 */
export function decodeBase64Url(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  return Buffer.from(text, 'base64url');
}

function parseJson(bytes: Buffer | undefined): unknown {
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** The unverified payload of a compact JWT when it is a JSON object (for routing by issuer), else undefined. */
export function peekPayload(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const payload = parseJson(decodeBase64Url(parts[1] ?? ''));
  return isRecord(payload) ? payload : undefined;
}

export interface CompactJws {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  /** `<header>.<payload>` as received: what the signature covers. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

/**
 * Splits and decodes a compact JWS whose header and payload are JSON objects; undefined when it is not one.
 * As go-jose does, trailing `=` padding is tolerated in each part.
 */
export function parseJws(token: string): CompactJws | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h = '', p = '', s = ''] = parts.map((part) => part.replace(/=+$/, ''));
  const header = parseJson(decodeBase64Url(h));
  const payload = parseJson(decodeBase64Url(p));
  const signature = decodeBase64Url(s);
  if (!isRecord(header) || !isRecord(payload) || signature === undefined) return undefined;
  if (header['kid'] !== undefined && typeof header['kid'] !== 'string') return undefined;
  if (header['alg'] !== undefined && typeof header['alg'] !== 'string') return undefined;
  return { header, payload, signingInput: `${parts[0] ?? ''}.${parts[1] ?? ''}`, signature };
}

/**
 * Verifies `jws` with `publicKey`. `unsupported`: the header's algorithm cannot be used with this key (go-jose's
 * ErrUnsupportedAlgorithm); `invalid`: the signature does not verify (ErrCryptoFailure).
 */
export function verifyJws(jws: CompactJws, publicKey: KeyObject): 'valid' | 'invalid' | 'unsupported' {
  const expected = algorithmOf(publicKey);
  const alg = jws.header['alg'];
  if (alg !== expected) {
    // go-jose tries any RSA algorithm with an RSA key (and fails on the signature); anything else is unsupported.
    const rsaFamily = expected === 'RS256' && typeof alg === 'string' && /^(RS|PS)(256|384|512)$/.test(alg);
    return rsaFamily ? 'invalid' : 'unsupported';
  }
  const input = Buffer.from(jws.signingInput, 'ascii');
  const ok = verify(DIGEST[expected], input, expected === 'RS256' ? publicKey : { key: publicKey, dsaEncoding: 'ieee-p1363' }, jws.signature);
  return ok ? 'valid' : 'invalid';
}

/** The public JWK of a signing key, members in the order go-jose writes them (use, kty, kid, crv, alg, x, y, n, e). */
export function publicJwk(publicKey: KeyObject, keyId: string): Record<string, unknown> {
  const jwk = publicKey.export({ format: 'jwk' });
  const alg = algorithmOf(publicKey);
  return jwk.kty === 'RSA'
    ? { use: 'sig', kty: 'RSA', kid: keyId, alg, n: jwk.n, e: jwk.e }
    : { use: 'sig', kty: 'EC', kid: keyId, crv: jwk.crv, alg, x: jwk.x, y: jwk.y };
}
