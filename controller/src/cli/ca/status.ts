/**
 * `loom ca status`: the CA at a glance — store, trust domain, issuer (subject, key type, validity, a
 * warning within 30 days of expiry), rotation phase and next step, and the trust bundle's roots with
 * SHA-256 fingerprints and expiry. The report is a pure function of the material and the time.
 */
import type { X509Certificate } from 'node:crypto';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_LEAF_LIFETIME_MS, planRotation, rotationPhase, type CaMaterial, type Issuer, type RotationPhase, type RotationStep } from '@loom/ca';
import { parseArgs, type FlagSpecs } from '@loom/shared/runtime';
import type { Io } from '../main.js';
import { DEFAULT_TRUST_DOMAIN, openExisting, runCaCommand, selectStore, STORE_FLAGS, STORE_USAGE, subjectLine, trustDomainFlag } from './common.js';

export const USAGE = `usage: loom ca status [store options] [-o human|json]

Shows the CA: where it is stored, the issuer (subject, key type, validity), the rotation
phase and its next step, and the trust bundle's roots with SHA-256 fingerprints and expiry.

  -o, --output human|json  output format (default human)
  -h, --help               print this help

${STORE_USAGE}

Exit status: 0 shown, 1 the store is empty or holds no usable CA, 2 usage error.
`;

const FLAGS = { ...STORE_FLAGS, output: { type: 'string', short: 'o', values: ['human', 'json'] } } as const satisfies FlagSpecs;

/** Issuers and roots within this of their expiry get a warning. */
export const EXPIRY_WARNING_MS = 30 * 86_400_000;

export interface CertificateSummary {
  readonly subject: string;
  readonly fingerprint256: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly daysLeft: number;
}

export interface IssuerSummary extends CertificateSummary {
  readonly keyType: string;
  readonly isRoot: boolean;
  /** SHA-256 fingerprint of the root it chains to. */
  readonly root: string;
}

export interface BundleRoot extends CertificateSummary {
  /** `issuer` (anchors the active issuer), `staged` (the next issuer's), `retiring` (being retired). */
  readonly roles: readonly ('issuer' | 'staged' | 'retiring')[];
}

export interface CaStatus {
  readonly store: string;
  readonly trustDomain: string;
  readonly issuer: IssuerSummary;
  readonly next?: IssuerSummary;
  readonly rotation: {
    readonly phase: RotationPhase;
    readonly stagedAt?: string;
    readonly switchedAt?: string;
    readonly retireAfter?: string;
    readonly nextStep: { readonly step: RotationStep; readonly description: string; readonly allowed: boolean; readonly reason: string };
  };
  readonly bundle: readonly BundleRoot[];
  readonly warnings: readonly string[];
}

const DAY_MS = 86_400_000;
const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function summary(certificate: X509Certificate, now: number): CertificateSummary {
  const notAfter = Date.parse(certificate.validTo);
  return {
    subject: subjectLine(certificate.subject),
    fingerprint256: certificate.fingerprint256,
    notBefore: isoSeconds(Date.parse(certificate.validFrom)),
    notAfter: isoSeconds(notAfter),
    daysLeft: Math.floor((notAfter - now) / DAY_MS),
  };
}

function issuerSummary(issuer: Issuer, now: number): IssuerSummary {
  return { ...summary(issuer.certificate, now), keyType: issuer.keyType, isRoot: issuer.isRoot, root: issuer.root.fingerprint256 };
}

const days = (count: number): string => `${count} day${count === 1 ? '' : 's'}`;

export function caStatus(input: { readonly store: string; readonly trustDomain: string; readonly material: CaMaterial; readonly now: number }): CaStatus {
  const { material, now } = input;
  const plan = planRotation(material, now, { leafLifetimeMs: DEFAULT_LEAF_LIFETIME_MS, clockSkewMs: DEFAULT_CLOCK_SKEW_MS });
  const rotation = material.rotation;
  const warnings: string[] = [];
  const issuer = issuerSummary(material.issuer, now);
  if (Date.parse(material.issuer.certificate.validTo) - now < EXPIRY_WARNING_MS) {
    warnings.push(`the issuer expires in ${days(issuer.daysLeft)} (${issuer.notAfter}): rotate the CA (loom ca rotate --plan)`);
  }
  const bundle = material.bundle.map((root): BundleRoot => {
    const roles: BundleRoot['roles'][number][] = [];
    if (root.fingerprint256 === material.issuer.root.fingerprint256) roles.push('issuer');
    if (material.next !== undefined && root.fingerprint256 === material.next.root.fingerprint256) roles.push('staged');
    if (rotation?.retiringRoot === root.fingerprint256) roles.push('retiring');
    const entry = { ...summary(root, now), roles };
    const isIssuer = root.fingerprint256 === material.issuer.certificate.fingerprint256;
    if (!isIssuer && !roles.includes('retiring') && Date.parse(root.validTo) - now < EXPIRY_WARNING_MS) {
      warnings.push(`root "${entry.subject}" expires in ${days(entry.daysLeft)} (${entry.notAfter})`);
    }
    return entry;
  });
  return {
    store: input.store,
    trustDomain: input.trustDomain,
    issuer,
    ...(material.next === undefined ? {} : { next: issuerSummary(material.next, now) }),
    rotation: {
      phase: rotationPhase(material),
      ...(rotation?.stagedAt === undefined ? {} : { stagedAt: rotation.stagedAt }),
      ...(rotation?.switchedAt === undefined ? {} : { switchedAt: rotation.switchedAt }),
      ...(rotation?.retireAfter === undefined ? {} : { retireAfter: rotation.retireAfter }),
      nextStep: { step: plan.step, description: plan.description, allowed: plan.allowed, reason: plan.reason },
    },
    bundle,
    warnings,
  };
}

export function renderStatus(status: CaStatus): string {
  const lines: string[] = [];
  const field = (name: string, value: string, indent = ''): void => {
    lines.push(`${indent}${`${name}:`.padEnd(16 - indent.length)}${value}`);
  };
  const issuerLines = (label: string, issuer: IssuerSummary): void => {
    field(label, issuer.subject);
    field('key', `${issuer.keyType}, ${issuer.isRoot ? 'a root' : `chains to root ${issuer.root}`}`, '  ');
    field('valid', `${issuer.notBefore} to ${issuer.notAfter} (${days(issuer.daysLeft)} left)`, '  ');
  };
  field('store', status.store);
  field('trust domain', status.trustDomain);
  issuerLines('issuer', status.issuer);
  if (status.next !== undefined) issuerLines('staged issuer', status.next);
  const { rotation } = status;
  const since = [
    rotation.stagedAt === undefined ? undefined : `staged ${rotation.stagedAt}`,
    rotation.switchedAt === undefined ? undefined : `switched ${rotation.switchedAt}`,
    rotation.retireAfter === undefined ? undefined : `old root retirable from ${rotation.retireAfter}`,
  ].filter((part) => part !== undefined);
  field('rotation', `${rotation.phase}${since.length === 0 ? '' : ` (${since.join(', ')})`}`);
  field('next step', rotation.nextStep.description, '  ');
  field(rotation.nextStep.allowed ? 'allowed' : 'not yet', rotation.nextStep.reason, '  ');
  field('bundle', `${status.bundle.length} root${status.bundle.length === 1 ? '' : 's'}`);
  for (const root of status.bundle) {
    lines.push(`  - ${root.subject}${root.roles.length === 0 ? '' : ` [${root.roles.join(', ')}]`}`);
    lines.push(`    SHA256 ${root.fingerprint256}`);
    lines.push(`    expires ${root.notAfter} (${days(root.daysLeft)} left)`);
  }
  for (const warning of status.warnings) lines.push(`warning: ${warning}`);
  return `${lines.join('\n')}\n`;
}

export function run(args: readonly string[], io: Io): Promise<number> {
  return runCaCommand('status', io, async () => {
    const { flags, help } = parseArgs(args, FLAGS);
    if (help) {
      io.out(USAGE);
      return 0;
    }
    const trustDomain = trustDomainFlag(flags['trust-domain']) ?? DEFAULT_TRUST_DOMAIN;
    const { store } = await selectStore(flags);
    const now = Date.now();
    const opened = await openExisting(store, trustDomain, now);
    const status = caStatus({ store: store.description, trustDomain, material: opened.material, now });
    io.out(flags.output === 'json' ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
    return 0;
  });
}
