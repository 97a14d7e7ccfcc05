/**
 * `loom ca rotate`: one step of the staged root rotation per run (stage → switch → retire, see
 * ca/README.md), written back with optimistic concurrency; `--plan` only says what the next step would do.
 */
import { readFile } from 'node:fs/promises';
import {
  applyRotation,
  claimedTrustDomains,
  DEFAULT_CLOCK_SKEW_MS,
  DEFAULT_LEAF_LIFETIME_MS,
  encodeMaterial,
  loadIssuer,
  MIN_LEAF_LIFETIME_MS,
  planRotation,
  refusal,
  rotationPhase,
  type ApplyRotationOptions,
  type CaMaterial,
  type Issuer,
  type RotationPlan,
} from '@loom/ca';
import { parseArgs, UsageError, type FlagSpecs } from '@loom/shared/runtime';
import type { Io } from '../main.js';
import { CaCommandFailure, DEFAULT_TRUST_DOMAIN, openExisting, parseDuration, runCaCommand, selectStore, STORE_FLAGS, STORE_USAGE, subjectLine, trustDomainFlag } from './common.js';

export const USAGE = `usage: loom ca rotate [--plan] [--force] [--issuer-cert <file> --issuer-key <file>] [store options]

Takes the next step of a staged root rotation; run it once per step:
  stage    a new root joins the trust bundle; leaves still come from the current issuer
  switch   leaves come from the new issuer; the old root stays trusted
  retire   the old root leaves the bundle, once every leaf it anchors has expired
           (switch time + leaf lifetime + clock skew)

  --plan                   say what the next step would do and whether it is allowed now;
                           change nothing (exit 0 allowed, 1 not yet)
  --force                  retire the old root early: workloads still holding a leaf from it
                           fail mTLS until they renew
  --issuer-cert <file>     stage this operator-supplied issuer (PEM certificate, then its chain)
  --issuer-key <file>      ... and its private key (PEM), instead of creating a new root
  --leaf-lifetime <dur>    the longest leaf lifetime the controller issues (default 24h);
                           sets how long the old root stays after the switch
  -h, --help               print this help

${STORE_USAGE}

Exit status: 0 done (or allowed, with --plan), 1 refused or failed, 2 usage error.
`;

const FLAGS = {
  ...STORE_FLAGS,
  plan: { type: 'boolean' },
  force: { type: 'boolean' },
  'issuer-cert': { type: 'string' },
  'issuer-key': { type: 'string' },
  'leaf-lifetime': { type: 'string' },
} as const satisfies FlagSpecs;

const quoted = (issuer: Issuer): string => `"${subjectLine(issuer.certificate.subject)}"`;

async function readText(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${flag} ${path}: ${(error as Error).message}`);
  }
}

/** The operator's issuer from files, validated; its chain must reach a root (in the file or already trusted). */
async function readIssuer(certPath: string, keyPath: string, material: CaMaterial, trustDomain: string, now: number): Promise<Issuer> {
  const [certPem, keyPem] = await Promise.all([readText('--issuer-cert', certPath), readText('--issuer-key', keyPath)]);
  const issuer = loadIssuer({ certPem, keyPem, roots: material.bundle, certSource: certPath, keySource: keyPath, now });
  const other = claimedTrustDomains({ issuer, bundle: [issuer.root] }).find((claim) => claim.trustDomain !== trustDomain);
  if (other !== undefined) {
    throw new UsageError(`--issuer-cert: "${subjectLine(other.certificate.subject)}" is for trust domain "${other.trustDomain}", not "${trustDomain}"`);
  }
  return issuer;
}

function renderPlan(store: string, plan: RotationPlan, newIssuer: Issuer | undefined, certPath: string | undefined): string {
  const lines = [`store:        ${store}`, `phase:        ${plan.phase}`, `next step:    ${plan.description}`];
  if (newIssuer !== undefined) lines.push(`new issuer:   ${quoted(newIssuer)} from ${certPath ?? '?'}${newIssuer.isRoot ? '' : `, chaining to root "${subjectLine(newIssuer.root.subject)}"`}`);
  lines.push(`${plan.allowed ? 'allowed:' : plan.step === 'retire' ? 'not yet:' : 'refused:'}      ${plan.reason}`);
  return `${lines.join('\n')}\n`;
}

function renderDone(step: RotationPlan['step'], before: CaMaterial, after: CaMaterial): string {
  switch (step) {
    case 'stage': {
      const next = after.next ?? after.issuer;
      return (
        `staged ${quoted(next)} (${next.keyType}, SHA256 ${next.root.fingerprint256}): its root is in the trust bundle now; leaves still come from ${quoted(before.issuer)}.\n` +
        "next: once the proxies have the new bundle, run 'loom ca rotate' again to switch issuance to it.\n"
      );
    }
    case 'switch':
      if (after.rotation === undefined) return `switched: leaves now come from ${quoted(after.issuer)}, under the same root; the rotation is complete.\n`;
      return (
        `switched: leaves now come from ${quoted(after.issuer)}; the old root stays in the trust bundle until ${after.rotation.retireAfter ?? '?'}, when every leaf it anchors has expired.\n` +
        `next: at or after ${after.rotation.retireAfter ?? '?'}, run 'loom ca rotate' again to retire the old root.\n`
      );
    case 'retire':
      return `retired the old root ${before.rotation?.retiringRoot ?? '?'}: the trust bundle holds ${after.bundle.length} root${after.bundle.length === 1 ? '' : 's'}; the rotation is complete.\n`;
  }
}

export function run(args: readonly string[], io: Io): Promise<number> {
  return runCaCommand('rotate', io, async () => {
    const { flags, help } = parseArgs(args, FLAGS);
    if (help) {
      io.out(USAGE);
      return 0;
    }
    const trustDomain = trustDomainFlag(flags['trust-domain']) ?? DEFAULT_TRUST_DOMAIN;
    const leafLifetimeMs = flags['leaf-lifetime'] === undefined ? DEFAULT_LEAF_LIFETIME_MS : parseDuration('--leaf-lifetime', flags['leaf-lifetime']);
    if (leafLifetimeMs < MIN_LEAF_LIFETIME_MS) throw new UsageError(`--leaf-lifetime must be at least ${MIN_LEAF_LIFETIME_MS / 60_000}m`);
    const certPath = flags['issuer-cert'];
    const keyPath = flags['issuer-key'];
    if ((certPath === undefined) !== (keyPath === undefined)) throw new UsageError('--issuer-cert and --issuer-key go together');

    const { store } = await selectStore(flags);
    const now = Date.now();
    const opened = await openExisting(store, trustDomain, now);
    const material = opened.material;
    const phase = rotationPhase(material);
    let newIssuer: Issuer | undefined;
    if (certPath !== undefined && keyPath !== undefined) {
      if (phase !== 'steady') throw new UsageError(`--issuer-cert stages a new issuer, but a rotation is already under way (phase ${phase}): finish it first`);
      newIssuer = await readIssuer(certPath, keyPath, material, trustDomain, now);
    }
    const options: ApplyRotationOptions = {
      trustDomain,
      leafLifetimeMs,
      clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
      force: flags.force,
      ...(newIssuer === undefined ? {} : { newIssuer }),
    };
    const plan = planRotation(material, now, options);
    if (flags.plan) {
      io.out(renderPlan(store.description, plan, newIssuer, certPath));
      return plan.allowed ? 0 : 1;
    }
    if (!plan.allowed) throw new CaCommandFailure(refusal(plan));
    const next = applyRotation(material, now, options);
    await store.update(encodeMaterial(next), opened.stored);
    io.out(renderDone(plan.step, material, next));
    if (plan.step === 'retire' && flags.force && plan.reason.startsWith('forced')) io.err(`loom ca rotate: warning: ${plan.reason}\n`);
    return 0;
  });
}
