/**
 * The iptables programs proxy-init runs (`iptables-nft-save`, `ip6tables-legacy-restore`, ...) behind a small
 * interface, and how their failures read to a user: lacking NET_ADMIN gets one line naming what is needed.
 */
import type { Family } from './cidr.js';
import { parseNatTable, type NatTable } from './save.js';

export type Backend = 'nft' | 'legacy';
export const BACKENDS: readonly Backend[] = ['nft', 'legacy'];

export interface CommandResult {
  /** Exit code; null when the program could not be started or was killed. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** errno name when it could not be started (ENOENT: not installed). */
  readonly spawnError?: string;
}

/** Runs a program with optional stdin; never rejects (failures are in the result). */
export type Runner = (file: string, args: readonly string[], input?: string) => Promise<CommandResult>;

export type FailureKind = 'permission' | 'missing' | 'unsupported' | 'failed';

export class IptablesError extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly command: string,
    message: string,
  ) {
    super(message);
    this.name = 'IptablesError';
  }
}

export function programName(tool: 'save' | 'restore', backend: Backend, family: Family): string {
  return `${family === 4 ? 'iptables' : 'ip6tables'}-${backend}-${tool}`;
}

/** The first meaningful line of a program's stderr (iptables prefixes its name and version). */
export function firstLine(text: string): string {
  const found = text.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#')) ?? '';
  const line = found.replace(/^\S+ v\d[\w.]* \([^)]*\): /, ''); // drop "iptables-save v1.8.9 (legacy): "
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * Why an iptables program failed. Without CAP_NET_ADMIN (or, for the legacy backend, CAP_NET_RAW) iptables
 * says "Permission denied (you must be root)", "Operation not permitted" or "can't initialize ... Permission
 * denied"; a kernel without the table says "Table does not exist" / "Protocol not supported".
 */
export function classifyFailure(result: CommandResult): FailureKind {
  if (result.spawnError === 'ENOENT') return 'missing';
  if (result.spawnError === 'EACCES') return 'permission';
  const text = result.stderr;
  if (/permission denied|you must be root|operation not permitted/i.test(text)) return 'permission';
  if (/table does not exist|protocol not supported|address family not supported|not supported|can't initialize|cannot initialize/i.test(text)) {
    return 'unsupported';
  }
  return 'failed';
}

export const NET_ADMIN_HINT =
  "proxy-init needs the NET_ADMIN capability (and NET_RAW) in the pod's network namespace; run the init container as root with securityContext.capabilities.add: [NET_ADMIN, NET_RAW]";

/** The one-line message for a failed iptables program. */
export function failureMessage(kind: FailureKind, command: string, result: CommandResult): string {
  const said = firstLine(result.stderr);
  switch (kind) {
    case 'permission':
      return `${NET_ADMIN_HINT} (${command}: ${said || (result.spawnError ?? 'permission denied')})`;
    case 'missing':
      return `${command} is not installed (the init image needs the iptables package with both the nft and legacy programs)`;
    case 'unsupported':
      return `${command}: the kernel does not support this table here: ${said}`;
    case 'failed':
      return `${command} failed (exit ${result.code ?? 'signal'}): ${said || 'no error output'}`;
  }
}

export function checkResult(command: string, result: CommandResult): void {
  if (result.code === 0 && result.spawnError === undefined) return;
  const kind = classifyFailure(result);
  throw new IptablesError(kind, command, failureMessage(kind, command, result));
}

/** One backend and family: read the nat table, apply restore input. */
export interface Iptables {
  readonly backend: Backend;
  readonly family: Family;
  saveNat(): Promise<NatTable>;
  /** `iptables-restore --noflush` with the given input (one atomic transaction). */
  restore(input: string): Promise<void>;
}

export function iptablesFor(run: Runner, backend: Backend, family: Family): Iptables {
  const save = programName('save', backend, family);
  const restore = programName('restore', backend, family);
  return {
    backend,
    family,
    async saveNat() {
      const result = await run(save, ['-t', 'nat']);
      checkResult(`${save} -t nat`, result);
      return parseNatTable(result.stdout);
    },
    async restore(input) {
      const result = await run(restore, ['--noflush'], input);
      checkResult(`${restore} --noflush`, result);
    },
  };
}
