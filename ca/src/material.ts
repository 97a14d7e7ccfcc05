/**
 * The CA's persistent state as a set of named text files — the same names in a Kubernetes Secret's data
 * and in a directory store, and compatible with a `kubernetes.io/tls` Secret (so an operator can supply an
 * issuer as `tls.crt` + `tls.key` + `ca.crt`, e.g. from cert-manager):
 *
 * | file | content |
 * |---|---|
 * | `tls.crt` | the active issuer certificate, optionally followed by its chain |
 * | `tls.key` | the active issuer's private key (PKCS#8 or SEC1/PKCS#1 PEM) |
 * | `ca.crt` | the trust bundle: every root proxies trust (old + new during a rotation) |
 * | `next.crt`, `next.key` | the staged issuer of a rotation in phase `staged` |
 * | `rotation.json` | the rotation record ({@link RotationRecord}) while a rotation is under way |
 *
 * Decoding is pure and validates everything; an unusable state is an error naming the file, never replaced.
 */
import { X509Certificate } from 'node:crypto';
import { IssuerError, describeCertificate, loadIssuer, readCertificates, type Issuer } from './issuer.js';

export const CA_FILE = Object.freeze({
  issuerCert: 'tls.crt',
  issuerKey: 'tls.key',
  bundle: 'ca.crt',
  nextCert: 'next.crt',
  nextKey: 'next.key',
  rotation: 'rotation.json',
});

/** File name → content. Absent files are absent keys. */
export type CaFiles = Readonly<Record<string, string>>;

/**
 * A root rotation under way (DESIGN §4):
 * - `staged`: the next issuer's root is in the bundle; leaves still come from the old issuer, so every
 *   proxy learns the new root before any leaf chains to it;
 * - `switched`: leaves come from the new issuer; the old root stays in the bundle until every leaf it
 *   anchors has expired (`retireAfter`), then the rotation completes by removing it.
 */
export interface RotationRecord {
  readonly phase: 'staged' | 'switched';
  /** ISO time the rotation was staged. */
  readonly stagedAt: string;
  /** ISO time issuance moved to the new issuer (phase `switched`). */
  readonly switchedAt?: string;
  /** SHA-256 fingerprint (as X509Certificate.fingerprint256) of the root being retired (phase `switched`). */
  readonly retiringRoot?: string;
  /** ISO time after which no live leaf can chain to the retiring root (phase `switched`). */
  readonly retireAfter?: string;
}

export interface CaMaterial {
  readonly issuer: Issuer;
  /** The staged next issuer (phase `staged`). */
  readonly next?: Issuer;
  /** Trusted roots, in bundle order. */
  readonly bundle: readonly X509Certificate[];
  readonly rotation?: RotationRecord;
}

/** Unusable CA state; `message` names the store file and the problem. */
export class CaMaterialError extends Error {
  override readonly name = 'CaMaterialError';
}

/** True when the files hold no CA at all (an empty store, where a first start may create a root). */
export function isEmpty(files: CaFiles): boolean {
  return Object.values(CA_FILE).every((name) => files[name] === undefined);
}

export function decodeMaterial(files: CaFiles, now: number): CaMaterial {
  const problems: string[] = [];
  const attempt = <T>(work: () => T): T | undefined => {
    try {
      return work();
    } catch (error) {
      if (error instanceof IssuerError || error instanceof CaMaterialError) problems.push(error.message);
      else throw error;
      return undefined;
    }
  };
  const certPem = files[CA_FILE.issuerCert];
  const keyPem = files[CA_FILE.issuerKey];
  if (certPem === undefined || keyPem === undefined) {
    const missing = [certPem === undefined ? CA_FILE.issuerCert : undefined, keyPem === undefined ? CA_FILE.issuerKey : undefined].filter(Boolean);
    throw new CaMaterialError(`CA store is incomplete: ${missing.join(' and ')} missing (the issuer certificate and its key are both required)`);
  }
  const bundleFromFile = files[CA_FILE.bundle] === undefined ? [] : (attempt(() => readCertificates(files[CA_FILE.bundle] ?? '', CA_FILE.bundle)) ?? []);
  for (const root of bundleFromFile) {
    if (!(root.checkIssued(root) && root.verify(root.publicKey))) {
      problems.push(`${CA_FILE.bundle}: ${describeCertificate(root)} is not a self-signed root (bundle entries must be roots)`);
    }
  }
  const issuer = attempt(() =>
    loadIssuer({ certPem, keyPem, roots: bundleFromFile, certSource: CA_FILE.issuerCert, keySource: CA_FILE.issuerKey, now }),
  );
  let next: Issuer | undefined;
  const nextCert = files[CA_FILE.nextCert];
  const nextKey = files[CA_FILE.nextKey];
  if ((nextCert === undefined) !== (nextKey === undefined)) {
    problems.push(`${nextCert === undefined ? CA_FILE.nextKey : CA_FILE.nextCert} is present without ${nextCert === undefined ? CA_FILE.nextCert : CA_FILE.nextKey}`);
  } else if (nextCert !== undefined && nextKey !== undefined) {
    next = attempt(() => loadIssuer({ certPem: nextCert, keyPem: nextKey, roots: bundleFromFile, certSource: CA_FILE.nextCert, keySource: CA_FILE.nextKey, now }));
  }
  const rotation = files[CA_FILE.rotation] === undefined ? undefined : attempt(() => decodeRotation(files[CA_FILE.rotation] ?? ''));
  if (problems.length > 0 || issuer === undefined) {
    throw new CaMaterialError(problems.length === 1 ? (problems[0] ?? '') : `CA store has ${problems.length} problems:\n- ${problems.join('\n- ')}`);
  }
  // The bundle always contains the roots of the issuers in use: a hand-made store may omit ca.crt.
  const bundle = [...bundleFromFile];
  for (const root of [issuer.root, ...(next === undefined ? [] : [next.root])]) {
    if (!bundle.some((entry) => entry.fingerprint256 === root.fingerprint256)) {
      if (files[CA_FILE.bundle] !== undefined) {
        throw new CaMaterialError(`${CA_FILE.bundle} does not contain the root of ${root === issuer.root ? CA_FILE.issuerCert : CA_FILE.nextCert} (${describeCertificate(root)})`);
      }
      bundle.push(root);
    }
  }
  if (rotation?.phase === 'staged' && next === undefined) throw new CaMaterialError(`${CA_FILE.rotation} says "staged" but ${CA_FILE.nextCert} is missing`);
  if (rotation === undefined && next !== undefined) throw new CaMaterialError(`${CA_FILE.nextCert} is present but no rotation is under way (${CA_FILE.rotation} missing)`);
  return { issuer, ...(next === undefined ? {} : { next }), bundle, ...(rotation === undefined ? {} : { rotation }) };
}

function decodeRotation(text: string): RotationRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CaMaterialError(`${CA_FILE.rotation} is not valid JSON`);
  }
  const record = value as Partial<Record<keyof RotationRecord, unknown>> | null;
  const isTime = (field: unknown): field is string => typeof field === 'string' && !Number.isNaN(Date.parse(field));
  if (record === null || typeof record !== 'object' || (record.phase !== 'staged' && record.phase !== 'switched') || !isTime(record.stagedAt)) {
    throw new CaMaterialError(`${CA_FILE.rotation} must be {"phase": "staged"|"switched", "stagedAt": <ISO time>, ...}`);
  }
  if (record.phase === 'switched' && !(isTime(record.switchedAt) && isTime(record.retireAfter) && typeof record.retiringRoot === 'string')) {
    throw new CaMaterialError(`${CA_FILE.rotation} in phase "switched" needs switchedAt, retireAfter (ISO times) and retiringRoot`);
  }
  return record as RotationRecord;
}

/** The files for `material`; the inverse of {@link decodeMaterial}. */
export function encodeMaterial(material: CaMaterial): CaFiles {
  const issuerPem = [material.issuer.pem, ...material.issuer.intermediates].join('');
  const files: Record<string, string> = {
    [CA_FILE.issuerCert]: issuerPem,
    [CA_FILE.issuerKey]: material.issuer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    [CA_FILE.bundle]: material.bundle.map((root) => root.toString()).join(''),
  };
  if (material.next !== undefined) {
    files[CA_FILE.nextCert] = [material.next.pem, ...material.next.intermediates].join('');
    files[CA_FILE.nextKey] = material.next.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }
  if (material.rotation !== undefined) files[CA_FILE.rotation] = `${JSON.stringify(material.rotation, null, 2)}\n`;
  return files;
}
