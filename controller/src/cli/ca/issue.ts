/**
 * `loom ca issue`: a workload certificate for debugging (curl, openssl s_client against a proxy): the
 * leaf and its chain as PEM on stdout, the private key in a 0600 file whose name goes to stderr. In a
 * directory store with no CA yet, it creates the root first (as the controller would at first start).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { isDns1123Label, isDns1123Subdomain } from '@loom/shared/k8s';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CertificateAuthority, MIN_LEAF_LIFETIME_MS, openCa } from '@loom/ca';
import { generateKeySync, parseSpiffeId, spiffeId } from '@loom/shared/identity';
import { parseArgs, UsageError, type FlagSpecs } from '@loom/shared/runtime';
import type { Io } from '../main.js';
import { CaCommandFailure, isTrustDomain, openExisting, parseDuration, runCaCommand, selectStore, STORE_FLAGS, STORE_USAGE, trustDomainFlag } from './common.js';

export const USAGE = `usage: loom ca issue --identity spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount> [options] [store options]

Issues a workload certificate for debugging: prints the leaf, then its chain, as PEM on
stdout, and writes the new ECDSA P-256 private key to a file (mode 0600) named on stderr.
In an empty directory store (--dir, --cluster) it first creates a root.

  --identity <spiffe-id>   the workload's SPIFFE ID (required); its trust domain is the
                           default for --trust-domain
  --lifetime <dur>         leaf lifetime, e.g. 24h, 90m (default 24h; at least 10m; never
                           beyond the issuer's expiry)
  --key-out <file>         where to write the key (must not exist; default: a new file in a
                           fresh temporary directory)
  -h, --help               print this help

${STORE_USAGE}

Exit status: 0 issued, 1 the CA or its store failed, 2 usage error.
`;

const FLAGS = { ...STORE_FLAGS, identity: { type: 'string' }, lifetime: { type: 'string' }, 'key-out': { type: 'string' } } as const satisfies FlagSpecs;

const DEFAULT_LIFETIME = '24h';


/** Why a file system call failed, in words (the code alone, ENOENT, says little about which part). */
function fsReason(error: unknown, target: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = (error as Error).message;
  switch (code) {
    case 'ENOENT':
      return `directory ${dirname(target)} does not exist`;
    case 'ENOTDIR':
      return `a component of ${dirname(target)} is not a directory`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${message})`;
    case 'EROFS':
      return `read-only file system (${message})`;
    default:
      return message;
  }
}

/** Writes the key; an existing file is never overwritten. */
async function writeKey(path: string | undefined, fileName: string, pem: string): Promise<string> {
  let target: string;
  if (path === undefined) {
    const prefix = join(tmpdir(), 'loom-ca-issue-');
    try {
      target = join(await mkdtemp(prefix), fileName);
    } catch (error) {
      throw new CaCommandFailure(`cannot create a temporary directory for the key in ${dirname(prefix)}: ${fsReason(error, prefix)} (set TMPDIR, or pass --key-out <file>)`);
    }
  } else target = resolve(path);
  try {
    await writeFile(target, pem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`--key-out ${target} exists: remove it or choose another file`);
    throw new CaCommandFailure(`cannot write the key to ${target}: ${fsReason(error, target)}`);
  }
  return target;
}

export function run(args: readonly string[], io: Io): Promise<number> {
  return runCaCommand('issue', io, async () => {
    const { flags, help } = parseArgs(args, FLAGS);
    if (help) {
      io.out(USAGE);
      return 0;
    }
    if (flags.identity === undefined) throw new UsageError('missing --identity spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>');
    const identity = parseSpiffeId(flags.identity);
    if (identity === null || spiffeId(identity.trustDomain, identity.namespace, identity.serviceAccount) !== flags.identity) {
      throw new UsageError(`--identity must be spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>, got ${JSON.stringify(flags.identity)}`);
    }
    const given = trustDomainFlag(flags['trust-domain']);
    if (given !== undefined && given !== identity.trustDomain) {
      throw new UsageError(`--identity is in trust domain "${identity.trustDomain}" but --trust-domain is "${given}"`);
    }
    if (!isTrustDomain(identity.trustDomain)) throw new UsageError(`--identity has an invalid trust domain ${JSON.stringify(identity.trustDomain)}`);
    if (!isDns1123Label(identity.namespace)) {
      throw new UsageError(`--identity: namespace ${JSON.stringify(identity.namespace)} is not a Kubernetes namespace name (lowercase letters, digits and '-', at most 63)`);
    }
    if (!isDns1123Subdomain(identity.serviceAccount)) {
      throw new UsageError(`--identity: service account ${JSON.stringify(identity.serviceAccount)} is not a Kubernetes name (lowercase letters, digits, '-' and '.', at most 253)`);
    }
    const trustDomain = identity.trustDomain;
    const lifetimeMs = parseDuration('--lifetime', flags.lifetime ?? DEFAULT_LIFETIME);
    if (lifetimeMs < MIN_LEAF_LIFETIME_MS) throw new UsageError(`--lifetime must be at least ${MIN_LEAF_LIFETIME_MS / 60_000}m, got ${flags.lifetime ?? ''}`);

    const { store, isDirectory } = await selectStore(flags);
    const now = Date.now();
    const opened = isDirectory ? await openCa(store, { trustDomain, now, createIfEmpty: true }) : await openExisting(store, trustDomain, now);
    const authority = new CertificateAuthority(opened.material, { trustDomain, leafLifetimeMs: lifetimeMs, now: () => now });
    const key = generateKeySync('ec-p256');
    let issued;
    try {
      issued = authority.issue(key.publicKey, { uris: [flags.identity] });
    } catch (error) {
      throw new CaCommandFailure((error as Error).message);
    }
    const keyPath = await writeKey(flags['key-out'], `${identity.namespace}.${identity.serviceAccount}.key`, key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());

    if (opened.created) io.err(`loom ca issue: created a new root CA in ${store.description}\n`);
    io.err(`loom ca issue: ${flags.identity}, serial ${issued.serial}, valid until ${issued.notAfter.toISOString()}\n`);
    io.err(`loom ca issue: key written to ${keyPath}\n`);
    io.out(issued.chain.join(''));
    return 0;
  });
}
