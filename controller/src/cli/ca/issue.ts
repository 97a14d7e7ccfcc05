/**
 * `loom ca issue`: a workload certificate for debugging (curl, openssl s_client against a proxy): the
 * leaf and its chain as PEM on stdout, the private key in a 0600 file whose name goes to stderr. In a
 * directory store with no CA yet, it creates the root first (as the controller would at first start).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CertificateAuthority, MIN_LEAF_LIFETIME_MS, openCa } from '@loom/ca';
import { generateKeySync, parseSpiffeId, spiffeId } from '@loom/shared/identity';
import { parseArgs, UsageError, type FlagSpecs } from '../args.js';
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

/** Writes the key; an existing file is never overwritten. */
async function writeKey(path: string | undefined, fileName: string, pem: string): Promise<string> {
  const target = path === undefined ? join(await mkdtemp(join(tmpdir(), 'loom-ca-issue-')), fileName) : resolve(path);
  try {
    await writeFile(target, pem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`--key-out ${target} exists: remove it or choose another file`);
    throw new CaCommandFailure(`cannot write the key to ${target}: ${(error as Error).message}`);
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
