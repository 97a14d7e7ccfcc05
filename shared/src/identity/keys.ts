/**
 * Key types Loom issues and accepts, on node:crypto (native). Workload keys are ECDSA P-256 (ca/README.md
 * has the measurement); RSA stays available for operator-supplied issuers and for comparison benchmarks.
 */
import { generateKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

export type KeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';

export const DEFAULT_KEY_TYPE: KeyType = 'ec-p256';
export const KEY_TYPES: readonly KeyType[] = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'];

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const generateAsync = promisify(generateKeyPair);

function parameters(type: KeyType): { kind: 'ec'; namedCurve: string } | { kind: 'rsa'; modulusLength: number } {
  switch (type) {
    case 'ec-p256':
      return { kind: 'ec', namedCurve: 'prime256v1' };
    case 'ec-p384':
      return { kind: 'ec', namedCurve: 'secp384r1' };
    case 'rsa-2048':
      return { kind: 'rsa', modulusLength: 2048 };
    case 'rsa-3072':
      return { kind: 'rsa', modulusLength: 3072 };
    case 'rsa-4096':
      return { kind: 'rsa', modulusLength: 4096 };
  }
}

export function generateKeySync(type: KeyType = DEFAULT_KEY_TYPE): KeyPair {
  const p = parameters(type);
  return p.kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: p.namedCurve }) : generateKeyPairSync('rsa', { modulusLength: p.modulusLength });
}

/** Off the event loop (libuv thread pool): use this in servers, where an RSA key would block for ~100 ms. */
export async function generateKey(type: KeyType = DEFAULT_KEY_TYPE): Promise<KeyPair> {
  const p = parameters(type);
  return p.kind === 'ec' ? generateAsync('ec', { namedCurve: p.namedCurve }) : generateAsync('rsa', { modulusLength: p.modulusLength });
}

/** The Loom key type of a key, or undefined when Loom does not accept it (another curve, short RSA, Ed25519...). */
export function keyTypeOf(key: KeyObject): KeyType | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return 'ec-p256';
    if (details.namedCurve === 'secp384r1') return 'ec-p384';
    return undefined;
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength;
    if (bits === 2048 || bits === 3072 || bits === 4096) return `rsa-${bits}`;
  }
  return undefined;
}

/** "ec (prime256v1)", "rsa (1024 bits)": for error messages about keys Loom refuses. */
export function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  const detail = details.namedCurve ?? (details.modulusLength !== undefined ? `${details.modulusLength} bits` : undefined);
  return `${key.asymmetricKeyType ?? 'unknown'}${detail === undefined ? '' : ` (${detail})`}`;
}

/** Signature algorithm OID and digest for signing with a key of this type (X.509 AlgorithmIdentifier). */
export function signatureAlgorithm(type: KeyType): { readonly oid: string; readonly digest: 'sha256' | 'sha384'; readonly nullParams: boolean } {
  switch (type) {
    case 'ec-p256':
      return { oid: '1.2.840.10045.4.3.2', digest: 'sha256', nullParams: false }; // ecdsa-with-SHA256
    case 'ec-p384':
      return { oid: '1.2.840.10045.4.3.3', digest: 'sha384', nullParams: false }; // ecdsa-with-SHA384
    default:
      return { oid: '1.2.840.113549.1.1.11', digest: 'sha256', nullParams: true }; // sha256WithRSAEncryption
  }
}

/** Digest of a signature AlgorithmIdentifier OID Loom verifies, or undefined. */
export function digestOfSignatureOid(oid: string): 'sha256' | 'sha384' | 'sha512' | undefined {
  switch (oid) {
    case '1.2.840.10045.4.3.2':
    case '1.2.840.113549.1.1.11':
      return 'sha256';
    case '1.2.840.10045.4.3.3':
    case '1.2.840.113549.1.1.12':
      return 'sha384';
    case '1.2.840.10045.4.3.4':
    case '1.2.840.113549.1.1.13':
      return 'sha512';
    default:
      return undefined;
  }
}
