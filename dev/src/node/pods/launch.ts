/**
 * How a container's process is started: `ip netns exec <netns>` (the pod's network namespace and a private mount
 * namespace, with /etc/netns/<netns>/* mounted over /etc), `unshare --uts` (its own hostname), then a small
 * shell script that sets the hostname, bind-mounts the container's volumes onto their mountPaths (read-only
 * where asked), changes to the working directory and execs the command through `setpriv` as the container's
 * user. The process keeps one pid from `ip` to the command. Also: the user a container runs as
 * (securityContext, the pod's as default), its mounts (subPath, subPathExpr) and whether its command can be
 * found. Pure, except `findCommand` and `resolveTools`, which look at the file system.
 */
import { accessSync, constants } from 'node:fs';
import { join, posix } from 'node:path';
import { expand } from './expand.js';
import { isContainedPath } from './volume-files.js';
import type { Container, PodSpec } from './spec.js';

export interface Mount {
  /** A directory (or file) on the host. */
  readonly source: string;
  /** The mountPath: where the container sees it. */
  readonly target: string;
  readonly readOnly: boolean;
}

export interface User {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups (fsGroup and supplementalGroups). */
  readonly groups: readonly number[];
}

export interface LaunchPlan {
  readonly netns: string;
  readonly hostname: string;
  readonly mounts: readonly Mount[];
  readonly workingDir: string;
  readonly user: User;
  readonly noNewPrivs: boolean;
}

/** Absolute paths of the programs the launch uses (resolved once, so a container's PATH cannot hide them). */
export interface Tools {
  readonly ip: string;
  readonly unshare: string;
  readonly sh: string;
  readonly mount: string;
  readonly setpriv: string;
  readonly env: string;
}

export class LaunchError extends Error {
  override readonly name = 'LaunchError';
}

/** A word for `sh`: single-quoted, with embedded quotes escaped. */
export const shQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/** The user a container runs as: its securityContext over the pod's; the gid from /etc/passwd (`primaryGid`) or 0. */
export function containerUser(pod: PodSpec, container: Container, primaryGid: (uid: number) => number | undefined): User {
  const uid = container.securityContext.runAsUser ?? pod.securityContext.runAsUser ?? 0;
  const gid = container.securityContext.runAsGroup ?? pod.securityContext.runAsGroup ?? primaryGid(uid) ?? 0;
  const nonRoot = container.securityContext.runAsNonRoot ?? pod.securityContext.runAsNonRoot;
  if (nonRoot === true && uid === 0) throw new LaunchError('container has runAsNonRoot and image will run as root');
  const groups = new Set<number>(pod.securityContext.supplementalGroups ?? []);
  if (pod.securityContext.fsGroup !== undefined) groups.add(pod.securityContext.fsGroup);
  return { uid, gid, groups: [...groups].sort((a, b) => a - b) };
}

/**
 * The container's mounts, parents before children: each volumeMount's volume directory (`dirOf`), or the path
 * below it that `subPath`/`subPathExpr` (expanded with the container's variables) names.
 */
export function containerMounts(container: Container, dirOf: (volume: string) => string | undefined, env: ReadonlyMap<string, string>): Mount[] {
  const mounts = container.volumeMounts.map((m): Mount => {
    const dir = dirOf(m.name);
    if (dir === undefined) throw new LaunchError(`volume "${m.name}" of volumeMount "${m.mountPath}" is not defined in the pod`);
    if (!m.mountPath.startsWith('/')) throw new LaunchError(`mountPath "${m.mountPath}" must be an absolute path`);
    const sub = m.subPathExpr !== undefined ? expand(m.subPathExpr, (name) => env.get(name)) : m.subPath;
    if (sub !== undefined && sub !== '' && !isContainedPath(sub)) throw new LaunchError(`subPath "${sub}" must be a relative path without '..'`);
    const target = posix.normalize(m.mountPath);
    return { source: sub === undefined || sub === '' ? dir : join(dir, sub), target: target.length > 1 ? target.replace(/\/+$/, '') : target, readOnly: m.readOnly };
  });
  const depth = (p: string): number => p.split('/').filter((x) => x !== '').length;
  return mounts.sort((a, b) => depth(a.target) - depth(b.target));
}

/** A name the shell keeps in the environment of what it runs (it drops others, such as `file.txt`). */
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The shell drops variables whose names are no shell names: each of those travels under a carrier name and
 * `env` puts it back under its own name right before the command (`carriers`: [name, carrier]).
 */
export function carryEnv(env: Readonly<Record<string, string>>): { env: Record<string, string>; carriers: [string, string][] } {
  const out: Record<string, string> = {};
  const carriers: [string, string][] = [];
  let next = 0;
  for (const [name, value] of Object.entries(env)) {
    if (SHELL_NAME.test(name)) out[name] = value;
  }
  for (const [name, value] of Object.entries(env)) {
    if (SHELL_NAME.test(name)) continue;
    let carrier: string;
    do carrier = `LOOM_DEV_ENV_${next++}`;
    while (carrier in env);
    out[carrier] = value;
    carriers.push([name, carrier]);
  }
  return { env: out, carriers };
}

/** The shell script the launch runs (`$@` is the command); every failure exits 128 with a `loom-dev:` line. */
export function launchScript(plan: LaunchPlan, tools: Pick<Tools, 'mount' | 'setpriv' | 'env'>, carriers: readonly (readonly [string, string])[] = []): string {
  const lines = [`fail() { echo "loom-dev: $1" >&2; exit 128; }`];
  lines.push(`printf '%s' ${shQuote(plan.hostname)} > /proc/sys/kernel/hostname || fail ${shQuote('cannot set the hostname')}`);
  for (const m of plan.mounts) {
    const what = `volume mount ${m.target}`;
    lines.push(`${shQuote(tools.mount)} --bind -- ${shQuote(m.source)} ${shQuote(m.target)} || fail ${shQuote(`cannot bind ${what}`)}`);
    if (m.readOnly) lines.push(`${shQuote(tools.mount)} -o remount,bind,ro -- ${shQuote(m.target)} || fail ${shQuote(`cannot make ${what} read-only`)}`);
  }
  lines.push(`cd -- ${shQuote(plan.workingDir)} || fail ${shQuote(`cannot change to the working directory ${plan.workingDir}`)}`);
  const groups = plan.user.groups.length === 0 ? '--clear-groups' : `--groups=${plan.user.groups.join(',')}`;
  const priv = plan.noNewPrivs ? ' --no-new-privs' : '';
  const restore =
    carriers.length === 0
      ? ''
      : ` ${shQuote(tools.env)} ${carriers.map(([, carrier]) => `-u ${carrier}`).join(' ')} ${carriers.map(([name, carrier]) => `${shQuote(`${name}=`)}"$${carrier}"`).join(' ')}`;
  lines.push(`exec ${shQuote(tools.setpriv)} --reuid=${plan.user.uid} --regid=${plan.user.gid} ${groups}${priv} --${restore} "$@"`);
  return lines.join('\n');
}

/** The argv and environment that run `command` with `env` as the plan says. */
export function launchCommand(plan: LaunchPlan, command: readonly string[], env: Readonly<Record<string, string>>, tools: Tools): { argv: string[]; env: Record<string, string> } {
  const carried = carryEnv(env);
  const script = launchScript(plan, tools, carried.carriers);
  return { argv: [tools.ip, 'netns', 'exec', plan.netns, tools.unshare, '--uts', '--', tools.sh, '-c', script, 'loom-dev', ...command], env: carried.env };
}

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const under = (path: string, mounts: readonly Mount[]): boolean => mounts.some((m) => path === m.target || path.startsWith(m.target.endsWith('/') ? m.target : `${m.target}/`));

/**
 * Why `program` cannot be run (as the container runtime would say it), or null when it can, or might: a path
 * below a mountPath or relative to the working directory is not checked.
 */
export function findCommand(program: string, path: string, mounts: readonly Mount[]): string | null {
  if (program.includes('/')) {
    if (!program.startsWith('/') || under(program, mounts) || executable(program)) return null;
    return `exec: "${program}": stat ${program}: no such file or directory`;
  }
  for (const dir of path.split(':')) {
    if (dir === '' || !dir.startsWith('/')) continue;
    if (under(dir, mounts) || executable(join(dir, program))) return null;
  }
  return `exec: "${program}": executable file not found in $PATH`;
}

/** The tools' absolute paths from PATH; throws naming the first missing one. */
export function resolveTools(path: string): Tools {
  const find = (name: string): string => {
    for (const dir of path.split(':')) {
      if (dir !== '' && executable(join(dir, name))) return join(dir, name);
    }
    throw new LaunchError(`the pod runner needs \`${name}\`, which is not on PATH`);
  };
  return { ip: find('ip'), unshare: find('unshare'), sh: find('sh'), mount: find('mount'), setpriv: find('setpriv'), env: find('env') };
}
