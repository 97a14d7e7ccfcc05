/**
 * What every `loom ca` subcommand shares: the store flags (`--dir`, `--cluster`, `--kube`), the trust
 * domain, durations, and turning failures into one line and an exit status:
 * 0 done, 1 the CA or its store refused or failed, 2 bad command-line input, 70 a bug.
 */
import { CaOpenError, CaStoreError, DirectoryStore, IssuerError, openCa, RotationRefused, SecretStore, type CaStore, type OpenedCa } from '@loom/ca';
import { DEFAULT_LOCAL_CLUSTER, localClusterCaDir } from '@loom/shared/runtime';
import { UsageError, type FlagSpecs } from '@loom/shared/runtime';
import type { Io } from '../main.js';

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

export const STORE_FLAGS = {
  dir: { type: 'string' },
  cluster: { type: 'string' },
  kube: { type: 'boolean' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  'trust-domain': { type: 'string' },
} as const satisfies FlagSpecs;

export const STORE_USAGE = `store (one of; default --cluster ${DEFAULT_LOCAL_CLUSTER}):
  --dir <dir>              a directory store: tls.crt, tls.key, ca.crt, ... (see ca/README.md)
  --cluster <name>         the store of local cluster <name> (loom dev): <state>/dev/<name>/ca,
                           <state> being $LOOM_STATE_DIR or /var/lib/loom
  --kube                   the Secret loom-system/loom-ca of a Kubernetes cluster
  --kubeconfig <file>      kubeconfig for --kube (default $KUBECONFIG, ~/.kube/config, in-cluster)
  --context <name>         kubeconfig context for --kube (default: the current one)
  --trust-domain <domain>  the mesh's trust domain (default ${DEFAULT_TRUST_DOMAIN})`;

/** The CA or its store failed or refused (exit 1); the message is printed as is. */
export class CaCommandFailure extends Error {
  override readonly name = 'CaCommandFailure';
}

export interface StoreFlags {
  readonly dir: string | undefined;
  readonly cluster: string | undefined;
  readonly kube: boolean;
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  readonly 'trust-domain': string | undefined;
}

export interface SelectedStore {
  readonly store: CaStore;
  /** A directory store (`--dir`, `--cluster`): `issue` may create a root in it. */
  readonly isDirectory: boolean;
}

const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const TRUST_DOMAIN = /^[a-z0-9]([a-z0-9._-]{0,253}[a-z0-9])?$/;

/** The store the flags select; a usage error for contradicting flags. Loads the Kubernetes client only for --kube. */
export async function selectStore(flags: StoreFlags): Promise<SelectedStore> {
  const kube = flags.kube || flags.kubeconfig !== undefined || flags.context !== undefined;
  const chosen = [flags.dir === undefined ? undefined : '--dir', flags.cluster === undefined ? undefined : '--cluster', kube ? '--kube' : undefined].filter(
    (flag) => flag !== undefined,
  );
  if (chosen.length > 1) throw new UsageError(`${chosen.join(' and ')} select different stores: give one`);
  if (flags.dir !== undefined) {
    if (flags.dir === '') throw new UsageError('--dir needs a directory');
    return { store: new DirectoryStore(flags.dir), isDirectory: true };
  }
  if (kube) {
    const [{ loadKubeConfig, KubeConfigError }, { KubeSecretClient }] = await Promise.all([import('../../kube/config.js'), import('../../kube/secrets.js')]);
    try {
      const config = loadKubeConfig({ ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }), ...(flags.context === undefined ? {} : { context: flags.context }) });
      return { store: new SecretStore(new KubeSecretClient(config)), isDirectory: false };
    } catch (error) {
      if (error instanceof KubeConfigError) throw new CaCommandFailure(error.message);
      throw error;
    }
  }
  const cluster = flags.cluster ?? DEFAULT_LOCAL_CLUSTER;
  if (!CLUSTER_NAME.test(cluster)) throw new UsageError(`--cluster must be a local cluster name (lowercase letters, digits, '-'), got ${JSON.stringify(cluster)}`);
  return { store: new DirectoryStore(localClusterCaDir(cluster)), isDirectory: true };
}

/** Opens the CA a store holds (never creating one); an empty store is a one-line failure saying so. */
export async function openExisting(store: CaStore, trustDomain: string, now: number): Promise<OpenedCa> {
  try {
    return await openCa(store, { trustDomain, now });
  } catch (error) {
    if (error instanceof CaOpenError && error.kind === 'empty') {
      throw new CaCommandFailure(`${store.description} holds no CA yet (the controller creates one at first start; 'loom ca issue' creates one in a directory store)`);
    }
    throw error;
  }
}

export const isTrustDomain = (value: string): boolean => TRUST_DOMAIN.test(value);

export function trustDomainFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!isTrustDomain(value)) throw new UsageError(`--trust-domain must be a trust domain such as cluster.local (lowercase letters, digits, '.', '-', '_'), got ${JSON.stringify(value)}`);
  return value;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The longest duration a flag takes: ten years (3650d), far beyond any certificate Loom issues. */
export const MAX_DURATION_MS = 3650 * 86_400_000;

/** "24h", "90m", "1h30m", "7d", "3600s" → milliseconds, at most {@link MAX_DURATION_MS}; a usage error naming `flag` otherwise. */
export function parseDuration(flag: string, value: string): number {
  const parts = [...value.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  const given = JSON.stringify(value.length <= 40 ? value : `${value.slice(0, 40)}…`);
  if (value === '' || parts.map((part) => part[0]).join('') !== value) {
    throw new UsageError(`${flag} must be a duration such as 24h, 90m or 1h30m, got ${given}`);
  }
  const total = parts.reduce((sum, [, count = '0', unit = 's']) => sum + Number(count) * (UNIT_MS[unit] ?? 0), 0);
  if (!(total <= MAX_DURATION_MS)) throw new UsageError(`${flag} must be at most 3650d (ten years), got ${given}`);
  return total;
}

/** A certificate's subject on one line. */
export const subjectLine = (subject: string): string => subject.replace(/\n/g, ', ');

/** Runs a subcommand body, turning every failure into one line on stderr and an exit status. */
export async function runCaCommand(name: string, io: Io, body: () => Promise<number>): Promise<number> {
  const prefix = `loom ca ${name}`;
  try {
    return await body();
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
    if (error instanceof UsageError) {
      io.err(`${prefix}: ${message} (run '${prefix} --help' for usage)\n`);
      return 2;
    }
    if (error instanceof IssuerError) {
      io.err(`${prefix}: ${message}\n`);
      return 2;
    }
    if (error instanceof CaOpenError && error.kind === 'trust-domain' && error.foundTrustDomain !== undefined) {
      io.err(`${prefix}: ${message} (pass --trust-domain ${error.foundTrustDomain} if that is the mesh's trust domain)\n`);
      return 1;
    }
    if (error instanceof CaStoreError || error instanceof CaOpenError || error instanceof RotationRefused || error instanceof CaCommandFailure) {
      io.err(`${prefix}: ${message}\n`);
      return 1;
    }
    io.err(`${prefix}: internal error: ${message} (a bug in Loom: please report it with the command you ran)\n`);
    return 70;
  }
}
