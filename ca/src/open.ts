/**
 * Opening the CA at startup: read the store; on a first start (empty store, `createIfEmpty`) create a root
 * and store it create-once, adopting the other process's root when it won the race; then decode and
 * validate. Anything unusable is a {@link CaOpenError} naming the store and the file, never a silent
 * regeneration: replacing a root would cut every proxy off from every other.
 */
import type { X509Certificate } from 'node:crypto';
import type { KeyType } from '@loom/shared/identity';
import type { Logger } from '@loom/shared/runtime';
import { createRoot } from './issuer.js';
import { CaMaterialError, decodeMaterial, encodeMaterial, type CaMaterial } from './material.js';
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
  const certificates = [material.issuer.root, material.issuer.certificate, ...(material.next === undefined ? [] : [material.next.root, material.next.certificate])];
  const seen = new Set<string>();
  const claims: { certificate: X509Certificate; trustDomain: string }[] = [];
  for (const certificate of certificates) {
    if (seen.has(certificate.fingerprint256)) continue;
    seen.add(certificate.fingerprint256);
    for (const uri of uriSans(certificate)) {
      const trustDomain = trustDomainOf(uri);
      if (trustDomain !== undefined) claims.push({ certificate, trustDomain });
    }
  }
  return claims;
}

function checkTrustDomain(store: CaStore, material: CaMaterial, trustDomain: string): void {
  const other = claimedTrustDomains(material).find((claim) => claim.trustDomain !== trustDomain);
  if (other === undefined) return;
  throw new CaOpenError(
    'trust-domain',
    `${store.description}: the CA certificate "${other.certificate.subject.replace(/\n/g, ', ')}" is for trust domain "${other.trustDomain}", ` +
      `not the configured "${trustDomain}"`,
    other.trustDomain,
  );
}
