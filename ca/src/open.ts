/**
 * Opening the CA at startup: read the store; on a first start (empty store, `createIfEmpty`) create a root
 * and store it create-once, adopting the other process's root when it won the race; then decode and
 * validate. Anything unusable is a {@link CaOpenError} naming the store and the file, never a silent
 * regeneration: replacing a root would cut every proxy off from every other.
 */
import type { X509Certificate } from 'node:crypto';
import type { KeyType } from '@loom/shared/identity';
import type { Logger } from '@loom/shared/runtime';
import { createRoot, describeCertificate, type Issuer } from './issuer.js';
import { CA_FILE, CaMaterialError, decodeMaterial, encodeMaterial, type CaMaterial } from './material.js';
import type { CaStore, StoredCa } from './store/index.js';
import { uriSans } from './verify.js';

export interface OpenCaOptions {
  readonly trustDomain: string;
  /** Epoch milliseconds; Date.now() when omitted. */
  readonly now?: number;
  /** Create a root when the store is empty (the controller, `loom ca issue`); otherwise an empty store is an error. */
  readonly createIfEmpty?: boolean;
  readonly rootLifetimeMs?: number;
  readonly keyType?: KeyType;
  readonly logger?: Logger;
}

export interface OpenedCa {
  readonly material: CaMaterial;
  /** What the store holds (its revision is what a later update must name). */
  readonly stored: StoredCa;
  /** This call created the root. */
  readonly created: boolean;
}

/**
 * Why the CA could not be opened: `empty` (no CA and not allowed to create one), `invalid` (a file is
 * unreadable, mismatched or expired), `trust-domain` (the CA is for another trust domain).
 */
export type CaOpenErrorKind = 'empty' | 'invalid' | 'trust-domain';

export class CaOpenError extends Error {
  override readonly name = 'CaOpenError';
  constructor(
    readonly kind: CaOpenErrorKind,
    message: string,
    /** For `trust-domain`: the trust domain the CA is for. */
    readonly foundTrustDomain?: string,
  ) {
    super(message);
  }
}

export async function openCa(store: CaStore, options: OpenCaOptions): Promise<OpenedCa> {
  const now = options.now ?? Date.now();
  const log = options.logger?.child({ component: 'ca' });
  let stored = await store.load();
  const found = stored !== undefined;
  let created = false;
  if (stored === undefined) {
    if (options.createIfEmpty !== true) throw new CaOpenError('empty', `${store.description} holds no CA`);
    const issuer = createRoot({
      trustDomain: options.trustDomain,
      now,
      ...(options.keyType === undefined ? {} : { keyType: options.keyType }),
      ...(options.rootLifetimeMs === undefined ? {} : { lifetimeMs: options.rootLifetimeMs }),
    });
    const result = await store.create(encodeMaterial({ issuer, bundle: [issuer.root] }));
    stored = result.stored;
    created = result.created;
    if (created) log?.info({ event: 'ca.created', store: store.description, root: issuer.root.fingerprint256 }, 'created a new root CA');
    else log?.info({ event: 'ca.adopted', store: store.description }, 'another process created the root CA first; using it');
  }
  const material = decodeStored(store, stored, now);
  checkTrustDomain(store, material, options.trustDomain);
  if (found) log?.info({ event: 'ca.loaded', store: store.description, root: material.issuer.root.fingerprint256 }, 'loaded the CA');
  return { material, stored, created };
}

/** Decodes stored files; a problem is a one-line {@link CaOpenError} prefixed with the store. */
export function decodeStored(store: CaStore, stored: StoredCa, now: number): CaMaterial {
  try {
    return decodeMaterial(stored.files, now);
  } catch (error) {
    if (!(error instanceof CaMaterialError)) throw error;
    // decodeMaterial lists several problems one per line: keep the error on one line.
    const message = error.message.replace(/:\n- /, ': ').replace(/\n- /g, '; ');
    throw new CaOpenError('invalid', `${store.description}: ${message}`);
  }
}

/** The trust domain of a `spiffe://<td>[/...]` URI, or undefined for other URIs. */
function trustDomainOf(uri: string): string | undefined {
  const match = /^spiffe:\/\/([^/]+)(?:\/|$)/.exec(uri);
  return match?.[1];
}

/** Trust domains the CA's certificates claim through SPIFFE URI SANs (an operator's CA may claim none). */
export function claimedTrustDomains(material: CaMaterial): { readonly certificate: X509Certificate; readonly trustDomain: string }[] {
  const sources: { readonly certificate: X509Certificate; readonly file: string }[] = [];
  const add = (issuer: Issuer, file: string): void => {
    sources.push({ certificate: issuer.certificate, file });
    sources.push({ certificate: issuer.root, file: issuer.isRoot ? file : `the root of ${file}` });
  };
  add(material.issuer, CA_FILE.issuerCert);
  if (material.next !== undefined) add(material.next, CA_FILE.nextCert);
  const seen = new Set<string>();
  const claims: { certificate: X509Certificate; trustDomain: string }[] = [];
  for (const { certificate, file } of sources) {
    if (seen.has(certificate.fingerprint256)) continue;
    seen.add(certificate.fingerprint256);
    let uris: string[];
    try {
      uris = uriSans(certificate);
    } catch (error) {
      const detail = (error instanceof Error ? error.message : String(error)).split('\n', 1)[0]?.replace(/\.$/, '') ?? '';
      throw new CaOpenError('invalid', `${file}: the subjectAltName extension of ${describeCertificate(certificate)} is malformed (${detail})`);
    }
    for (const uri of uris) {
      const trustDomain = trustDomainOf(uri);
      if (trustDomain !== undefined) claims.push({ certificate, trustDomain });
    }
  }
  return claims;
}

/**
 * Refuses material whose certificates claim another trust domain than `trustDomain` (a {@link CaOpenError}
 * of kind `trust-domain`), or whose names cannot be read (kind `invalid`); messages start with the store.
 */
export function checkTrustDomain(store: Pick<CaStore, 'description'>, material: CaMaterial, trustDomain: string): void {
  let claims;
  try {
    claims = claimedTrustDomains(material);
  } catch (error) {
    if (error instanceof CaOpenError) throw new CaOpenError(error.kind, `${store.description}: ${error.message}`);
    throw error;
  }
  const other = claims.find((claim) => claim.trustDomain !== trustDomain);
  if (other === undefined) return;
  throw new CaOpenError(
    'trust-domain',
    `${store.description}: the CA certificate ${describeCertificate(other.certificate)} is for trust domain "${other.trustDomain}", ` +
      `not the configured "${trustDomain}"`,
    other.trustDomain,
  );
}
